"""The NetSuite simulator answers plain httpx requests the way reference/netsuite.md says."""

# SuiteQL text here is built from test constants, and the injection test builds it on purpose.
# ruff: noqa: S608

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any

import anyio
import httpx
import jwt
import pytest
import uvicorn
from oauthlib.oauth1 import Client as OAuth1Client

from nswoo.testing._clock import FakeClock
from nswoo.testing._faults import ErrorBurst, FaultPlan, SchemaChange, SlowCommit
from nswoo.testing._keys import generate_m2m_key_pair
from nswoo.testing.netsuite._sim import NetSuiteSimulator

pytestmark = pytest.mark.anyio

SO = "/services/rest/record/v1/salesOrder"
SUITEQL = "/services/rest/query/v1/suiteql"
TOKEN = "/services/rest/auth/oauth2/v1/token"
TRANSIENT = {"Prefer": "transient"}
WOO_FIELD = "custbody_nswoo_woo_order_id"

INVALID_LOGIN = {
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the"
            " NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}
CONCURRENCY_BODY = {
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    "title": "Bad Request",
    "status": 429,
    "o:errorCode": "USER_ERROR",
    "o:errorDetails": [
        {
            "detail": "Concurrent request limit exceeded. Request blocked.",
            "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
        }
    ],
}


def seeded(sim: NetSuiteSimulator) -> dict[str, int]:
    """Two locations, two items, one customer."""
    main = sim.add_location("Main")
    overflow = sim.add_location("Overflow")
    widget = sim.add_item("WIDGET", cost="4.00", locations={main: 10, overflow: 5})
    gadget = sim.add_item("GADGET", cost="9.50", average_cost="9.00", locations={main: 3})
    customer = sim.add_customer(company_name="Web Store Customers", email="shop@example.com")
    return {
        "main": main,
        "overflow": overflow,
        "widget": widget,
        "gadget": gadget,
        "customer": customer,
    }


def order_body(ids: dict[str, int], woo_id: str = "40001", **extra: Any) -> dict[str, Any]:
    """A sales order body in Oracle's example shape (reference §3)."""
    return {
        "entity": {"id": ids["customer"]},
        "externalId": f"woo-main-{woo_id}",
        WOO_FIELD: woo_id,
        "item": {"items": [{"item": {"id": ids["widget"]}, "quantity": 2, "rate": 12.5}]},
        "shippingCost": 4.95,
        **extra,
    }


@asynccontextmanager
async def client_for(
    sim: NetSuiteSimulator, *, token: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the simulator's in-process transport, with a bearer token."""
    headers = {"Authorization": f"Bearer {token or sim.mint_token()}"}
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_url, headers=headers
    ) as client:
        yield client


@pytest.fixture
def sim() -> NetSuiteSimulator:
    """A fault-free simulator."""
    return NetSuiteSimulator("1234567_SB1")


# -- records ---------------------------------------------------------------------------------


async def test_create_answers_204_with_absolute_location(sim: NetSuiteSimulator) -> None:
    """POST salesOrder answers 204, an empty body and the record's absolute Location."""
    ids = seeded(sim)
    async with client_for(sim) as client:
        response = await client.post(SO, json=order_body(ids))
        assert response.status_code == 204
        assert response.content == b""
        location = response.headers["location"]
        assert location.startswith(f"{sim.base_url}{SO}/")
        order_id = location.rsplit("/", 1)[1]
        by_id = await client.get(f"{SO}/{order_id}", params={"expandSubResources": "true"})
        by_eid = await client.get(f"{SO}/eid:WOO-MAIN-40001")
    assert by_id.status_code == 200
    order = by_id.json()
    assert order["id"] == order_id
    assert order["status"]["id"] == "B"
    assert order["total"] == 29.95  # 2 x 12.50 + 4.95 shipping
    assert order["item"]["items"][0]["amount"] == 25
    assert by_eid.json()["id"] == order_id
    assert "items" not in by_eid.json()["item"]  # sublists are links unless expanded


async def test_handle_is_the_fault_free_core() -> None:
    """handle() answers a request directly, with no faults and no request counting."""
    sim = NetSuiteSimulator(faults=FaultPlan(rate_limit_probability=1.0))
    request = httpx.Request(
        "GET", f"{sim.base_url}{SO}/eid:x", headers={"Authorization": f"Bearer {sim.mint_token()}"}
    )
    response = await sim.handle(request)
    assert response.status_code == 404
    assert sim.stats.requests == ()


async def test_unknown_id_is_404(sim: NetSuiteSimulator) -> None:
    """GET of an unknown id or eid answers 404 with the configured error code."""
    async with client_for(sim) as client:
        by_id = await client.get(f"{SO}/999999")
        by_eid = await client.get(f"{SO}/eid:nope")
    assert by_id.status_code == by_eid.status_code == 404
    assert by_id.json()["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"


async def test_invalid_reference_gets_invalid_content_with_error_path(
    sim: NetSuiteSimulator,
) -> None:
    """An unknown item id gets Oracle's literal INVALID_CONTENT body with o:errorPath."""
    ids = seeded(sim)
    body = order_body(ids)
    body["item"]["items"][0]["item"] = {"id": 9999}
    async with client_for(sim) as client:
        response = await client.post(SO, json=body)
        bad_entity = await client.post(SO, json=order_body(ids, entity={"id": 424242}))
    assert response.status_code == 400
    assert response.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "Error while accessing resource: You have entered an Invalid Field"
                " Value 9999 for the following field: item",
                "o:errorCode": "INVALID_CONTENT",
                "o:errorPath": "item.items[0].item",
            }
        ],
    }
    assert bad_entity.json()["o:errorDetails"][0]["o:errorPath"] == "entity"
    assert sim.stats.created["salesOrder"] == 0


