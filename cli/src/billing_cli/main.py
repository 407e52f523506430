"""The `billing` operator command."""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
import uvloop
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from billing_cli import demo
from billing_events.consumer import dead_letters, redrive
from billing_events.envelope import Metadata
from billing_service.auth import Role, issue_token
from billing_service.endpoints import Endpoints
from billing_service.runtime import (
    ServiceDefinition,
    open_runtime,
    run_all,
    run_consumers,
    run_relay,
    serve_api,
    tune_garbage_collection,
)
from billing_service.settings import ServiceSettings

app = typer.Typer(help="Operate the billing platform.", no_args_is_help=True)
console = Console()


class Service(StrEnum):
    REGISTRATION = "registration"
    CODING = "coding"
    INVOICING = "invoicing"
    CLAIMS = "claims"
    REPORTING = "reporting"
    FINANCE = "finance"
    INTEROP = "interop"


def definition_of(service: Service) -> ServiceDefinition:
    module = importlib.import_module(f"{service.value}.entrypoints")
    definition: ServiceDefinition = module.SERVICE
    return definition


def settings_for(service: Service) -> ServiceSettings:
    """A service's settings. Locally, BILLING_DATABASE_SERVER_URL names the server and each service
    gets its own database on it (billing_<service>); in production DATABASE_URL is the service's own."""
    server = os.environ.get("BILLING_DATABASE_SERVER_URL")
    if server:
        name = f"{os.environ.get('BILLING_DATABASE_PREFIX', 'billing_')}{service.value}"
        database = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        return ServiceSettings(service_name=service.value, database_url=database)
    return ServiceSettings(service_name=service.value)


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="The tenant (hospital network) the token acts for.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    sub: Annotated[str, typer.Option(help="The acting user, recorded on every event.")] = "dev-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 8 * 3600,
) -> None:
    """Print a signed development JWT (local keys; production tokens come from the OIDC provider)."""
    # A development tool: it signs with JWT_PRIVATE_KEY when given, else with the generated dev key.
    settings = ServiceSettings(BILLING_DEVELOPMENT=True)
    roles = [r.value for r in role]
    typer.echo(issue_token(settings, tenant=tenant, roles=roles, subject=sub, ttl_seconds=ttl))


@app.command()
def serve(service: Service) -> None:
    """Run a service's HTTP API (port from PORT, else the service's default)."""
    serve_api(definition_of(service), settings_for(service))


@app.command()
def consume(service: Service) -> None:
    """Run a service's Kafka consumers (health and metrics on METRICS_PORT)."""
    uvloop.run(run_consumers(definition_of(service), settings_for(service)))


@app.command()
def relay(service: Service) -> None:
    """Run a service's outbox relay, publishing its log to Kafka."""
    uvloop.run(run_relay(definition_of(service), settings_for(service)))


@app.command()
def run(service: Service) -> None:
    """Run a service's API, relay, consumers and workers in one process (local runs)."""
    uvloop.run(run_all(definition_of(service), settings_for(service)))


