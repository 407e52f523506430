"""Demo reference data and a synthetic workload, driven only through the services' HTTP APIs.

Nothing here touches a database or Kafka: it is what an EHR integration or a front desk would do.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from billing_service.auth import issue_token
from billing_service.endpoints import Endpoints
from billing_service.settings import ServiceSettings
from payer_simulator.main import DEMO_RULES

# Payer contracts (code,modifier,allowed_cents) beside the simulator's demo rule table.
CONTRACTS = DEMO_RULES.parent / "contracts"

DEMO_TENANT = "demo"

PAYERS = [
    {"name": "Demo Aetna", "edi_payer_id": "DEMO-AETNA", "claim_filing_indicator": "CI"},
    {"name": "Demo Medicare Part B", "edi_payer_id": "DEMO-MEDICARE", "claim_filing_indicator": "MB"},
    {"name": "Demo Blue Cross", "edi_payer_id": "DEMO-BCBS", "claim_filing_indicator": "BL"},
]
ADDRESS = {"line1": "100 Main Street", "city": "Springfield", "state": "IL", "postal_code": "627011234"}
PROVIDERS = [
    {"npi": "1234567893", "name": "Springfield Family Medicine", "taxonomy_code": "207Q00000X",
     "tax_id": "371234567", "role": "billing", "address": ADDRESS},
    {"npi": "1245319599", "name": {"given": "Ada", "family": "Lovelace"}, "taxonomy_code": "207Q00000X",
     "role": "rendering", "address": ADDRESS},
    {"npi": "1982746509", "name": {"given": "Grace", "family": "Hopper"}, "taxonomy_code": "208D00000X",
     "role": "rendering", "address": ADDRESS},
]  # fmt: skip
# A small fee schedule (cents) for the codes the simulation uses; CPT codes carry no descriptors.
FEES = {
    "99203": 16500, "99213": 12000, "99214": 17500, "99395": 21000, "99393": 18000, "36415": 1500,
    "80053": 4500, "85025": 3200, "93000": 6000, "90471": 2800, "90686": 3500, "20610": 9500,
    "G0439": 19500, "81002": 900, "J1100": 600, "99396": 23000, "99394": 19000,
}  # fmt: skip
# Visits by patient age, so the coding edits (MCE age lists) accept them as a coder would.
ADULT_VISITS: list[dict[str, Any]] = [
    {"diagnoses": ["I10", "E78.5"], "lines": [("99213", [], 1, [1, 2])]},
    {
        "diagnoses": ["E11.9", "I10"],
        "lines": [("99214", [], 1, [1, 2]), ("36415", [], 1, [1]), ("80053", [], 1, [1])],
    },
    {"diagnoses": ["J06.9"], "lines": [("99213", [], 1, [1])]},
    {"diagnoses": ["M17.11", "I10"], "lines": [("99213", ["25"], 1, [1, 2]), ("20610", ["RT"], 1, [1])]},
    {"diagnoses": ["R07.9"], "lines": [("99203", [], 1, [1]), ("93000", [], 1, [1])]},
    {"diagnoses": ["Z23"], "lines": [("90471", [], 1, [1]), ("90686", [], 1, [1])]},
]
CHILD_VISITS: list[dict[str, Any]] = [
    {"diagnoses": ["J06.9"], "lines": [("99213", [], 1, [1])]},
    {"diagnoses": ["Z23"], "lines": [("90471", [], 1, [1]), ("90686", [], 1, [1])]},
]  # fmt: skip


def visit_for(rng: random.Random, age: int) -> dict[str, Any]:
    if age < 18:
        checkup = "99393" if age < 12 else "99394"
        return rng.choice([*CHILD_VISITS, {"diagnoses": ["Z00.129"], "lines": [(checkup, [], 1, [1])]}])
    checkup = "99395" if age < 40 else "99396" if age < 65 else "G0439"
    preventive = {"diagnoses": ["Z00.00"], "lines": [(checkup, [], 1, [1]), ("85025", [], 1, [1])]}
    return rng.choice([*ADULT_VISITS, preventive])


GIVEN = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Mia",
    "Lucas",
    "Amelia",
    "Mateo",
]
FAMILY = ["Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Davis", "Lopez", "Wilson"]
STATES = [("IL", "62701"), ("MA", "02110"), ("TX", "73301"), ("CA", "94105"), ("NY", "10001")]


def token(tenant: str, *roles: str, subject: str = "demo-operator") -> dict[str, str]:
    # Demo traffic signs development tokens (JWT_PRIVATE_KEY when given, else the generated dev key).
    jwt = issue_token(
        ServiceSettings(BILLING_DEVELOPMENT=True), tenant=tenant, roles=list(roles), subject=subject
    )
    return {"Authorization": f"Bearer {jwt}"}


@dataclass(frozen=True)
class Tokens:
    """The front desk's and the coder's Authorization headers, signed once for a whole workload
    (signing a JWT per request would cost the load driver more than some of the requests it sends)."""

    desk: dict[str, str]
    coder: dict[str, str]

    @classmethod
    def mint(cls, tenant: str) -> Tokens:
        return cls(
            token(tenant, "front_desk", subject="front-desk-sim"), token(tenant, "coder", subject="coder-sim")
        )


@dataclass(frozen=True)
class Simulated:
    """One simulated visit: its encounter and whether a coverage was registered for it."""

    encounter_id: str
    insured: bool


async def _post(
    client: httpx.AsyncClient, url: str, body: Any, headers: dict[str, str], key: str
) -> dict[str, Any]:
    response = await client.post(url, json=body, headers={**headers, "Idempotency-Key": key})
    if response.status_code >= 400:
        raise RuntimeError(f"POST {url} answered {response.status_code}: {response.text[:500]}")
    result: dict[str, Any] = response.json()
    return result


@dataclass
class Reference:
    payer_ids: list[str]
    billing_provider_id: str
    rendering_provider_ids: list[str]


async def seed(endpoints: Endpoints, tenant: str = DEMO_TENANT) -> Reference:
    """Payers, providers and a fee schedule; safe to run again (Idempotency-Keys)."""
    admin = token(tenant, "admin")
    async with httpx.AsyncClient(timeout=30) as client:
        payer_ids = [
            (
                await _post(
                    client, f"{endpoints.registration}/payers", p, admin, f"seed-payer-{p['edi_payer_id']}"
                )
            )["payer_id"]
            for p in PAYERS
        ]
        provider_ids = [
            (
                await _post(
                    client, f"{endpoints.registration}/providers", p, admin, f"seed-provider-{p['npi']}"
                )
            )["provider_id"]
            for p in PROVIDERS
        ]
        rows = [{"code": code, "amount_cents": cents} for code, cents in FEES.items()]
        response = await client.put(
            f"{endpoints.invoicing}/fee-schedules/standard",
            json={"effective_from": "2020-01-01", "rows": rows},
            headers=admin,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"fee schedule refused: {response.status_code} {response.text[:300]}")
        # The payers' contracts: the very files the payer simulator adjudicates with, so estimates
        # and the demo's 835s agree (a payer with a contract is in network).
        for payer, payer_id in zip(PAYERS, payer_ids, strict=True):
            contract = CONTRACTS / f"{payer['edi_payer_id']}.csv"
            if not contract.exists():
                continue
            response = await client.put(
                f"{endpoints.invoicing}/contracts/{payer_id}",
                params={"effective_from": "2020-01-01"},
                content=contract.read_bytes(),
                headers={**admin, "Content-Type": "text/csv"},
            )
            if response.status_code >= 400:
                raise RuntimeError(f"contract refused: {response.status_code} {response.text[:300]}")
    return Reference(payer_ids, provider_ids[0], provider_ids[1:])


# A small hospital of the demo network: its facility and its chargemaster (CDM), with UB-04 revenue
# codes and HCPCS where a charge has one. Prices in cents.
HOSPITAL = {
    "name": "Springfield General Hospital", "npi": "1679576722", "tax_id": "37-7654321", "kind": "hospital",
    "address": {**ADDRESS, "line1": "1 Hospital Drive", "postal_code": "627012000"},
}  # fmt: skip
CHARGEMASTER = [
    ("RB-MED", "Room and board, medical/surgical", "0120", None, 210000),
    ("ICU", "Intensive care", "0200", None, 520000),
    ("RX-GEN", "Pharmacy, general", "0250", None, 1850),
    ("SUP-MED", "Medical/surgical supplies", "0270", None, 4200),
    ("LAB-CMP", "Comprehensive metabolic panel", "0300", "80053", 4500),
    ("LAB-CBC", "Complete blood count", "0300", "85025", 3200),
    ("RAD-CXR", "Chest X-ray, two views", "0320", "71046", 18500),
    ("OR-HIP", "Operating room, hip replacement", "0360", "27130", 850050),
    ("ER-3", "Emergency room, level 3", "0450", "99283", 62000),
    ("ER-4", "Emergency room, level 4", "0450", "99284", 95000),
    ("EKG", "Electrocardiogram", "0730", "93005", 9500),
]  # fmt: skip
# The demo's stays (payer DEMO-AETNA, whose simulated rules pay inpatient stays by DRG): a hip
# replacement (MS-DRG 470), a pneumonia (195), a heart failure (293), and an emergency room visit.
HOSPITAL_STAYS: list[dict[str, Any]] = [
    {
        "setting": "inpatient", "nights": 3,
        "charges": [("RB-MED", 3, 0), ("OR-HIP", 1, 1), ("RX-GEN", 12, 1), ("SUP-MED", 4, 1),
                    ("LAB-CMP", 1, 0)],
        "coding": {"principal_diagnosis": {"code": "M16.11", "poa": "Y"}, "admitting_diagnosis": "M25.551",
                   "diagnoses": [{"code": "I10", "poa": "Y"}], "procedures": [{"code": "0SR9019", "day": 1}]},
    },
    {
        "setting": "inpatient", "nights": 4,
        "charges": [("RB-MED", 4, 0), ("RAD-CXR", 1, 0), ("LAB-CBC", 2, 0), ("RX-GEN", 20, 1)],
        "coding": {"principal_diagnosis": {"code": "J18.9", "poa": "Y"}, "admitting_diagnosis": "R06.02",
                   "diagnoses": [], "procedures": []},
    },
    {
        "setting": "inpatient", "nights": 2,
        "charges": [("ICU", 1, 0), ("RB-MED", 1, 1), ("EKG", 1, 0), ("LAB-CMP", 1, 0), ("RX-GEN", 8, 0)],
        "coding": {"principal_diagnosis": {"code": "I50.9", "poa": "Y"}, "admitting_diagnosis": "R06.02",
                   "diagnoses": [], "procedures": []},
    },
    {
        "setting": "outpatient", "nights": 0,
        "charges": [("ER-4", 1, 0), ("LAB-CMP", 1, 0), ("EKG", 1, 0)],
        "coding": {"principal_diagnosis": {"code": "R07.9"}, "diagnoses": [], "procedures": []},
    },
]  # fmt: skip


async def seed_hospital(endpoints: Endpoints, tenant: str = DEMO_TENANT) -> str:
    """The demo hospital and its chargemaster; safe to run again. Returns the facility id."""
    admin = token(tenant, "admin")
    async with httpx.AsyncClient(timeout=60) as client:
        facility_id: str = (
            await _post(client, f"{endpoints.registration}/facilities", HOSPITAL, admin, "seed-facility")
        )["facility_id"]
        rows = [
            {
                "charge_code": c,
                "description": d,
                "revenue_code": r,
                "amount_cents": a,
                **({"hcpcs": h} if h else {}),
            }
            for c, d, r, h, a in CHARGEMASTER
        ]
        response = await client.put(
            f"{endpoints.invoicing}/chargemaster",
            json={"effective_from": "2020-01-01", "rows": rows},
            headers=admin,
        )
        if response.status_code >= 400:
            raise RuntimeError(f"chargemaster refused: {response.status_code} {response.text[:300]}")
    return facility_id


async def simulate_hospital(
    endpoints: Endpoints,
    reference: Reference,
    facility_id: str,
    *,
    tenant: str = DEMO_TENANT,
    seed_value: int = 0,
) -> int:
    """Drive the demo's hospital stays through the APIs: admission, charges, discharge, institutional
    coding. Returns the stays coded; their bills, 837I and 835 follow on their own."""
    rng = random.Random(seed_value)
    tokens = Tokens.mint(tenant)
    done = 0
    run = int(time.time()) * 1_000  # new patients and keys per run (see simulate)
    async with httpx.AsyncClient(timeout=60) as client:
        for n, stay in enumerate(HOSPITAL_STAYS):
            patient = synthetic_patient(rng, run + n)
            patient["birth_date"] = "1952-04-11"  # an adult of Medicare age, for the coding edits
            patient_id = (
                await _post(
                    client,
                    f"{endpoints.registration}/patients",
                    patient,
                    tokens.desk,
                    f"hosp-p-{patient['mrn']}",
                )
            )["patient_id"]
            coverage = {
                "payer_id": reference.payer_ids[0], "member_id": f"H{rng.randrange(10**9):09d}",
                "priority": "primary", "relationship_to_subscriber": "self", "effective_from": "2020-01-01",
            }  # fmt: skip
            await _post(
                client, f"{endpoints.registration}/patients/{patient_id}/coverages", coverage, tokens.desk,
                f"hosp-c-{patient_id}",
            )  # fmt: skip
            admitted = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(
                days=stay["nights"], hours=6
            )
            admission = {
                "patient_id": patient_id, "facility_id": facility_id,
                "attending_provider_id": reference.rendering_provider_ids[0], "setting": stay["setting"],
                "admitted_at": admitted.isoformat(), "admission_type": "1", "admission_source": "1",
            }  # fmt: skip
            encounter_id = (
                await _post(
                    client,
                    f"{endpoints.registration}/admissions",
                    admission,
                    tokens.desk,
                    f"hosp-a-{patient_id}",
                )
            )["encounter_id"]
            lines = [
                {
                    "charge_code": code,
                    "units": units,
                    "service_date": (admitted.date() + timedelta(days=day)).isoformat(),
                }
                for code, units, day in stay["charges"]
            ]
            await _post(
                client, f"{endpoints.invoicing}/encounters/{encounter_id}/charges", {"lines": lines},
                tokens.desk, f"hosp-ch-{encounter_id}",
            )  # fmt: skip
            discharged = admitted + timedelta(days=stay["nights"], hours=4)
            await _post(
                client, f"{endpoints.registration}/admissions/{encounter_id}/discharge",
                {"discharged_at": discharged.isoformat(), "discharge_status": "01"}, tokens.desk,
                f"hosp-d-{encounter_id}",
            )  # fmt: skip
            # Coded once discharged, as a hospital coder works (the DRG depends on the discharge).
            coding = dict(stay["coding"])
            coding["procedures"] = [
                {"code": p["code"], "date": (admitted.date() + timedelta(days=p["day"])).isoformat()}
                for p in stay["coding"]["procedures"]
            ]
            await _put_when_known(
                client, f"{endpoints.coding}/encounters/{encounter_id}/coding", coding, tokens.coder
            )
            done += 1
    return done


async def _put_when_known(client: httpx.AsyncClient, url: str, body: Any, headers: dict[str, str]) -> None:
    """Coding learns of an admission from registration's events: wait until it has."""
    deadline = time.perf_counter() + 60
    while True:
        response = await client.put(url, json=body, headers=headers)
        if response.status_code == 200:
            return
        if response.status_code not in (404, 409) or time.perf_counter() > deadline:
            raise RuntimeError(f"coding answered {response.status_code}: {response.text[:500]}")
        await asyncio.sleep(0.2)