async def test_duplicate_external_id_is_refused_case_insensitively(sim: NetSuiteSimulator) -> None:
    """A second POST with the same externalId in another case gets the duplicate body."""
    ids = seeded(sim)
    async with client_for(sim) as client:
        first = await client.post(SO, json=order_body(ids))
        second = await client.post(SO, json=order_body(ids, externalId="WOO-MAIN-40001"))
    assert first.status_code == 204
    assert second.status_code == 400
    assert second.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "Error while accessing a resource. This entity already exists.",
                "o:errorCode": "USER_ERROR",
            }
        ],
    }
    assert sim.sales_orders_by_woo_id() == {"40001": [int(first.headers["location"][-4:])]}


async def test_unknown_field_is_nonexistent_field_unless_validation_is_relaxed(
    sim: NetSuiteSimulator,
) -> None:
    """Unknown fields get NONEXISTENT_FIELD; PropertyNameValidation: Warning ignores them."""
    ids = seeded(sim)
    async with client_for(sim) as client:
        refused = await client.post(SO, json=order_body(ids, custbody_typo="x"))
        relaxed = await client.post(
            SO,
            json=order_body(ids, custbody_typo="x"),
            headers={"X-NetSuite-PropertyNameValidation": "Warning"},
        )
    detail = refused.json()["o:errorDetails"][0]
    assert refused.status_code == 400
    assert detail["o:errorCode"] == "NONEXISTENT_FIELD"
    assert detail["o:errorPath"] == "custbody_typo"
    assert "custbody_typo" in detail["detail"]
    assert relaxed.status_code == 204


async def test_mandatory_custom_field_missing_names_its_label(sim: NetSuiteSimulator) -> None:
    """After make_mandatory, a create without the field gets "You must enter a value for …"."""
    ids = seeded(sim)
    sim.make_mandatory("salesOrder", WOO_FIELD)
    body = order_body(ids)
    del body[WOO_FIELD]
    async with client_for(sim) as client:
        response = await client.post(SO, json=body)
        schema = await client.get(
            "/services/rest/record/v1/metadata-catalog/salesOrder",
            headers={"Accept": "application/schema+json"},
        )
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0] == {
        "detail": "Error while accessing a resource."
        " You must enter a value for WooCommerce Order ID.",
        "o:errorCode": "USER_ERROR",
    }
    document = schema.json()
    assert schema.headers["content-type"] == "application/schema+json"
    assert document["type"] == "object"
    assert document["properties"][WOO_FIELD]["title"] == "WooCommerce Order ID"
    assert document["properties"][WOO_FIELD]["type"] == "string"
    assert WOO_FIELD in document["required"]


