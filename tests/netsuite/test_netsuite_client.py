"""The NetSuite client over the real pipeline, against respx routes."""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nswoo._http import RetryPolicy
from nswoo._settings import M2MCredentials, NetSuiteSettings, Secret, TbaCredentials
from nswoo.errors import InvalidPayload, OutcomeUnknown, ResponseInvalid, SchemaDriftError
from nswoo.limits._local import LocalLimiter, UnlimitedLimiter
from nswoo.netsuite import (
    ExternalId,
    NetSuiteClient,
    SalesOrderDraft,
    SalesOrderLine,
    TbaAuth,
    netsuite_auth,
    open_netsuite,
    probe,
)
from nswoo.netsuite.suiteql import id_list, ident, suiteql_query, text
from nswoo.testing import FakeClock

pytestmark = pytest.mark.anyio

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
RECORDS = f"{BASE}/services/rest/record/v1"
SUITEQL = f"{BASE}/services/rest/query/v1/suiteql"
TOKEN_URL = f"{BASE}/services/rest/auth/oauth2/v1/token"
TBA = TbaCredentials(
    consumer_key="ck", consumer_secret=Secret("cs"), token_id="tid", token_secret=Secret("ts")
)
SETTINGS = NetSuiteSettings(
    environment="sandbox", account_id="1234567_SB1", auth=TBA, base_url=BASE
)


def make_client(
    http: httpx.AsyncClient, clock: FakeClock | None = None, limiter: Any = None
) -> NetSuiteClient:
    """A client with TBA auth, a fake clock and a fixed jitter."""
    clock = clock or FakeClock()
    return NetSuiteClient(
        SETTINGS,
        http=http,
        limiter=limiter or UnlimitedLimiter(),
        auth=TbaAuth(TBA, realm=SETTINGS.realm, clock=clock),
        clock=clock,
        random=lambda: 0.5,
    )


def page(items: list[dict[str, Any]], *, has_more: bool, offset: int = 0) -> httpx.Response:
    """A SuiteQL page shaped like the reference's example (§6)."""
    return httpx.Response(
        200,
        json={
            "links": [{"rel": "self", "href": f"{SUITEQL}?limit=1000&offset={offset}"}],
            "count": len(items),
            "hasMore": has_more,
            "items": [{"links": [], **row} for row in items],
            "offset": offset,
            "totalResults": 13,
        },
    )


@pytest.mark.parametrize(
    "location",
    [
        f"{RECORDS}/salesOrder/647",
        "/services/rest/record/v1/salesOrder/647",
        f"{RECORDS}/salesOrder/647/",
    ],
)
async def test_create_returns_the_id_from_location(location: str) -> None:
    """POST answers 204 + Location (absolute or relative); the trailing segment is the id."""
    draft = SalesOrderDraft(
        entity=107,
        lines=[SalesOrderLine(item=9999, quantity=Decimal(2), rate=Decimal("19.90"))],
        external_id=ExternalId("woo-main-40001"),
        custom_fields={"custbody_nswoo_woo_order_id": "40001"},
    )
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(f"{RECORDS}/salesOrder").respond(204, headers={"Location": location})
        new_id = await make_client(http).create("salesOrder", draft)
    assert new_id == "647"
    request = route.calls.last.request
    assert request.headers["X-NetSuite-PropertyNameValidation"] == "Error"
    assert request.headers["X-NetSuite-PropertyValueValidation"] == "Error"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"].startswith('OAuth realm="1234567_SB1"')
    assert request.content == (
        b'{"entity":{"id":107},"externalId":"woo-main-40001","item":{"items":'
        b'[{"item":{"id":9999},"quantity":2,"rate":19.90}]},"custbody_nswoo_woo_order_id":"40001"}'
    )


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({}, "Location header .*missing"),
        ({"Location": f"{RECORDS}/salesOrder/new"}, "does not end in a record id"),
        ({"Location": "http://[bad"}, "does not end in a record id"),
    ],
)
async def test_create_without_a_usable_location_is_response_invalid(
    headers: dict[str, str], match: str
) -> None:
    """A missing or unparsable Location is ResponseInvalid naming the header."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.post(f"{RECORDS}/customer").respond(204, headers=headers)
        with pytest.raises(ResponseInvalid, match=match):
            await make_client(http).create("customer", {"email": "a@example.com"})


async def test_create_timeout_is_outcome_unknown_and_not_retried() -> None:
    """A POST that got no answer is OutcomeUnknown after one attempt."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(f"{RECORDS}/salesOrder").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(OutcomeUnknown):
            await make_client(http).create("salesOrder", {"entity": {"id": 1}})
    assert route.call_count == 1