@dataclass
class SimulationResult:
    encounters: int = 0
    coded: int = 0
    insured: int = 0
    self_pay: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    coding_latencies: list[float] = field(default_factory=list)


def synthetic_patient(rng: random.Random, n: int) -> dict[str, Any]:
    state, zip5 = rng.choice(STATES)
    age_days = rng.randint(2 * 365, 85 * 365)
    return {
        "mrn": f"SIM-{rng.randrange(10**9):09d}-{n}",
        "name": {"given": rng.choice(GIVEN), "family": rng.choice(FAMILY)},
        "birth_date": (date.today() - timedelta(days=age_days)).isoformat(),
        "sex": rng.choice(["F", "M"]),
        "address": {"line1": f"{rng.randint(1, 9999)} Oak Avenue", "city": "Springfield", "state": state,
                    "postal_code": zip5},
        "phone": f"555{rng.randrange(10**7):07d}",
    }  # fmt: skip


@dataclass
class PlannedVisit:
    """One synthetic visit as the front desk and the coder would send it."""

    patient: dict[str, Any]
    coverage: dict[str, Any] | None
    encounter: dict[str, Any]  # without patient_id: the visit's patient
    coding: dict[str, Any]


def plan_visit(reference: Reference, rng: random.Random, n: int) -> PlannedVisit:
    patient = synthetic_patient(rng, n)
    service_date = date.today() - timedelta(days=rng.randint(0, 100))
    born = date.fromisoformat(patient["birth_date"])
    age = service_date.year - born.year - ((service_date.month, service_date.day) < (born.month, born.day))
    coverage = None
    if rng.random() < 0.8:
        coverage = {
            "payer_id": rng.choice(reference.payer_ids),
            "member_id": f"M{rng.randrange(10**9):09d}",
            "group_number": f"G{rng.randrange(10**5):05d}",
            "priority": "primary",
            "relationship_to_subscriber": "self",
            "effective_from": (service_date - timedelta(days=400)).isoformat(),
        }
    encounter = {
        "billing_provider_id": reference.billing_provider_id,
        "rendering_provider_id": rng.choice(reference.rendering_provider_ids),
        "service_date": service_date.isoformat(),
        "place_of_service": "11",
    }
    visit = visit_for(rng, age)
    coding = {
        "diagnoses": visit["diagnoses"],
        "lines": [
            {"code": code, "modifiers": mods, "units": units, "diagnosis_pointers": pointers}
            for code, mods, units, pointers in visit["lines"]
        ],
    }
    return PlannedVisit(patient, coverage, encounter, coding)