async def test_patch_merges_and_replace_item_replaces_lines(sim: NetSuiteSimulator) -> None:
    """PATCH merges fields and appends lines; ?replace=item replaces them and moves commitments."""
    ids = seeded(sim)
    async with client_for(sim) as client:
        created = await client.post(SO, json=order_body(ids))
        url = created.headers["location"]
        gadget_line = {"item": {"id": ids["gadget"]}, "quantity": 1, "rate": 20}
        appended = await client.patch(url, json={"memo": "gift", "item": {"items": [gadget_line]}})
        after_append = (await client.get(url, params={"expandSubResources": "true"})).json()
        replaced = await client.patch(
            url, params={"replace": "item"}, json={"item": {"items": [gadget_line]}}
        )
        after_replace = (await client.get(url, params={"expandSubResources": "true"})).json()
    assert appended.status_code == replaced.status_code == 204
    assert appended.headers["location"] == url
    assert after_append["memo"] == "gift"
    assert len(after_append["item"]["items"]) == 2
    assert [line["item"]["id"] for line in after_replace["item"]["items"]] == [str(ids["gadget"])]
    assert sim.balance(ids["widget"], ids["main"]) == (Decimal(10), Decimal(0))
    assert sim.balance(ids["gadget"], ids["main"]) == (Decimal(3), Decimal(1))


async def test_put_eid_upserts_one_record(sim: NetSuiteSimulator) -> None:
    """PUT on eid: creates the record when absent and updates the same one when present."""
    ids = seeded(sim)
    body = order_body(ids)
    del body["externalId"]
    async with client_for(sim) as client:
        first = await client.put(f"{SO}/eid:woo-main-40001", json=body)
        second = await client.put(f"{SO}/eid:woo-main-40001", json={"memo": "again"})
        fetched = await client.get(f"{SO}/eid:woo-main-40001")
    assert first.status_code == second.status_code == 204
    assert first.headers["location"] == second.headers["location"]
    assert fetched.json()["memo"] == "again"
    assert sim.stats.created["salesOrder"] == 1


async def test_sales_order_commits_and_close_releases(sim: NetSuiteSimulator) -> None:
    """A sales order raises committed at its location; closing it releases the stock."""
    ids = seeded(sim)
    async with client_for(sim) as client:
        created = await client.post(SO, json=order_body(ids, location={"id": ids["overflow"]}))
    order_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert sim.balance(ids["widget"], ids["overflow"]) == (Decimal(5), Decimal(2))
    assert sim.balance(ids["widget"], ids["main"]) == (Decimal(10), Decimal(0))
    sim.close_sales_order(order_id)
    assert sim.balance(ids["widget"], ids["overflow"]) == (Decimal(5), Decimal(0))
    assert sim.sales_order(order_id)["status"]["id"] == "H"


# -- auth ------------------------------------------------------------------------------------


async def test_missing_or_bad_token_gets_literal_invalid_login(sim: NetSuiteSimulator) -> None:
    """No token and an unknown token both get Oracle's literal INVALID_LOGIN 401 body."""
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_url) as client:
        anonymous = await client.get(f"{SO}/1")
        unknown = await client.get(f"{SO}/1", headers={"Authorization": "Bearer not-a-token"})
    for response in (anonymous, unknown):
        assert response.status_code == 401
        assert response.json() == INVALID_LOGIN


@pytest.fixture(scope="module")
def ps256_keys() -> tuple[str, str]:
    """An RSA 3072 key pair (slow to make, so made once)."""
    return generate_m2m_key_pair("PS256")


@pytest.fixture(scope="module")
def es256_keys() -> tuple[str, str]:
    """An EC P-256 key pair."""
    return generate_m2m_key_pair("ES256")


def make_assertion(
    private_pem: str,
    *,
    algorithm: str,
    kid: str,
    aud: str,
    now: float,
    issuer: str = "client-1",
    lifetime: int = 300,
    scope: str = "rest_webservices",
) -> str:
    """A client-credentials JWT built with PyJWT as reference §1c describes."""
    claims = {
        "iss": issuer,
        "scope": scope,
        "aud": aud,
        "iat": int(now),
        "exp": int(now) + lifetime,
    }
    return jwt.encode(claims, private_pem, algorithm=algorithm, headers={"kid": kid, "typ": "JWT"})