async def test_drift_on_create_is_schema_drift_error() -> None:
    """A 400 on a custom field during create surfaces as SchemaDriftError with the record."""
    body = {
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "Invalid Field Value",
                "o:errorCode": "INVALID_CONTENT",
                "o:errorPath": "custbody_nswoo_woo_order_id",
            }
        ],
    }
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.post(f"{RECORDS}/salesOrder").respond(400, json=body)
        with pytest.raises(SchemaDriftError) as info:
            await make_client(http).create("salesOrder", {"entity": {"id": 1}})
    assert (info.value.field, info.value.record) == ("custbody_nswoo_woo_order_id", "salesOrder")


async def test_get_by_external_id_uses_eid_path() -> None:
    """An ExternalId is addressed as eid:<value>, with expandSubResources when asked."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(f"{RECORDS}/customer/eid:CID001").respond(
            200, json={"id": "647", "externalId": "CID001"}
        )
        record = await make_client(http).get(
            "customer", ExternalId("CID001"), expand_sub_resources=True
        )
    assert record == {"id": "647", "externalId": "CID001"}
    assert route.calls.last.request.url.params["expandSubResources"] == "true"


async def test_bad_ids_are_refused_before_any_request() -> None:
    """Malformed internal ids and record types raise InvalidPayload and send nothing."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        client = make_client(http)
        for record, rid in (
            ("customer", "12/../13"),
            ("customer", "eid:x"),
            ("customer", -4),
            ("cust omer", 1),
        ):
            with pytest.raises(InvalidPayload):
                await client.get(record, rid)
        assert not mock.calls


async def test_non_json_success_is_response_invalid() -> None:
    """A 200 whose body is HTML or truncated JSON is ResponseInvalid."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.get(f"{RECORDS}/customer/1").respond(200, text="<html>maintenance</html>")
        mock.post(SUITEQL).respond(200, content=b'{"items": [{"id": ')
        client = make_client(http)
        with pytest.raises(ResponseInvalid, match="not valid JSON"):
            await client.get("customer", 1)
        with pytest.raises(ResponseInvalid, match="SuiteQL page"):
            await client.suiteql_page("SELECT id FROM item")


async def test_update_patches_with_replace_and_upsert_puts_on_eid() -> None:
    """update is PATCH with ?replace=item; upsert is PUT on eid: and is retried as idempotent."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        patch = mock.patch(f"{RECORDS}/salesOrder/647").respond(
            204, headers={"Location": f"{RECORDS}/salesOrder/647"}
        )
        put = mock.put(f"{RECORDS}/customer/eid:CID002").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(204, headers={"Location": f"{RECORDS}/customer/88"}),
            ]
        )
        client = make_client(http)
        await client.update("salesOrder", 647, {"item": {"items": []}}, replace=["item"])
        upserted = await client.upsert("customer", ExternalId("CID002"), {"email": "b@example.com"})
    assert patch.calls.last.request.url.params["replace"] == "item"
    assert patch.calls.last.request.headers["X-NetSuite-PropertyNameValidation"] == "Error"
    assert put.call_count == 2
    assert upserted == "88"


async def test_429_without_retry_after_backs_off_and_succeeds() -> None:
    """A 429 with no Retry-After pauses the limiter with jittered backoff, then succeeds."""
    clock = FakeClock()
    limiter = LocalLimiter(5, clock=clock)
    concurrency = {
        "status": 429,
        "o:errorDetails": [
            {
                "detail": "Concurrent request limit exceeded. Request blocked.",
                "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
            }
        ],
    }
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(f"{RECORDS}/customer/1").mock(
            side_effect=[
                httpx.Response(429, json=concurrency),
                httpx.Response(200, json={"id": "1"}),
            ]
        )
        record = await make_client(http, clock, limiter).get("customer", 1)
    assert record == {"id": "1"}
    assert route.call_count == 2
    assert clock.now() > 0
    assert limiter.stats().rate_limited == 1


