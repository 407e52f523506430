"""Pieces shared by several transaction sets: names (NM1), N1 entities, references, contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

from billing_x12.segments import Segment
from billing_x12.writer import SegmentOut, seg


@dataclass(frozen=True)
class Party:
    """An NM1 individual or organization. Names and identifiers stay out of repr: they are PHI for
    patients and subscribers, and callers must not log them."""

    entity_code: str
    entity_type: str = "2"
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    id_qualifier: str = ""
    identifier: str = field(default="", repr=False)

    @property
    def is_person(self) -> bool:
        return self.entity_type == "1"


def read_nm1(segment: Segment) -> Party:
    return Party(
        entity_code=segment.required(1),
        entity_type=segment.get(2),
        last_name=segment.get(3),
        first_name=segment.get(4),
        middle_name=segment.get(5),
        suffix=segment.get(7),
        id_qualifier=segment.get(8),
        identifier=segment.get(9),
    )


def nm1_segment(party: Party) -> SegmentOut:
    return seg(
        "NM1",
        party.entity_code,
        party.entity_type,
        party.last_name,
        party.first_name,
        party.middle_name,
        None,
        party.suffix,
        party.id_qualifier or None,
        party.identifier or None,
    )


@dataclass(frozen=True)
class Reference:
    """A REF: qualifier and value (the value may be a member id: kept out of repr)."""

    qualifier: str
    value: str = field(repr=False)


def read_ref(segment: Segment) -> Reference:
    return Reference(segment.required(1), segment.required(2))


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class Contact:
    """PER: a contact function (BL technical, CX business, IC information) and its numbers."""

    function_code: str
    name: str = ""
    numbers: tuple[tuple[str, str], ...] = ()


def read_per(segment: Segment) -> Contact:
    numbers = []
    for index in (3, 5, 7):
        qualifier, number = segment.get(index), segment.get(index + 1)
        if qualifier and number:
            numbers.append((qualifier, number))
    return Contact(segment.required(1), segment.get(2), tuple(numbers))


def per_segment(contact: Contact) -> SegmentOut:
    values: list[str | None] = [contact.function_code, contact.name or None]
    for qualifier, number in contact.numbers[:3]:
        values.extend([qualifier, number])
    return seg("PER", *values)


def address_segments(address: Address) -> list[SegmentOut]:
    out: list[SegmentOut] = []
    if address.lines:
        out.append(seg("N3", *address.lines[:2]))
    out.append(seg("N4", address.city, address.state, address.postal_code or None, address.country or None))
    return out


@dataclass(frozen=True)
class Entity:
    """An N1 loop: payer (PR) or payee (PE) of an 835, with address, references and contacts."""

    entity_code: str
    name: str
    id_qualifier: str = ""
    identifier: str = ""
    address: Address | None = None
    references: tuple[Reference, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def reference(self, qualifier: str) -> str | None:
        for ref in self.references:
            if ref.qualifier == qualifier:
                return ref.value
        return None


class EntityBuilder:
    """Collects the segments of an N1 loop as they come."""

    def __init__(self, n1: Segment) -> None:
        self.n1 = n1
        self.lines: tuple[str, ...] = ()
        self.n4: Segment | None = None
        self.references: list[Reference] = []
        self.contacts: list[Contact] = []

    def add(self, segment: Segment) -> bool:
        """Take the segment if it belongs to an N1 loop; False when it does not."""
        if segment.id == "N3":
            self.lines = tuple(v for v in (segment.get(1), segment.get(2)) if v)
        elif segment.id == "N4":
            self.n4 = segment
        elif segment.id == "REF":
            self.references.append(read_ref(segment))
        elif segment.id == "PER":
            self.contacts.append(read_per(segment))
        elif segment.id == "RDM":
            pass  # remittance delivery method: how the payee gets paper or e-mail copies, not needed
        else:
            return False
        return True

    def build(self) -> Entity:
        address = None
        if self.lines or self.n4 is not None:
            n4 = self.n4
            address = Address(
                lines=self.lines,
                city=n4.get(1) if n4 else "",
                state=n4.get(2) if n4 else "",
                postal_code=n4.get(3) if n4 else "",
                country=n4.get(4) if n4 else "",
            )
        return Entity(
            entity_code=self.n1.required(1),
            name=self.n1.get(2),
            id_qualifier=self.n1.get(3),
            identifier=self.n1.get(4),
            address=address,
            references=tuple(self.references),
            contacts=tuple(self.contacts),
        )


def entity_segments(entity: Entity) -> list[SegmentOut]:
    out = [seg("N1", entity.entity_code, entity.name, entity.id_qualifier or None, entity.identifier or None)]
    if entity.address is not None:
        out.extend(address_segments(entity.address))
    out.extend(seg("REF", ref.qualifier, ref.value) for ref in entity.references)
    out.extend(per_segment(contact) for contact in entity.contacts)
    return out