async def request_token(client: httpx.AsyncClient, assertion: str) -> httpx.Response:
    """POST a client-credentials grant."""
    return await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


@pytest.mark.parametrize("algorithm", ["PS256", "ES256"])
async def test_m2m_assertion_gets_a_token_that_works(
    algorithm: str, ps256_keys: tuple[str, str], es256_keys: tuple[str, str]
) -> None:
    """A PS256 or ES256 assertion gets a bearer token the record service accepts."""
    private_pem, public_pem = ps256_keys if algorithm == "PS256" else es256_keys
    clock = FakeClock()
    sim = NetSuiteSimulator(clock=clock)
    sim.register_m2m_client("client-1", "cert-1", public_pem)
    assertion = make_assertion(
        private_pem, algorithm=algorithm, kid="cert-1", aud=sim.token_url, now=clock.time()
    )
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_url) as client:
        response = await request_token(client, assertion)
        body = response.json()
        used = await client.get(
            f"{SO}/eid:none", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
    assert response.status_code == 200
    assert body["expires_in"] == 3600
    assert body["token_type"] == "bearer"
    assert used.status_code == 404  # authenticated; the record just does not exist
    assert sim.stats.tokens_minted == 1


@pytest.mark.parametrize("fault", ["kid", "aud", "RS256", "lifetime", "issuer", "scope"])
async def test_bad_assertions_get_invalid_login(fault: str, ps256_keys: tuple[str, str]) -> None:
    """A wrong kid, audience, algorithm, lifetime, issuer or scope gets 401 INVALID_LOGIN."""
    private_pem, public_pem = ps256_keys
    clock = FakeClock()
    sim = NetSuiteSimulator(clock=clock)
    sim.register_m2m_client("client-1", "cert-1", public_pem)
    kwargs: dict[str, Any] = {
        "algorithm": "PS256",
        "kid": "cert-1",
        "aud": sim.token_url,
        "now": clock.time(),
    }
    if fault == "kid":
        kwargs["kid"] = "cert-2"
    elif fault == "aud":
        kwargs["aud"] = "https://7654321.suitetalk.api.netsuite.com" + TOKEN
    elif fault == "RS256":
        kwargs["algorithm"] = "RS256"
    elif fault == "lifetime":
        kwargs["lifetime"] = 3601
    elif fault == "issuer":
        kwargs["issuer"] = "client-2"
    else:
        kwargs["scope"] = "restlets"
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_url) as client:
        response = await request_token(client, make_assertion(private_pem, **kwargs))
    assert response.status_code == 401
    assert response.json() == INVALID_LOGIN
    assert sim.stats.tokens_minted == 0
    assert len(sim.audit_trail) == 1


async def test_token_dies_after_fault_plan_lifetime(es256_keys: tuple[str, str]) -> None:
    """With token_lifetime=60 the token says 3600 s but gets INVALID_LOGIN after 60 s."""
    private_pem, public_pem = es256_keys
    clock = FakeClock()
    sim = NetSuiteSimulator(clock=clock, faults=FaultPlan(token_lifetime=60))
    sim.register_m2m_client("client-1", "cert-1", public_pem)
    assertion = make_assertion(
        private_pem, algorithm="ES256", kid="cert-1", aud=sim.token_url, now=clock.time()
    )
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_url) as client:
        token = (await request_token(client, assertion)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        fresh = await client.get(f"{SO}/eid:x", headers=headers)
        clock.advance(61)
        stale = await client.get(f"{SO}/eid:x", headers=headers)
    assert token["expires_in"] == 3600
    assert fresh.status_code == 404
    assert stale.status_code == 401
    assert stale.json() == INVALID_LOGIN


async def test_refresh_token_grant_rotates_and_refuses_unknown_tokens() -> None:
    """The refresh grant answers a token; a rotated-away refresh token gets invalid_grant."""
    sim = NetSuiteSimulator()
    sim.register_oauth2_client("app", "shh", "refresh-1", rotate=True)
    auth = ("app", "shh")
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_url) as client:
        first = await client.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": "refresh-1"}, auth=auth
        )
        reused = await client.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": "refresh-1"}, auth=auth
        )
        wrong_secret = await client.post(
            TOKEN,
            data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
            auth=("app", "nope"),
        )
    assert first.status_code == 200
    assert first.json()["expires_in"] == 3600
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant"}
    assert wrong_secret.status_code == 401


