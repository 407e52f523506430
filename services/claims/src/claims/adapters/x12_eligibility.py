"""Eligibility in X12 (005010X279A1) through billing_x12: the 270 the service writes, the 271s it
reads, in the service's own terms (claims.domain.eligibility).

Each inquiry is its own transaction set; BHT03 and the patient's TRN02 are registration's check id,
so that the payer's 271 names the check it answers even when it rejects the request before the
subscriber loop. TRN03 (10 characters) is "9" and the submitter id, as the guide asks of an
originator that has no EIN to give.
"""

from __future__ import annotations

from billing_x12 import Party, X12WriteError
from billing_x12.eligibility import (
    EligibilityInquiry,
    EligibilityResponse,
    Member,
    parse_271,
    write_270,
)

from claims.application.eligibility import Unwritable
from claims.domain.eligibility import (
    BenefitRead,
    EligibilityResponseRead,
    Interchange270,
    Person270,
    Receiver270,
    RejectionRead,
)
from claims.domain.eligibility import Inquiry270 as Inquiry

# INS02 of a dependent in a 270.
RELATIONSHIP_CODES = {"spouse": "01", "child": "19", "other": "34"}


def trace_originator(sender_id: str) -> str:
    return ("9" + sender_id.upper() + "0" * 9)[:10]


def _member(person: Person270, entity: str, member_id: str | None, relationship: str = "") -> Member:
    party = Party(
        entity,
        "1",
        person.family_name,
        person.given_name or "",
        id_qualifier="MI" if member_id else "",
        identifier=member_id or "",
    )
    # The 270's DMG03 knows F and M only: an unknown sex is left out.
    return Member(party, person.birth_date, person.sex if person.sex in ("M", "F") else "", relationship)


def _receiver(receiver: Receiver270) -> Party:
    if receiver.organization_name:
        return Party("1P", "2", receiver.organization_name, id_qualifier="XX", identifier=receiver.npi)
    return Party(
        "1P",
        "1",
        receiver.family_name or "",
        receiver.given_name or "",
        id_qualifier="XX",
        identifier=receiver.npi,
    )


def inquiry_of(inquiry: Inquiry, originator: str, interchange: Interchange270) -> EligibilityInquiry:
    dependent = None
    if inquiry.dependent is not None:
        code = RELATIONSHIP_CODES.get(inquiry.relationship, "34")
        dependent = _member(inquiry.dependent, "03", None, code)
    return EligibilityInquiry(
        reference_id=inquiry.check_id,
        created=interchange.created_at.replace(tzinfo=None),
        payer=Party("PR", "2", inquiry.payer_name, id_qualifier="PI", identifier=inquiry.payer_edi_id),
        receiver=_receiver(inquiry.receiver),
        subscriber=_member(inquiry.subscriber, "IL", inquiry.member_id),
        dependent=dependent,
        trace_number=inquiry.check_id,
        trace_originator=originator,
        service_date=inquiry.service_date,
    )


def render_270(interchange: Interchange270) -> str:
    """The file's text. Raises Unwritable for data that X12 cannot carry, such as a delimiter in a
    name (the library's error names the element, never the value)."""
    originator = trace_originator(interchange.sender_id)
    try:
        return _write(interchange, originator)
    except X12WriteError as error:
        raise Unwritable(str(error)) from None


def _write(interchange: Interchange270, originator: str) -> str:
    return write_270(
        [inquiry_of(inquiry, originator, interchange) for inquiry in interchange.inquiries],
        sender_id=interchange.sender_id,
        receiver_id=interchange.receiver_id,
        interchange_control_number=interchange.control_number,
        group_control_number=interchange.control_number,
        created=interchange.created_at,
        usage_indicator=interchange.usage,
    )


def response_read(response: EligibilityResponse) -> EligibilityResponseRead:
    """Our trace when the payer echoed it, else BHT03 (also ours)."""
    return EligibilityResponseRead(
        check_id=response.trace_numbers[0] if response.trace_numbers else response.reference_id,
        benefits=tuple(
            BenefitRead(
                code=b.code,
                coverage_level=b.coverage_level,
                service_types=b.service_types,
                time_period=b.time_period,
                amount_cents=b.amount_cents,
                percent=b.percent,
                in_network=b.in_network,
            )
            for b in response.benefits
        ),
        rejections=tuple(RejectionRead(r.loop, r.reason_code, r.follow_up) for r in response.rejections),
        plan_begin=response.plan_begin,
        plan_end=response.plan_end,
        interchange_control_number=response.envelope.interchange_control_number,
    )


def read_271(data: bytes) -> tuple[EligibilityResponseRead, ...]:
    """Every 271 of the file; raises billing_x12's named errors for a file that is not one."""
    return tuple(response_read(response) for response in parse_271(data))