async def simulate_one(
    client: httpx.AsyncClient,
    endpoints: Endpoints,
    reference: Reference,
    tenant: str,
    rng: random.Random,
    n: int,
    result: SimulationResult,
    tokens: Tokens | None = None,
) -> Simulated:
    """One visit the way a front desk enters it: patient, coverage, encounter, then the coding."""
    tokens = tokens or Tokens.mint(tenant)
    desk, coder = tokens.desk, tokens.coder
    plan = plan_visit(reference, rng, n)
    patient_id = (
        await _post(
            client, f"{endpoints.registration}/patients", plan.patient, desk, f"sim-p-{plan.patient['mrn']}"
        )
    )["patient_id"]
    if plan.coverage is not None:
        await _post(
            client,
            f"{endpoints.registration}/patients/{patient_id}/coverages",
            plan.coverage,
            desk,
            f"sim-c-{n}",
        )
        result.insured += 1
    else:
        result.self_pay += 1
    encounter = {**plan.encounter, "patient_id": patient_id}
    opened = await _post(client, f"{endpoints.registration}/encounters", encounter, desk, f"sim-e-{n}")
    encounter_id = opened["encounter_id"]
    result.encounters += 1
    # Coding learns of the encounter from registration's events: wait until it has.
    started = time.perf_counter()
    deadline = started + 60
    while True:
        response = await client.put(
            f"{endpoints.coding}/encounters/{encounter_id}/coding", json=plan.coding, headers=coder
        )
        if response.status_code == 200:
            result.coded += 1
            result.coding_latencies.append(time.perf_counter() - started)
            return Simulated(encounter_id, plan.coverage is not None)
        if response.status_code not in (404, 409) or time.perf_counter() > deadline:
            raise RuntimeError(f"coding answered {response.status_code}: {response.text[:500]}")
        await asyncio.sleep(0.2)