def tba_signed(sim: NetSuiteSimulator, url: str, *, realm: str | None = None) -> dict[str, str]:
    """Headers for a TBA request signed by oauthlib's own Client."""
    signer = OAuth1Client(
        "consumer",
        client_secret="consumer-secret",
        resource_owner_key="token",
        resource_owner_secret="token-secret",
        signature_method="HMAC-SHA256",
        realm=realm or sim.realm,
    )
    _, headers, _ = signer.sign(
        url, http_method="POST", headers={"Content-Type": "application/json"}
    )
    return dict(headers)


async def test_tba_signed_request_accepted_and_tampered_or_replayed_refused() -> None:
    """An oauthlib-signed TBA request passes; changed query, replayed nonce or prod realm fail."""
    sim = NetSuiteSimulator("1234567_SB1")
    sim.register_tba("consumer", "consumer-secret", "token", "token-secret")
    url = f"{sim.base_url}{SUITEQL}?limit=5&offset=0"
    query = {"q": "SELECT id FROM item"}
    headers = {**tba_signed(sim, url), **TRANSIENT}
    async with httpx.AsyncClient(transport=sim.transport()) as client:
        accepted = await client.post(url, json=query, headers=headers)
        replayed = await client.post(url, json=query, headers=headers)
        fresh = {**tba_signed(sim, url), **TRANSIENT}
        tampered = await client.post(url.replace("limit=5", "limit=6"), json=query, headers=fresh)
        prod = {**tba_signed(sim, url, realm="1234567"), **TRANSIENT}
        wrong_realm = await client.post(url, json=query, headers=prod)
    assert accepted.status_code == 200
    for refused in (replayed, tampered, wrong_realm):
        assert refused.status_code == 401
        assert refused.json() == INVALID_LOGIN
        assert 'error="token_rejected"' in refused.headers["www-authenticate"]


# -- SuiteQL ---------------------------------------------------------------------------------


async def test_suiteql_pages_with_netsuite_shapes(sim: NetSuiteSimulator) -> None:
    """Pages carry hasMore/offset/count/totalResults; rows have lower-case keys, 'T'/'F', links."""
    main = sim.add_location("Main")
    for number in range(5):
        sim.add_item(f"SKU-{number}", cost="1.00", locations={main: number}, inactive=number == 4)
    query = {"q": "SELECT ID, ItemId, IsInactive FROM item ORDER BY id"}
    async with client_for(sim) as client:
        first = await client.post(SUITEQL, params={"limit": 2}, json=query, headers=TRANSIENT)
        last = await client.post(
            SUITEQL, params={"limit": 2, "offset": 4}, json=query, headers=TRANSIENT
        )
    page = first.json()
    assert list(page) == ["links", "count", "hasMore", "items", "offset", "totalResults"]
    assert (page["count"], page["hasMore"], page["offset"], page["totalResults"]) == (2, True, 0, 5)
    assert page["items"][0] == {"links": [], "id": 100, "itemid": "SKU-0", "isinactive": "F"}
    end = last.json()
    assert (end["count"], end["hasMore"], end["offset"]) == (1, False, 4)
    assert end["items"][0]["isinactive"] == "T"


async def test_suiteql_sees_commitments_in_aggregate_item_location(sim: NetSuiteSimulator) -> None:
    """After an order, aggregateItemLocation shows committed and available = on hand - committed."""
    ids = seeded(sim)
    query = {
        "q": "SELECT item, location, quantityonhand, quantitycommitted, quantityavailable"
        f" FROM aggregateItemLocation WHERE item = {ids['widget']} ORDER BY location"
    }
    async with client_for(sim) as client:
        await client.post(SO, json=order_body(ids))
        rows = (await client.post(SUITEQL, json=query, headers=TRANSIENT)).json()["items"]
        orders = await client.post(
            SUITEQL,
            json={
                "q": f"SELECT t.id, t.status, t.{WOO_FIELD} FROM transaction t"
                " WHERE t.type = 'SalesOrd'"
            },
            headers=TRANSIENT,
        )
    assert [
        (r["quantityonhand"], r["quantitycommitted"], r["quantityavailable"]) for r in rows
    ] == [
        (10, 2, 8),
        (5, 0, 5),
    ]
    assert orders.json()["items"][0]["status"] == "B"
    assert orders.json()["items"][0][WOO_FIELD] == "40001"


