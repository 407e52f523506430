"""The CostCenter aggregate: where expenses are booked and, for departments and service lines, where
the revenue of their providers' encounters lands.

decide(OpenCostCenter, state) -> [CostCenterOpened]   or raises InvalidInput / AlreadyExists
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billing_events.contracts.base import Event
from billing_events.contracts.finance import CostCenterOpened
from billing_events.decider import Decider
from finance.domain.errors import AlreadyExists
from finance.domain.values import CODE, KINDS, Issues


@dataclass(frozen=True)
class OpenCostCenter:
    cost_center_id: str
    code: str | None
    name: str | None
    kind: str | None
    provider_ids: tuple[str, ...] = ()
    code_taken: bool = False  # another cost centre of the tenant has this code


@dataclass(frozen=True)
class CostCenterState:
    opened: bool = False
    code: str | None = None
    kind: str | None = None


def decide(command: OpenCostCenter, state: CostCenterState) -> Sequence[Event]:
    if state.opened or command.code_taken:
        raise AlreadyExists("cost centre")
    issues = Issues()
    code = issues.text("code", command.code, max_length=32, required=True)
    if code is not None and not CODE.fullmatch(code):
        issues.add("code", "must be 1 to 32 letters, digits, '.', '_' or '-'")
    name = issues.text("name", command.name, max_length=120, required=True)
    kind = (command.kind or "").strip()
    if kind not in KINDS:
        issues.add("kind", f"must be one of {', '.join(KINDS)}")
    providers = tuple(dict.fromkeys(p.strip() for p in command.provider_ids if p.strip()))
    if providers and kind == "overhead":
        issues.add("provider_ids", "an overhead cost centre earns no revenue: it has no providers")
    issues.raise_if_any()
    assert code and name
    return [
        CostCenterOpened(
            cost_center_id=command.cost_center_id,
            code=code,
            name=name,
            kind=kind,
            provider_ids=providers,
        )
    ]


def evolve(state: CostCenterState, event: Event) -> CostCenterState:
    if isinstance(event, CostCenterOpened):
        return CostCenterState(opened=True, code=event.code, kind=event.kind)
    return state


cost_center = Decider[OpenCostCenter, CostCenterState](CostCenterState(), decide, evolve, "cost-center")