async def test_suiteql_follows_has_more() -> None:
    """Rows come from every page until hasMore is false, with limit/offset, Prefer and q."""
    query = suiteql_query(
        "SELECT id, isinactive FROM item WHERE {col} = {v}", col=ident("itemid"), v=text("o'brien")
    )
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(SUITEQL).mock(
            side_effect=[
                page(
                    [{"id": "1", "isinactive": "F"}, {"id": "2", "isinactive": "T"}], has_more=True
                ),
                page([{"id": "3", "isinactive": "F"}], has_more=False, offset=2),
            ]
        )
        rows = [row async for row in make_client(http).suiteql(query, page_size=2)]
    assert rows == [
        {"id": "1", "isinactive": False},
        {"id": "2", "isinactive": True},
        {"id": "3", "isinactive": False},
    ]
    first, second = (call.request for call in route.calls)
    assert (first.url.params["limit"], first.url.params["offset"]) == ("2", "0")
    assert second.url.params["offset"] == "2"
    assert first.headers["Prefer"] == "transient"
    assert json.loads(first.content) == {
        "q": "SELECT id, isinactive FROM item WHERE itemid = 'o''brien'"
    }


async def test_offset_paging_stops_at_the_row_cap() -> None:
    """Offset paging past 100,000 rows raises, pointing at keyset paging."""
    rows = [{"id": str(i)} for i in range(1000)]
    seen: list[dict[str, Any]] = []

    async def drain(client: NetSuiteClient) -> None:
        async for row in client.suiteql("SELECT id FROM item"):
            seen.append(row)

    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(SUITEQL).mock(side_effect=lambda request: page(rows, has_more=True))
        with pytest.raises(InvalidPayload, match="suiteql_keyset"):
            await drain(make_client(http))
    assert len(seen) == 100_000
    assert route.call_count == 100


async def test_keyset_paging_passes_the_cap() -> None:
    """Keyset paging restarts after the last id each page, so no offset nears the cap."""
    table = list(range(1, 12))
    queries: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        q = json.loads(request.content)["q"]
        queries.append(q)
        assert request.url.params["offset"] == "0"
        limit = int(request.url.params["limit"])
        match = re.search(r"id > (\d+)", q)
        after = int(match.group(1)) if match else 0
        rest = [i for i in table if i > after]
        return page([{"id": str(i)} for i in rest[:limit]], has_more=len(rest) > limit)

    async with respx.mock() as mock, httpx.AsyncClient() as http:
        mock.post(SUITEQL).mock(side_effect=server)
        ids = [
            int(row["id"])
            async for row in make_client(http).suiteql_keyset(
                "SELECT id FROM item WHERE {keyset}", page_size=5
            )
        ]
    assert ids == table
    assert queries == [
        "SELECT id FROM item WHERE id IS NOT NULL ORDER BY id",
        "SELECT id FROM item WHERE id > 5 ORDER BY id",
        "SELECT id FROM item WHERE id > 10 ORDER BY id",
    ]


