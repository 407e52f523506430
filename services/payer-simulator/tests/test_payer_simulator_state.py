"""The simulator's memory: a snapshot and a journal of passes, crash by crash."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from payer_simulator import state as state_module
from payer_simulator.state import (
    JOURNAL_FILE,
    STATE_FILE,
    ProcessedFile,
    Rename,
    SimulatorState,
    StoredClaim,
    load_state,
    save_state,
)

AT = dt.datetime(2025, 3, 10, 9, 30, tzinfo=dt.UTC)


def _claim(number: str, patient_control_number: str = "PCN-A") -> StoredClaim:
    return StoredClaim(
        payer_id="DEMO-AETNA",
        payer_claim_control_number=number,
        patient_control_number=patient_control_number,
        status_code="1",
        charge_cents=43000,
        paid_cents=14400,
        patient_responsibility_cents=13600,
        claim_filing_indicator="CI",
        facility_code="11",
        frequency_code="1",
        lines=[],
        member_key="m1",
        provider_id="1234567893",
        deductible_used={"2025": 10000},
    )


def _a_pass(state: SimulatorState, number: int) -> None:
    """What one answered file changes: the file, a control number, a claim, a deductible, a balance."""
    answered = ProcessedFile(name=f"batch-{number}.x12", processed_at=AT, outputs=[])
    state.record_file(f"digest-{number}", answered)
    state.counters.next("claim")
    state.store_claim(_claim(f"SIM{number:010d}", f"PCN-{number}"))
    state.add_deductible("DEMO-AETNA", "m1", {2025: 100})
    state.set_balance("DEMO-AETNA|1234567893", number * 10)
    state.pending = [Rename(source=f"tmp/{number}", target=f"inbound/{number}")]


def _journal_lines(directory: Path) -> list[bytes]:
    return (directory / JOURNAL_FILE).read_bytes().splitlines()


def test_each_pass_appends_one_line_and_a_reload_sees_every_pass(tmp_path: Path) -> None:
    state = load_state(tmp_path)
    for number in (1, 2, 3):
        _a_pass(state, number)
        save_state(tmp_path, state)
    assert len(_journal_lines(tmp_path)) == 3
    assert not (tmp_path / STATE_FILE).exists()  # nothing rewrote the whole state

    again = load_state(tmp_path)
    assert again.model_dump() == state.model_dump()
    assert sorted(again.processed) == ["digest-1", "digest-2", "digest-3"]
    assert again.counters.claim == 3
    assert again.deductibles == {"DEMO-AETNA|m1": {"2025": 300}}  # 3 passes x 1.00
    assert again.balances == {"DEMO-AETNA|1234567893": 30}
    assert again.pending == [Rename(source="tmp/3", target="inbound/3")]


def test_a_line_carries_only_what_its_pass_changed(tmp_path: Path) -> None:
    state = load_state(tmp_path)
    _a_pass(state, 1)
    save_state(tmp_path, state)
    paid = state.find_claim("DEMO-AETNA", "SIM0000000001")
    assert paid is not None
    state.supersede(paid)
    save_state(tmp_path, state)
    second = _journal_lines(tmp_path)[1]
    assert b"digest-1" not in second  # the file was recorded by the first pass
    assert b'"superseded":true' in second
    again = load_state(tmp_path)
    superseded = again.find_claim("DEMO-AETNA", "SIM0000000001")
    assert superseded is not None and superseded.superseded
    # The superseded claim gave its 100.00 back: 1.00 added by the pass, 100.00 taken off.
    assert again.deductibles == {"DEMO-AETNA|m1": {"2025": 100 - 10000}}


def test_a_line_cut_short_by_a_crash_is_not_applied_and_the_next_save_starts_a_snapshot(
    tmp_path: Path,
) -> None:
    state = load_state(tmp_path)
    _a_pass(state, 1)
    save_state(tmp_path, state)
    committed = load_state(tmp_path).model_dump()
    _a_pass(state, 2)
    save_state(tmp_path, state)
    whole = (tmp_path / JOURNAL_FILE).read_bytes()
    cut = whole[: len(whole) - 40]  # the second line, half written
    (tmp_path / JOURNAL_FILE).write_bytes(cut)

    after_crash = load_state(tmp_path)
    assert after_crash.model_dump() == committed  # pass 2 never committed
    _a_pass(after_crash, 3)
    save_state(tmp_path, after_crash)
    assert (tmp_path / STATE_FILE).exists()
    assert _journal_lines(tmp_path) == []
    assert sorted(load_state(tmp_path).processed) == ["digest-1", "digest-3"]


def test_lines_of_an_older_snapshot_are_not_applied_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "_COMPACT_AFTER_LINES", 2)
    state = load_state(tmp_path)
    for number in (1, 2):
        _a_pass(state, number)
        save_state(tmp_path, state)
    old_journal = (tmp_path / JOURNAL_FILE).read_bytes()
    _a_pass(state, 3)
    save_state(tmp_path, state)  # the third pass writes a snapshot and empties the journal
    assert _journal_lines(tmp_path) == []
    assert state.generation == 1

    # A crash between the snapshot and the emptied journal: the older lines are still there. Applied,
    # they would take the counter back to 2 and the balance to 20.
    (tmp_path / JOURNAL_FILE).write_bytes(old_journal)
    again = load_state(tmp_path)
    assert again.counters.claim == 3
    assert again.balances == {"DEMO-AETNA|1234567893": 30}
    assert again.model_dump() == state.model_dump()


def test_the_journal_starts_again_once_it_outgrows_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "_COMPACT_AFTER_LINES", 3)
    state = load_state(tmp_path)
    lines = []
    for number in range(1, 9):
        _a_pass(state, number)
        save_state(tmp_path, state)
        lines.append(len(_journal_lines(tmp_path)))
    # Three lines, then a snapshot; after it the journal grows until it is as large as the snapshot.
    assert lines[:4] == [1, 2, 3, 0]
    assert load_state(tmp_path).model_dump() == state.model_dump()


def test_a_state_not_read_from_the_folder_is_saved_whole(tmp_path: Path) -> None:
    state = SimulatorState()
    _a_pass(state, 1)
    save_state(tmp_path, state)
    assert (tmp_path / STATE_FILE).exists()
    assert load_state(tmp_path).model_dump() == state.model_dump()
    # Held as text in memory, a claim is still written as an object, as files of earlier runs hold it.
    written = json.loads((tmp_path / STATE_FILE).read_text())
    assert written["claims"]["DEMO-AETNA|SIM0000000001"]["patient_control_number"] == "PCN-1"
    reread = load_state(tmp_path).find_claim("DEMO-AETNA", "SIM0000000001")
    assert reread == _claim("SIM0000000001", "PCN-1")


def test_the_latest_standing_claim_under_a_patient_control_number_is_found() -> None:
    state = SimulatorState()

    def standing() -> str | None:
        found = state.find_by_patient_control_number("DEMO-AETNA", "PCN-A")
        return None if found is None else found.payer_claim_control_number

    state.store_claim(_claim("SIM0000000001", "PCN-A"))
    assert standing() == "SIM0000000001"
    state.store_claim(_claim("SIM0000000002", "PCN-A"))
    assert standing() == "SIM0000000002"
    second = state.find_claim("DEMO-AETNA", "SIM0000000002")
    assert second is not None
    state.supersede(second)
    assert standing() == "SIM0000000001"
    first = state.find_claim("DEMO-AETNA", "SIM0000000001")
    assert first is not None
    state.supersede(first)
    assert standing() is None
    assert state.find_by_patient_control_number("OTHER", "PCN-A") is None