async def test_quoted_injection_literal_matches_nothing_and_is_logged(
    sim: NetSuiteSimulator,
) -> None:
    """A properly quoted "' OR '1'='1 --" literal returns no rows and reaches the log verbatim."""
    seeded(sim)
    hostile = "' OR '1'='1 --"
    literal = "'" + hostile.replace("'", "''") + "'"
    query = f"SELECT id FROM item WHERE itemid = {literal}"
    async with client_for(sim) as client:
        response = await client.post(SUITEQL, json={"q": query}, headers=TRANSIENT)
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["totalResults"] == 0
    assert sim.query_log == [query]
    assert literal in sim.query_log[0]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM item",
        "UPDATE item SET cost = 0",
        "SELECT 1; DELETE FROM item",
        "WITH x AS (SELECT 1) DELETE FROM item",
        "DROP TABLE item",
        "/* SELECT */ INSERT INTO location (id, name) VALUES (99, 'x')",
    ],
)
async def test_suiteql_refuses_anything_but_select(sim: NetSuiteSimulator, query: str) -> None:
    """Writes and multi-statements get the INVALID_PARAMETER body and change nothing."""
    ids = seeded(sim)
    async with client_for(sim) as client:
        refused = await client.post(SUITEQL, json={"q": query}, headers=TRANSIENT)
        count = await client.post(SUITEQL, json={"q": "SELECT id FROM item"}, headers=TRANSIENT)
    assert refused.status_code == 400
    assert refused.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
    assert count.json()["totalResults"] == 2
    assert sim.balance(ids["widget"], ids["main"])[0] == Decimal(10)


async def test_suiteql_parameter_errors(sim: NetSuiteSimulator) -> None:
    """No Prefer: transient, limit over 1000 and offset+limit past 100,000 each get a 400."""
    query = {"q": "SELECT id FROM item"}
    async with client_for(sim) as client:
        no_prefer = await client.post(SUITEQL, json=query)
        big_limit = await client.post(
            SUITEQL, params={"limit": 1001}, json=query, headers=TRANSIENT
        )
        past_cap = await client.post(
            SUITEQL, params={"limit": 1000, "offset": 99_001}, json=query, headers=TRANSIENT
        )
        at_cap = await client.post(
            SUITEQL, params={"limit": 1000, "offset": 99_000}, json=query, headers=TRANSIENT
        )
    assert no_prefer.status_code == big_limit.status_code == past_cap.status_code == 400
    assert big_limit.json()["o:errorDetails"][0]["o:errorQueryParam"] == "limit"
    assert past_cap.json()["o:errorDetails"][0]["o:errorQueryParam"] == "offset"
    assert at_cap.status_code == 200