async def test_keyset_template_values_are_bound() -> None:
    """Keyset queries take bound values like any other query."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(SUITEQL).mock(return_value=page([], has_more=False))
        rows = [
            r
            async for r in make_client(http).suiteql_keyset(
                "SELECT id FROM item WHERE id IN {ids} AND {keyset}", ids=id_list([3, 4])
            )
        ]
    assert rows == []
    assert (
        json.loads(route.calls.last.request.content)["q"]
        == "SELECT id FROM item WHERE id IN (3, 4) AND id IS NOT NULL ORDER BY id"
    )


async def test_record_schema_asks_for_json_schema() -> None:
    """The metadata catalog is read with Accept: application/schema+json."""
    schema = {
        "type": "object",
        "properties": {"custbody_nswoo_woo_order_id": {"title": "Woo Order", "type": "string"}},
    }
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.get(f"{RECORDS}/metadata-catalog/salesOrder").respond(200, json=schema)
        result = await make_client(http).record_schema("salesOrder")
    assert route.calls.last.request.headers["Accept"] == "application/schema+json"
    assert [f.id for f in result.custom_fields] == ["custbody_nswoo_woo_order_id"]


async def test_probe_runs_one_limited_item_query() -> None:
    """probe sends SELECT id FROM item with limit 1 and reports the account."""
    async with respx.mock() as mock, httpx.AsyncClient() as http:
        route = mock.post(SUITEQL).mock(return_value=page([{"id": "42"}], has_more=True))
        result = await probe(make_client(http))
    assert (result.account_id, result.sample_item_id) == ("1234567_SB1", "42")
    assert route.call_count == 1
    assert route.calls.last.request.url.params["limit"] == "1"


async def test_token_expiry_mid_run_refreshes_once_per_expiry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A token that dies after 2 s although it claimed 3600 is refreshed once per expiry."""
    caplog.set_level(logging.DEBUG)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings = NetSuiteSettings(
        environment="sandbox",
        account_id="1234567_SB1",
        base_url=BASE,
        auth=M2MCredentials(
            client_id="cid", certificate_id="kid", private_key=Secret(pem), algorithm="ES256"
        ),
    )
    clock = FakeClock()
    minted: dict[str, float] = {}
    assertions: list[str] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        assertions.append(dict(httpx.QueryParams(request.content.decode()))["client_assertion"])
        token = f"tok-{len(minted) + 1}"
        minted[token] = clock.now()
        return httpx.Response(
            200, json={"access_token": token, "expires_in": 3600, "token_type": "bearer"}
        )

    def api(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        if token not in minted or clock.now() - minted[token] >= 2:
            return httpx.Response(
                401,
                json={
                    "status": 401,
                    "o:errorDetails": [
                        {"detail": "Invalid login attempt.", "o:errorCode": "INVALID_LOGIN"}
                    ],
                },
            )
        return httpx.Response(200, json={"id": "1"})

    async with respx.mock() as mock, httpx.AsyncClient() as http:
        tokens = mock.post(TOKEN_URL).mock(side_effect=token_endpoint)
        mock.get(f"{RECORDS}/customer/1").mock(side_effect=api)
        client = NetSuiteClient(
            settings,
            http=http,
            limiter=UnlimitedLimiter(),
            auth=netsuite_auth(settings, http=http, clock=clock),
            clock=clock,
        )
        for _ in range(6):  # t = 0, 1.5, 3.0 (expired), 4.5, 6.0 (expired), 7.5
            assert await client.get("customer", 1) == {"id": "1"}
            clock.advance(1.5)
    assert tokens.call_count == 3
    for secret in [*minted, *assertions, pem.splitlines()[1]]:
        assert secret not in caplog.text


async def test_open_netsuite_builds_and_closes_its_http_client() -> None:
    """open_netsuite wires httpx, a LocalLimiter and auth from settings, and closes httpx."""
    async with respx.mock() as mock:
        route = mock.post(SUITEQL).mock(return_value=page([], has_more=False))
        async with open_netsuite(SETTINGS, clock=FakeClock()) as client:
            assert (await probe(client)).sample_item_id is None
            http = client._http
        assert http.is_closed
    assert route.call_count == 1


def test_policy_is_passed_through() -> None:
    """A custom retry policy reaches the pipeline."""
    policy = RetryPolicy(attempts=2)
    client = NetSuiteClient(
        SETTINGS,
        http=httpx.AsyncClient(),
        limiter=UnlimitedLimiter(),
        auth=TbaAuth(TBA, realm="X", clock=FakeClock()),
        policy=policy,
    )
    assert client._pipeline.policy is policy


async def test_numbers_from_netsuite_are_exact_decimals() -> None:
    """Amounts read back from NetSuite arrive as Decimal, never float."""
    from decimal import Decimal

    from nswoo.netsuite._faults import read_json

    response = httpx.Response(200, content=b'{"total": 0.1, "quantity": 3, "rate": 19.99}')
    body = read_json(response, what="salesOrder 1")
    assert body == {"total": Decimal("0.1"), "quantity": 3, "rate": Decimal("19.99")}
    assert isinstance(body["total"], Decimal)
