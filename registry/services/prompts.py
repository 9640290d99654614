"""The prompts a visitor comes for: a template's system and user prompts as text split into
literal runs and parameter uses (so a page can mark the parameters), and those prompts rendered
with values the visitor gives, as text and as the message list chat APIs take.

Rendering runs the template's own Jinja2, which is hostile: a template made only of text,
variables, conditions and a few harmless filters (linear in its size, nothing folded at compile
time) is rendered here, sandboxed; any other one in a child process under CPU, memory and time
limits (registry.sandbox.preview), as a sandbox run would."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from ..errors import InvalidInput

MAX_VALUE_CHARS = 10_000  # one parameter's value
MAX_VALUES = 100
MAX_OUTPUT_CHARS = 200_000  # a rendered prompt past this is cut
CHILD_TIMEOUT_S = 3.0
SAFE_FILTERS = frozenset({"default", "d", "upper", "lower", "title", "capitalize", "trim", "e", "escape", "string",
                          "length", "count", "first", "last"})
_SIMPLE = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.If, nodes.Not,
           nodes.And, nodes.Or, nodes.Compare, nodes.Operand, nodes.CondExpr, nodes.Test, nodes.Getattr,
           nodes.Getitem, nodes.Filter)
ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
LEXER = SandboxedEnvironment(keep_trailing_newline=True)  # splits text without losing its last newline


@dataclass(frozen=True)
class Segment:
    kind: str  # "text" | "param" (a {{ … }} that reads parameters) | "tag" (a {% … %} block)
    text: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prompt:
    role: str  # "system" | "user"
    text: str
    markdown: bool  # kept in a .md file: a page renders it as Markdown
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str
    required: bool
    default: str  # as a form field shows it
    choices: tuple[str, ...] = ()


@dataclass
class Rendered:
    system: str = ""
    user: str = ""
    error: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    deferred: bool = False  # not rendered: it needs a child process, and none was allowed
    missing: tuple[str, ...] = ()  # declared parameters with no value and no default: not rendered

    def messages(self) -> list[dict[str, str]]:
        """OpenAI-style chat messages."""
        out = [{"role": "system", "content": self.system}] if self.system else []
        return out + [{"role": "user", "content": self.user}]

    def anthropic(self) -> dict[str, Any]:
        """Anthropic-style: the system prompt beside the messages."""
        return {"system": self.system, "messages": [{"role": "user", "content": self.user}]}


def _config(manifest: dict[str, Any] | None) -> dict[str, Any]:
    config = (manifest or {}).get("promptConfig")
    return config if isinstance(config, dict) else {}


def prompts(resolved: dict[str, Any] | None, own: dict[str, Any] | None) -> list[Prompt]:
    """The system and user prompts of a resolved manifest; `own` (the manifest as stored) tells
    which came from a Markdown file."""
    config, stored = _config(resolved), _config(own)
    literal = config.get("format") == "text"
    out = []
    for role, key in (("system", "systemPrompt"), ("user", "userPromptTemplate")):
        text = config.get(key)
        if not isinstance(text, str) or not text.strip():
            continue
        source = stored.get(key)
        markdown = isinstance(source, dict) and str(source.get("file", "")).lower().endswith((".md", ".markdown"))
        segments = (Segment("text", text),) if literal else split(text)
        out.append(Prompt(role, text, markdown, segments))
    return out


def split(text: str) -> tuple[Segment, ...]:
    """Literal text, parameter uses and tags, in order (the whole text as literal if it does not lex)."""
    try:
        tokens = list(LEXER.lex(text))
    except TemplateError:
        return (Segment("text", text),)
    out: list[Segment] = []
    kind, buf = "text", ""
    names: list[str] = []
    for _line, token, value in tokens:
        if token in ("variable_begin", "block_begin"):
            if buf:
                out.append(Segment("text", buf))
            kind, buf, names = ("param" if token == "variable_begin" else "tag"), value, []
        elif token in ("variable_end", "block_end"):
            out.append(Segment(kind, buf + value, tuple(names)))
            kind, buf, names = "text", "", []
        else:
            if token == "name" and kind == "param" and not names:
                names.append(value)
            buf += value
    if buf:
        out.append(Segment("text", buf))
    return tuple(out) if "".join(s.text for s in out) == text else (Segment("text", text),)


def parameters(resolved: dict[str, Any] | None) -> list[Parameter]:
    out = []
    for p in _config(resolved).get("parameters") or []:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            continue
        default = p.get("default")
        shown = "" if default is None else default if isinstance(default, str) else json.dumps(default)
        enum = p["enum"] if isinstance(p.get("enum"), list) else []
        out.append(Parameter(p["name"], str(p.get("type", "string")), str(p.get("description", "")),
                             bool(p.get("required")), shown, tuple(str(v) for v in enum)))
    return out


def values_for(resolved: dict[str, Any] | None, given: dict[str, str]) -> dict[str, Any]:
    """Each declared parameter's value: what was given (typed as declared), else its default."""
    if len(given) > MAX_VALUES or any(len(v) > MAX_VALUE_CHARS for v in given.values()):
        raise InvalidInput(f"at most {MAX_VALUES} parameters of {MAX_VALUE_CHARS} characters each")
    out: dict[str, Any] = {}
    for p in _config(resolved).get("parameters") or []:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            continue
        name = p["name"]
        if name in given and given[name] != "":
            out[name] = _typed(given[name], str(p.get("type", "string")), name)
        elif "default" in p:
            out[name] = p["default"]
    return out