async def test_renamed_field_breaks_old_queries_and_writes(sim: NetSuiteSimulator) -> None:
    """After rename_field, SuiteQL on the old column gets NetSuite's error body; the new works."""
    ids = seeded(sim)
    sim.rename_field("salesOrder", WOO_FIELD, "custbody_woo_order")
    async with client_for(sim) as client:
        old = await client.post(
            SUITEQL,
            json={"q": f"SELECT id FROM transaction WHERE {WOO_FIELD} = '1'"},
            headers=TRANSIENT,
        )
        new = await client.post(
            SUITEQL,
            json={"q": "SELECT id FROM transaction WHERE custbody_woo_order = '1'"},
            headers=TRANSIENT,
        )
        write = await client.post(SO, json=order_body(ids))
    assert old.status_code == 400
    assert old.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "Invalid search query. Provide a valid search query.",
                "o:errorCode": "INVALID_PARAMETER",
                "o:errorQueryParam": "q",
            }
        ],
    }
    assert new.status_code == 200
    assert write.json()["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_FIELD"


async def test_fault_plan_schema_change_applies_at_its_request_index() -> None:
    """A SchemaChange at request 2 leaves requests 0-1 working and breaks request 2 on."""
    change = SchemaChange(at_request=2, kind="remove", field=WOO_FIELD)
    sim = NetSuiteSimulator(faults=FaultPlan(schema_changes=(change,)))
    query = {"q": f"SELECT {WOO_FIELD} FROM transaction"}
    async with client_for(sim) as client:
        statuses = [
            (await client.post(SUITEQL, json=query, headers=TRANSIENT)).status_code
            for _ in range(4)
        ]
    assert statuses == [200, 200, 400, 400]
    assert WOO_FIELD not in sim.custom_fields("salesOrder")


# -- governance and faults -------------------------------------------------------------------


async def test_concurrency_over_the_limit_gets_429() -> None:
    """Ten requests at once against a limit of 5: 10 in flight, five 429s carrying the 429 body."""
    sim = NetSuiteSimulator(concurrency_limit=5, faults=FaultPlan(latency=0.05))
    responses: list[httpx.Response] = []
    async with client_for(sim) as client:

        async def one() -> None:
            responses.append(await client.get(f"{SO}/eid:none"))

        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(one)
    limited = [r for r in responses if r.status_code == 429]
    assert sim.stats.max_in_flight == 10
    assert len(limited) == 5
    assert sim.stats.rate_limited == 5
    assert limited[0].json() == CONCURRENCY_BODY
    assert "retry-after" not in limited[0].headers
    assert sim.stats.by_status == {404: 5, 429: 5}


async def test_retry_after_is_sent_only_when_configured() -> None:
    """With retry_after=2 and every request rate limited, 429s carry Retry-After: 2."""
    sim = NetSuiteSimulator(faults=FaultPlan(rate_limit_probability=1.0, retry_after=2))
    async with client_for(sim) as client:
        response = await client.get(f"{SO}/1")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


async def test_error_burst_hits_exact_request_indexes() -> None:
    """A burst of two 503s at index 2 answers exactly requests 2 and 3 with 503."""
    sim = NetSuiteSimulator(faults=FaultPlan(error_bursts=(ErrorBurst(start=2, count=2),)))
    async with client_for(sim) as client:
        statuses = [(await client.get(f"{SO}/eid:x")).status_code for _ in range(6)]
    assert statuses == [404, 404, 503, 503, 404, 404]
    assert [r.index for r in sim.stats.requests if r.status == 503] == [2, 3]


async def _outcomes(seed: int) -> list[str]:
    sim = NetSuiteSimulator(
        faults=FaultPlan(seed=seed, reset_probability=0.2, rate_limit_probability=0.2)
    )
    out = []
    async with client_for(sim) as client:
        for _ in range(40):
            try:
                out.append(str((await client.get(f"{SO}/eid:x")).status_code))
            except httpx.TransportError as exc:
                out.append(type(exc).__name__)
    return out


async def test_same_seed_same_fault_sequence() -> None:
    """Two simulators with the same seed produce the same resets and 429s; another seed differs."""
    first, again, other = await _outcomes(5), await _outcomes(5), await _outcomes(6)
    assert first == again
    assert first != other
    assert "429" in first
    assert {"RemoteProtocolError", "ReadError"} & set(first)


async def test_reset_happens_before_any_effect() -> None:
    """A reset raises a transport error and the order is not created."""
    resetting = NetSuiteSimulator(faults=FaultPlan(reset_probability=1.0))
    ids = seeded(resetting)
    async with client_for(resetting) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await client.post(SO, json=order_body(ids))
    assert resetting.stats.created["salesOrder"] == 0
    assert resetting.stats.requests[0].outcome == "reset"


async def test_slow_commit_creates_the_order_the_client_never_saw() -> None:
    """A slow commit raises ReadTimeout in-process, yet eid: finds the order and it counts once."""
    sim = NetSuiteSimulator(faults=FaultPlan(slow_commits=SlowCommit(every=1)))
    ids = seeded(sim)
    async with client_for(sim) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(SO, json=order_body(ids, woo_id="40077"))
        found = await client.get(f"{SO}/eid:woo-main-40077")
    assert found.status_code == 200
    assert len(sim.sales_orders_by_woo_id()["40077"]) == 1
    assert sim.stats.requests[0].outcome == "timeout"
    assert sim.stats.requests[0].status == 204


# -- server mode -----------------------------------------------------------------------------


@contextmanager
def served(sim: NetSuiteSimulator) -> Iterator[str]:
    """Serve the simulator with uvicorn on 127.0.0.1 in a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(sim.asgi_app(), log_level="critical", lifespan="on", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@pytest.mark.slow
def test_served_over_loopback_answers_real_http() -> None:
    """Served by uvicorn, the simulator creates an order over a real socket (absolute Location)."""
    sim = NetSuiteSimulator()
    ids = seeded(sim)
    headers = {"Authorization": f"Bearer {sim.mint_token()}"}
    with served(sim) as base, httpx.Client(base_url=base, headers=headers) as client:
        created = client.post(SO, json=order_body(ids))
        unauthenticated = client.get(f"{SO}/1", headers={"Authorization": ""})
    assert created.status_code == 204
    assert created.headers["location"].startswith(f"{base}{SO}/")
    assert unauthenticated.json() == INVALID_LOGIN
    assert sim.stats.created["salesOrder"] == 1


@pytest.mark.slow
def test_served_reset_drops_the_connection() -> None:
    """A served reset closes the connection without a complete answer."""
    sim = NetSuiteSimulator(faults=FaultPlan(reset_probability=1.0))
    with (
        served(sim) as base,
        httpx.Client(base_url=base) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.get(f"{SO}/1")


# -- currency precision ----------------------------------------------------------------------


async def test_amounts_are_stored_at_the_currency_precision(sim: NetSuiteSimulator) -> None:
    """A 2-decimal account books 3.765 as 3.77 (half up) and sums the rounded amounts."""
    ids = seeded(sim)
    body = order_body(ids, shippingCost="0.755")
    body["item"]["items"] = [
        {"item": {"id": ids["widget"]}, "quantity": 3, "amount": "3.765"},
        {"item": {"id": ids["gadget"]}, "quantity": 3, "rate": "1.255"},
    ]
    async with client_for(sim) as client:
        response = await client.post(SO, json=body)
        order_id = response.headers["location"].rsplit("/", 1)[1]
        order = (await client.get(f"{SO}/{order_id}", params={"expandSubResources": "true"})).json()
    assert [line["amount"] for line in order["item"]["items"]] == [3.77, 3.77]
    assert order["shippingCost"] == 0.76
    assert order["total"] == 8.30


async def test_a_zero_precision_account_books_whole_units() -> None:
    """A yen account (precision 0) rounds every amount to a whole unit."""
    sim = NetSuiteSimulator("1234567_SB1", currency_precision=0)
    ids = seeded(sim)
    body = order_body(ids, shippingCost=500)
    body["item"]["items"] = [{"item": {"id": ids["widget"]}, "quantity": 1, "amount": "1200.5"}]
    async with client_for(sim) as client:
        response = await client.post(SO, json=body)
        order_id = response.headers["location"].rsplit("/", 1)[1]
        order = (await client.get(f"{SO}/{order_id}")).json()
    assert order["total"] == 1701


def test_only_the_precisions_netsuite_supports_are_accepted() -> None:
    """NetSuite currencies have 0 or 2 decimal places; 3 is refused, naming Oracle's rule."""
    with pytest.raises(ValueError, match="0 or 2 decimal places"):
        NetSuiteSimulator("1234567_SB1", currency_precision=3)


async def test_a_huge_custom_integer_is_invalid_content_not_an_overflow() -> None:
    """An integer custom field value beyond 64 bits is refused before anything is stored."""
    sim = NetSuiteSimulator("1234567_SB1")
    sim.define_custom_field("salesOrder", "custbody_count", "Count", "integer")
    ids = seeded(sim)
    async with client_for(sim) as client:
        response = await client.post(SO, json=order_body(ids, custbody_count=2**70))
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "custbody_count"
    assert sim.stats.created["salesOrder"] == 0