@app.command()
def replay(
    service: Service,
    subscription: Annotated[
        str | None,
        typer.Option(help="Only this projection: a subscription's name, or own-log (default: all)."),
    ] = None,
) -> None:
    """Rebuild a service's projections while it runs (blue/green): copies are built beside the live
    tables from the topics and the log, then swapped in, in one transaction each; the service answers
    from the live tables until then. A second replay of the same service is refused while one runs."""
    from billing_service.rebuild import RebuildAlreadyRunning, UnknownSubscription, rebuild_live

    async def rebuild() -> Any:
        definition = definition_of(service)
        runtime = await open_runtime(definition, settings_for(service))
        tune_garbage_collection()
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} events/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
            ) as progress:
                tasks: dict[str, TaskID] = {}

                def advance(part: str, done: int, total: int) -> None:
                    if part not in tasks:
                        tasks[part] = progress.add_task(f"{service.value}: {part}", total=None, rate="-")
                    task = tasks[part]
                    elapsed = progress.tasks[task].elapsed or 0.0
                    rate = f"{done / elapsed:,.0f}" if elapsed > 0 else "-"
                    progress.update(task, completed=done, total=total, rate=rate)

                return await rebuild_live(runtime, only=subscription, progress=advance)
        finally:
            await runtime.close()

    try:
        report = asyncio.run(rebuild())
    except (RebuildAlreadyRunning, UnknownSubscription) as error:
        console.print(f"[red]refused: {error}[/red]")
        raise typer.Exit(1) from None
    for part in report.parts:
        rate = part.events / part.seconds if part.seconds else 0.0
        console.print(
            f"[green]{service.value} {part.part}: {part.events} events rebuilt in {part.seconds:.1f} s "
            f"({rate:,.0f} events/s), swapped in holding locks {part.swap_seconds * 1000:.0f} ms[/green]"
        )


dlq = typer.Typer(
    help="Dead-lettered events: list them, and apply them again after a fix.", no_args_is_help=True
)
app.add_typer(dlq, name="dlq")