def _typed(value: str, kind: str, name: str) -> Any:
    if kind == "string":
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        raise InvalidInput(f"{name}: not a valid {kind}") from None
    return parsed


def render(resolved: dict[str, Any] | None, given: dict[str, str], child: bool = True) -> Rendered:
    """The prompts rendered with `given` values (defaults for the rest); a template error is
    reported in `error`, never raised. `child=False`: a template that needs the confined child
    process is not rendered (`deferred`): a page view does not start a process, a click does."""
    config = _config(resolved)
    values = values_for(resolved, given)
    shown = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    system, user = str(config.get("systemPrompt") or ""), str(config.get("userPromptTemplate") or "")
    missing = tuple(p.name for p in parameters(resolved) if p.name not in values)
    if missing and config.get("format") != "text":
        return Rendered(values=shown, missing=missing)
    if config.get("format") == "text":
        return Rendered(system, user, None, shown)
    if simple(system) and simple(user):
        try:
            return Rendered(_cut(ENV.from_string(system).render(values)), _cut(ENV.from_string(user).render(values)),
                            None, shown)
        except (TemplateError, RecursionError, ValueError, TypeError, ArithmeticError) as exc:
            return Rendered(error=f"{type(exc).__name__}: {exc}", values=shown)
    if not child:
        return Rendered(values=shown, deferred=True)
    return _in_child(system, user, values, shown)


def simple(text: str) -> bool:
    """Made only of nodes whose rendering is linear in the text and the values, and whose
    compiling folds nothing large (no loops, calls, macros, arithmetic)."""
    try:
        ast = ENV.parse(text)
    except TemplateError:
        return False
    for node in ast.find_all(nodes.Node):
        if not isinstance(node, _SIMPLE) or (isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS):
            return False
    return True


def _cut(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + "\n[… cut]"


def _in_child(system: str, user: str, values: dict[str, Any], shown: dict[str, str]) -> Rendered:
    payload = json.dumps({"system": system, "user": user, "values": values})
    try:
        done = subprocess.run([sys.executable, "-m", "registry.sandbox.preview"], input=payload.encode(),
                              capture_output=True, timeout=CHILD_TIMEOUT_S, start_new_session=True)
    except subprocess.TimeoutExpired:
        return Rendered(error=f"rendering took longer than {CHILD_TIMEOUT_S:g} s and was stopped", values=shown)
    try:
        answer = json.loads(done.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        why = ("over its memory limit" if b"MemoryError" in done.stderr else
               "stopped by its CPU limit" if done.returncode < 0 else f"exit status {done.returncode}")
        return Rendered(error=f"rendering failed: {why}", values=shown)
    return Rendered(_cut(str(answer.get("system", ""))), _cut(str(answer.get("user", ""))), answer.get("error"), shown)
