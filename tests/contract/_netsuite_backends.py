"""Two NetSuite backends behind one arrange API: the simulator, and respx with literal bodies.

A contract test asks for `ns_backend` (parametrized over both), arranges state through its
`arrange` methods, runs the real `NetSuiteClient` against it, and asserts outcomes that must
be the same on both. The respx side answers only with bodies taken from
`reference/netsuite.md` (the §1d 401, the §4 invalid item, the §3 duplicate, the §7
missing mandatory field, the §5 community 429, the §6 SuiteQL page) plus the minimum of
state needed to make a create visible to a later GET.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import unquote

import attrs
import httpx
import respx

from nswoo._settings import M2MCredentials, NetSuiteSettings, Secret
from nswoo.limits._local import LocalLimiter
from nswoo.netsuite import NetSuiteClient, open_netsuite
from nswoo.testing import FakeClock, FaultPlan, NetSuiteSimulator, generate_m2m_key_pair

ACCOUNT = "1234567_SB1"
BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
RECORDS = "/services/rest/record/v1"
CLIENT_ID = "contract-client"
CERTIFICATE_ID = "contract-cert"
PRIVATE_PEM, PUBLIC_PEM = generate_m2m_key_pair("ES256")

# reference §1d: Oracle's literal 401.
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
# reference §5: the community 429 body (title really says Bad Request).
CONCURRENCY_EXCEEDED = {
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


def invalid_item(value: object, index: int) -> dict[str, Any]:
    """reference §4: Oracle's invalid line item body (literal for value 9999 at line 0)."""
    return {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "Error while accessing resource: You have entered an Invalid Field"
                f" Value {value} for the following field: item",
                "o:errorCode": "INVALID_CONTENT",
                "o:errorPath": f"item.items[{index}].item",
            }
        ],
    }


def user_error(detail: str) -> dict[str, Any]:
    """A 400 USER_ERROR in the §4 shape with a community-observed detail (§3, §7)."""
    return {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": 400,
        "o:errorDetails": [{"detail": detail, "o:errorCode": "USER_ERROR"}],
    }


# reference §4: no REST 404 code is confirmed; the shape is the documented one.
NOT_FOUND = {
    "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
    "title": "Not Found",
    "status": 404,
    "o:errorDetails": [
        {
            "detail": "The record instance does not exist. Provide a valid record instance ID.",
            "o:errorCode": "NONEXISTENT_ID",
        }
    ],
}


def settings(client_id: str = CLIENT_ID) -> NetSuiteSettings:
    """M2M settings for the simulated account (the same on both backends)."""
    return NetSuiteSettings(
        environment="sandbox",
        account_id=ACCOUNT,
        auth=M2MCredentials(
            client_id=client_id,
            certificate_id=CERTIFICATE_ID,
            private_key=Secret(PRIVATE_PEM),
            algorithm="ES256",
        ),
        base_url=BASE,
    )


class NsArrange(Protocol):
    """What a contract test may arrange and observe, whatever the backend."""

    def customer(self) -> int:
        """A customer that sales orders can use as `entity`."""

    def item(self, sku: str, *, inactive: bool = False) -> int:
        """An item with stock; returns its internal id."""

    def mandatory_field(self, field_id: str, label: str) -> None:
        """A custom salesOrder body field that has become mandatory."""

    def expire_tokens(self) -> None:
        """Every access token minted so far stops working (the client does not know)."""

    def refuse_tokens(self) -> None:
        """Tokens are still minted, but every API request with one gets 401 INVALID_LOGIN."""

    def rate_limit_next(self) -> None:
        """The next API request (not the token request) gets the §5 429; later ones pass."""

    def tokens_minted(self) -> int:
        """How many access tokens the token endpoint issued."""

    def api_statuses(self) -> list[int]:
        """The status of every non-token request, in order."""


@attrs.define
class NsBackend:
    """A client wired to one backend, the shared clock and limiter, and its arrange API."""

    name: str
    client: NetSuiteClient
    arrange: NsArrange
    clock: FakeClock
    limiter: LocalLimiter


# ---------------------------------------------------------------------------------------------
# Simulator


