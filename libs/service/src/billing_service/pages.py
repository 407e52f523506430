"""One way to page a list: `limit` and an opaque `cursor` in, `{"items": [...], "next_cursor": ...}` out.

A list is read by keyset: rows in the order of a unique key (usually the row's `seq` or stream
`position`), and a page continues after the key of the last row of the page before. The cursor is
that key, written so that only this platform writes it: base64url of a short check and the key as JSON.
The check binds a cursor to the list that gave it out (`Keyset.scope`), so a cursor of another list,
an edited one or a made-up one is refused with 422 (field `cursor`), never a 500 and never a wrong page.
The check is not a secret: a key only says where a page ends, and every list is scoped to the tenant.

Framework-free on purpose (no FastAPI, no database): application ports may say `Page[Row]`, adapters
build pages, entrypoints take `Depends(keyset.request)` and answer `page.as_json()`. The HTTP edge
(`billing_service.problems`) answers `InvalidPage` as a 422 problem.

    PATIENTS = Keyset("registration.patients")                       # keyed by one integer, the seq

    # adapter: fetch one row more than asked, ordered by the key, after the cursor's key
    rows = await db.fetch("... WHERE seq > $1 ORDER BY seq LIMIT $2", page.position, page.fetch)
    return page.page([dict(r) for r in rows], lambda row: (row["seq"],))

    # entrypoint
    async def list_patients(..., page: Annotated[PageRequest, Depends(PATIENTS.request)]) -> Any:
        return (await queries.patients(db, tenant, page)).map(patient_json).as_json()
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from billing_events.errors import FieldError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")

KeyPart = int | str | datetime
Key = tuple[KeyPart, ...]
KeyType = type[int] | type[str] | type[datetime]

_CHECK_BYTES = 8
_MAX_CURSOR_CHARS = 1024
LIMIT_RULE = f"must be a whole number from 1 to {MAX_LIMIT}"
CURSOR_RULE = "is not a cursor this list gave out: pass the next_cursor of the previous page, or none"


class InvalidPage(Exception):
    """A `limit` or `cursor` a list cannot take. The HTTP edge answers it 422 with these field errors."""

    def __init__(self, *errors: FieldError) -> None:
        super().__init__("; ".join(f"{e.field} {e.message}" for e in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None = None

    def map(self, render: Callable[[T], U]) -> Page[U]:
        return Page([render(item) for item in self.items], self.next_cursor)

    def replace(self, items: list[U]) -> Page[U]:
        """The same place in the list with other items (rendered asynchronously, or some left out)."""
        return Page(items, self.next_cursor)

    def as_json(self) -> dict[str, Any]:
        """The answer of every list endpoint: `{"items": [...], "next_cursor": ...}`."""
        return {"items": list(self.items), "next_cursor": self.next_cursor}


@dataclass(frozen=True)
class Keyset:
    """How one list names a place in itself: `scope` names the list (its cursors are refused by any
    other), `types` are the parts of its sort key (by default one integer: a seq or a position)."""

    scope: str
    types: tuple[KeyType, ...] = (int,)

    def __post_init__(self) -> None:
        if not 0 < len(self.scope.encode()) <= 64 or not self.types:
            raise ValueError(f"a keyset needs a scope of 1 to 64 bytes and a key: {self.scope!r}")

    def cursor(self, key: Key) -> str:
        """The opaque cursor of the page that continues after `key`."""
        parts = self._checked(key)
        payload = json.dumps(
            [p.isoformat() if isinstance(p, datetime) else p for p in parts], separators=(",", ":")
        ).encode()
        return base64.urlsafe_b64encode(self._check(payload) + payload).rstrip(b"=").decode()

    def key(self, cursor: str) -> Key:
        """The key a cursor of this list stands for; InvalidPage for anything this list did not give out."""
        try:
            if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
                raise ValueError(cursor)
            raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
            check, payload = raw[:_CHECK_BYTES], raw[_CHECK_BYTES:]
            if not hmac.compare_digest(check, self._check(payload)):
                raise ValueError(cursor)
            values = json.loads(payload)
            if not isinstance(values, list) or len(values) != len(self.types):
                raise ValueError(cursor)
            return tuple(_part(kind, value) for kind, value in zip(self.types, values, strict=True))
        except (ValueError, UnicodeError, binascii.Error, TypeError):
            raise InvalidPage(FieldError("cursor", CURSOR_RULE)) from None

    def request(self, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> PageRequest:
        """`limit` and `cursor` of a request; as a FastAPI dependency they are the query parameters."""
        errors: list[FieldError] = []
        if not _limit_ok(limit):
            errors.append(FieldError("limit", LIMIT_RULE))
        after: Key | None = None
        if cursor is not None:
            try:
                after = self.key(cursor)
            except InvalidPage as refused:
                errors.extend(refused.errors)
        if errors:
            raise InvalidPage(*errors)
        return PageRequest(self, limit, after)

    def _check(self, payload: bytes) -> bytes:
        return hashlib.blake2b(
            payload, digest_size=_CHECK_BYTES, key=self.scope.encode(), person=b"billing.cursor"
        ).digest()

    def _checked(self, key: Key) -> Key:
        if len(key) != len(self.types) or not all(
            _is(kind, part) for kind, part in zip(self.types, key, strict=False)
        ):
            raise TypeError(f"{self.scope}: key {key!r} is not of types {self.types!r}")
        return key


def _is(kind: KeyType, value: object) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _part(kind: KeyType, value: object) -> KeyPart:
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is not datetime and isinstance(value, int | str) and _is(kind, value):
        return value
    raise ValueError(value)


def _limit_ok(limit: object) -> bool:
    return isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_LIMIT


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list to read: at most `limit` items after the key `after` (None: the first page)."""

    keyset: Keyset
    limit: int = DEFAULT_LIMIT
    after: Key | None = field(default=None)

    def __post_init__(self) -> None:
        if not _limit_ok(self.limit):
            raise InvalidPage(FieldError("limit", LIMIT_RULE))

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page holds, to know whether another page follows."""
        return self.limit + 1

    @property
    def position(self) -> int:
        """For a list keyed by one increasing integer (seq, position): the key to read after, 0 at first."""
        if self.keyset.types != (int,):
            raise TypeError(f"{self.keyset.scope} is not keyed by one integer")
        if self.after is None:
            return 0
        (position,) = self.after
        assert isinstance(position, int)
        return position

    def page(self, rows: Sequence[R], key: Callable[[R], Key]) -> Page[R]:
        """The page of `rows` read in key order after `after`, up to `fetch` of them."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        return Page(items, self.keyset.cursor(key(items[-1])) if more else None)
