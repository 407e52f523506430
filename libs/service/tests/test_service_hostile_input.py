"""Hostile URLs and text: refused with 422 naming the field, never a 500 (issue 16)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
from fastapi import APIRouter, Request

from billing_service.http import create_app, read_body
from billing_service.settings import ServiceSettings


def app_for(tmp_path: Path) -> object:
    router = APIRouter()

    @router.get("/providers")
    async def providers(npi: str = "") -> dict[str, str]:
        return {"npi": npi}

    @router.get("/things/{name}")
    async def thing(name: str) -> dict[str, str]:
        return {"name": name}

    @router.post("/json")
    async def json_body(payload: dict[str, str]) -> dict[str, int]:
        return {"keys": len(payload)}

    @router.post("/store")
    async def store() -> None:
        raise asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence")

    settings = ServiceSettings(BILLING_STATE_DIR=str(tmp_path), BILLING_DEVELOPMENT=True)
    return create_app(settings, title="hostile", routers=[router])


async def test_control_characters_in_the_query_or_path_are_refused_with_the_parameter(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=app_for(tmp_path))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        nul = await client.get("/providers", params={"npi": "12345\x006789"})
        escape = await client.get("/providers", params={"npi": "\x1b[2J"})
        in_path = await client.get("/things/a%00b")
        fine = await client.get("/providers", params={"npi": "1234567893"})
    assert nul.status_code == 422
    assert nul.headers["content-type"] == "application/problem+json"
    assert nul.json()["errors"] == [{"field": "npi", "message": "contains control characters"}]
    assert escape.status_code == 422
    assert in_path.status_code == 422
    assert in_path.json()["errors"][0]["field"] == "path"
    assert fine.json() == {"npi": "1234567893"}


async def test_text_postgresql_cannot_store_is_the_clients_error(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=app_for(tmp_path))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/store")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def limited_app(tmp_path: Path) -> object:
    router = APIRouter()

    @router.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        body = await read_body(request, 1000)
        again = await request.body()  # e.g. the idempotency hash reads it a second time
        return {"size": len(body), "again": len(again)}

    @router.post("/json")
    async def json_body(payload: dict[str, str]) -> dict[str, int]:
        return {"keys": len(payload)}

    settings = ServiceSettings(
        BILLING_STATE_DIR=str(tmp_path), BILLING_DEVELOPMENT=True, BILLING_MAX_REQUEST_BYTES=10_000
    )
    return create_app(settings, title="limits", routers=[router])


async def test_bodies_are_refused_while_they_stream_in(tmp_path: Path) -> None:
    def chunks(total: int) -> AsyncIterator[bytes]:
        async def generate() -> AsyncIterator[bytes]:
            for _ in range(total // 100):
                yield b"x" * 100

        return generate()

    transport = httpx.ASGITransport(app=limited_app(tmp_path))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        small = await client.post("/upload", content=b"x" * 500)
        declared = await client.post("/upload", content=b"x" * 5000)
        streamed = await client.post("/upload", content=chunks(5000))  # chunked: no Content-Length
        app_wide = await client.post("/json", content=b'{"a": "' + b"x" * 20_000 + b'"}')
        app_wide_streamed = await client.post("/json", content=chunks(20_000))
    assert small.json() == {"size": 500, "again": 500}
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert declared.headers["content-type"] == "application/problem+json"
    assert (app_wide.status_code, app_wide_streamed.status_code) == (413, 413)


async def test_internal_paths_are_not_served_through_the_ingress(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=app_for(tmp_path))  # type: ignore[arg-type]
    proxied = {"X-Forwarded-For": "203.0.113.7"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        inside = [(await client.get(path)).status_code for path in ("/metrics", "/openapi.json", "/docs")]
        outside = [
            (await client.get(path, headers=proxied)).status_code
            for path in ("/metrics", "/openapi.json", "/docs", "/redoc")
        ]
        api_outside = await client.get("/providers", params={"npi": "1"}, headers=proxied)
    assert inside == [200, 200, 200]
    assert outside == [404, 404, 404, 404]
    assert api_outside.status_code == 200


JSON = {"content-type": "application/json"}


async def test_json_bodies_too_deep_or_with_huge_numbers_are_invalid_input(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=app_for(tmp_path))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        deep = await client.post(
            "/json", content=b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", headers=JSON
        )
        huge = await client.post("/json", content=b'{"a": ' + b"9" * 5000 + b"}", headers=JSON)
    assert (deep.status_code, deep.json()["errors"]) == (
        422,
        [{"field": "body", "message": "JSON nested too deeply"}],
    )
    assert (huge.status_code, huge.json()["errors"]) == (
        422,
        [{"field": "body", "message": "a number is too long"}],
    )