@attrs.define
class SimNsArrange:
    """Arranges the NetSuite simulator through its seeding API and fault plan."""

    sim: NetSuiteSimulator
    location: int
    _customer: int | None = None

    def customer(self) -> int:
        if self._customer is None:
            self._customer = self.sim.add_customer(company_name="Web Store Customers")
        return self._customer

    def item(self, sku: str, *, inactive: bool = False) -> int:
        return self.sim.add_item(sku, cost="4.00", locations={self.location: 50}, inactive=inactive)

    def mandatory_field(self, field_id: str, label: str) -> None:
        self.sim.define_custom_field("salesOrder", field_id, label, "text", mandatory=True)

    def expire_tokens(self) -> None:
        self.sim.revoke_access_tokens()

    def refuse_tokens(self) -> None:
        # Tokens are minted as usual but die before any request can use them: every request
        # takes 1 s on the account's clock and a token lives 0.5 s. (Minting a token without
        # the rest_webservices scope is refused at the token endpoint instead.)
        self.sim.injector.plan = FaultPlan(latency=1.0, token_lifetime=0.5)

    def rate_limit_next(self) -> None:
        injector = self.sim.injector
        first = injector.requests + (1 if self.sim.stats.tokens_minted == 0 else 0)
        for seed in range(10_000):
            plan = FaultPlan(seed=seed, rate_limit_probability=0.5)
            rolls = [
                random.Random(f"{seed}:rate_limit:{i}").random() for i in range(first, first + 8)
            ]
            if rolls[0] < 0.5 and all(r >= 0.5 for r in rolls[1:]):
                injector.plan = plan
                return
        raise AssertionError("no seed gives exactly one 429")  # pragma: no cover

    def tokens_minted(self) -> int:
        return self.sim.stats.tokens_minted

    def api_statuses(self) -> list[int]:
        return [r.status for r in self.sim.stats.requests if r.endpoint != "token" and r.status]


def sim_backend(clock: FakeClock) -> tuple[NetSuiteSimulator, SimNsArrange]:
    """A simulator with the contract credentials registered and one location."""
    sim = NetSuiteSimulator(ACCOUNT, clock=clock)
    sim.register_m2m_client(CLIENT_ID, CERTIFICATE_ID, PUBLIC_PEM)
    return sim, SimNsArrange(sim, location=sim.add_location("Main"))


# ---------------------------------------------------------------------------------------------
# respx


