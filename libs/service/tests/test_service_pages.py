"""The one pagination helper: cursors round-trip, foreign and edited cursors and bad limits are a 422
naming the field (never a 500), and a page knows whether another follows."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from hypothesis import given
from hypothesis import strategies as st

from billing_events.errors import FieldError
from billing_service.pages import (
    CURSOR_RULE,
    DEFAULT_LIMIT,
    LIMIT_RULE,
    MAX_LIMIT,
    InvalidPage,
    Keyset,
    Page,
    PageRequest,
)
from billing_service.problems import install_problem_handlers

SEQ = Keyset("tests.seq")
OTHER = Keyset("tests.other")
COMPOSITE = Keyset("tests.composite", (datetime, str, int))


def refused(keyset: Keyset, cursor: str) -> list[FieldError]:
    with pytest.raises(InvalidPage) as raised:
        keyset.key(cursor)
    return raised.value.errors


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_an_integer_key_round_trips_through_an_opaque_cursor(seq: int) -> None:
    cursor = SEQ.cursor((seq,))
    assert SEQ.key(cursor) == (seq,)
    assert not cursor.isdigit()  # opaque: not the seq written out, as the old cursors were
    assert cursor == cursor.strip() and "=" not in cursor and "/" not in cursor and "+" not in cursor


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.text(max_size=40),
    st.integers(min_value=-(2**53), max_value=2**53),
)
def test_a_composite_key_round_trips(at: datetime, text: str, number: int) -> None:
    assert COMPOSITE.key(COMPOSITE.cursor((at, text, number))) == (at, text, number)


def test_a_cursor_of_another_list_is_refused() -> None:
    assert refused(OTHER, SEQ.cursor((42,))) == [FieldError("cursor", CURSOR_RULE)]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "42",  # the old registration and claims cursors: a bare seq
        base64.urlsafe_b64encode(b"i:42").decode(),  # the old invoicing cursor
        "not a cursor at all",
        "%%%%",
        "é",
        "A" * 5000,
        "AAAA",
        "eyJzZXEiOjF9",  # JSON without a check
    ],
)
def test_a_cursor_this_platform_did_not_write_is_refused(cursor: str) -> None:
    assert refused(SEQ, cursor) == [FieldError("cursor", CURSOR_RULE)]


def test_an_edited_cursor_is_refused() -> None:
    cursor = SEQ.cursor((1000,))
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for index in range(len(raw)):
        edited = bytearray(raw)
        edited[index] ^= 0x01
        forged = base64.urlsafe_b64encode(bytes(edited)).rstrip(b"=").decode()
        assert refused(SEQ, forged) == [FieldError("cursor", CURSOR_RULE)]


def test_a_cursor_of_the_right_list_with_a_key_of_the_wrong_shape_is_refused() -> None:
    # The same scope with another key: what a cursor from before a change of sort key looks like.
    before = Keyset("tests.composite", (int,)).cursor((7,))
    assert refused(COMPOSITE, before) == [FieldError("cursor", CURSOR_RULE)]
    as_text = Keyset("tests.seq", (str,)).cursor(("7",))
    assert refused(SEQ, as_text) == [FieldError("cursor", CURSOR_RULE)]


def test_a_key_of_the_wrong_shape_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        SEQ.cursor(("7",))
    with pytest.raises(TypeError):
        SEQ.cursor((True,))
    with pytest.raises(TypeError):
        SEQ.cursor((1, 2))
    with pytest.raises(ValueError, match="scope"):
        Keyset("x" * 65)


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, 10**9])
def test_a_limit_out_of_range_is_refused(limit: int) -> None:
    with pytest.raises(InvalidPage) as raised:
        SEQ.request(limit=limit)
    assert raised.value.errors == [FieldError("limit", LIMIT_RULE)]
    with pytest.raises(InvalidPage):
        PageRequest(SEQ, limit)


def test_a_bad_limit_and_a_bad_cursor_are_both_named() -> None:
    with pytest.raises(InvalidPage) as raised:
        SEQ.request(limit=0, cursor="nope")
    assert [e.field for e in raised.value.errors] == ["limit", "cursor"]


def test_the_first_page_starts_at_the_beginning_with_the_default_limit() -> None:
    first = SEQ.request()
    assert (first.limit, first.after, first.position) == (DEFAULT_LIMIT, None, 0)
    assert first.fetch == DEFAULT_LIMIT + 1
    assert SEQ.request(limit=MAX_LIMIT, cursor=SEQ.cursor((9,))).position == 9
    with pytest.raises(TypeError):
        _ = COMPOSITE.request().position


def test_a_page_continues_after_its_last_row_only_when_more_rows_were_read() -> None:
    request = SEQ.request(limit=2)
    rows = [{"seq": 3}, {"seq": 5}, {"seq": 8}]
    page = request.page(rows, lambda row: (row["seq"],))
    assert page.items == [{"seq": 3}, {"seq": 5}]
    assert page.next_cursor is not None and SEQ.key(page.next_cursor) == (5,)
    last = request.page(rows[:2], lambda row: (row["seq"],))
    assert last == Page([{"seq": 3}, {"seq": 5}], None)
    assert request.page([], lambda row: (row["seq"],)) == Page([], None)


def test_the_json_answer_of_every_list() -> None:
    page = Page([1, 2], "abc")
    assert page.map(str).as_json() == {"items": ["1", "2"], "next_cursor": "abc"}
    assert page.replace(["x"]).as_json() == {"items": ["x"], "next_cursor": "abc"}
    assert Page([]).as_json() == {"items": [], "next_cursor": None}


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things")
    async def things(page: Annotated[PageRequest, Depends(SEQ.request)]) -> dict[str, Any]:
        rows = [{"seq": n} for n in range(page.position + 1, page.position + 1 + page.fetch) if n <= 5]
        return page.page(rows, lambda row: (row["seq"],)).as_json()

    return app


async def test_over_http_a_list_pages_through_and_refuses_bad_input_with_422() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        seen: list[int] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            answer = await client.get("/things", params=params)
            assert answer.status_code == 200
            body = answer.json()
            assert set(body) == {"items", "next_cursor"}
            seen += [item["seq"] for item in body["items"]]
            if body["next_cursor"] is None:
                break
            params = {"limit": 2, "cursor": body["next_cursor"]}
        assert seen == [1, 2, 3, 4, 5]
        assert len((await client.get("/things")).json()["items"]) == 5

        foreign = await client.get("/things", params={"cursor": OTHER.cursor((1,))})
        too_many = await client.get("/things", params={"limit": MAX_LIMIT + 1})
        not_a_number = await client.get("/things", params={"limit": "ten"})

    assert foreign.status_code == 422
    assert foreign.headers["content-type"] == "application/problem+json"
    assert foreign.json()["errors"] == [{"field": "cursor", "message": CURSOR_RULE}]
    assert too_many.status_code == 422
    assert too_many.json()["errors"] == [{"field": "limit", "message": LIMIT_RULE}]
    assert not_a_number.status_code == 422
    assert [e["field"] for e in not_a_number.json()["errors"]] == ["limit"]
