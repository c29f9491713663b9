"""Errors whose message is written for the person using Tandem, not for a developer."""

from core.db import DatabaseConfigError, DatabaseUnavailable, SchemaError, TandemError

__all__ = [
    "TandemError",
    "DatabaseConfigError",
    "SchemaError",
    "DatabaseUnavailable",
    "NotFound",
    "Conflict",
    "Invalid",
    "PermissionDenied",
]


class NotFound(TandemError):
    pass


class Conflict(TandemError):
    """Already exists, already submitted, changed by someone else meanwhile…"""


class Invalid(TandemError):
    """Input that cannot be accepted; `problems` lists each with its place."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        super().__init__(message)


class PermissionDenied(TandemError):
    pass
