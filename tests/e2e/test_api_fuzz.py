"""schemathesis against every service's OpenAPI document, with a token holding every role: no
generated request, valid or not, gets a response >= 500 (issue 16).

Bounded so that the suite grows by about two minutes: BILLING_API_FUZZ_EXAMPLES examples per operation
and generation mode (positive: schema-valid requests; negative: requests that break the schema),
derandomized so that a run is reproducible. Each failure is reported with a curl command to replay it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Err

from billing_service.auth import Role
from billing_testing.platform import ALL_SERVICES, Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EXAMPLES = int(os.environ.get("BILLING_API_FUZZ_EXAMPLES", "40"))
EVERY_ROLE = [role.value for role in Role]


@dataclass
class Outcome:
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)


def fuzz_service(base_url: str, document: dict[str, Any], headers: dict[str, str]) -> Outcome:
    schema = schemathesis.openapi.from_dict(document)
    outcome = Outcome()
    session = requests.Session()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            outcome.server_errors.append(f"the OpenAPI document has an invalid operation: {result.err()}")
            continue
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def call(case: Any) -> None:
                try:
                    response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
                except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
                    return  # a request the HTTP client itself refuses to send never reaches a service
                outcome.requests += 1
                outcome.statuses[response.status_code] = outcome.statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    outcome.server_errors.append(
                        f"{case.operation.label} -> {response.status_code}: "
                        f"{case.as_curl_command(headers=headers, base_url=base_url)}"
                    )

            with contextlib.suppress(Unsatisfiable):  # e.g. no negative form of a parameterless GET
                call()
    return outcome


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", ALL_SERVICES)
async def test_no_generated_request_gets_a_server_error(platform: Platform, service: str) -> None:
    headers = platform.headers(*EVERY_ROLE, subject="api-fuzz")
    async with httpx.AsyncClient(timeout=30) as client:
        document = (await client.get(f"{platform.url(service)}/openapi.json", headers=headers)).json()
    outcome = await asyncio.to_thread(fuzz_service, platform.url(service), document, headers)
    statuses = dict(sorted(outcome.statuses.items()))
    print(f"{service}: {outcome.requests} requests {statuses}, {len(outcome.server_errors)} >= 500")
    assert outcome.requests > 0
    assert not outcome.server_errors, "\n".join(outcome.server_errors[:20])
