"""The prompt-first view's pieces: splitting a prompt into text and parameter uses, deciding
what may be rendered in-process, rendering with typed values, and server-side highlighting."""
from __future__ import annotations

from pathlib import Path

import pytest

from api.web import highlight
from api.web.render import prompt_html
from registry.errors import InvalidInput
from registry.services import prompts


def _manifest(system: str, user: str = "Hi {{ name }}", **config) -> dict:
    return {"promptConfig": {"systemPrompt": system, "userPromptTemplate": user,
                             "parameters": [{"name": "name", "type": "string", "default": "Ada"},
                                            {"name": "n", "type": "integer", "default": 2}], **config}}


def test_split_keeps_every_character_and_names_the_parameter():
    text = "A {{ name | upper }} and {% if n %}{{n}}{% endif %} {{'{{'}}"
    segments = prompts.split(text)
    assert "".join(s.text for s in segments) == text
    assert [s.names for s in segments if s.kind == "param"][:2] == [("name",), ("n",)]
    assert prompts.split("{{ unclosed") == (prompts.Segment("text", "{{ unclosed"),)
    ending = prompts.split("A {{ b }} c.\n")  # a file's last newline (Jinja drops it by default)
    assert [s.kind for s in ending] == ["text", "param", "text"] and ending[-1].text == " c.\n"


@pytest.mark.parametrize("text, simple", [
    ("Hello {{ name | default('x') | upper }}{% if n > 1 %}!{% endif %}", True),
    ("{% for i in range(9) %}{% endfor %}", False),
    ("{{ 'x' * 4000000000 }}", False),  # folded at compile time: never compiled in-process
    ("{{ name.__class__ }}", True),  # the sandbox refuses it at render time
    ("{{ lipsum(9999) }}", False),
    ("{{ name | replace('a', 'b') }}", False),
])
def test_only_linear_templates_render_in_process(text, simple):
    assert prompts.simple(text) is simple


def test_render_types_values_and_reports_errors_without_raising():
    done = prompts.render(_manifest("{{ n + 0 if false else n }} {{ name }}"), {"n": "5"}, child=False)
    assert done.deferred  # arithmetic: only the confined child renders it
    ok = prompts.render(_manifest("You are {{ name }}."), {"name": "Grace"}, child=False)
    assert (ok.system, ok.user, ok.error) == ("You are Grace.", "Hi Grace", None)
    assert ok.messages() == [{"role": "system", "content": "You are Grace."}, {"role": "user", "content": "Hi Grace"}]
    assert ok.anthropic() == {"system": "You are Grace.", "messages": [{"role": "user", "content": "Hi Grace"}]}
    sandboxed = prompts.render(_manifest("{{ name.__class__.__mro__ }}"), {}, child=False)
    assert sandboxed.error and "unsafe" in sandboxed.error.lower()
    with pytest.raises(InvalidInput):
        prompts.render(_manifest("x"), {"n": "not json"})
    with pytest.raises(InvalidInput):
        prompts.render(_manifest("x"), {"name": "y" * (prompts.MAX_VALUE_CHARS + 1)})
    literal = prompts.render(_manifest("{{ braces }} stay", format="text"), {})
    assert literal.system == "{{ braces }} stay"


def test_prompt_markup_marks_parameters_and_survives_hostile_text():
    md = prompts.Prompt("system", "# T\n{{ name }} \ue0000\ue001 <script>", True, prompts.split("# T\n{{ name }} \ue0000\ue001 <script>"))
    html = str(prompt_html(md))
    assert '<mark class="param">{{ name }}</mark>' in html and "<script>" not in html and "<h1>T</h1>" in html
    plain = prompts.Prompt("user", "<b>{{ name }}</b>", False, prompts.split("<b>{{ name }}</b>"))
    assert str(prompt_html(plain)) == '&lt;b&gt;<mark class="param">{{ name }}</mark>&lt;/b&gt;'


def test_highlight_css_is_what_pygments_makes_and_lines_are_escaped():
    served = Path(highlight.__file__).with_name("static") / "highlight.css"
    assert served.read_text() == highlight.css()  # regenerate: python -c "from api.web import highlight; ..."
    lines = highlight.lines('x = "<a>"\n"""\nmulti\n"""\n', "f.py")
    assert len(lines) == 4 and "&lt;a&gt;" in lines[0] and "<a>" not in lines[0]
    assert highlight.lines("no newline", "unknown.zzz") == ["no newline"]


def test_a_parameter_without_value_or_default_is_asked_for_not_an_error():
    manifest = {"promptConfig": {"systemPrompt": "S {{ a }}", "userPromptTemplate": "U {{ b }}",
                                 "parameters": [{"name": "a", "type": "string", "default": "x"},
                                                {"name": "b", "type": "string"}]}}
    waiting = prompts.render(manifest, {}, child=False)
    assert waiting.missing == ("b",) and waiting.error is None and not waiting.user
    assert prompts.render(manifest, {"b": "y"}, child=False).user == "U y"
