"""template.json as a form: rows added, removed and moved without script, and a manifest edited
through the form keeps the keys the form does not know and the file's key order."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry.errors import InvalidInput
from registry.services.manifest_form import from_fields, from_manifest, to_manifest

RICH = json.loads((Path(__file__).resolve().parents[3] / "shared" / "examples" / "rich.template.json").read_text())


def _fields(form) -> dict[str, str]:
    """The form as a browser would post it back, unchanged."""
    out = dict(form.values)
    for kind, rows in form.rows.items():
        out[f"{kind}-count"] = str(len(rows))
        for i, row in enumerate(rows):
            out.update({f"{kind}-{i}-{k}": v for k, v in row.items()})
    return out


def test_an_unchanged_form_gives_back_the_same_manifest_in_the_same_order():
    config = RICH["promptConfig"]
    system = config["systemPrompt"] if isinstance(config["systemPrompt"], str) else "from a file"
    user = config["userPromptTemplate"] if isinstance(config["userPromptTemplate"], str) else "from a file"
    files = {k: v["file"] for k, v in config.items() if isinstance(v, dict) and "file" in v}
    form, action = from_fields(_fields(from_manifest(RICH, system, user)))
    assert action is None
    again = to_manifest(form, RICH, files)
    assert not form.errors
    assert json.dumps(again) == json.dumps(RICH)  # every key and the order kept


def test_a_changed_field_changes_only_itself():
    base = {"title": "Old", "x-unknown": {"keep": True}, "description": "d", "industry": "other", "useCase": "u",
            "promptConfig": {"systemPrompt": "s", "userPromptTemplate": "{{ a }}", "parameters": [
                {"name": "a", "type": "string", "x-ui": "wide", "required": True}]}}
    fields = _fields(from_manifest(base, "s", "{{ a }}"))
    fields.update(title="New", **{"param-0-default": "hello"})
    form, _ = from_fields(fields)
    out = to_manifest(form, base, {})
    assert list(out)[:3] == ["title", "x-unknown", "description"] and out["title"] == "New"
    assert out["promptConfig"]["parameters"] == [{"name": "a", "type": "string", "x-ui": "wide", "required": True,
                                                  "default": "hello"}]


def test_rows_are_added_removed_and_moved_by_buttons():
    fields = {"title": "T", "step-count": "2", "step-0-id": "first", "step-0-uses": "llm",
              "step-1-id": "second", "step-1-uses": "llm", "param-count": "0"}
    form, action = from_fields({**fields, "row": "up:step:1"})
    assert action == "up:step:1" and [r["id"] for r in form.rows["step"]] == ["second", "first"]
    form, _ = from_fields({**fields, "row": "add:param"})
    assert form.rows["param"] == [{"name": "", "type": "string", "description": "", "required": "", "default": ""}]
    form, _ = from_fields({**fields, "row": "remove:step:0"})
    assert [r["id"] for r in form.rows["step"]] == ["second"]
    form, _ = from_fields({**fields, "step-0-remove": "on"})  # the checkbox way, with the commit button
    assert [r["id"] for r in form.rows["step"]] == ["second"]
    for bad in ("up:step:9", "explode:step:0", "add:nothing"):
        with pytest.raises(InvalidInput):
            from_fields({**fields, "row": bad})
    with pytest.raises(InvalidInput):
        from_fields({"param-count": "100000"})


def test_typed_values_that_do_not_parse_are_named():
    form, _ = from_fields({"title": "T", "maxTokens": "many", "param-count": "1", "param-0-name": "n",
                           "param-0-type": "integer", "param-0-default": "seven"})
    to_manifest(form, None, {})
    assert set(form.errors) == {"maxTokens", "param-0-default"}
    form, _ = from_fields({"title": "T", "systemPrompt": "S", "userPromptTemplate": "U", "tags": "A, b,a"})
    out = to_manifest(form, None, {"systemPrompt": "prompts/system.md"})
    assert out["tags"] == ["a", "b"] and out["promptConfig"]["systemPrompt"] == {"file": "prompts/system.md"}
