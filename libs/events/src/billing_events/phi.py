"""Patient data protection: field encryption under per-patient data keys, crypto-shredding, blind indexes.

Each patient (the key's subject) gets a random 256-bit data key. Sealed fields are AES-256-GCM with the
key id and the field name as associated data, so a ciphertext cannot be moved to another field or
patient. Data keys are stored wrapped (AES-256-GCM under the master key) by a KeyProvider; destroying
a subject's key makes every copy of its sealed fields unreadable, in every topic and backup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from billing_events.contracts.base import Sealed

KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS phi_data_keys (
    key_id text PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz
);
"""


_KEYS_SCHEMA_LOCK = 72_100_005


class KeyDestroyed(Exception):
    """The subject's data key was destroyed: its sealed fields can no longer be read."""


class KeyProvider(Protocol):
    """Where data keys live: the local PostgreSQL provider, or Vault Transit / a cloud KMS."""

    async def data_key(self, key_id: str, *, create: bool = False) -> bytes: ...

    async def destroy(self, key_id: str) -> None: ...


class NoPhiAccess(PermissionError):
    """This service holds no PHI key: it never seals or opens patient data (least privilege)."""


class NoKeys:
    """The KeyProvider of a service that must not decrypt: every use is refused."""

    async def data_key(self, key_id: str, *, create: bool = False) -> bytes:
        raise NoPhiAccess("this service holds no PHI key")

    async def destroy(self, key_id: str) -> None:
        raise NoPhiAccess("this service holds no PHI key")


def decode_master_key(value: str) -> bytes:
    key = base64.b64decode(value)
    if len(key) != 32:
        raise ValueError("PHI_MASTER_KEY must be base64 of exactly 32 bytes")
    return key


class PostgresKeyProvider:
    """Data keys in a PostgreSQL table, wrapped by a master key given as a secret.

    Unwrapped keys are cached for `cache_seconds`; after a key is destroyed, other processes stop
    decrypting within that time.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        master_key: bytes,
        cache_seconds: float = 60.0,
        *,
        previous_master_keys: Sequence[bytes] = (),
    ) -> None:
        self._pool = pool
        self._wrap = AESGCM(master_key)
        # During a master-key rotation: keys not yet re-wrapped are still opened with the old key.
        self._unwrap = [self._wrap, *(AESGCM(key) for key in previous_master_keys)]
        self._cache: dict[str, tuple[float, bytes]] = {}
        self._cache_seconds = cache_seconds

    async def setup(self) -> None:
        # Every service shares the keys database and creates its table at start: under an advisory
        # lock, or two starting at once race in CREATE TABLE IF NOT EXISTS (a unique violation).
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _KEYS_SCHEMA_LOCK)
            await connection.execute(KEYS_SCHEMA)

    async def data_key(self, key_id: str, *, create: bool = False) -> bytes:
        cached = self._cache.get(key_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(
                "SELECT wrapped_key, destroyed_at FROM phi_data_keys WHERE key_id = $1", key_id
            )
            if row is None and create:
                nonce = os.urandom(12)
                wrapped = nonce + self._wrap.encrypt(nonce, AESGCM.generate_key(256), key_id.encode())
                await connection.execute(
                    "INSERT INTO phi_data_keys (key_id, wrapped_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    key_id,
                    wrapped,
                )
                row = await connection.fetchrow(
                    "SELECT wrapped_key, destroyed_at FROM phi_data_keys WHERE key_id = $1", key_id
                )
        if row is None or row["destroyed_at"] is not None or row["wrapped_key"] is None:
            raise KeyDestroyed(key_id)
        key = _unwrap(self._unwrap, key_id, bytes(row["wrapped_key"]))
        self._cache[key_id] = (time.monotonic() + self._cache_seconds, key)
        return key

    async def destroy(self, key_id: str) -> None:
        async with self._pool.acquire() as connection:
            await connection.execute(
                "UPDATE phi_data_keys SET wrapped_key = NULL, destroyed_at = now() WHERE key_id = $1", key_id
            )
        self._cache.pop(key_id, None)


def _unwrap(masters: Sequence[AESGCM], key_id: str, wrapped: bytes) -> bytes:
    for master in masters[:-1]:
        try:
            return master.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
        except InvalidTag:
            continue
    return masters[-1].decrypt(wrapped[:12], wrapped[12:], key_id.encode())


async def rewrap_data_keys(
    pool: asyncpg.Pool,
    old_master_key: bytes,
    new_master_key: bytes,
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-wrap every live data key from the old master key to the new one, batch by batch, while the
    platform runs (its services open keys under either master until this is done). Each row is
    updated only if it still holds what was read (a concurrent destroy wins); keys already under the
    new master are left alone, so a rotation that stopped half-way is simply run again. Returns how
    many keys were re-wrapped."""
    old, new = AESGCM(old_master_key), AESGCM(new_master_key)
    async with pool.acquire() as connection:
        total = int(
            await connection.fetchval("SELECT count(*) FROM phi_data_keys WHERE wrapped_key IS NOT NULL")
        )
    done, rewrapped, after = 0, 0, ""
    while True:
        async with pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                "SELECT key_id, wrapped_key FROM phi_data_keys WHERE key_id > $1 AND wrapped_key IS NOT NULL "
                "ORDER BY key_id LIMIT $2",
                after,
                batch,
            )
            for row in rows:
                wrapped = bytes(row["wrapped_key"])
                try:
                    key = old.decrypt(wrapped[:12], wrapped[12:], row["key_id"].encode())
                except InvalidTag:
                    continue  # already under the new master (or under another old one)
                nonce = os.urandom(12)
                updated = await connection.fetchval(
                    "UPDATE phi_data_keys SET wrapped_key = $2 WHERE key_id = $1 AND wrapped_key = $3 "
                    "RETURNING true",
                    row["key_id"],
                    nonce + new.encrypt(nonce, key, row["key_id"].encode()),
                    wrapped,
                )
                rewrapped += bool(updated)
        if not rows:
            return rewrapped
        after = rows[-1]["key_id"]
        done += len(rows)
        if progress is not None:
            progress(done, max(total, done))


