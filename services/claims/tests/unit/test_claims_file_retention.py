"""X12 files at rest (issue 16): sent, applied and refused files are deleted once past their
retention; files still waiting and the refusal reasons (no PHI) stay."""

from __future__ import annotations

import os
from pathlib import Path

from claims.adapters.clearinghouse import FolderClearinghouse, InboundFile
from claims.adapters.file_retention import purge_expired

HOUR = 3600.0


def aged(path: Path, content: str, hours_old: float, now: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    os.utime(path, (now - hours_old * HOUR, now - hours_old * HOUR))
    return path


def test_done_with_files_past_retention_are_deleted_and_the_rest_stay(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    old = [
        aged(tmp_path / "outbound" / "837P-1.x12", "ISA*837 of a patient", 200, now),
        aged(tmp_path / "outbound" / "processed" / "837P-0.x12", "ISA*837", 500, now),
        aged(tmp_path / "inbound" / "processed" / "era-1.835", "ISA*835 of a patient", 169, now),
        aged(tmp_path / "inbound" / "rejected" / "bad.835", "ISA*bad", 1000, now),
    ]
    kept = [
        aged(tmp_path / "outbound" / "837P-2.x12", "ISA*837 just written", 1, now),
        aged(tmp_path / "inbound" / "processed" / "era-2.835", "ISA*835", 167, now),
        aged(tmp_path / "inbound" / "rejected" / "bad.835.reason.txt", "CLP04: not a number", 1000, now),
        aged(tmp_path / "inbound" / "waiting.835", "ISA*not read yet", 1000, now),
    ]

    # A week's retention (168 hours): 169 hours old goes, 167 hours old stays.
    assert purge_expired(tmp_path, 168 * HOUR, now=now) == len(old)

    assert [p.exists() for p in old] == [False] * len(old)
    assert [p.exists() for p in kept] == [True] * len(kept)


def test_retention_counts_from_when_the_file_was_done_with_and_zero_deletes_at_once(tmp_path: Path) -> None:
    clearinghouse = FolderClearinghouse(tmp_path)
    clearinghouse.ensure_folders()
    arrived = aged(tmp_path / "inbound" / "era.835", "ISA*835", 1000, now=os.path.getmtime(tmp_path))
    moved = clearinghouse.mark_processed(InboundFile(arrived, arrived.read_bytes()))

    assert purge_expired(tmp_path, 168 * HOUR) == 0  # processed just now, though it arrived long ago
    assert moved.exists()
    assert purge_expired(tmp_path, 0) == 1
    assert not moved.exists()
