"""HL7 v2 ADT messages as registration commands, and their acknowledgements (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registration.adapters.hl7v2 import Malformed, parse
from registration.domain import adt
from registration.domain.adt import Ack, Register, Update, acknowledgement, decide

A04 = (
    "MSH|^~\\&|EPIC|GENERAL|BILLING|REG|20260302120000||ADT^A04^ADT_A01|CTRL-1|P|2.5.1\r"
    "EVN|A04|20260302120000\r"
    "PID|1||123-45-6789^^^SSA^SS~MRN-77^^^GENERAL^MR||Curie^Marie^S||19671107|F|||"
    "7 Rue Street^Apt 2^Boston^MA^02110||(617)555-0199\r"
    "PV1|1|O\r"
)


def message(text: str = A04) -> adt.AdtMessage:
    return parse(text)


def test_an_a04_registers_the_patient_named_by_its_mr_identifier() -> None:
    decision = decide(message())
    assert isinstance(decision, Register)
    fields = decision.fields
    assert fields.mrn == "MRN-77"
    assert fields.name is not None and (fields.name.given, fields.name.family) == ("Marie", "Curie")
    assert (fields.birth_date, fields.sex, fields.phone) == ("1967-11-07", "F", "(617)555-0199")
    assert fields.address is not None
    assert (fields.address.line1, fields.address.line2, fields.address.city) == (
        "7 Rue Street",
        "Apt 2",
        "Boston",
    )
    assert (fields.address.state, fields.address.postal_code) == ("MA", "02110")


@pytest.mark.parametrize("trigger", ["A08", "A31"])
def test_a08_and_a31_update_the_patient(trigger: str) -> None:
    assert isinstance(decide(message(A04.replace("ADT^A04", f"ADT^{trigger}"))), Update)


@pytest.mark.parametrize("trigger", ["A01", "A03"])
def test_admissions_and_discharges_are_rejected_until_admissions_exist(trigger: str) -> None:
    assert decide(message(A04.replace("ADT^A04", f"ADT^{trigger}"))) == Ack(
        "AR", f"ADT {trigger} is not supported until admissions exist"
    )


def test_other_messages_and_events_are_rejected() -> None:
    assert decide(message(A04.replace("ADT^A04^ADT_A01", "ORU^R01"))).code == "AR"  # type: ignore[union-attr]
    assert decide(message(A04.replace("ADT^A04", "ADT^A40"))).code == "AR"  # type: ignore[union-attr]
    no_pid = "\r".join(s for s in A04.split("\r") if not s.startswith("PID"))
    assert decide(message(no_pid)) == Ack("AR", "the PID segment is missing")


def test_a_message_that_is_not_hl7_is_malformed_without_echoing_it() -> None:
    with pytest.raises(Malformed) as raised:
        parse("Curie Marie 19671107")
    assert "Curie" not in raised.value.reason
    with pytest.raises(Malformed, match="MSH-10"):
        parse(A04.replace("|CTRL-1|", "||"))


def test_newlines_between_segments_are_read_as_carriage_returns() -> None:
    assert message(A04.replace("\r", "\n")).control_id == "CTRL-1"


def test_sex_codes_outside_m_f_u_become_unknown_and_hl7_timestamps_become_dates() -> None:
    decision = decide(message(A04.replace("|19671107|F|", "|196711071230|O|")))
    assert isinstance(decision, Register)
    assert (decision.fields.birth_date, decision.fields.sex) == ("1967-11-07", "U")


def test_the_ack_answers_the_sender_and_echoes_the_control_id() -> None:
    now = datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)
    text = acknowledgement(
        message(), Ack("AE", "PID-7 birth_date: is not a date"), control_id="ACK1", now=now
    )
    msh, msa, err = text.rstrip("\r").split("\r")
    assert msh == "MSH|^~\\&|BILLING|REG|EPIC|GENERAL|20260302120001||ACK^A04^ACK|ACK1|P|2.5.1"
    assert msa == "MSA|AE|CTRL-1|PID-7 birth_date: is not a date"
    assert err.startswith("ERR|||207|E")


def test_refusals_name_the_hl7_field() -> None:
    assert adt.refusal("address.city", "is required") == "PID-11 address.city: is required"


def test_a_rejection_of_an_unreadable_message_still_answers_in_er7() -> None:
    now = datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)
    text = acknowledgement(
        None, Ack("AR", "the message does not start with an MSH segment"), control_id="A", now=now
    )
    msh, msa, err = text.rstrip("\r").split("\r")
    assert msh.startswith("MSH|^~\\&|BILLING|")
    assert msa == "MSA|AR||the message does not start with an MSH segment"
    assert err.startswith("ERR|||200|E")


def test_ack_text_never_breaks_the_er7_structure() -> None:
    text = acknowledgement(message(), Ack("AE", "a|b^c~d\\e&f\rg"), control_id="A", now=datetime.now(UTC))
    assert text.count("\r") == 3
    assert text.split("\r")[1] == "MSA|AE|CTRL-1|a b c d e f g"


def test_the_same_message_with_other_line_endings_has_the_same_digest() -> None:
    from registration.adapters.hl7v2 import digest

    assert digest(A04) == digest(A04.replace("\r", "\r\n")) == digest(A04.replace("\r", "\n"))