async def simulate_batch(
    client: httpx.AsyncClient,
    endpoints: Endpoints,
    reference: Reference,
    tenant: str,
    rng: random.Random,
    numbers: list[int],
    result: SimulationResult,
    tokens: Tokens | None = None,
) -> list[Simulated]:
    """Visits the way a hospital's interface engine sends them: one `POST /intake` for the batch, then
    one `POST /codings` for every encounter coding has received, again for the rest until it has."""
    tokens = tokens or Tokens.mint(tenant)
    plans = [plan_visit(reference, rng, n) for n in numbers]
    visits = [
        {"patient": p.patient, "coverages": [p.coverage] if p.coverage else [], "encounter": p.encounter}
        for p in plans
    ]
    taken = (
        await _post(client, f"{endpoints.registration}/intake", {"visits": visits}, tokens.desk,
                    f"sim-batch-{numbers[0]}-{len(numbers)}")
    )["visits"]  # fmt: skip
    insured = sum(p.coverage is not None for p in plans)
    result.insured += insured
    result.self_pay += len(plans) - insured
    result.encounters += len(plans)
    pending = {t["encounter_id"]: plan.coding for t, plan in zip(taken, plans, strict=True)}
    started = time.perf_counter()
    wait = 0.2
    while pending:
        body = {"codings": [{"encounter_id": e, **coding} for e, coding in pending.items()]}
        response = await client.post(f"{endpoints.coding}/codings", json=body, headers=tokens.coder)
        if response.status_code != 200:
            raise RuntimeError(f"coding answered {response.status_code}: {response.text[:500]}")
        for answer in response.json()["results"]:
            if answer["status"] == 200:
                del pending[answer["encounter_id"]]
                result.coded += 1
                result.coding_latencies.append(time.perf_counter() - started)
            elif answer["status"] != 404:
                raise RuntimeError(f"coding answered {answer['status']}: {str(answer)[:500]}")
        if pending:
            if time.perf_counter() > started + 60:
                raise RuntimeError(f"coding never received {len(pending)} encounters")
            await asyncio.sleep(wait)
            # Backing off, as an interface engine does: asking every 0.2 s, batches that wait for a
            # coding service a few seconds behind asked it again hundreds of times a second, and the
            # lag fed on itself (in the e2e bench, one run at 55/s went from 0.4 s to 22 s behind).
            wait = min(wait * 2, 2.0)
    return [Simulated(t["encounter_id"], p.coverage is not None) for t, p in zip(taken, plans, strict=True)]


