"""The `billing` operator command."""

from __future__ import annotations

import asyncio
import importlib
import os
from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
import uvloop
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from billing_cli import demo
from billing_events.consumer import dead_letters, redrive
from billing_events.consumer import replay as replay_subscription
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
def replay(service: Service) -> None:
    """Rebuild a service's projections from the log (stop its consumers first)."""

    async def rebuild() -> int:
        definition = definition_of(service)
        runtime = await open_runtime(definition, settings_for(service))
        total = 0
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                if definition.rebuild_from_log is not None:
                    task = progress.add_task(f"{service.value}: own log", total=None)
                    total += await definition.rebuild_from_log(
                        runtime, lambda done, of: progress.update(task, completed=done, total=of)
                    )
                for subscription in definition.subscriptions(runtime):
                    task = progress.add_task(subscription.name, total=None)

                    def advance(done: int, of: int, task: TaskID = task) -> None:
                        progress.update(task, completed=done, total=of)

                    total += await replay_subscription(
                        runtime.store, runtime.kafka, subscription, progress=advance
                    )
        finally:
            await runtime.close()
        return total

    applied = asyncio.run(rebuild())
    console.print(f"[green]{service.value}: projections rebuilt from {applied} events[/green]")


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
    console.print(
        f"seeded tenant {tenant}: {len(reference.payer_ids)} payers, "
        f"{1 + len(reference.rendering_provider_ids)} providers, a fee schedule of {len(demo.FEES)} codes"
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
    table = Table(title=f"simulation for tenant {tenant}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("encounters opened", str(result.encounters))
    table.add_row("encounters coded", str(result.coded))
    table.add_row("insured / self-pay", f"{result.insured} / {result.self_pay}")
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
