"""Long-running work beside the consumers: sending ready claims, reading the clearinghouse's answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from billing_service.runtime import Runtime
from billing_service.workers import every, every_or_on_notify
from claims.adapters.clearinghouse import FolderClearinghouse
from claims.adapters.eligibility import eligibility_unit
from claims.adapters.file_retention import purge_expired
from claims.adapters.projections import postgres_unit
from claims.adapters.x12_837i import X12ClaimFormat
from claims.adapters.x12_eligibility import render_270
from claims.adapters.x12_pool import PooledReader
from claims.application.eligibility import EligibilityConfig, EligibilitySender
from claims.application.ingestion import InboundFolder, Ingestion
from claims.application.submission import Submission, SubmissionConfig
from claims.settings import ClaimsSettings

log = logging.getLogger(__name__)


def settings_of(runtime: Runtime) -> ClaimsSettings:
    """Read once per runtime (tests put their own in runtime.extras)."""
    settings = runtime.extras.get("claims_settings")
    if not isinstance(settings, ClaimsSettings):
        settings = ClaimsSettings()
        runtime.extras["claims_settings"] = settings
    return settings


def submission(runtime: Runtime) -> Submission:
    settings = settings_of(runtime)
    clearinghouse = FolderClearinghouse(settings.clearinghouse_dir)
    return Submission(
        store=runtime.store,
        unit_for=postgres_unit,
        vault=runtime.vault,
        file_format=X12ClaimFormat(),
        outbox=clearinghouse,
        config=SubmissionConfig(
            max_claims_per_file=settings.max_claims_per_file,
            usage=settings.x12_usage,
            submitter_name=settings.submitter_name,
            submitter_contact_name=settings.submitter_contact_name,
            submitter_phone=settings.submitter_phone,
            submitter_id=settings.submitter_id,
        ),
    )


def eligibility_sender(runtime: Runtime) -> EligibilitySender:
    settings = settings_of(runtime)
    return EligibilitySender(
        store=runtime.store,
        unit_for=eligibility_unit,
        vault=runtime.vault,
        outbox=FolderClearinghouse(settings.clearinghouse_dir),
        render=render_270,
        config=EligibilityConfig(
            usage=settings.x12_usage,
            submitter_id=settings.submitter_id,
            reference_wait=timedelta(seconds=settings.eligibility_reference_wait_seconds),
        ),
    )


def x12_reader(runtime: Runtime) -> PooledReader:
    """The runtime's one pool of X12 reader processes (the folder worker and the API share it)."""
    reader = runtime.extras.get("x12_reader")
    if not isinstance(reader, PooledReader):
        settings = settings_of(runtime)
        reader = PooledReader(
            budget_seconds=settings.x12_read_budget_seconds,
            workers=settings.x12_read_workers,
        )
        runtime.extras["x12_reader"] = reader
    return reader


def inbound_folder(runtime: Runtime) -> InboundFolder:
    settings = settings_of(runtime)
    return InboundFolder(
        Ingestion(runtime.store, postgres_unit),
        FolderClearinghouse(settings.clearinghouse_dir),
        x12_reader(runtime),
    )


def workers(runtime: Runtime) -> list[Callable[[asyncio.Event], object]]:
    settings = settings_of(runtime)
    FolderClearinghouse(settings.clearinghouse_dir).ensure_folders()
    sender, reader = submission(runtime), inbound_folder(runtime)
    inquiries = eligibility_sender(runtime)
    retention_seconds = settings.x12_retention_hours * 3600

    async def purge() -> int:
        return await asyncio.to_thread(purge_expired, settings.clearinghouse_dir, retention_seconds)

    return [
        every_or_on_notify(
            "claims-submission",
            settings.submission_interval_seconds,
            sender.run_once,
            pool=runtime.pool,
            channel="claims_to_send",
            linger=settings.submission_linger_seconds,
        ),
        every("claims-inbound", settings.inbound_poll_seconds, reader.run_once),
        every(
            "claims-eligibility",
            settings.submission_interval_seconds,
            lambda: inquiries.run_once(datetime.now(UTC)),
        ),
        every("claims-x12-retention", settings.x12_retention_interval_seconds, purge),
    ]
