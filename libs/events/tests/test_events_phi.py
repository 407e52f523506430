"""Patient data protection: sealed fields, crypto-shredding, blind indexes."""

from __future__ import annotations

import base64
import os

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag

from billing_events.phi import BlindIndex, KeyDestroyed, PostgresKeyProvider, Vault, seal, unseal
from billing_events.store import create_pool

MASTER = os.urandom(32)


async def test_sealed_fields_never_contain_the_plaintext_and_open_again(database_url: str) -> None:
    pool = await create_pool(database_url)
    provider = PostgresKeyProvider(pool, MASTER)
    await provider.setup()
    vault = Vault(provider)
    name = {"given": "Maria", "family": "Gonzalez-Smith"}

    sealed = await vault.seal_fields("patient-1", {"name": name, "mrn": "MRN-0042", "phone": None})

    assert sealed["phone"] is None
    for value in (sealed["name"], sealed["mrn"]):
        assert value is not None
        raw = base64.b64decode(value.ciphertext)
        assert (
            b"Maria" not in raw
            and b"MRN-0042" not in raw
            and b"Gonzalez" not in value.model_dump_json().encode()
        )
    assert sealed["name"] is not None and await vault.open(sealed["name"], "name") == name
    stored = await pool.fetchval("SELECT wrapped_key FROM phi_data_keys WHERE key_id = 'patient-1'")
    assert len(stored) == 12 + 32 + 16  # nonce, wrapped 256-bit key, GCM tag: never the bare key
    await pool.close()


async def test_destroying_the_key_makes_every_copy_unreadable(database_url: str) -> None:
    pool = await create_pool(database_url)
    writer = PostgresKeyProvider(pool, MASTER)
    await writer.setup()
    sealed = (await Vault(writer).seal_fields("patient-2", {"birth_date": "1980-02-29"}))["birth_date"]
    assert sealed is not None
    # Another process (another provider, its own cache) has read the key before it is destroyed.
    other = PostgresKeyProvider(pool, MASTER, cache_seconds=0)
    assert await Vault(other).open(sealed, "birth_date") == "1980-02-29"

    await Vault(writer).destroy("patient-2")

    with pytest.raises(KeyDestroyed):
        await Vault(writer).open(sealed, "birth_date")
    with pytest.raises(KeyDestroyed):
        await Vault(other).open(sealed, "birth_date")
    with pytest.raises(KeyDestroyed):
        await Vault(writer).seal_fields("patient-2", {"birth_date": "1980-02-29"})
    await pool.close()


def test_a_sealed_value_cannot_be_moved_to_another_field() -> None:
    key = os.urandom(32)
    sealed = seal("MRN-7", key=key, key_id="p", field="mrn")
    assert unseal(sealed, key=key, field="mrn") == "MRN-7"
    with pytest.raises(InvalidTag):
        unseal(sealed, key=key, field="member_id")


def test_blind_index_matches_equal_values_per_tenant_only() -> None:
    index = BlindIndex(MASTER)
    assert index("acme", "mrn", " mrn-42 ") == index("acme", "mrn", "MRN-42")
    assert index("acme", "mrn", "MRN-42") != index("globex", "mrn", "MRN-42")
    assert index("acme", "mrn", "MRN-42") != index("acme", "mrn", "MRN-43")
    assert "MRN" not in index("acme", "mrn", "MRN-42")
    assert BlindIndex(os.urandom(32))("acme", "mrn", "MRN-42") != index("acme", "mrn", "MRN-42")


async def test_a_wrong_master_key_cannot_unwrap_data_keys(database_url: str) -> None:
    pool = await create_pool(database_url)
    provider = PostgresKeyProvider(pool, MASTER)
    await provider.setup()
    sealed = (await Vault(provider).seal_fields("patient-3", {"mrn": "X"}))["mrn"]
    assert sealed is not None
    intruder = PostgresKeyProvider(pool, os.urandom(32))
    with pytest.raises(InvalidTag):
        await Vault(intruder).open(sealed, "mrn")
    assert isinstance(pool, asyncpg.Pool)
    await pool.close()
