"""The event store's errors, importable without the store itself (and so without asyncpg)."""

from __future__ import annotations

from dataclasses import dataclass


class VersionConflict(Exception):
    """The stream moved on since it was read; the caller may reload and decide again."""

    def __init__(self, stream_id: str, expected: int | None) -> None:
        super().__init__(f"stream {stream_id} is not at version {expected}")
        self.stream_id = stream_id
        self.expected = expected


@dataclass(frozen=True)
class FieldError:
    """One broken rule in an input, located by field (for files, the field names the line). The one
    field-error value of the platform: domains raise it, the HTTP edge answers it as `errors[]`."""

    field: str
    message: str
