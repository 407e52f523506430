"""Long-running work beside the consumers: sending ready claims, reading the clearinghouse's answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from billing_events.consumer import describe_error
from billing_service.runtime import Runtime
from claims.adapters.clearinghouse import FolderClearinghouse
from claims.adapters.eligibility import eligibility_unit
from claims.adapters.projections import postgres_unit
from claims.adapters.x12_837 import X12ClaimFormat
from claims.adapters.x12_eligibility import render_270
from claims.adapters.x12_inbound import read_inbound
from claims.application.eligibility import EligibilityConfig, EligibilitySender
from claims.application.ingestion import InboundFolder, Ingestion
from claims.application.submission import Submission, SubmissionConfig
from claims.settings import ClaimsSettings

log = logging.getLogger(__name__)

Worker = Callable[[asyncio.Event], Awaitable[None]]


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


def inbound_folder(runtime: Runtime) -> InboundFolder:
    settings = settings_of(runtime)
    return InboundFolder(
        Ingestion(runtime.store, postgres_unit), FolderClearinghouse(settings.clearinghouse_dir), read_inbound
    )


def every(name: str, seconds: float, action: Callable[[], Awaitable[object]]) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await action()
            except Exception as error:
                # The next round tries again; the reason names the error type only (no patient data).
                log.warning("worker round failed", extra={"worker": name, "error": describe_error(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)

    return run


def workers(runtime: Runtime) -> list[Callable[[asyncio.Event], object]]:
    settings = settings_of(runtime)
    FolderClearinghouse(settings.clearinghouse_dir).ensure_folders()
    sender, reader = submission(runtime), inbound_folder(runtime)
    inquiries = eligibility_sender(runtime)
    return [
        every("claims-submission", settings.submission_interval_seconds, sender.run_once),
        every("claims-inbound", settings.inbound_poll_seconds, reader.run_once),
        every(
            "claims-eligibility",
            settings.submission_interval_seconds,
            lambda: inquiries.run_once(datetime.now(UTC)),
        ),
    ]
