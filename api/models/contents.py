"""Files and commits made through the API: GitHub's contents shapes, several files in one commit,
and the push checks on changes not committed yet."""
from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import TemplateRef
from .pulls import PullOut
from .templates import TreeEntry

SHA_PATTERN = r"^[0-9a-f]{40}$"
# Standard base64 in quads, line breaks allowed between them (GitHub wraps its base64 at 60).
BASE64 = r"^(?:[A-Za-z0-9+/]{4}|\r?\n)*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?:\r?\n)?$"


def decode_base64(value: str) -> bytes:
    """Standard base64, line breaks allowed (GitHub wraps it at 60 characters); anything else
    that is not base64 is refused."""
    try:
        return base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None


class ChangeContent(BaseModel):
    """A file's new content."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=1024, description="from the repository root, / separated")
    content_base64: str = Field(pattern=BASE64, description="the file's new bytes, base64",
                                json_schema_extra={"contentEncoding": "base64"})
    delete: Literal[False] = False


class ChangeDelete(BaseModel):
    """The file is deleted (a rename is a delete and a new file)."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=1024, description="from the repository root, / separated")
    delete: Literal[True]


ChangeIn = ChangeContent | ChangeDelete


def change_data(change: ChangeIn) -> bytes | None:
    return decode_base64(change.content_base64) if isinstance(change, ChangeContent) else None


class PullIn(BaseModel):
    title: str = Field(min_length=1, max_length=300, pattern=r"\S")
    body: str = Field(default="", max_length=65_536)
    base: str | None = Field(default=None, min_length=1, max_length=255,
                             description="default: `branch` (or the default branch when the commit moves `branch`)")


class CommitIn(BaseModel):
    branch: str = Field(min_length=1, max_length=255, description="the branch the changes were made on")
    parent: str | None = Field(default=None, pattern=SHA_PATTERN,
                               description="the tip of `branch` the changes were made on; null: the branch does "
                                           "not exist yet (an empty template). Another tip now answers 412")
    message: str = Field(min_length=1, max_length=20_000, pattern=r"\S")
    changes: list[ChangeIn] = Field(min_length=1, max_length=1000)
    new_branch: str | None = Field(default=None, min_length=1, max_length=255,
                                   description="create this branch at the commit instead of moving `branch`")
    create_pull: PullIn | None = Field(default=None, description="open a pull request from the commit's branch; "
                                       "a caller who may read but not write gets it from their fork")


class CommitCreated(BaseModel):
    sha: str
    branch: str = Field(description="the branch whose tip the commit is")
    parent: str | None
    template: TemplateRef = Field(description="where the commit landed: the template, or the caller's fork")
    files: dict[str, str | None] = Field(description="path -> its new blob id, null where deleted")
    pull: PullOut | None = None


class FileIn(BaseModel):
    message: str = Field(min_length=1, max_length=20_000, pattern=r"\S")
    content: str = Field(pattern=BASE64, description="the file's new bytes, base64",
                         json_schema_extra={"contentEncoding": "base64"})
    sha: str | None = Field(default=None, pattern=SHA_PATTERN,
                            description="the blob being replaced; absent to create the file (409 if not current)")
    branch: str | None = Field(default=None, min_length=1, max_length=255, description="default: the default branch")
    new_branch: str | None = Field(default=None, min_length=1, max_length=255,
                                   description="commit on this new branch, made from `branch`")


class FileDelete(BaseModel):
    message: str = Field(min_length=1, max_length=20_000, pattern=r"\S")
    sha: str = Field(pattern=SHA_PATTERN, description="the blob being deleted (409 if not current)")
    branch: str | None = Field(default=None, min_length=1, max_length=255, description="default: the default branch")


class FileRef(BaseModel):
    name: str
    path: str
    sha: str = Field(description="the file's blob id")
    size: int
    type: Literal["file"] = "file"


class CommitRef(BaseModel):
    sha: str
    message: str
    branch: str


class FileCommitOut(BaseModel):
    content: FileRef | None = Field(description="the file as committed; null after a delete")
    commit: CommitRef


class ContentsOut(BaseModel):
    type: Literal["file", "dir"]
    name: str
    path: str
    sha: str
    size: int | None = Field(default=None, description="files only")
    encoding: Literal["base64"] | None = Field(default=None, description="files only")
    content: str | None = Field(default=None, description="files only: the bytes, base64")
    entries: list[TreeEntry] | None = Field(default=None, description="directories only")


class CheckIn(BaseModel):
    ref: str | None = Field(default=None, min_length=1, max_length=255,
                            description="branch, tag or commit the changes apply to; null: an empty template")
    changes: list[ChangeIn] = Field(default=[], max_length=1000)


class CheckProblemOut(BaseModel):
    path: str = Field(description="the file the problem is in")
    line: int | None = Field(description="1-based, when known")
    message: str
    json_path: str | None = Field(default=None, description="for template.json problems: where in the manifest")


class CheckResult(BaseModel):
    valid: bool
    problems: list[CheckProblemOut]
