"""Reading a service's API in tests: the answer must be 200, and its body is returned parsed."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx


async def get_json(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def get_csv(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, str]]:
    """The CSV answer of an endpoint (Accept: text/csv), as a download, one dict per row."""
    response = await client.get(path, params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))
