"""The JSON a webhook receives: shaped like GitHub's payload for the same event where one exists
(`action`, `repository`, `sender`, and the event's own object), so existing receivers adapt
easily. An event's audit payload is the event's own part; this adds the common parts."""
from __future__ import annotations

import json
from typing import Any

from ..git.policy import RefUpdate
from ..meta import Event, Pull, Template

# audit action verb -> the action GitHub names it by, where they differ
_ACTIONS = {"merged": "closed", "finished": "completed", "changed": None}


def repository(base_url: str, template: Template) -> dict[str, Any]:
    html = f"{base_url}/{template.owner}/{template.name}"
    return {"id": template.id, "name": template.name, "full_name": template.full_name,
            "owner": {"login": template.owner}, "private": template.visibility == "private",
            "description": template.description, "html_url": html, "clone_url": f"{html}.git",
            "fork": template.parent_id is not None}


def body(base_url: str, hook_event: str, event: Event, template: Template) -> str:
    out: dict[str, Any] = {}
    verb = event.action.split(".", 1)[1] if "." in event.action else None
    action = _ACTIONS.get(verb, verb) if verb else None
    if action and hook_event not in ("push", "status", "fork"):
        out["action"] = action
    out.update(event.payload)
    out["registry_action"] = event.action
    out["repository"] = repository(base_url, template)
    out["sender"] = {"login": event.actor}
    return json.dumps(out, sort_keys=True, default=str)


def push_payload(update: RefUpdate) -> dict[str, Any]:
    """One ref update as GitHub's push event has it."""
    return {"ref": update.ref, "before": update.old, "after": update.new, "created": update.is_create,
            "deleted": update.is_delete}


def pull_payload(pull: Pull, **extra: Any) -> dict[str, Any]:
    """A pull request as GitHub's pull_request event has it (number and the object)."""
    return {"number": pull.number, "pull_request": {
        "number": pull.number, "title": pull.title, "body": pull.body, "state": pull.state,
        "merged": pull.state == "merged", "merge_commit_sha": pull.merged_sha, "user": {"login": pull.author},
        "head": {"ref": pull.head_branch, "sha": pull.head_sha}, "base": {"ref": pull.base_branch}}, **extra}