async def simulate(
    endpoints: Endpoints,
    encounters: int,
    *,
    tenant: str = DEMO_TENANT,
    concurrency: int = 8,
    seed_value: int | None = None,
    batch: int = 1,
    on_progress: Any = None,
) -> SimulationResult:
    reference = await seed(endpoints, tenant)
    rng = random.Random(seed_value)
    result = SimulationResult()
    queue: asyncio.Queue[int] = asyncio.Queue()
    # Visit numbers go into MRNs and Idempotency-Keys: a run of its own keeps them apart from an
    # earlier run's (a rerun of `make run` on another day changes the visits' dates, so the same key
    # would be refused as reused for a different request, and the same MRN as taken).
    run = int(time.time()) * 1_000_000
    for n in range(encounters):
        queue.put_nowait(run + n)
    started = time.perf_counter()
    tokens = Tokens.mint(tenant)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            numbers = [queue.get_nowait() for _ in range(min(batch, queue.qsize()))]
            try:
                if batch == 1:
                    await simulate_one(
                        client, endpoints, reference, tenant, random.Random(rng.random()), numbers[0], result,
                        tokens,
                    )  # fmt: skip
                else:
                    await simulate_batch(
                        client,
                        endpoints,
                        reference,
                        tenant,
                        random.Random(rng.random()),
                        numbers,
                        result,
                        tokens,
                    )
            except Exception as error:  # one failed encounter (or batch) must not stop the workload
                result.failures.append(f"encounters {numbers[0]}-{numbers[-1]}: {error}")
            for _ in numbers:
                if on_progress:
                    on_progress()

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


