"""HL7 v2 ADT messages as registration's commands, and the acknowledgement each one gets (pure: no I/O).

Accepted: A04 (register a patient; an MRN already registered is updated instead, since an ADT feed
sends A04 at every outpatient registration), A08 (update patient information) and A31 (update person
information). A01/A03 (admit/discharge) are refused with AR until registration has admissions.
Acknowledgement codes (HL7 table 0008): AA accepted, AE accepted for processing but refused by a
rule (the reason names the HL7 field, never its value), AR rejected (malformed or not supported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from registration.domain.values import AddressInput, NameInput

AckCode = Literal["AA", "AE", "AR"]
REGISTERS = {"A04"}
UPDATES = {"A08", "A31"}
AWAITING_ADMISSIONS = {"A01", "A02", "A03", "A11", "A12", "A13"}
# HL7 table 0001 (administrative sex) to the platform's M/F/U.
_SEX = {"M": "M", "F": "F", "U": "U", "O": "U", "A": "U", "N": "U", "X": "U"}
# Where a registration field comes from, so that a refusal names the HL7 field.
FIELD_SOURCES = {
    "mrn": "PID-3",
    "name": "PID-5",
    "birth_date": "PID-7",
    "sex": "PID-8",
    "address": "PID-11",
    "phone": "PID-13",
}
_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_UNSAFE = re.compile(r"[|^~\\&\r\n]")


@dataclass(frozen=True)
class PatientIdentification:
    """The PID segment's fields that registration keeps (values as sent)."""

    mrn: str
    family: str | None
    given: str | None
    birth_date: str | None
    sex: str | None
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    phone: str | None


@dataclass(frozen=True)
class AdtMessage:
    control_id: str
    message_type: str
    trigger: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    processing_id: str
    version: str
    patient: PatientIdentification | None


@dataclass(frozen=True)
class Ack:
    code: AckCode
    text: str


@dataclass(frozen=True)
class PatientFields:
    """What registration's handlers take, from the PID segment."""

    mrn: str
    name: NameInput | None
    birth_date: str | None
    sex: str | None
    address: AddressInput | None
    phone: str | None


@dataclass(frozen=True)
class Register:
    fields: PatientFields


@dataclass(frozen=True)
class Update:
    fields: PatientFields


Decision = Register | Update | Ack


def hl7_date(value: str | None) -> str | None:
    """An HL7 DT/TS (YYYYMMDD[HHMM[SS]]...) as an ISO date; anything else is passed on for the
    registration rules to refuse."""
    if not value:
        return None
    match = _TS.match(value)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else value


def patient_fields(pid: PatientIdentification) -> PatientFields:
    name = NameInput(given=pid.given, family=pid.family) if (pid.given or pid.family) else None
    parts = (pid.line1, pid.line2, pid.city, pid.state, pid.postal_code)
    address = (
        AddressInput(
            line1=pid.line1, line2=pid.line2, city=pid.city, state=pid.state, postal_code=pid.postal_code
        )
        if any(parts)
        else None
    )
    sex = _SEX.get((pid.sex or "").upper(), pid.sex) if pid.sex else None
    return PatientFields(
        mrn=pid.mrn,
        name=name,
        birth_date=hl7_date(pid.birth_date),
        sex=sex,
        address=address,
        phone=pid.phone or None,
    )


def decide(message: AdtMessage) -> Decision:
    if message.message_type != "ADT":
        return Ack("AR", "only ADT messages are accepted (MSH-9)")
    trigger = message.trigger
    if trigger in AWAITING_ADMISSIONS:
        return Ack("AR", f"ADT {trigger} is not supported until admissions exist")
    if trigger not in REGISTERS | UPDATES:
        return Ack("AR", f"ADT {trigger or 'without a trigger event'} is not supported (MSH-9.2)")
    if message.patient is None:
        return Ack("AR", "the PID segment is missing")
    if not message.patient.mrn.strip():
        return Ack("AR", "the patient identifier (PID-3) is missing")
    fields = patient_fields(message.patient)
    return Register(fields) if trigger in REGISTERS else Update(fields)


def refusal(field: str, message: str) -> str:
    """One refused field, named by its HL7 source ("PID-7 birth_date: is not a date")."""
    source = FIELD_SOURCES.get(field.split(".")[0])
    return f"{source} {field}: {message}" if source else f"{field}: {message}"


def _safe(text: str) -> str:
    """Text for an ER7 field: no delimiters, bounded."""
    return _UNSAFE.sub(" ", text)[:200]


def acknowledgement(
    message: AdtMessage | None, ack: Ack, *, control_id: str, now: datetime, received_control_id: str = ""
) -> str:
    """The ACK (original mode) in ER7, segments ended by carriage returns. MSH-3/4 answer as the
    receiving application and facility of the message; MSA-2 echoes its control id."""
    if message is not None:
        sender, facility = message.receiving_application or "BILLING", message.receiving_facility or ""
        to_app, to_facility = message.sending_application, message.sending_facility
        trigger, processing, version = (
            message.trigger,
            message.processing_id or "P",
            message.version or "2.5.1",
        )
        received_control_id = message.control_id
    else:
        sender, facility, to_app, to_facility = "BILLING", "", "", ""
        trigger, processing, version = "", "P", "2.5.1"
    msh = [
        "MSH",
        "^~\\&",
        _safe(sender),
        _safe(facility),
        _safe(to_app),
        _safe(to_facility),
        now.strftime("%Y%m%d%H%M%S"),
        "",
        f"ACK^{_safe(trigger)}^ACK" if trigger else "ACK",
        _safe(control_id),
        _safe(processing),
        _safe(version),
    ]
    segments = ["|".join(msh), "|".join(["MSA", ack.code, _safe(received_control_id), _safe(ack.text)])]
    if ack.code != "AA":
        # ERR-3 (HL7 table 0357): 207 application internal error for AE, 200 unsupported / 100 for AR.
        error_code = "207" if ack.code == "AE" else "200"
        segments.append("|".join(["ERR", "", "", error_code, "E", "", "", "", _safe(ack.text)]))
    return "\r".join(segments) + "\r"
