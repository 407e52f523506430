"""The `billing` operator command."""

from __future__ import annotations

from typing import Annotated

import typer

from billing_service.auth import Role, issue_token
from billing_service.settings import ServiceSettings

app = typer.Typer(help="Operate the billing platform.", no_args_is_help=True)


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="The tenant (hospital network) the token acts for.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    sub: Annotated[str, typer.Option(help="The acting user, recorded on every event.")] = "dev-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 8 * 3600,
) -> None:
    """Print a signed development JWT (local keys; production tokens come from the OIDC provider)."""
    settings = ServiceSettings()
    typer.echo(
        issue_token(settings, tenant=tenant, roles=[r.value for r in role], subject=sub, ttl_seconds=ttl)
    )


@app.command()
def version() -> None:
    """Print the platform's version."""
    typer.echo("billing-platform 0.1.0")
