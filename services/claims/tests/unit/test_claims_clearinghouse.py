"""The folder exchange: atomic outbound files, complete inbound files only, nothing lost on a move."""

from __future__ import annotations

import os
from pathlib import Path

from claims.adapters.clearinghouse import FolderClearinghouse
from claims.domain.identifiers import claim_id_for, line_control_number, patient_control_number_for


def test_writing_the_same_file_again_replaces_it_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = FolderClearinghouse(tmp_path)
    folder.write_outbound("837P-000000001-b.x12", "first")
    folder.write_outbound("837P-000000001-b.x12", "second")
    assert [p.name for p in (tmp_path / "outbound").iterdir()] == ["837P-000000001-b.x12"]
    assert (tmp_path / "outbound" / "837P-000000001-b.x12").read_text() == "second"
    assert folder.outbound_exists("837P-000000001-b.x12")


def test_only_complete_inbound_files_are_read_and_each_ends_in_processed_or_rejected(tmp_path: Path) -> None:
    folder = FolderClearinghouse(tmp_path)
    folder.ensure_folders()
    inbound = tmp_path / "inbound"
    (inbound / "era.835").write_bytes(b"ISA...")
    (inbound / ".era2.835.part").write_bytes(b"half written")
    (inbound / "ack.999.tmp").write_bytes(b"half written")
    (folder.processed_dir / "era.835").write_bytes(b"an older file of the same name")

    (item,) = list(folder.waiting())
    assert (item.name, item.content) == ("era.835", b"ISA...")
    folder.processed(item)
    (inbound / "junk.x12").write_bytes(b"junk")
    (junk,) = list(folder.waiting())
    folder.rejected(junk, "not a readable X12 file")

    assert sorted(p.name for p in folder.processed_dir.iterdir()) == ["era.1.835", "era.835"]
    assert (folder.processed_dir / "era.1.835").read_bytes() == b"ISA..."
    assert (folder.rejected_dir / "junk.x12.reason.txt").read_text() == "not a readable X12 file\n"
    assert list(folder.waiting()) == []


def test_a_file_over_the_limit_is_rejected_unread_and_the_files_after_it_are_still_offered(
    tmp_path: Path,
) -> None:
    folder = FolderClearinghouse(tmp_path, max_file_bytes=1_000)
    folder.ensure_folders()
    inbound = tmp_path / "inbound"
    (inbound / "huge.835").write_bytes(b"x" * 1_001)
    (inbound / "next.835").write_bytes(b"ISA...")
    os.utime(inbound / "huge.835", (1, 1))  # the older: offered first

    offered = [item.name for item in folder.waiting()]

    assert offered == ["next.835"]
    assert not (inbound / "huge.835").exists()
    reason = (folder.rejected_dir / "huge.835.reason.txt").read_text()
    assert "over the 0.000953674 MiB an inbound file may be" in reason and "split" in reason


def test_waiting_files_are_read_one_at_a_time(tmp_path: Path) -> None:
    folder = FolderClearinghouse(tmp_path)
    folder.ensure_folders()
    for number in range(3):
        (tmp_path / "inbound" / f"era{number}.835").write_bytes(b"ISA...")
    waiting = folder.waiting()
    first = next(iter(waiting))
    # Only the first was read; the others are still only names in the folder.
    folder.processed(first)
    (tmp_path / "inbound" / "era1.835").unlink()  # taken by another replica meanwhile
    assert [item.name for item in waiting] == ["era2.835"]


def test_claim_ids_and_control_numbers_are_derived_once_and_for_all() -> None:
    claim_id = claim_id_for("tenant-a", "invoice-1")
    assert claim_id == claim_id_for("tenant-a", "invoice-1")
    assert claim_id != claim_id_for("tenant-b", "invoice-1")
    number = patient_control_number_for(claim_id)
    assert number == patient_control_number_for(claim_id)
    assert len(number) == 16 and set(number) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert line_control_number(number, 3) == f"{number}-3"