# A year of a small two-physician practice's books, for the finance reports (all amounts in cents).
COST_CENTERS: list[dict[str, Any]] = [
    {"code": "FAM", "name": "Family medicine", "kind": "department", "provider": 0},
    {"code": "PREV", "name": "Preventive care", "kind": "service_line", "provider": 1},
    {"code": "ADMIN", "name": "Administration and facilities", "kind": "overhead"},
    {"code": "BILL", "name": "Billing office", "kind": "overhead"},
]
CLEARINGHOUSE_FEE_PER_CLAIM = 35


def month_ends(today: date, months: int = 12) -> list[date]:
    """The last day of each of the `months` months up to this one (this month: today)."""
    ends = []
    first = today.replace(day=1)
    for back in range(months - 1, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        year, month = divmod(index, 12)
        following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        ends.append(min(following - timedelta(days=1), today))
    return ends


def demo_ledger(today: date, claims_this_month: int, seed_value: int = 18) -> str:
    """The GL CSV of the last twelve months: payroll with FTEs, rent, supplies, billing office, and the
    clearinghouse's fee per claim."""
    rng = random.Random(seed_value)
    lines = ["incurred_on,amount_cents,category,cost_center,vendor,memo,fte"]
    ends = month_ends(today)
    for end in ends:
        month = end.strftime("%Y-%m")
        claims = claims_this_month if end == ends[-1] else rng.randint(380, 460)
        lines += [
            f"{end},1850000,payroll,FAM,Gusto,Payroll {month},2.5",
            f"{end},920000,payroll,PREV,Gusto,Payroll {month},1.2",
            f"{end},650000,facilities,ADMIN,Springfield Properties,Rent {month},",
            f"{end},{rng.randint(95000, 135000)},supplies,FAM,Medline,Clinical supplies {month},",
            f"{end},{rng.randint(45000, 70000)},supplies,PREV,McKesson,Vaccines and supplies {month},",
            f"{end},410000,billing_operations,BILL,Gusto,Billing office payroll {month},",
            f"{end},{claims * CLEARINGHOUSE_FEE_PER_CLAIM},clearinghouse_fees,BILL,Availity,{claims} claims,",
        ]
    return "\n".join(lines) + "\n"


async def seed_finance(
    endpoints: Endpoints, reference: Reference, *, tenant: str = DEMO_TENANT, claims_this_month: int = 40
) -> int:
    """Cost centres, a year of expenses (one GL import), this year's budget and an ECG cart; returns
    how many expenses were imported. Safe to run again the same month (Idempotency-Keys)."""
    books = token(tenant, "finance", subject="demo-controller")
    today = date.today()
    async with httpx.AsyncClient(timeout=120) as client:
        for center in COST_CENTERS:
            providers = [reference.rendering_provider_ids[center["provider"]]] if "provider" in center else []
            body = {
                "code": center["code"],
                "name": center["name"],
                "kind": center["kind"],
                "provider_ids": providers,
            }
            response = await client.post(
                f"{endpoints.finance}/cost-centers",
                json=body,
                headers={**books, "Idempotency-Key": f"seed-cost-center-{center['code']}"},
            )
            if response.status_code not in (201, 409):
                raise RuntimeError(f"cost centre refused: {response.status_code} {response.text[:300]}")
        imported = await client.post(
            f"{endpoints.finance}/expenses/import",
            content=demo_ledger(today, claims_this_month),
            headers={**books, "Content-Type": "text/csv", "Idempotency-Key": f"seed-ledger-{today:%Y-%m}"},
        )
        if imported.status_code >= 400:
            raise RuntimeError(f"GL import refused: {imported.status_code} {imported.text[:500]}")
        monthly = {"FAM": 1_980_000, "PREV": 980_000, "ADMIN": 650_000, "BILL": 425_000}
        rows = [
            {"cost_center": code, "month": month, "amount_cents": cents}
            for code, cents in monthly.items()
            for month in range(1, 13)
        ]
        response = await client.put(
            f"{endpoints.finance}/budgets/{today.year}", json={"rows": rows}, headers=books
        )
        if response.status_code >= 400:
            raise RuntimeError(f"budget refused: {response.status_code} {response.text[:300]}")
        acquired = month_ends(today)[0].replace(day=1)
        cart = {
            "name": "ECG cart",
            "cost_cents": 480_000,
            "acquired_on": acquired.isoformat(),
            "useful_life_months": 60,
            "cost_center": "FAM",
            "code": "93000",
            "monthly_volume": 25,
        }
        await _post(client, f"{endpoints.finance}/assets", cart, books, "seed-asset-ecg-cart")
    count: int = imported.json()["expenses"]
    return count