@dlq.command("list")
def dlq_list(service: Service) -> None:
    """The service's dead-lettered events waiting for a redrive: type, error class and the fields it
    names, never the event's data. Safe on the running platform (a read)."""

    async def listed() -> list[Any]:
        runtime = await open_runtime(definition_of(service), settings_for(service))
        try:
            return list(await dead_letters(runtime.store))
        finally:
            await runtime.close()

    rows = asyncio.run(listed())
    if not rows:
        console.print(f"[green]{service.value}: no dead letters[/green]")
        return
    table = Table("event id", "consumer", "type", "error", "reason", "topic/partition@offset", "when")
    for row in rows:
        table.add_row(
            row.event_id,
            row.consumer,
            row.event_type,
            row.error_class,
            row.reason,
            f"{row.topic}/{row.partition}@{row.offset}",
            row.dead_lettered_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@dlq.command("redrive")
def dlq_redrive(
    service: Service,
    event_id: Annotated[str | None, typer.Option("--id", help="Only this event (default: all).")] = None,
) -> None:
    """Apply the service's dead-lettered events again, each exactly once (the live consumers' own
    de-duplication guards it), while the platform runs. Events that still fail stay listed."""

    async def run() -> list[tuple[str, Any]]:
        definition = definition_of(service)
        runtime = await open_runtime(definition, settings_for(service))
        try:
            return [
                (subscription.name, await redrive(runtime.store, subscription, event_id))
                for subscription in definition.subscriptions(runtime)
            ]
        finally:
            await runtime.close()

    failed = False
    for name, result in asyncio.run(run()):
        console.print(
            f"{name}: {result.applied} applied, {result.already_processed} already applied, "
            f"{len(result.still_failing)} still failing"
        )
        for failing_id, reason in result.still_failing:
            failed = True
            console.print(f"  [red]{failing_id}: {reason}[/red]")
    if failed:
        raise typer.Exit(1)


@app.command("forget-patient")
def forget_patient(
    patient_id: str,
    tenant: Annotated[str, typer.Option(help="The patient's tenant.")],
    reason: Annotated[str, typer.Option(help="Why: a ticket or an order's number, never patient data.")],
    legal_order: Annotated[
        bool, typer.Option("--legal-order", help="A legal order: forget within the retention period.")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who asks, recorded on the event.")] = "operator",
) -> None:
    """Crypto-shred a patient on the running platform: records PatientForgotten and destroys the
    patient's data key, so every sealed value of the patient is unreadable in every service; the hash
    chains stay intact (`billing verify-log SERVICE`). Refused within the retention period after the
    last service date unless --legal-order."""
    from registration.adapters.queries import PostgresViews
    from registration.application.handlers import CommandContext
    from registration.application.handlers import forget_patient as forget
    from registration.domain.errors import DomainError
    from registration.settings import registration_settings

    async def run() -> bool:
        runtime = await open_runtime(definition_of(Service.REGISTRATION), settings_for(Service.REGISTRATION))
        try:
            async with runtime.store.session() as session:
                ctx = CommandContext(
                    session=session,
                    views=PostgresViews(session.connection),
                    vault=runtime.vault,
                    blind_index=runtime.blind_index,
                    metadata=Metadata(tenant=tenant, actor=actor),
                    today=date.today(),
                )
                return await forget(
                    ctx,
                    patient_id,
                    reason=reason,
                    legal_order=legal_order,
                    retention_days=registration_settings().patient_retention_days,
                )
        finally:
            await runtime.close()

    try:
        now = asyncio.run(run())
    except DomainError as error:
        console.print(f"[red]refused: {error}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]patient {patient_id} forgotten{'' if now else ' (already)'}[/green]")


@app.command("rotate-master-key")
def rotate_master_key() -> None:
    """Re-wrap every patient's data key under the new master key while the platform runs.

    Before: every service that decrypts runs with PHI_MASTER_KEY=<new>, PHI_PREVIOUS_MASTER_KEYS=<old>
    and PHI_BLIND_INDEX_KEY=<old> (or the blind-index key it already had), so it opens keys under either
    master and MRN lookups keep their index. This command (same variables) re-wraps what is left under
    the old key; run it again after a failure, it skips what is done. After: drop
    PHI_PREVIOUS_MASTER_KEYS and destroy the old master key (keep PHI_BLIND_INDEX_KEY)."""
    from billing_events.phi import rewrap_data_keys
    from billing_events.store import create_pool
    from billing_service.runtime import keys_database_url, master_key, previous_master_keys

    settings = settings_for(Service.REGISTRATION)
    previous = previous_master_keys(settings)
    if not previous:
        console.print("[red]refused: PHI_PREVIOUS_MASTER_KEYS names no old master key to rotate from[/red]")
        raise typer.Exit(1)
    if settings.phi_blind_index_key is None:
        console.print(
            "[yellow]PHI_BLIND_INDEX_KEY is not set: MRN lookups derive from PHI_MASTER_KEY, so the "
            "services must run with PHI_BLIND_INDEX_KEY=<old master key> to keep finding patients[/yellow]"
        )

    async def run() -> int:
        pool = await create_pool(keys_database_url(settings), max_size=2)
        try:
            with Progress(
                TextColumn("re-wrapping data keys"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("rotate", total=None)
                count = 0
                for old in previous:
                    count += await rewrap_data_keys(
                        pool,
                        old,
                        master_key(settings),
                        progress=lambda done, total: progress.update(task, completed=done, total=total),
                    )
                return count
        finally:
            await pool.close()

    started = time.perf_counter()
    count = asyncio.run(run())
    console.print(
        f"[green]{count} data keys re-wrapped under the new master key in "
        f"{time.perf_counter() - started:.1f} s; now drop PHI_PREVIOUS_MASTER_KEYS[/green]"
    )


@app.command("verify-log")
def verify_log(service: Service) -> None:
    """Walk a service's event log and check its hash chain; name the first broken link."""

    async def verify() -> tuple[int, int | None, str | None]:
        runtime = await open_runtime(definition_of(service), settings_for(service))
        try:
            report = await runtime.store.verify_chain()
        finally:
            await runtime.close()
        return report.checked, report.first_broken_position, report.reason

    checked, broken, reason = asyncio.run(verify())
    if broken is None:
        console.print(f"[green]{service.value}: the log is intact ({checked} events checked)[/green]")
        return
    console.print(
        f"[red]{service.value}: broken at position {broken}: {reason} ({checked} intact before)[/red]"
    )
    raise typer.Exit(1)


@app.command()
def seed(tenant: Annotated[str, typer.Option()] = demo.DEMO_TENANT) -> None:
    """Load demo reference data (payers, providers, fee schedule) through the APIs."""
    reference = asyncio.run(demo.seed(Endpoints(), tenant))
    asyncio.run(demo.seed_hospital(Endpoints(), tenant))
    console.print(
        f"seeded tenant {tenant}: {len(reference.payer_ids)} payers, "
        f"{1 + len(reference.rendering_provider_ids)} providers, a fee schedule of {len(demo.FEES)} codes, "
        f"a hospital with a chargemaster of {len(demo.CHARGEMASTER)} charges"
    )


@app.command("seed-finance")
def seed_finance(
    tenant: Annotated[str, typer.Option()] = demo.DEMO_TENANT,
    claims: Annotated[int, typer.Option(help="Claims this month, for the clearinghouse's fees.")] = 40,
) -> None:
    """Load a year of a small practice's expenses, a budget and an asset into finance (via its API)."""
    endpoints = Endpoints()
    reference = asyncio.run(demo.seed(endpoints, tenant))
    count = asyncio.run(demo.seed_finance(endpoints, reference, tenant=tenant, claims_this_month=claims))
    console.print(f"seeded tenant {tenant}'s books: {len(demo.COST_CENTERS)} cost centres, {count} expenses")


@app.command()
def simulate(
    encounters: Annotated[int, typer.Option(help="How many encounters to drive.")] = 20,
    tenant: Annotated[str, typer.Option()] = demo.DEMO_TENANT,
    concurrency: Annotated[int, typer.Option()] = 8,
    seed_value: Annotated[
        int | None, typer.Option("--seed", help="Random seed for a repeatable run.")
    ] = None,
    batch: Annotated[
        int,
        typer.Option(
            help="Visits per request, as an interface engine sends them (POST /intake, /codings); "
            "1 sends each visit as a front desk would.",
            min=1,
            max=500,
        ),
    ] = 1,
    hospital: Annotated[
        bool, typer.Option(help="Also drive the demo hospital's stays (3 inpatient, 1 outpatient).")
    ] = True,
) -> None:
    """Drive realistic synthetic encounters (patients, coverage, visits, codes) through the APIs."""
    with Progress(
        TextColumn("encounters"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("simulate", total=encounters)
        result = asyncio.run(
            demo.simulate(
                Endpoints(),
                encounters,
                tenant=tenant,
                concurrency=concurrency,
                seed_value=seed_value,
                batch=batch,
                on_progress=lambda: progress.advance(task),
            )
        )
    stays = 0
    if hospital:
        endpoints = Endpoints()
        reference = asyncio.run(demo.seed(endpoints, tenant))
        facility_id = asyncio.run(demo.seed_hospital(endpoints, tenant))
        stays = asyncio.run(
            demo.simulate_hospital(
                endpoints, reference, facility_id, tenant=tenant, seed_value=seed_value or 0
            )
        )
    table = Table(title=f"simulation for tenant {tenant}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("encounters opened", str(result.encounters))
    table.add_row("encounters coded", str(result.coded))
    table.add_row("insured / self-pay", f"{result.insured} / {result.self_pay}")
    table.add_row("hospital stays discharged", str(stays))
    table.add_row("failures", str(len(result.failures)))
    table.add_row("seconds", f"{result.seconds:.1f}")
    table.add_row("encounters/s", f"{result.coded / result.seconds:.1f}" if result.seconds else "-")
    console.print(table)
    for failure in result.failures[:5]:
        console.print(f"[red]{failure}[/red]")
    if result.failures:
        raise typer.Exit(1)


@app.command(
    "payer-simulator",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
)
def payer_simulator(ctx: typer.Context) -> None:
    """Run the payer simulator (demo and tests): `billing payer-simulator --help` for its options."""
    from payer_simulator.main import main as simulator_main

    raise typer.Exit(simulator_main(ctx.args))


@app.command()
def version() -> None:
    """Print the platform's version."""
    typer.echo("billing-platform 0.1.0")
