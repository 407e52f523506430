"""X12 837P 005010X222A1 writer: one interchange, one functional group, one transaction set per file.

The input is plain data with the patient's identifiers already decrypted; nothing here reads a
database, a key or a file. `check_claim` lists what the decrypted data lacks for a valid 837 (by
field name, never by value), so a claim with such data is held back instead of spoiling its batch.

Layout (loops of the implementation guide): ISA/GS/ST, BHT, 1000A submitter, 1000B receiver; per
billing provider a 2000A/2010AA; per claim a 2000B/2010BA/2010BB (SBR from the coverage), a
2000C/2010CA when the patient is not the subscriber, the 2300 CLM with REF*F8 for frequency 7 and 8,
HI (ABK then ABF), 2310B rendering provider, 2320/2330A/2330B for each other coverage on file,
and 2400 LX/SV1/DTP*472/REF*6R for each line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from billing_x12 import format_cents
from billing_x12.writer import Element, SegmentOut, TransactionSetOut, render_single_group, seg

from claims.domain import scrubber
from claims.domain.outbound import (
    Address837,
    Adjustment837,
    Claim837,
    Interchange837,
    Person837,
    Problem837,
    Provider837,
)

IMPLEMENTATION = "005010X222A1"

# PAT01 / SBR02 individual relationship codes for the patient's relationship to the subscriber.
RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
# fmt: off
US_STATES = frozenset((
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI",
))
# fmt: on


# Text ---------------------------------------------------------------------------------------------

_NOT_ALLOWED = re.compile(r"[^A-Z0-9 .,&'()/#-]")


def text(value: str | None, max_length: int) -> str:
    """Upper-case ASCII without separators: accents are dropped, anything else becomes a space."""
    if not value:
        return ""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().upper()
    cleaned = re.sub(r"\s+", " ", _NOT_ALLOWED.sub(" ", ascii_value)).strip()
    return cleaned[:max_length].rstrip()


def identifier(value: str | None, max_length: int) -> str:
    """An id as issued (member ids keep their case and their . - _ /), without X12 separators."""
    return re.sub(r"[^A-Za-z0-9./_-]", "", value or "")[:max_length]


def digits(value: str | None) -> str:
    return re.sub(r"[^0-9]", "", value or "")


def d8(value: date) -> str:
    return value.strftime("%Y%m%d")


# Checks -------------------------------------------------------------------------------------------


def _check_person(
    person: Person837, where: str, edit_id: str, *, needs_demographics: bool
) -> Iterable[Problem837]:
    if not text(person.family_name, 60):
        yield Problem837(f"{where}.name", "has no family name usable in X12", edit_id)
    if needs_demographics:
        if person.birth_date is None:
            yield Problem837(f"{where}.birth_date", "is missing", edit_id)
        elif person.birth_date > date.today():
            yield Problem837(f"{where}.birth_date", "is in the future", edit_id)
        if person.sex not in ("M", "F", "U"):
            yield Problem837(f"{where}.sex", "is not M, F or U", edit_id)
        if person.address is None:
            yield Problem837(f"{where}.address", "is missing", edit_id)
        else:
            yield from _check_address(person.address, f"{where}.address", edit_id, zip9=False)


def _check_address(
    address: Address837, where: str, edit_id: str, *, zip9: bool, postal_edit_id: str | None = None
) -> Iterable[Problem837]:
    if not text(address.line1, 55):
        yield Problem837(f"{where}.line1", "is empty", edit_id)
    if len(text(address.city, 30)) < 2:
        yield Problem837(f"{where}.city", "is empty", edit_id)
    if address.state.upper() not in US_STATES:
        yield Problem837(f"{where}.state", "is not a US state code", edit_id)
    length = len(digits(address.postal_code))
    if length != 9 and (zip9 or length != 5):
        message = "needs 9 digits" if zip9 else "needs 5 or 9 digits"
        yield Problem837(f"{where}.postal_code", message, postal_edit_id or edit_id)


def check_claim(claim: Claim837) -> list[Problem837]:
    """What the decrypted data lacks for a valid 837P (field names only, never the values)."""
    problems: list[Problem837] = []
    is_subscriber = claim.patient is None
    # Named after the record a biller fixes: the patient's own when the patient is the subscriber.
    if is_subscriber:
        problems += _check_person(claim.subscriber, "patient", scrubber.PATIENT, needs_demographics=True)
    else:
        problems += _check_person(
            claim.subscriber, "subscriber", scrubber.SUBSCRIBER, needs_demographics=False
        )
    if claim.patient is not None:
        problems += _check_person(claim.patient, "patient", scrubber.PATIENT, needs_demographics=True)
    if not identifier(claim.member_id, 80) or len(identifier(claim.member_id, 80)) < 2:
        problems.append(
            Problem837("coverage.member_id", "has no letters or digits usable in X12", scrubber.SUBSCRIBER)
        )
    if claim.billing_provider.address is None:
        problems.append(Problem837("billing_provider.address", "is missing", scrubber.BILLING_NPI))
    else:
        problems += _check_address(
            claim.billing_provider.address,
            "billing_provider.address",
            scrubber.BILLING_NPI,
            zip9=True,
            postal_edit_id=scrubber.ZIP9,
        )
    for other in claim.other_coverages:
        if not identifier(other.member_id, 80) or not text(other.subscriber.family_name, 60):
            problems.append(
                Problem837("other_coverage", "lacks the subscriber's name or member id", scrubber.SUBSCRIBER)
            )
    return problems


# Writing ------------------------------------------------------------------------------------------


@dataclass
class Segments:
    items: list[SegmentOut] = field(default_factory=list)

    def add(self, segment_id: str, *elements: Element) -> None:
        self.items.append(seg(segment_id, *elements))


def provider_name(out: Segments, qualifier: str, provider: Provider837) -> None:
    if provider.is_person:
        out.add(
            "NM1",
            qualifier,
            "1",
            text(provider.family_name, 60),
            text(provider.given_name, 35),
            "",
            "",
            "",
            "XX",
            provider.npi,
        )
    else:
        out.add(
            "NM1", qualifier, "2", text(provider.organization_name, 60), "", "", "", "", "XX", provider.npi
        )


def address_segments(out: Segments, address: Address837, *, zip9: bool = False) -> None:
    line2 = text(address.line2, 55)
    out.add("N3", text(address.line1, 55), *([line2] if line2 else []))
    postal = digits(address.postal_code)
    out.add(
        "N4",
        text(address.city, 30),
        address.state.upper(),
        postal[:9] if zip9 or len(postal) == 9 else postal[:5],
    )


def demographics(out: Segments, person: Person837) -> None:
    if person.birth_date is not None:
        out.add("DMG", "D8", d8(person.birth_date), person.sex if person.sex in ("M", "F", "U") else "U")


def person_name(
    out: Segments, qualifier: str, person: Person837, id_qualifier: str = "", id_value: str = ""
) -> None:
    out.add(
        "NM1",
        qualifier,
        "1",
        text(person.family_name, 60),
        text(person.given_name, 35),
        "",
        "",
        "",
        id_qualifier,
        id_value,
    )


def _claim(out: Segments, claim: Claim837) -> None:
    out.add(
        "CLM",
        claim.patient_control_number,
        format_cents(claim.total_charge_cents),
        "",
        "",
        (claim.place_of_service, "B", claim.frequency_code),
        "Y",  # provider signature on file
        "A",  # assignment accepted
        "Y",  # benefits assigned
        "Y",  # release of information signed
    )
    if claim.frequency_code in ("7", "8") and claim.payer_claim_control_number:
        out.add("REF", "F8", identifier(claim.payer_claim_control_number, 50))
    codes = [code.replace(".", "").upper() for code in claim.diagnoses[:12]]
    out.add(
        "HI",
        *(("ABK" if i == 0 else "ABF", code) for i, code in enumerate(codes)),
    )
    rendering = claim.rendering_provider
    if rendering is not None and rendering.npi != claim.billing_provider.npi:
        provider_name(out, "82", rendering)
        if rendering.taxonomy_code:
            out.add("PRV", "PE", "PXC", rendering.taxonomy_code)
    other_subscriber_loops(out, claim)
    for line in claim.lines:
        out.add("LX", str(line.line_number))
        procedure = ("HC", line.code, *line.modifiers[:4])
        pointers = tuple(str(p) for p in line.diagnosis_pointers[:4])
        out.add("SV1", procedure, format_cents(line.charge_cents), "UN", str(line.units), "", "", pointers)
        out.add("DTP", "472", "D8", d8(line.service_date))
        out.add("REF", "6R", identifier(line.line_control_number, 50))
        for other in claim.other_coverages:
            if other.adjudication is None:
                continue
            for paid in other.adjudication.lines:
                if paid.line_number != line.line_number:
                    continue
                # Loop 2430: SVD01 names the payer as its 2330B NM109 does.
                out.add(
                    "SVD",
                    identifier(other.payer.edi_payer_id, 80),
                    format_cents(paid.paid_cents),
                    ("HC", paid.code, *paid.modifiers[:4]),
                    "",
                    str(paid.units),
                )
                cas_segments(out, paid.adjustments)
                out.add("DTP", "573", "D8", d8(other.adjudication.adjudicated_on))


def other_subscriber_loops(out: Segments, claim: Claim837) -> None:
    """Loops 2320/2330A/2330B: each other coverage on file, with its payer's answer when it has one
    (the same segments in an 837P and an 837I)."""
    for other in claim.other_coverages:
        adjudication = other.adjudication
        out.add(
            "SBR",
            other.priority,
            RELATIONSHIP_CODES.get(other.relationship, "G8"),
            identifier(other.group_number, 50),
            "",
            "",
            "",
            "",
            "",
            other.payer.claim_filing_indicator,
        )
        if adjudication is not None:
            # 2320 CAS carries claim-level adjustments only; the lines' go in their 2430 loops.
            cas_segments(out, adjudication.claim_adjustments)
            out.add("AMT", "D", format_cents(adjudication.paid_cents))
            out.add("AMT", "EAF", format_cents(adjudication.remaining_patient_liability_cents))
        out.add("OI", "", "", "Y", "", "", "Y")
        person_name(out, "IL", other.subscriber, "MI", identifier(other.member_id, 80))
        out.add(
            "NM1",
            "PR",
            "2",
            text(other.payer.name, 60),
            "",
            "",
            "",
            "",
            "PI",
            identifier(other.payer.edi_payer_id, 80),
        )
        if adjudication is not None and not adjudication.lines:
            # The remittance date goes here when no 2430 loop carries it.
            out.add("DTP", "573", "D8", d8(adjudication.adjudicated_on))


def cas_segments(out: Segments, adjustments: tuple[Adjustment837, ...]) -> None:
    """CAS segments: one per group code, at most six reason/amount/quantity triplets each."""
    by_group: dict[str, list[Adjustment837]] = {}
    for adjustment in adjustments:
        if adjustment.amount_cents != 0:
            by_group.setdefault(adjustment.group, []).append(adjustment)
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            elements: list[Element] = []
            for item in items[start : start + 6]:
                elements += [item.reason_code, format_cents(item.amount_cents), ""]
            while elements and elements[-1] == "":
                elements.pop()
            out.add("CAS", group, *elements)


def transaction(
    out: Segments, interchange: Interchange837, claim_loop: Callable[[Segments, Claim837], None]
) -> None:
    """The header, the billing provider levels and each claim's subscriber and patient levels; the
    claim loop itself (2300 and below) is the form's own."""
    created = interchange.created_at
    control = f"{interchange.control_number:04d}"
    out.add(
        "BHT",
        "0019",
        "00",
        interchange.reference or control,
        d8(created.date()),
        created.strftime("%H%M"),
        "CH",
    )
    submitter = interchange.submitter
    out.add(
        "NM1", "41", "2", text(submitter.name, 60), "", "", "", "", "46", identifier(submitter.identifier, 80)
    )
    out.add("PER", "IC", text(submitter.contact_name, 60), "TE", digits(submitter.phone)[:10])
    out.add(
        "NM1",
        "40",
        "2",
        text(interchange.receiver_name, 60),
        "",
        "",
        "",
        "",
        "46",
        identifier(interchange.receiver_id, 80),
    )
    hl = 0
    by_provider: dict[Provider837, list[Claim837]] = {}
    for claim in interchange.claims:
        by_provider.setdefault(claim.billing_provider, []).append(claim)
    for provider, claims in by_provider.items():
        hl += 1
        provider_hl = hl
        out.add("HL", str(provider_hl), "", "20", "1")
        out.add("PRV", "BI", "PXC", provider.taxonomy_code)
        provider_name(out, "85", provider)
        assert provider.address is not None
        address_segments(out, provider.address, zip9=True)
        out.add("REF", "EI", digits(provider.tax_id))
        for claim in claims:
            hl += 1
            subscriber_hl = hl
            has_patient_loop = claim.patient is not None
            out.add("HL", str(subscriber_hl), str(provider_hl), "22", "1" if has_patient_loop else "0")
            out.add(
                "SBR",
                claim.priority,
                "" if has_patient_loop else "18",
                identifier(claim.group_number, 50),
                "",
                "",
                "",
                "",
                "",
                claim.payer.claim_filing_indicator,
            )
            person_name(out, "IL", claim.subscriber, "MI", identifier(claim.member_id, 80))
            if claim.subscriber.address is not None:
                address_segments(out, claim.subscriber.address)
            demographics(out, claim.subscriber)
            out.add(
                "NM1",
                "PR",
                "2",
                text(claim.payer.name, 60),
                "",
                "",
                "",
                "",
                "PI",
                identifier(claim.payer.edi_payer_id, 80),
            )
            if claim.patient is not None:
                hl += 1
                out.add("HL", str(hl), str(subscriber_hl), "23", "0")
                out.add("PAT", RELATIONSHIP_CODES.get(claim.relationship, "G8"))
                person_name(out, "QC", claim.patient)
                assert claim.patient.address is not None
                address_segments(out, claim.patient.address)
                demographics(out, claim.patient)
            claim_loop(out, claim)


def write_837(interchange: Interchange837) -> str:
    """The whole file: segments end with `~` and a newline, which X12 readers ignore. The envelope and
    its counts come from billing_x12's writer, like every other file the platform writes."""
    body = Segments()
    transaction(body, interchange, _claim)
    return render_single_group(
        functional_id="HC",
        version=IMPLEMENTATION,
        transaction_sets=[
            TransactionSetOut("837", interchange.control_number, body.items, implementation=IMPLEMENTATION)
        ],
        sender_id=identifier(interchange.sender_id, 15),
        receiver_id=identifier(interchange.receiver_id, 15),
        interchange_control_number=interchange.control_number,
        group_control_number=interchange.control_number,
        created=interchange.created_at,
        usage_indicator=interchange.usage,
    )
