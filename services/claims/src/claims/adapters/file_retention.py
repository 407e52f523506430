"""X12 files at rest: the clearinghouse folder keeps no file holding PHI past its retention.

An 837 names patients, birth dates and member ids; an 835 names patients and what they owe. Once
a file is done with (an outbound 837 picked up, an inbound file applied or refused), the platform
keeps what it needs sealed in its own database (each claim's 837 in `claim_submissions`, sealed
with the patient's key; the events of the 835) and the clear file is only a liability. Every file in

    outbound/ and outbound/processed/        837s written (and, for the simulator, picked up)
    inbound/processed/ and inbound/rejected/  payers' files applied or refused

is deleted once it is older than the retention (`X12_RETENTION_HOURS`, documented in
docs/operations.md); 0 deletes them at the next pass. A refused file's `.reason.txt` stays: it names
rules and segments, never a value from the file. Files waiting in inbound/ are never touched: they
are not done with yet.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

REASON_SUFFIX = ".reason.txt"


def done_folders(root: Path) -> tuple[Path, ...]:
    return (
        root / "outbound",
        root / "outbound" / "processed",
        root / "inbound" / "processed",
        root / "inbound" / "rejected",
    )


def purge_expired(root: str | Path, retention_seconds: float, *, now: float | None = None) -> int:
    """Delete the done-with X12 files older than the retention; returns how many were deleted."""
    cutoff = (time.time() if now is None else now) - retention_seconds
    deleted = 0
    for folder in done_folders(Path(root)):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.is_file() or path.name.endswith(REASON_SUFFIX):
                continue
            with contextlib.suppress(FileNotFoundError):  # another replica purged it first
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    deleted += 1
    if deleted:
        # The count only: file names carry control numbers, never patients, but a count is enough.
        log.info("x12 files past retention deleted", extra={"deleted": deleted})
    return deleted
