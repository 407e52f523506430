"""The EncounterCharges aggregate: the charges captured on an institutional encounter, each line
priced from the chargemaster version in effect on its service date.

Pricing is a pure function of the requested lines and the prices found (`price_charges`); a charge
code the chargemaster lacks on that date refuses the whole capture with the line named. A capture is
recorded once: the same capture id again changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from billing_events.contracts.base import Event
from billing_events.contracts.invoicing import CapturedCharge, ChargesCaptured
from billing_events.decider import Decider
from invoicing.domain.errors import FieldError, InvalidInput

MAX_LINES = 500
MAX_UNITS = 9_999


@dataclass(frozen=True)
class RequestedCharge:
    charge_code: str
    units: int
    service_date: date


@dataclass(frozen=True)
class ChargePrice:
    """A chargemaster row as priced on one day."""

    charge_code: str
    revenue_code: str
    hcpcs: str | None
    amount_cents: int
    effective_from: date


def price_charges(
    requested: Sequence[RequestedCharge],
    prices: Mapping[tuple[str, date], ChargePrice],
    first_line_number: int = 1,
) -> tuple[tuple[CapturedCharge, ...], list[FieldError]]:
    """Each line priced at its service date: units x the unit price, in cents."""
    errors: list[FieldError] = []
    lines: list[CapturedCharge] = []
    if not requested:
        errors.append(FieldError("lines", "at least one charge line is required"))
    if len(requested) > MAX_LINES:
        errors.append(FieldError("lines", f"at most {MAX_LINES} lines per capture"))
        return (), errors
    for index, line in enumerate(requested):
        if not 1 <= line.units <= MAX_UNITS:
            errors.append(FieldError(f"lines.{index}.units", f"must be 1 to {MAX_UNITS}"))
            continue
        price = prices.get((line.charge_code.upper(), line.service_date))
        if price is None:
            errors.append(
                FieldError(
                    f"lines.{index}.charge_code",
                    "is not in the chargemaster in effect on the service date",
                )
            )
            continue
        lines.append(
            CapturedCharge(
                line_number=first_line_number + len(lines),
                charge_code=price.charge_code,
                revenue_code=price.revenue_code,
                hcpcs=price.hcpcs,
                units=line.units,
                unit_price_cents=price.amount_cents,
                charge_cents=price.amount_cents * line.units,
                service_date=line.service_date,
                chargemaster_effective_from=price.effective_from,
            )
        )
    return tuple(lines), errors


@dataclass(frozen=True)
class CaptureCharges:
    encounter_id: str
    capture_id: str
    lines: tuple[CapturedCharge, ...]
    late: bool = False


@dataclass(frozen=True)
class EncounterChargesState:
    encounter_id: str | None = None
    captures: frozenset[str] = frozenset()
    lines: tuple[CapturedCharge, ...] = ()
    late_lines: tuple[CapturedCharge, ...] = field(default=())

    @property
    def next_line_number(self) -> int:
        return len(self.lines) + 1

    @property
    def total_charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


def decide(command: CaptureCharges, state: EncounterChargesState) -> list[Event]:
    if command.capture_id in state.captures:
        return []
    if not command.lines:
        raise InvalidInput([FieldError("lines", "at least one charge line is required")])
    return [
        ChargesCaptured(
            encounter_id=command.encounter_id,
            capture_id=command.capture_id,
            lines=command.lines,
            total_charge_cents=sum(line.charge_cents for line in command.lines),
            late=command.late,
        )
    ]


def evolve(state: EncounterChargesState, event: Event) -> EncounterChargesState:
    if isinstance(event, ChargesCaptured):
        return replace(
            state,
            encounter_id=event.encounter_id,
            captures=state.captures | {event.capture_id},
            lines=state.lines + event.lines,
            late_lines=state.late_lines + (event.lines if event.late else ()),
        )
    return state


DECIDER: Decider[CaptureCharges, EncounterChargesState] = Decider(
    initial=EncounterChargesState(), decide=decide, evolve=evolve, stream_type="encounter-charges"
)
