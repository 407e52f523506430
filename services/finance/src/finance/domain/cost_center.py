"""The CostCenter aggregate: where expenses are booked and, for departments and service lines, where
the revenue of their providers' encounters lands.

decide(OpenCostCenter, state)  -> [CostCenterOpened]   or raises InvalidInput / AlreadyExists
decide(AssignProviders, state) -> [CostCenterProvidersAssigned] or [] (the same list again)
                                  or raises NotFound / InvalidInput
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from billing_events.contracts.base import Event
from billing_events.contracts.finance import CostCenterOpened, CostCenterProvidersAssigned
from billing_events.decider import Decider
from finance.domain.errors import AlreadyExists, NotFound
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
class AssignProviders:
    """The providers whose encounters' revenue belongs to the cost centre from now on."""

    provider_ids: tuple[str, ...]


@dataclass(frozen=True)
class CostCenterState:
    opened: bool = False
    cost_center_id: str | None = None
    code: str | None = None
    kind: str | None = None
    provider_ids: tuple[str, ...] = ()


def _providers(given: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in given if p.strip()))


def _assign(command: AssignProviders, state: CostCenterState) -> Sequence[Event]:
    if not state.opened:
        raise NotFound("cost centre")
    providers = _providers(command.provider_ids)
    issues = Issues()
    if providers and state.kind == "overhead":
        issues.add("provider_ids", "an overhead cost centre earns no revenue: it has no providers")
    issues.raise_if_any()
    if providers == state.provider_ids:
        return []
    assert state.cost_center_id and state.code
    return [
        CostCenterProvidersAssigned(
            cost_center_id=state.cost_center_id, code=state.code, provider_ids=providers
        )
    ]


def decide(command: OpenCostCenter | AssignProviders, state: CostCenterState) -> Sequence[Event]:
    if isinstance(command, AssignProviders):
        return _assign(command, state)
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
    providers = _providers(command.provider_ids)
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
        return CostCenterState(True, event.cost_center_id, event.code, event.kind, event.provider_ids)
    if isinstance(event, CostCenterProvidersAssigned):
        return replace(state, provider_ids=event.provider_ids)
    return state


cost_center = Decider[OpenCostCenter | AssignProviders, CostCenterState](
    CostCenterState(), decide, evolve, "cost-center"
)