def seal(value: Any, *, key: bytes, key_id: str, field: str) -> Sealed:
    nonce = os.urandom(12)
    plaintext = json.dumps(value, sort_keys=True, default=str).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, f"{key_id}|{field}".encode())
    return Sealed(
        key_id=key_id,
        nonce=base64.b64encode(nonce).decode(),
        ciphertext=base64.b64encode(ciphertext).decode(),
    )


def unseal(sealed: Sealed, *, key: bytes, field: str) -> Any:
    plaintext = AESGCM(key).decrypt(
        base64.b64decode(sealed.nonce),
        base64.b64decode(sealed.ciphertext),
        f"{sealed.key_id}|{field}".encode(),
    )
    return json.loads(plaintext)


class Vault:
    """Seals and opens fields for one service, through its key provider."""

    def __init__(self, keys: KeyProvider) -> None:
        self._keys = keys

    async def seal_fields(self, key_id: str, values: Mapping[str, Any]) -> dict[str, Sealed | None]:
        key = await self._keys.data_key(key_id, create=True)
        return {
            name: None if value is None else seal(value, key=key, key_id=key_id, field=name)
            for name, value in values.items()
        }

    async def open(self, sealed: Sealed, field: str) -> Any:
        key = await self._keys.data_key(sealed.key_id)
        return unseal(sealed, key=key, field=field)

    async def destroy(self, key_id: str) -> None:
        await self._keys.destroy(key_id)


class BlindIndex:
    """A keyed hash for equality lookups (e.g. MRN) without storing the value; per tenant.

    Versioned, so its key can change while the platform runs: an index of key version 1 is the bare
    hex digest (what every index stored before versions existed looks like), one of a later version
    carries it in front (`v2:<hex>`). New indexes are made with the current version; a lookup tries
    the current and every previous version (`lookups`), so a patient indexed under an old key is
    still found, and a value indexed under any version counts as taken. The key is derived from the
    master key unless the blind index has one of its own (PHI_BLIND_INDEX_KEY), which a master-key
    rotation then leaves alone."""

    def __init__(
        self, master_key: bytes, *, version: int = 1, previous: Mapping[int, bytes] | None = None
    ) -> None:
        self._key = _index_key(master_key)
        self._version = version
        self._previous = {v: _index_key(key) for v, key in (previous or {}).items() if v != version}

    def __call__(self, tenant: str, kind: str, value: str) -> str:
        return _index(self._key, self._version, tenant, kind, value)

    def lookups(self, tenant: str, kind: str, value: str) -> list[str]:
        """The value's index under the current key version, then under each previous one."""
        return [
            self(tenant, kind, value),
            *(_index(key, v, tenant, kind, value) for v, key in sorted(self._previous.items(), reverse=True)),
        ]


def _index_key(key: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"billing blind index v1").derive(key)


def _index(key: bytes, version: int, tenant: str, kind: str, value: str) -> str:
    normalized = unicodedata.normalize("NFKC", value).strip().upper()
    message = f"{tenant}\x1f{kind}\x1f{normalized}".encode()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    return digest if version == 1 else f"v{version}:{digest}"


class NoBlindIndex(BlindIndex):
    """The blind index of a service that holds no PHI key: every use is refused."""

    def __init__(self) -> None:
        pass

    def __call__(self, tenant: str, kind: str, value: str) -> str:
        raise NoPhiAccess("this service holds no PHI key")

    def lookups(self, tenant: str, kind: str, value: str) -> list[str]:
        raise NoPhiAccess("this service holds no PHI key")
