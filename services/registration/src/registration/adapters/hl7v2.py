"""Reading HL7 v2 messages (ER7) with python-hl7 into registration's AdtMessage.

A message that cannot be read raises Malformed with a reason that names segments and fields only:
the message itself is patient data and never goes to logs or answers.
"""

from __future__ import annotations

import hashlib

import hl7

from registration.domain.adt import AdtMessage, PatientIdentification


class Malformed(ValueError):
    """The message cannot be read; the reason holds no values from it."""

    def __init__(self, reason: str, control_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.control_id = control_id


def normalise(raw: str) -> str:
    """Segments end with a carriage return; interface engines posting over HTTP often send newlines."""
    return "\r".join(line for line in raw.replace("\r\n", "\r").replace("\n", "\r").split("\r") if line)


def digest(raw: str) -> str:
    return hashlib.sha256(normalise(raw).encode()).hexdigest()


def _control_id_of(text: str) -> str:
    """MSH-10 of a message that may not parse, for the MSA-2 of its rejection (an id, not patient data)."""
    first = text.split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 4:
        return ""
    fields = first.split(first[3])
    return fields[9][:64] if len(fields) > 9 else ""


def _value(message: hl7.Message, segment: str, number: int, repetition: int = 1, component: int = 1) -> str:
    """One component's text; "" where the message leaves it out (python-hl7 raises IndexError there)."""
    try:
        return str(message.extract_field(segment, 1, number, repetition, component)).strip()
    except (IndexError, KeyError):
        return ""


def parse(raw: str) -> AdtMessage:
    text = normalise(raw)
    if not text.startswith("MSH"):
        raise Malformed("the message does not start with an MSH segment")
    control_id = _control_id_of(text)
    try:
        message = hl7.parse(text)

        def msh(number: int, component: int = 1) -> str:
            return _value(message, "MSH", number, 1, component)

        message_type, trigger = msh(9), msh(9, 2)
        control_id = msh(10)
        sending_application, sending_facility = msh(3), msh(4)
        receiving_application, receiving_facility = msh(5), msh(6)
        processing_id, version = msh(11), msh(12)
    except Exception:
        # python-hl7 raises several types for broken structure; none of their messages may leave.
        raise Malformed("the MSH segment cannot be read", control_id) from None
    if not control_id:
        raise Malformed("the message control id (MSH-10) is missing")
    if not message_type:
        raise Malformed("the message type (MSH-9) is missing", control_id)
    patient = None
    if any(str(segment[0]) == "PID" for segment in message):
        try:
            patient = _patient(message)
        except Exception:
            raise Malformed("the PID segment cannot be read", control_id) from None
    return AdtMessage(
        control_id=control_id,
        message_type=message_type.upper(),
        trigger=trigger.upper(),
        sending_application=sending_application,
        sending_facility=sending_facility,
        receiving_application=receiving_application,
        receiving_facility=receiving_facility,
        processing_id=processing_id,
        version=version,
        patient=patient,
    )


_MAX_IDENTIFIERS = 20


def _patient(message: hl7.Message) -> PatientIdentification:
    def pid(number: int, component: int = 1, repetition: int = 1) -> str | None:
        return _value(message, "PID", number, repetition, component) or None

    # PID-3 repeats: the identifier typed MR (medical record number), else the first one.
    mrn = pid(3) or ""
    for repetition in range(1, _MAX_IDENTIFIERS + 1):
        if (pid(3, 5, repetition) or "").upper() == "MR":
            mrn = pid(3, 1, repetition) or ""
            break
    return PatientIdentification(
        mrn=mrn,
        family=pid(5, 1),
        given=pid(5, 2),
        birth_date=pid(7),
        sex=pid(8),
        line1=pid(11, 1),
        line2=pid(11, 2),
        city=pid(11, 3),
        state=pid(11, 4),
        postal_code=pid(11, 5),
        phone=pid(13, 1),
    )
