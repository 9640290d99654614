"""Import metadata guessed from a prompt's text (registry.guess)."""
from __future__ import annotations

from registry.guess import first_paragraph, guess, purpose, title_from_name

CLUTTERED = """<div align="center">
<img src="logo.png" width="200">
</div>

[![build](https://img.shields.io/badge/build-passing-green)](https://ci.example)

# extract_wisdom

Pulls the **most surprising** ideas out of [podcasts](https://example.com) and videos.
Paste a transcript and get quotes back.

## Usage
"""


def test_description_is_the_first_paragraph_of_prose():
    assert first_paragraph(CLUTTERED) == ("Pulls the most surprising ideas out of podcasts and videos. "
                                          "Paste a transcript and get quotes back.")
    assert first_paragraph("<p align='center'><img src=x></p>\n\n# Title only\n") == ""
    long = "This sentence is here. " * 40
    assert len(first_paragraph(long)) <= 300 and first_paragraph(long).endswith("here.")


def test_prompt_purpose_section_when_there_is_no_readme():
    prompt = "# IDENTITY and PURPOSE\n\nYou are an expert who turns meeting notes into action items.\n\n# STEPS\n- x"
    assert purpose(prompt) == "You are an expert who turns meeting notes into action items."
    assert guess("notes", "", prompt).description == purpose(prompt)


def test_title_tags_use_case_and_industry():
    assert title_from_name("extract_wisdom") == "Extract wisdom"
    g = guess("extract_wisdom", CLUTTERED, "Extract insights and quotes from the video or podcast transcript.")
    assert g.title == "Extract wisdom" and g.use_case == "extraction"
    assert "media" in g.tags and g.industry == "media-entertainment"
    plain = guess("be_brief", "", "Be brief.")
    assert plain.tags == () and plain.use_case == "general" and plain.industry == "other"
    medical = guess("explain_labs", "Explains blood test results to patients.", "You are a careful doctor. "
                    "Explain each medical term a patient sees in clinical lab results.")
    assert medical.industry == "healthcare-life-science" and "health" in medical.tags
    assert "industry healthcare-life-science" in medical.summary()
