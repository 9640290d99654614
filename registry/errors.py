"""Domain errors. Each carries data; adapters map them to HTTP/git/CLI in one place each."""
from __future__ import annotations


class RegistryError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(RegistryError):
    code = "invalid_input"


class InvalidName(InvalidInput):
    code = "invalid_name"


class NotFound(RegistryError):
    code = "not_found"


class TemplateNotFound(NotFound):
    code = "template_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class RefNotFound(NotFound):
    code = "ref_not_found"


class PathNotFound(NotFound):
    code = "path_not_found"


class AlreadyExists(RegistryError):
    code = "already_exists"


class Unauthenticated(RegistryError):
    code = "unauthenticated"


class PermissionDenied(RegistryError):
    code = "permission_denied"


class Conflict(RegistryError):
    """A compare-and-swap lost, or state changed under the caller."""

    code = "conflict"


class TooLarge(RegistryError):
    code = "too_large"


class StorageError(RegistryError):
    code = "storage_error"
