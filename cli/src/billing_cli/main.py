"""The `billing` operator command."""

from __future__ import annotations

import asyncio
import importlib
from enum import StrEnum
from typing import Annotated

import typer

from billing_service.auth import Role, issue_token
from billing_service.runtime import ServiceDefinition, run_consumers, run_relay, serve_api
from billing_service.settings import ServiceSettings

app = typer.Typer(help="Operate the billing platform.", no_args_is_help=True)


class Service(StrEnum):
    REGISTRATION = "registration"
    CODING = "coding"
    INVOICING = "invoicing"
    CLAIMS = "claims"
    REPORTING = "reporting"


def definition_of(service: Service) -> ServiceDefinition:
    module = importlib.import_module(f"{service.value}.entrypoints")
    definition: ServiceDefinition = module.SERVICE
    return definition


def settings_for(service: Service) -> ServiceSettings:
    return ServiceSettings(service_name=service.value)


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="The tenant (hospital network) the token acts for.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    sub: Annotated[str, typer.Option(help="The acting user, recorded on every event.")] = "dev-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 8 * 3600,
) -> None:
    """Print a signed development JWT (local keys; production tokens come from the OIDC provider)."""
    settings = ServiceSettings()
    roles = [r.value for r in role]
    typer.echo(issue_token(settings, tenant=tenant, roles=roles, subject=sub, ttl_seconds=ttl))


@app.command()
def serve(service: Service) -> None:
    """Run a service's HTTP API (port from PORT, else the service's default)."""
    serve_api(definition_of(service), settings_for(service))


@app.command()
def consume(service: Service) -> None:
    """Run a service's Kafka consumers (health and metrics on METRICS_PORT)."""
    asyncio.run(run_consumers(definition_of(service), settings_for(service)))


@app.command()
def relay(service: Service) -> None:
    """Run a service's outbox relay, publishing its log to Kafka."""
    asyncio.run(run_relay(definition_of(service), settings_for(service)))


@app.command()
def version() -> None:
    """Print the platform's version."""
    typer.echo("billing-platform 0.1.0")