@attrs.define
class RespxNsArrange:
    """A respx router answering with the reference's literal bodies and a little state."""

    router: respx.MockRouter
    items: dict[int, bool] = attrs.field(factory=dict)
    skus: dict[int, str] = attrs.field(factory=dict)
    mandatory: dict[str, str] = attrs.field(factory=dict)
    records: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    live_tokens: set[str] = attrs.field(factory=set)
    minted: int = 0
    refusing: bool = False
    pending_429: int = 0
    statuses: list[int] = attrs.field(factory=list)
    _next_id: int = 647

    def customer(self) -> int:
        return 107  # reference §3: Oracle's example entity

    def item(self, sku: str, *, inactive: bool = False) -> int:
        item_id = 9000 + len(self.items)
        self.items[item_id] = inactive
        self.skus[item_id] = sku
        return item_id

    def mandatory_field(self, field_id: str, label: str) -> None:
        self.mandatory[field_id] = label

    def expire_tokens(self) -> None:
        self.live_tokens.clear()

    def refuse_tokens(self) -> None:
        self.refusing = True

    def rate_limit_next(self) -> None:
        self.pending_429 += 1

    def tokens_minted(self) -> int:
        return self.minted

    def api_statuses(self) -> list[int]:
        return list(self.statuses)

    # -- routes ----------------------------------------------------------------------------

    def install(self) -> None:
        """Register the token, record and SuiteQL routes."""
        self.router.post(f"{BASE}/services/rest/auth/oauth2/v1/token").mock(side_effect=self._token)
        self.router.route(url__startswith=f"{BASE}/services/rest/").mock(side_effect=self._api)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.minted += 1
        token = f"tok-{self.minted}"
        self.live_tokens.add(token)
        # reference §1b/§1c: expires_in 3600, token_type bearer.
        return httpx.Response(
            200, json={"access_token": token, "expires_in": 3600, "token_type": "bearer"}
        )

    def _api(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request)
        self.statuses.append(response.status_code)
        return response

    def _answer(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.refusing or token not in self.live_tokens:
            return httpx.Response(401, json=INVALID_LOGIN)
        if self.pending_429:
            self.pending_429 -= 1
            return httpx.Response(429, json=CONCURRENCY_EXCEEDED)
        path = unquote(request.url.path)
        if path == "/services/rest/query/v1/suiteql":
            return self._suiteql(request)
        match = re.fullmatch(rf"{RECORDS}/salesOrder(?:/(?P<key>[^/]+))?", path)
        if match is None:
            return httpx.Response(404, json=NOT_FOUND)
        key = match["key"]
        if key is None and request.method == "POST":
            return self._write(json.loads(request.content), None)
        record_id = self._resolve(key) if key else None
        if request.method == "PUT" and key and key.lower().startswith("eid:"):
            body = {**json.loads(request.content), "externalId": key[4:]}
            return self._write(body, record_id)
        if record_id is None:
            return httpx.Response(404, json=NOT_FOUND)
        return httpx.Response(200, json={"id": str(record_id), **self.records[record_id]})

    def _resolve(self, key: str) -> int | None:
        if key.lower().startswith("eid:"):
            wanted = key[4:].lower()
            return next(
                (
                    rid
                    for rid, rec in self.records.items()
                    if str(rec.get("externalId", "")).lower() == wanted
                ),
                None,
            )
        return int(key) if key.isdigit() and int(key) in self.records else None

    def _write(self, body: dict[str, Any], record_id: int | None) -> httpx.Response:
        for index, line in enumerate(body.get("item", {}).get("items", [])):
            value = line["item"]["id"]
            if value not in self.items or self.items[value]:
                return httpx.Response(400, json=invalid_item(value, index))
        merged = {**self.records.get(record_id or 0, {}), **body}
        for field_id, label in self.mandatory.items():
            if merged.get(field_id) in (None, ""):
                # reference §7 (community): the observed missing-mandatory-field detail.
                return httpx.Response(
                    400,
                    json=user_error(
                        f"Error while accessing a resource. You must enter a value for {label}."
                    ),
                )
        if record_id is None:
            if "externalId" in body and self._resolve(f"eid:{body['externalId']}") is not None:
                # reference §3 (community): the observed duplicate detail.
                return httpx.Response(
                    400,
                    json=user_error(
                        "Error while accessing a resource. This entity already exists."
                    ),
                )
            record_id = self._next_id
            self._next_id += 1
        self.records[record_id] = merged
        # reference §3: 204, empty body, Location of the record.
        return httpx.Response(204, headers={"Location": f"{BASE}{RECORDS}/salesOrder/{record_id}"})

    def _suiteql(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        rows: list[dict[str, Any]] = [
            {
                "links": [],
                "id": str(item_id),
                "itemid": self.skus[item_id],
                "isinactive": "T" if inactive else "F",
            }
            for item_id, inactive in sorted(self.items.items())
        ]
        page = rows[offset : offset + limit]
        # reference §6: the response shape, lower-case keys, 'T'/'F' booleans.
        return httpx.Response(
            200,
            json={
                "links": [{"rel": "self", "href": f"{request.url}"}],
                "count": len(page),
                "hasMore": offset + len(page) < len(rows),
                "items": page,
                "offset": offset,
                "totalResults": len(rows),
            },
        )


async def ns_backend(name: str) -> AsyncIterator[NsBackend]:
    """Yield a client and arrange API for `name` (`simulator` or `respx`)."""
    clock = FakeClock()
    limiter = LocalLimiter(5, clock=clock)
    if name == "simulator":
        sim, sim_arrange = sim_backend(clock)
        async with open_netsuite(
            settings(), limiter=limiter, clock=clock, transport=sim.transport()
        ) as client:
            yield NsBackend(name, client, sim_arrange, clock, limiter)
        return
    with respx.mock(assert_all_called=False) as router:
        respx_arrange = RespxNsArrange(router)
        respx_arrange.install()
        async with open_netsuite(settings(), limiter=limiter, clock=clock) as client:
            yield NsBackend(name, client, respx_arrange, clock, limiter)
