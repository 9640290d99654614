"""A push's way in and out of the git service (`service.receive`): what its caller decides about
it (`PushContext`: limits, branch rules, what a new file or manifest may not hold, the journal of
the refs write, what follows once the updates landed) and what it came to (`Received`)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import RegistryError
from .policy import BranchRule, RefUpdate
from .refsdoc import new_write_id

log = logging.getLogger("registry.git.service")  # where these lines were logged before the move


@dataclass
class PushContext:
    """What the caller decides about a push: limits, rules, and what happens after it lands."""

    max_push_bytes: int
    max_file_bytes: int = 1 << 62  # largest object, inflated: checked from headers before inflating
    max_inflated_bytes: int = 1 << 62  # all objects of the push together, inflated
    max_objects: int = 1 << 62  # objects in the push's pack (its header's count)
    rule_for: Callable[[str], BranchRule | None] = lambda ref: None
    inspect_blob: Callable[[bytes], str | None] | None = None  # why a new file may not be stored
    inspect_manifest: Callable[[bytes], str | None] = lambda data: None  # where a manifest leaks a secret
    # Journals the write about to be made (where a failure after it can find it), returning its id;
    # raising refuses the push before anything is stored. `forget` drops it when it did not land.
    journal: Callable[[list[RefUpdate]], str] = lambda updates: new_write_id()
    forget: Callable[[str], None] = lambda write_id: None
    on_pushed: Callable[[list[RefUpdate], str], None] = lambda updates, write_id: None
    accepted: list[RefUpdate] = field(default_factory=list)  # set by `receive`: what landed
    write_id: str = ""  # ... and the write that landed it

    def announce(self, repo_id: str) -> None:
        """What follows the landed updates (`accepted`): recorded, queued. Never raises: the refs
        moved already, and the journal keeps whatever this could not do for the reconciler."""
        if not self.accepted:
            return
        try:
            self.on_pushed(list(self.accepted), self.write_id)
        except Exception as exc:
            log.warning("what follows the push to %s is owed to the reconciler: %s", repo_id, exc)


@dataclass
class Received:
    """What one push came to: git's `unpack` status, why each refused ref was refused, the
    updates that landed, and, when the pack itself was refused, that refusal as a domain error."""

    unpack: str = "ok"
    reasons: dict[str, str] = field(default_factory=dict)
    accepted: list[RefUpdate] = field(default_factory=list)
    refused: RegistryError | None = None
    write_error: Exception | None = None  # the refs write failed (its reasons say whether anything landed)
    write_id: str = ""  # the write that landed `accepted`
