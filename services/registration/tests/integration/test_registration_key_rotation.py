"""A master-key rotation on a running registration: patients registered under the old master key read
(name in clear) and are found by MRN before, during and after `billing rotate-master-key`'s re-wrap;
the blind index keeps its own key, so every stored MRN index stays valid; afterwards the old master
key opens nothing."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidTag

from billing_events.phi import rewrap_data_keys
from billing_service.auth import issue_token
from billing_service.runtime import build_app, open_runtime
from billing_service.settings import ServiceSettings
from billing_testing.harness import harness_settings
from registration.entrypoints import SERVICE

from .test_registration_api import PATIENT


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@asynccontextmanager
async def registration(settings: ServiceSettings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    runtime = await open_runtime(SERVICE, settings)
    token = issue_token(settings, tenant="tenant-a", roles=["front_desk"], subject="desk-1")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_app(SERVICE, settings, runtime)),
        base_url="http://service",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        yield runtime, client
    finally:
        await client.aclose()
        await runtime.close()


async def read_everyone(client: httpx.AsyncClient, patients: dict[str, str]) -> None:
    """Each patient reads with their name in clear and is found by their MRN."""
    for mrn, patient_id in patients.items():
        read = await client.get(f"/patients/{patient_id}")
        assert read.status_code == 200, read.text
        assert read.json()["name"]["family"] == "Quackenbush"  # PATIENT's, opened with the data key
        found = (await client.get("/patients", params={"mrn": mrn})).json()["items"]
        assert [p["patient_id"] for p in found] == [patient_id]


async def test_reads_and_mrn_lookups_work_before_during_and_after_a_rotation(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    old, new = new_key(), new_key()
    base = harness_settings(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path)
    before = base.model_copy(update={"phi_master_key": old})
    patients: dict[str, str] = {}
    async with registration(before) as (_, client):
        for number in range(30):
            mrn = f"MRN-{number:04d}"
            response = await client.post("/patients", json={**PATIENT, "mrn": mrn})
            assert response.status_code == 201, response.text
            patients[mrn] = response.json()["patient_id"]
        await read_everyone(client, patients)

    # Rolled out: the new master wraps new keys, the old one still opens the others, and the blind
    # index keeps the key it was derived from.
    during = base.model_copy(
        update={"phi_master_key": new, "phi_previous_master_keys": old, "phi_blind_index_key": old}
    )
    async with registration(during) as (runtime, client):
        await read_everyone(client, patients)
        assert runtime.keys_pool is not None
        rotation = asyncio.create_task(
            rewrap_data_keys(runtime.keys_pool, base64.b64decode(old), base64.b64decode(new), batch=7)
        )
        while not rotation.done():  # reads go on while the keys are re-wrapped, batch by batch
            await read_everyone(client, {mrn: patients[mrn] for mrn in list(patients)[:3]})
        assert rotation.result() == 30
        # Run again (after a failure half-way, say): nothing is left to do.
        assert await rewrap_data_keys(runtime.keys_pool, base64.b64decode(old), base64.b64decode(new)) == 0
        created = await client.post("/patients", json={**PATIENT, "mrn": "MRN-9999"})
        assert created.status_code == 201
        patients["MRN-9999"] = created.json()["patient_id"]

    after = base.model_copy(update={"phi_master_key": new, "phi_blind_index_key": old})
    async with registration(after) as (_, client):
        await read_everyone(client, patients)

    # The old master key alone opens nothing any more.
    async with registration(before) as (runtime, _):
        with pytest.raises(InvalidTag):
            await runtime.vault._keys.data_key(patients["MRN-0000"])


async def test_a_blind_index_key_rotation_keeps_every_mrn_findable_and_taken(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    master, index_v1, index_v2 = new_key(), new_key(), new_key()
    base = harness_settings(SERVICE, database_url, kafka_bootstrap, topic_prefix, tmp_path).model_copy(
        update={"phi_master_key": master}
    )
    version_1 = base.model_copy(update={"phi_blind_index_key": index_v1})
    async with registration(version_1) as (_, client):
        first = await client.post("/patients", json={**PATIENT, "mrn": "MRN-0001"})
        assert first.status_code == 201

    # Version 2 makes the new indexes; version 1 is still searched.
    version_2 = base.model_copy(
        update={
            "phi_blind_index_key": index_v2,
            "phi_blind_index_key_version": 2,
            "phi_previous_blind_index_keys": f"1:{index_v1}",
        }
    )
    async with registration(version_2) as (runtime, client):
        second = await client.post("/patients", json={**PATIENT, "mrn": "MRN-0002"})
        assert second.status_code == 201
        # An MRN indexed under version 1 is still taken under version 2.
        again = await client.post("/patients", json={**PATIENT, "mrn": "MRN-0001"})
        assert again.status_code == 409, again.text
        await read_everyone(
            client, {"MRN-0001": first.json()["patient_id"], "MRN-0002": second.json()["patient_id"]}
        )
        async with runtime.pool.acquire() as db:
            stored = dict(await db.fetch("SELECT patient_id, mrn_index FROM reg_patients"))
    # The key version is stored beside each index: the bare digest for 1, "v2:" in front for 2.
    assert len(stored[first.json()["patient_id"]]) == 64
    assert stored[second.json()["patient_id"]].startswith("v2:")
