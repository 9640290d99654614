"""A small typed client of the registry's JSON API, built on the same pydantic models the server
answers with (`api.models`). `OPERATIONS` names the route each method calls; a test checks them
against the server's /openapi.json, so the client and the document cannot drift apart.

Used by the CLI's remote commands: `registry validate --remote URL` and `registry import --remote URL`.
"""
from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from .models.common import ErrorOut, FilesToValidate, ValidationResult
from .models.contents import CheckIn, CheckResult, CommitCreated, CommitIn, ContentsOut, FileCommitOut, FileDelete, FileIn
from .models.gallery import SearchOut
from .models.pulls import NewPull, PullOut
from .models.templates import CreateTemplate, TemplateDetailOut, TemplateOut

M = TypeVar("M", bound=BaseModel)

# method name -> (HTTP method, path in the OpenAPI document, response model or None for 204)
OPERATIONS: dict[str, tuple[str, str, type[BaseModel] | None]] = {
    "validate": ("post", "/api/v1/validate", ValidationResult),
    "create_template": ("post", "/api/v1/templates", TemplateOut),
    "get_template": ("get", "/api/v1/templates/{owner}/{name}", TemplateDetailOut),
    "delete_template": ("delete", "/api/v1/templates/{owner}/{name}", None),
    "search": ("get", "/api/v1/search", SearchOut),
    "open_pull": ("post", "/api/v1/templates/{owner}/{name}/pulls", PullOut),
    "get_contents": ("get", "/api/v1/templates/{owner}/{name}/contents/{path}", ContentsOut),
    "put_contents": ("put", "/api/v1/templates/{owner}/{name}/contents/{path}", FileCommitOut),
    "delete_contents": ("delete", "/api/v1/templates/{owner}/{name}/contents/{path}", FileCommitOut),
    "create_commit": ("post", "/api/v1/templates/{owner}/{name}/commits", CommitCreated),
    "check_changes": ("post", "/api/v1/templates/{owner}/{name}/check", CheckResult),
}


class ApiError(Exception):
    """An error answer of the registry: its status, stable code and one-line message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status, self.code, self.message = status, code, message


class RegistryClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _call(self, operation: str, path_args: dict[str, str] | None = None, body: BaseModel | None = None,
              params: dict[str, Any] | None = None) -> httpx.Response:
        method, path, _ = OPERATIONS[operation]
        # a file path keeps its slashes; every other argument is one segment
        url = path.format(**{k: quote(v, safe="/" if k == "path" else "") for k, v in (path_args or {}).items()})
        try:
            resp = self._http.request(method.upper(), url, params=params,
                                      json=body.model_dump(exclude_none=True) if body is not None else None)
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {exc}") from None
        if resp.status_code >= 400:
            try:
                error = ErrorOut.model_validate(resp.json()).error
                raise ApiError(resp.status_code, error.code, error.message)
            except ValueError:
                raise ApiError(resp.status_code, "http_error", resp.text[:200] or resp.reason_phrase) from None
        return resp

    def _typed(self, operation: str, resp: httpx.Response) -> Any:
        model = OPERATIONS[operation][2]
        assert model is not None
        return model.model_validate_json(resp.content)

    def validate(self, files: dict[str, str]) -> ValidationResult:
        result: ValidationResult = self._typed("validate", self._call("validate", body=FilesToValidate(files=files)))
        return result

    def create_template(self, body: CreateTemplate) -> TemplateOut:
        out: TemplateOut = self._typed("create_template", self._call("create_template", body=body))
        return out

    def get_template(self, owner: str, name: str) -> TemplateDetailOut:
        out: TemplateDetailOut = self._typed("get_template", self._call("get_template", {"owner": owner,
                                                                                        "name": name}))
        return out

    def delete_template(self, owner: str, name: str) -> None:
        self._call("delete_template", {"owner": owner, "name": name})

    def search(self, q: str = "", **filters: Any) -> SearchOut:
        out: SearchOut = self._typed("search", self._call("search", params={"q": q, **filters}))
        return out

    def open_pull(self, owner: str, name: str, body: NewPull) -> PullOut:
        out: PullOut = self._typed("open_pull", self._call("open_pull", {"owner": owner, "name": name}, body=body))
        return out

    def get_contents(self, owner: str, name: str, path: str, ref: str | None = None) -> ContentsOut:
        out: ContentsOut = self._typed("get_contents", self._call(
            "get_contents", {"owner": owner, "name": name, "path": path}, params={"ref": ref} if ref else None))
        return out

    def put_contents(self, owner: str, name: str, path: str, body: FileIn) -> FileCommitOut:
        out: FileCommitOut = self._typed("put_contents", self._call(
            "put_contents", {"owner": owner, "name": name, "path": path}, body=body))
        return out

    def delete_contents(self, owner: str, name: str, path: str, body: FileDelete) -> FileCommitOut:
        out: FileCommitOut = self._typed("delete_contents", self._call(
            "delete_contents", {"owner": owner, "name": name, "path": path}, body=body))
        return out

    def create_commit(self, owner: str, name: str, body: CommitIn) -> CommitCreated:
        out: CommitCreated = self._typed("create_commit", self._call(
            "create_commit", {"owner": owner, "name": name}, body=body))
        return out

    def check_changes(self, owner: str, name: str, body: CheckIn) -> CheckResult:
        out: CheckResult = self._typed("check_changes", self._call("check_changes", {"owner": owner, "name": name},
                                                                body=body))
        return out
