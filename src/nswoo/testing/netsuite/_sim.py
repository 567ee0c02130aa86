"""A stateful NetSuite simulator: REST records, SuiteQL, metadata, auth, governance, faults.

It follows `reference/netsuite.md` field by field where the reference is literal; where the
reference is silent, the choice is commented and, when a client could reasonably depend on
it, configurable. It is a server-side fake: it shares no code with `nswoo.netsuite`.

One `handle()` coroutine answers an `httpx.Request`. Two wrappers add what a network and an
account add (latency, concurrency governance, injected faults): `transport()` for
in-process use with `httpx.AsyncClient(transport=...)`, and `asgi_app()` for serving over a
socket with uvicorn.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote

import attrs
import httpx

from nswoo._clock import Clock, SystemClock
from nswoo._http import AsgiApp

from .._faults import FaultInjector, FaultPlan, SchemaChange
from .._transport import ConnectionReset, DropKind, asgi_app, in_process_transport
from . import _bodies as bodies
from ._auth import AuditEntry, Authority
from ._filters import FilterError, FilterNotSimulated, compile_filter
from ._store import (
    FieldType,
    ItemSeed,
    QueryRefused,
    RecordError,
    Store,
    canonical_record_type,
    rows_as_items,
)

__all__ = ["ItemSeed", "NetSuiteSimStats", "NetSuiteSimulator", "SimRequest"]

_TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path, not a secret
_REST_PREFIX = "/services/rest/"
_RECORD_PREFIX = "/services/rest/record/v1/"
_SUITEQL_PATH = "/services/rest/query/v1/suiteql"
_CATALOG = "metadata-catalog"
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_DEFAULT_WOO_FIELD = "custbody_nswoo_woo_order_id"


@attrs.frozen(kw_only=True)
class SimRequest:
    """One request the simulator received, as its log keeps it.

    `outcome` is `answered`, `reset` (the connection dropped before any effect) or `timeout`
    (a slow commit: the write happened, the client saw no answer). `status` is what was, or
    would have been, answered; None for a reset. Times are the simulator clock's `now()`.
    """

    index: int
    method: str
    path: str
    endpoint: str
    status: int | None
    outcome: Literal["answered", "reset", "timeout"]
    started: float
    finished: float


@attrs.frozen(kw_only=True)
class NetSuiteSimStats:
    """A snapshot of what the simulator saw.

    Attributes:
        requests: every request in arrival order (index, endpoint, status, outcome, times).
        max_in_flight: the most requests the client had open at once, blocked ones included
            (what a client-side limiter must keep at or below the account's limit).
        rate_limited: how many requests got 429.
        saturated_401s: how many requests over the concurrency limit got 401 INVALID_LOGIN
            instead (`FaultPlan.concurrency_invalid_login`).
        tokens_minted: access tokens issued by the token endpoint (and `mint_token`).
        created: records created per type.

    Example:
        >>> sim = NetSuiteSimulator()
        >>> sim.stats.max_in_flight
        0
    """

    requests: tuple[SimRequest, ...]
    max_in_flight: int
    rate_limited: int
    tokens_minted: int
    created: Mapping[str, int]
    saturated_401s: int = 0

    @property
    def by_endpoint(self) -> Counter[str]:
        """Request counts keyed `"<METHOD> <endpoint>"`, e.g. `"POST record:salesOrder"`."""
        return Counter(f"{r.method} {r.endpoint}" for r in self.requests)

    @property
    def by_status(self) -> Counter[int | None]:
        """Request counts per answered status (None: connection reset)."""
        return Counter(r.status for r in self.requests)


@attrs.frozen
class _Outcome:
    response: httpx.Response
    slow: bool = False


def _json_response(
    status: int,
    body: object,
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    merged = {"content-type": content_type, **(headers or {})}
    return httpx.Response(status, headers=merged, content=json.dumps(body).encode("utf-8"))


def _error(error: bodies.ErrorBody, headers: Mapping[str, str] | None = None) -> httpx.Response:
    # NetSuite sends errors as JSON; the vendor media type is not in the reference.
    return _json_response(error[0], error[1], headers=headers)


def _not_simulated(what: str, detail: str = "") -> httpx.Response:
    """The simulator's own 501 (`NSWOO_SIMULATOR_UNSUPPORTED`): never a NetSuite user error."""
    return _error(bodies.not_simulated_feature(what, detail))


def _page_links(
    base: str,
    limit: int,
    offset: int,
    *,
    total: int,
    cap: int,
    extra: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """`first`, `prev`, `next`, `last` and `self` links of one page of a collection.

    Oracle's Collection Paging example (ns-online-help/section_156414087576.html) shows
    `next`, `last` and `self` on a first page; `first` and `prev` appear once there is a page
    before. `last` is the last page a client may ask for: within the query's `total` and the
    100,000-result cap (reference §6).
    """
    query = "".join(f"&{name}={quote(value, safe='')}" for name, value in (extra or {}).items())

    def href(at: int) -> str:
        return f"{base}?limit={limit}&offset={at}{query}"

    reachable = min(total, cap)
    last = max(0, (reachable - 1) // limit * limit)
    links = []
    if offset > 0:
        links.append({"rel": "first", "href": href(0)})
        links.append({"rel": "prev", "href": href(max(0, offset - limit))})
    if offset + limit < reachable:
        links.append({"rel": "next", "href": href(offset + limit)})
        links.append({"rel": "last", "href": href(last)})
    links.append({"rel": "self", "href": href(offset)})
    return links


def _clock_or_system(clock: Clock | None) -> Clock:
    """`clock=None` means the system clock, as the rest of nswoo spells it."""
    return SystemClock() if clock is None else clock


def _endpoint(path: str) -> str:
    if path == _TOKEN_PATH:
        return "token"
    if path == _SUITEQL_PATH:
        return "suiteql"
    if path.startswith(_RECORD_PREFIX):
        segment = path[len(_RECORD_PREFIX) :].split("/", 1)[0]
        if segment == _CATALOG:
            return "metadata"
        return f"record:{canonical_record_type(segment) or segment}"
    return "other"


@attrs.define
class NetSuiteSimulator:
    """A fake NetSuite account for tests, demos and `nswoo sim`.

    Seed it (`add_location`, `add_item`, `add_customer`, `define_custom_field`), register
    credentials (`register_m2m_client`, `register_oauth2_client`, `register_tba`), then
    point an httpx client at `transport()` or serve `asgi_app()`. Observe it through
    `stats`, `query_log`, `audit_trail` and `sales_orders_by_woo_id()`.

    Args:
        account_id: the simulated account, e.g. `1234567_SB1`; the TBA realm must match it.
        faults: what goes wrong, and when (see `FaultPlan`).
        clock: time source for token lifetimes, JWT checks and latency (default: system).
        concurrency_limit: the account's concurrency limit; requests above it get 429
            (reference §5; 5 is the Standard tier and developer-account limit).
        not_found_code: `o:errorCode` of a 404; the reference confirms none (§4).
        require_transient: refuse SuiteQL without `Prefer: transient` (reference §6).
        unknown_fields: `error` (400 NONEXISTENT_FIELD) or `ignore`; a request's
            `X-NetSuite-PropertyNameValidation` header overrides it (reference §7: unconfirmed).
        suiteql_omit_nulls: leave NULL columns out of SuiteQL rows instead of sending null
            (the reference is silent; omitting is what live accounts are commonly seen doing).
        suiteql_numbers_as_strings: send SuiteQL numbers as JSON strings (reference silent).
        suiteql_max_results: the offset+limit cap (reference §6: 100,000).
        tba_timestamp_tolerance: seconds a TBA timestamp may be off the clock (None: no check).
        expires_in_as_string: send the token response's `expires_in` as `"3600"`.
        negative_line_quantities: store sales order line quantities negated in
            `transactionLine`, as some accounts show them (reference silent).
        currency_precision: decimal places of the account's currency, 0 or 2 (Oracle,
            "Currency Decimal Precision": "The only values supported are 0 and 2"). Line
            amounts and `shippingCost` are stored rounded to it (half up), and `total` is
            their sum: an amount with more places (a 3-decimal currency) is booked rounded.
        woo_order_field: the custom body field created in the default catalog.
        offsets_multiple_of_limit: refuse an `offset` that is not a multiple of `limit` on
            SuiteQL and record collections with 400 INVALID_PARAMETER (reference §6: a
            community report; False accepts any offset).

    Example:
        >>> sim = NetSuiteSimulator("1234567_SB1")
        >>> warehouse = sim.add_location("Warehouse")
        >>> sim.add_item("SKU-1", cost="4.00", locations={warehouse: 10})
        100
    """

    account_id: str = "1234567_SB1"
    faults: FaultPlan = attrs.field(factory=FaultPlan, kw_only=True)
    clock: Clock = attrs.field(default=None, kw_only=True, converter=_clock_or_system)
    concurrency_limit: int = attrs.field(default=5, kw_only=True)
    not_found_code: str = attrs.field(default="NONEXISTENT_ID", kw_only=True)
    require_transient: bool = attrs.field(default=True, kw_only=True)
    unknown_fields: Literal["error", "ignore"] = attrs.field(default="error", kw_only=True)
    suiteql_omit_nulls: bool = attrs.field(default=True, kw_only=True)
    suiteql_numbers_as_strings: bool = attrs.field(default=False, kw_only=True)
    suiteql_max_results: int = attrs.field(default=100_000, kw_only=True)
    tba_timestamp_tolerance: float | None = attrs.field(default=300.0, kw_only=True)
    expires_in_as_string: bool = attrs.field(default=False, kw_only=True)
    negative_line_quantities: bool = attrs.field(default=False, kw_only=True)
    currency_precision: int = attrs.field(default=2, kw_only=True)
    woo_order_field: str = attrs.field(default=_DEFAULT_WOO_FIELD, kw_only=True)
    offsets_multiple_of_limit: bool = attrs.field(default=True, kw_only=True)
    query_log: list[str] = attrs.field(init=False, factory=list)
    injector: FaultInjector = attrs.field(init=False)
    _store: Store = attrs.field(init=False)
    _auth: Authority = attrs.field(init=False)
    _log: list[SimRequest] = attrs.field(init=False, factory=list)
    _open: int = attrs.field(init=False, default=0)
    _admitted: int = attrs.field(init=False, default=0)
    _max_in_flight: int = attrs.field(init=False, default=0)
    _rate_limited: int = attrs.field(init=False, default=0)
    _saturated_401s: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        if self.concurrency_limit < 1:
            raise ValueError("concurrency_limit must be at least 1")
        self.injector = FaultInjector(plan=self.faults)
        self._store = Store(
            clock=self.clock,
            negative_line_quantities=self.negative_line_quantities,
            currency_precision=self.currency_precision,
        )
        self._auth = Authority(
            account_id=self.account_id,
            clock=self.clock,
            injector=self.injector,
            tba_timestamp_tolerance=self.tba_timestamp_tolerance,
            expires_in_as_string=self.expires_in_as_string,
        )
        self._store.define_custom_field(
            "salesOrder", self.woo_order_field, "WooCommerce Order ID", "text", mandatory=False
        )

    # -- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The account's conventional REST host URL (reference §2), for in-process clients."""
        host = self.account_id.lower().replace("_", "-")
        return f"https://{host}.suitetalk.api.netsuite.com"

    @property
    def token_url(self) -> str:
        """The token endpoint on `base_url`; a JWT `aud` may also be the URL actually used."""
        return self.base_url + _TOKEN_PATH

    @property
    def realm(self) -> str:
        """The TBA realm the simulator expects: the account id upper-case with underscores."""
        return self._auth.realm

    # -- credentials -------------------------------------------------------------------------

    def register_m2m_client(
        self,
        client_id: str,
        certificate_id: str,
        public_key_pem: str,
        scopes: Iterable[str] = ("rest_webservices",),
    ) -> None:
        """Map a certificate to an integration for OAuth 2.0 client credentials (§1c)."""
        self._auth.register_m2m(client_id, certificate_id, public_key_pem, frozenset(scopes))

    def register_oauth2_client(
        self, client_id: str, client_secret: str, refresh_token: str, *, rotate: bool = False
    ) -> None:
        """Authorize an application for the refresh-token grant (§1b).

        `rotate=True` behaves like a public client: each refresh returns a new refresh token
        (valid 3 hours) and the old one stops working.
        """
        self._auth.register_oauth2(client_id, client_secret, refresh_token, rotate=rotate)

    def register_tba(
        self, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ) -> None:
        """Register a TBA token (OAuth 1.0a, HMAC-SHA256, realm = account id; §1a)."""
        self._auth.register_tba(consumer_key, consumer_secret, token_id, token_secret)

    def revoke_certificate(self, certificate_id: str) -> None:
        """Remove an M2M certificate mapping; assertions signed for it get 401."""
        self._auth.revoke_certificate(certificate_id)

    def revoke_access_tokens(self) -> None:
        """Invalidate every access token already minted (clients must fetch new ones)."""
        self._auth.revoke_access_tokens()

    def refresh_sandbox(self) -> None:
        """Drop every credential, as a sandbox refresh does (reference §1c, §9)."""
        self._auth.refresh_sandbox()

    def mint_token(self, scopes: Iterable[str] = ("rest_webservices",)) -> str:
        """An access token without the auth dance, for tests that are not about auth."""
        return str(self._auth._mint(frozenset(scopes))["access_token"])

    # -- seeding -----------------------------------------------------------------------------

    def add_location(self, name: str) -> int:
        """Add a location; returns its internal id."""
        return self._store.add_location(name)

    def add_item(
        self,
        itemid: str,
        *,
        cost: Decimal | float | str | None,
        average_cost: Decimal | float | str | None = None,
        locations: Mapping[int, Decimal | float | int] | None = None,
        inactive: bool = False,
        display_name: str | None = None,
        item_type: str = "InvtPart",
    ) -> int:
        """Add an item (`itemid` is the SKU) with on-hand per location; returns its id."""
        return self._store.add_item(
            itemid,
            cost=cost,
            average_cost=average_cost,
            locations=locations or {},
            inactive=inactive,
            display_name=display_name,
            item_type=item_type,
        )

    def add_customer(
        self,
        *,
        company_name: str | None = None,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        external_id: str | None = None,
        is_person: bool = False,
        **custom_fields: object,
    ) -> int:
        """Add a customer through the same rules as a REST create; returns its id.

        Raises:
            ValueError: NetSuite would refuse it (e.g. a company without a name).
        """
        body: dict[str, object] = {"isPerson": is_person, **custom_fields}
        for key, value in (
            ("companyName", company_name),
            ("email", email),
            ("firstName", first_name),
            ("lastName", last_name),
            ("externalId", external_id),
        ):
            if value is not None:
                body[key] = value
        try:
            return self._store.create("customer", body)
        except RecordError as exc:
            raise ValueError(str(exc)) from exc

    def add_items(self, seeds: Iterable[ItemSeed]) -> list[int]:
        """Add many items at once (one SQLite transaction); returns their ids in order.

        The bulk form of `add_item` for large catalogs: a million SKUs take seconds, not
        minutes. Each `ItemSeed` carries what `add_item` takes, `on_hand` per location id.

        Raises:
            ValueError: a seed names a location that does not exist (nothing is added).

        Example:
            >>> sim = NetSuiteSimulator()
            >>> main = sim.add_location("Main")
            >>> seeds = [ItemSeed(itemid=f"SKU-{n}", on_hand={main: n}) for n in range(3)]
            >>> len(sim.add_items(seeds))
            3
        """
        return self._store.add_items(seeds)

    def add_sales_orders(self, orders: Iterable[Mapping[str, Any]]) -> list[int]:
        """Create many sales orders from REST bodies, through the same rules as `POST`.

        The bodies are those of `POST /record/v1/salesOrder` (reference §3). One SQLite
        transaction for all of them, no HTTP: for seeding large accounts.

        Raises:
            ValueError: NetSuite would refuse a body; the orders before it are created.
        """
        try:
            return self._store.create_many("salesOrder", orders)
        except RecordError as exc:
            raise ValueError(str(exc)) from exc

    def set_on_hand(self, item: int, location: int, quantity: Decimal | float | int) -> None:
        """Set on-hand stock for an item at a location (committed stays as it is)."""
        self._store.set_on_hand(item, location, quantity)

    def set_item_inactive(self, item: int, *, inactive: bool = True) -> None:
        """Deactivate (or reactivate) an item; sales orders can no longer use it."""
        self._store.set_item_inactive(item, inactive=inactive)

    def balance(self, item: int, location: int) -> tuple[Decimal, Decimal]:
        """`(on hand, committed)` of an item at a location."""
        return self._store.balance(item, location)

    # -- custom fields and schema drift ------------------------------------------------------

    def define_custom_field(
        self,
        record: str,
        field_id: str,
        label: str,
        field_type: FieldType = "text",
        *,
        mandatory: bool = False,
    ) -> None:
        """Add a custom body field (`custbody…` on salesOrder, `custentity…` on customer)."""
        self._store.define_custom_field(record, field_id, label, field_type, mandatory=mandatory)

    def rename_field(self, record: str, old: str, new: str, *, label: str | None = None) -> None:
        """Give a custom field a new id; the old id fails in writes and in SuiteQL."""
        self._store.rename_field(record, old, new, label=label)

    def make_mandatory(self, record: str, field_id: str, *, mandatory: bool = True) -> None:
        """Make a custom field mandatory: writes without it get USER_ERROR (§7)."""
        self._store.make_mandatory(record, field_id, mandatory=mandatory)

    def remove_field(self, record: str, field_id: str) -> None:
        """Delete a custom field and its values."""
        self._store.remove_field(record, field_id)

    def custom_fields(self, record: str) -> dict[str, tuple[str, str, bool]]:
        """`{id: (label, type, mandatory)}` of a record type's custom fields."""
        canonical = canonical_record_type(record) or record
        return {
            f.id: (f.label, f.type, f.mandatory)
            for f in self._store.custom_fields[canonical].values()
        }

    def apply_schema_change(self, change: SchemaChange) -> None:
        """Apply one `SchemaChange` now (fault plans apply theirs at a request index)."""
        if change.kind == "rename":
            assert change.new_id is not None  # noqa: S101 - SchemaChange validates renames
            self.rename_field(change.record, change.field, change.new_id, label=change.label)
        elif change.kind == "mandatory":
            self.make_mandatory(change.record, change.field)
        else:
            self.remove_field(change.record, change.field)

    # -- sales orders ------------------------------------------------------------------------

    def sales_order(self, order_id: int) -> dict[str, Any]:
        """A sales order as `GET ?expandSubResources=true` shows it."""
        return self._store.render("salesOrder", order_id, base=self.base_url, expand=True)

    def customer(self, customer_id: int) -> dict[str, Any]:
        """A customer as GET shows it."""
        return self._store.render("customer", customer_id, base=self.base_url, expand=False)

    def set_status(self, order_id: int, letter: str) -> None:
        """Move a sales order to a status letter (A to H, reference §6) with its stock effect."""
        self._store.set_status(order_id, letter)

    def close_sales_order(self, order_id: int) -> None:
        """Close a sales order (status H): its committed stock is released."""
        self._store.set_status(order_id, "H")

    def sales_orders_by_woo_id(self, field: str | None = None) -> dict[str, list[int]]:
        """Sales order ids grouped by the WooCommerce order id custom field (unset ones left out).

        A value with more than one id is a duplicate order.
        """
        name = field or self.woo_order_field
        grouped: dict[str, list[int]] = {}
        for order_id, values in sorted(self._store.records["salesOrder"].items()):
            value = values.get(name)
            if value not in (None, ""):
                grouped.setdefault(str(value), []).append(order_id)
        return grouped

    # -- observation -------------------------------------------------------------------------

    @property
    def stats(self) -> NetSuiteSimStats:
        """A snapshot of the request log and counters."""
        return NetSuiteSimStats(
            requests=tuple(self._log),
            max_in_flight=self._max_in_flight,
            rate_limited=self._rate_limited,
            saturated_401s=self._saturated_401s,
            tokens_minted=self._auth.tokens_minted,
            created=dict(self._store.created),
        )

    @property
    def audit_trail(self) -> list[AuditEntry]:
        """Failed logins with a Login Audit Trail-style reason (reference §1d)."""
        return list(self._auth.audit_trail)

    # -- the core ----------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the account would, without network faults or governance.

        This is the sans-socket core that `transport()` and `asgi_app()` wrap; it does not
        count the request for the fault plan or the concurrency limit.
        """
        await request.aread()
        response, _ = self._dispatch(request)
        return response

    def _dispatch(self, request: httpx.Request) -> tuple[httpx.Response, bool]:
        """Answer a request; the flag says whether it committed a write."""
        path = unquote(request.url.path)
        if path == _TOKEN_PATH:
            return self._token(request), False
        failure = self._auth.authenticate(request)
        if failure is not None:
            error, headers = failure
            return _error(error, headers), False
        refusals = _unsimulated_headers(request)
        if refusals:
            return _error(bodies.not_simulated(refusals)), False
        if path == _SUITEQL_PATH:
            if request.method != "POST":
                return _not_simulated(f"{request.method} on the SuiteQL endpoint"), False
            return self._suiteql(request), False
        if path.startswith(_RECORD_PREFIX):
            parts = path[len(_RECORD_PREFIX) :].strip("/").split("/")
            if parts[0] == _CATALOG:
                return self._metadata(request, parts[1:]), False
            response = self._record(request, parts)
            committed = request.method in _WRITE_METHODS and response.is_success
            return response, committed
        if path.startswith(_REST_PREFIX):
            # A NetSuite REST service the simulator does not serve (async jobs, the
            # governance limits service, ...): not simulated, never a missing record.
            return _not_simulated(f"the endpoint {path}"), False
        return _error(bodies.not_found(self.not_found_code)), False

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return _json_response(405, {"error": "invalid_request"})
        form = dict(parse_qsl(request.content.decode("utf-8", "replace")))
        status, body, headers = self._auth.token_endpoint(request, form)
        return _json_response(status, body, headers=headers)

    # -- records -----------------------------------------------------------------------------

    def _record(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        record = canonical_record_type(parts[0])
        if record is None:
            # NetSuite has hundreds of record types; the simulator holds two. Any other is
            # "not simulated", not a missing record (the URL may be right for NetSuite).
            return _not_simulated(
                f"the record type {parts[0]}",
                "it simulates salesOrder and customer (and their metadata)",
            )
        method = request.method
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        ignore_unknown = self._ignore_unknown(request)
        if len(parts) == 1:
            if method == "GET":
                return self._list(request, record, origin)
            if method != "POST":
                return _not_simulated(f"{method} on a record collection")
            body = _json_body(request)
            if isinstance(body, httpx.Response):
                return body
            try:
                created = self._store.create(record, body, ignore_unknown=ignore_unknown)
            except RecordError as exc:
                return _error(exc.error)
            return self._located(origin, record, created)
        key = parts[1]
        record_id = self._resolve(record, key)
        if len(parts) > 2:
            return self._subresource(request, record, record_id, parts[2:], origin)
        if method == "PUT":
            return self._upsert(
                request,
                record=record,
                key=key,
                record_id=record_id,
                origin=origin,
                ignore_unknown=ignore_unknown,
            )
        if record_id is None:
            return _error(bodies.not_found(self.not_found_code))
        if method == "GET":
            expand = request.url.params.get("expandSubResources", "").lower() == "true"
            rendered = self._store.render(record, record_id, base=origin, expand=expand)
            return _json_response(200, rendered)
        if method == "PATCH":
            body = _json_body(request)
            if isinstance(body, httpx.Response):
                return body
            replace = frozenset(
                name for name in request.url.params.get("replace", "").split(",") if name
            )
            try:
                self._store.update(
                    record, record_id, body, replace=replace, ignore_unknown=ignore_unknown
                )
            except RecordError as exc:
                return _error(exc.error)
            # reference §3: PATCH answers 204 with Location.
            return self._located(origin, record, record_id)
        if method == "DELETE":
            try:
                self._store.delete(record, record_id)
            except RecordError as exc:
                return _error(exc.error)
            # Oracle, Deleting a Record Instance (ns-online-help/section_1545142287.html):
            # "no body content returned (HTTP Code 204)".
            return httpx.Response(204)
        return _not_simulated(f"{method} on a record")

    def _subresource(
        self,
        request: httpx.Request,
        record: str,
        record_id: int | None,
        rest: list[str],
        origin: str,
    ) -> httpx.Response:
        """`…/salesOrder/<id>/item[/<line>]`: the item sublist (Oracle, Accessing
        Subresources in REST Web Services, ns-online-help/section_159894563219.html)."""
        if record != "salesOrder" or rest[0] != "item" or len(rest) > 2:
            return _not_simulated(f"the subresource {'/'.join(rest)} of {record}")
        if request.method != "GET":
            # Oracle: "You cannot directly delete a subresource"; lines change via PATCH.
            return _not_simulated(f"{request.method} on a sublist")
        if record_id is None:
            return _error(bodies.not_found(self.not_found_code))
        if len(rest) == 1:
            expand = request.url.params.get("expandSubResources", "").lower() == "true"
            return _json_response(
                200, self._store.lines_view(record_id, base=origin, expand=expand)
            )
        line = int(rest[1]) if rest[1].isdigit() and len(rest[1]) < 10 else -1
        try:
            return _json_response(200, self._store.line_view(record_id, line, base=origin))
        except KeyError:
            return _error(bodies.not_found(self.not_found_code))

    def _list(self, request: httpx.Request, record: str, origin: str) -> httpx.Response:
        """`GET /record/v1/<type>[?q=&limit=&offset=]`: ids and links, one page.

        Oracle, Collection Paging (ns-online-help/section_156414087576.html): pages of at
        most 1000, links `next`/`last`/`self` on its example, items `{"links", "id"}`; `q`
        per Record Collection Filtering (`_filters`).
        """
        paging = self._paging(request)
        if isinstance(paging, httpx.Response):
            return paging
        limit, offset = paging
        q = request.url.params.get("q")
        condition: str = "1 = 1"
        params: list[object] = []
        if q is not None:
            try:
                condition, params = compile_filter(q, self._store.filter_fields(record))
            except FilterNotSimulated as exc:
                return _not_simulated(str(exc), "date and WITHIN filters are not simulated")
            except FilterError:
                # The observed bad-filter body (reference §4, community).
                return _error(bodies.invalid_query())
        ids, total = self._store.list_ids(record, condition, params, limit=limit, offset=offset)
        base = f"{origin}{_RECORD_PREFIX}{record}"
        items = [
            {"links": [{"rel": "self", "href": f"{base}/{record_id}"}], "id": str(record_id)}
            for record_id in ids
        ]
        extra = {} if q is None else {"q": q}
        answer = {
            "links": _page_links(
                base, limit, offset, total=total, cap=self.suiteql_max_results, extra=extra
            ),
            "count": len(items),
            "hasMore": offset + len(items) < total,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }
        return _json_response(200, answer)

    def _resolve(self, record: str, key: str) -> int | None:
        if key.lower().startswith("eid:"):
            return self._store.find_external(record, key[4:])
        if key.isdigit() and int(key) in self._store.records[record]:
            return int(key)
        return None

    def _upsert(
        self,
        request: httpx.Request,
        *,
        record: str,
        key: str,
        record_id: int | None,
        origin: str,
        ignore_unknown: bool,
    ) -> httpx.Response:
        # reference §3: upsert is only PUT on an eid: URL. The answer to PUT on an internal id
        # is not in the reference; the simulator refuses it as a user error.
        if not key.lower().startswith("eid:"):
            return _error(bodies.bad_request("Upsert requires an external ID: use eid:<value>."))
        body = _json_body(request)
        if isinstance(body, httpx.Response):
            return body
        # The URL's external id wins over any externalId in the body (reference silent).
        fields = {name: value for name, value in body.items() if name != "externalId"}
        try:
            if record_id is None:
                fields["externalId"] = key[4:]
                record_id = self._store.create(record, fields, ignore_unknown=ignore_unknown)
            else:
                self._store.update(record, record_id, fields, ignore_unknown=ignore_unknown)
        except RecordError as exc:
            return _error(exc.error)
        return self._located(origin, record, record_id)

    def _ignore_unknown(self, request: httpx.Request) -> bool:
        header = request.headers.get("x-netsuite-propertynamevalidation")
        if header is not None:
            return bool(str(header).strip().lower() != "error")
        return bool(self.unknown_fields == "ignore")

    @staticmethod
    def _located(origin: str, record: str, record_id: int) -> httpx.Response:
        # reference §3: 204 No Content, empty body, absolute Location of the record.
        location = f"{origin}{_RECORD_PREFIX}{record}/{record_id}"
        return httpx.Response(204, headers={"location": location})

    # -- metadata ----------------------------------------------------------------------------

    def _metadata(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        catalog = f"{origin}{_RECORD_PREFIX}{_CATALOG}"
        if request.method != "GET":
            return _error(bodies.bad_request("The metadata catalog is read-only."))
        if not parts or parts == [""]:
            # reference §7: entries carry links with three media types.
            items = [
                {
                    "name": name,
                    "links": [
                        {"rel": "canonical", "href": f"{catalog}/{name}", "mediaType": media}
                        for media in (
                            "application/json",
                            "application/swagger+json",
                            "application/schema+json",
                        )
                    ],
                }
                for name in ("customer", "salesOrder")
            ]
            return _json_response(200, {"items": items})
        record = canonical_record_type(parts[0])
        if record is None or len(parts) > 1:
            return _not_simulated(
                f"the metadata of {'/'.join(parts)}", "it describes salesOrder and customer"
            )
        schema = self._store.json_schema(record)
        accept = request.headers.get("accept", "")
        if "application/swagger+json" in accept:
            # The reference has no literal OpenAPI document; this is the smallest plausible.
            document = {"openapi": "3.0.1", "components": {"schemas": {record: schema}}}
            return _json_response(200, document, content_type="application/swagger+json")
        # reference §7: application/schema+json gives JSON Schema; no literal is given, so
        # the shape is minimal: type, properties (title = label, type, nullable), required.
        return _json_response(200, schema, content_type="application/schema+json")

    # -- SuiteQL -----------------------------------------------------------------------------

    def _suiteql(self, request: httpx.Request) -> httpx.Response:
        prefer = request.headers.get("prefer", "")
        if self.require_transient and "transient" not in prefer.lower():
            # reference §6 requires the header; the error for leaving it out is not in the
            # reference, so this is the documented shape with the header named.
            return _error(
                bodies.error_body(
                    400,
                    "INVALID_PARAMETER",
                    "Invalid header value. Provide 'Prefer: transient' to run a query.",
                    header="Prefer",
                )
            )
        paging = self._paging(request)
        if isinstance(paging, httpx.Response):
            return paging
        limit, offset = paging
        body = _json_body(request)
        if isinstance(body, httpx.Response):
            return body
        query = body.get("q")
        if not isinstance(query, str) or not query.strip():
            return _error(bodies.invalid_query())
        self.query_log.append(query)
        try:
            names, page, total = self._store.query_page(query, limit=limit, offset=offset)
        except QueryRefused as exc:
            return _error(exc.error)
        items = rows_as_items(
            names,
            page,
            omit_nulls=self.suiteql_omit_nulls,
            numbers_as_strings=self.suiteql_numbers_as_strings,
        )
        has_more = offset + len(page) < total
        base = str(request.url.copy_with(query=None))
        # reference §6: key set and order of the response; links as record collections
        # page (Oracle, Collection Paging).
        answer = {
            "links": _page_links(base, limit, offset, total=total, cap=self.suiteql_max_results),
            "count": len(items),
            "hasMore": has_more,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }
        return _json_response(200, answer)

    def _paging(self, request: httpx.Request) -> tuple[int, int] | httpx.Response:
        params = request.url.params
        values: dict[str, int] = {}
        for name, default in (("limit", 1000), ("offset", 0)):
            raw = params.get(name)
            if raw is None:
                values[name] = default
            elif re.fullmatch(r"\d+", raw):
                values[name] = int(raw)
            else:
                return self._bad_param(name, f"The {name} parameter must be a whole number.")
        limit, offset = values["limit"], values["offset"]
        if not 1 <= limit <= 1000:
            # reference §6: default 1000, maximum 1000; the error wording is the simulator's.
            return self._bad_param("limit", "The limit parameter must be between 1 and 1000.")
        if self.offsets_multiple_of_limit and offset % limit:
            # "Offset must be a multiple of limit" (reference §6, community: a NetSuite REST
            # client reports the request failing otherwise, ehmad11/netsuite-rest#25). The
            # error body is not documented; this is the documented shape, own words.
            return self._bad_param(
                "offset",
                f"Invalid offset {offset}: the offset must be a multiple of the limit ({limit}).",
            )
        if offset + limit > self.suiteql_max_results:
            # reference §6: at most 100,000 results per query (without SuiteAnalytics Connect).
            return self._bad_param(
                "offset",
                f"Invalid search query. The query returns more than {self.suiteql_max_results}"
                " results; narrow it.",
            )
        return limit, offset

    @staticmethod
    def _bad_param(name: str, detail: str) -> httpx.Response:
        return _error(bodies.error_body(400, "INVALID_PARAMETER", detail, query_param=name))

    # -- governance and faults ---------------------------------------------------------------

    async def _serve(self, request: httpx.Request, *, server: bool) -> _Outcome:
        """Run one request through the account's governance and the fault plan."""
        injector = self.injector
        index = injector.begin_request()
        for change in injector.due_schema_changes(index):
            self.apply_schema_change(change)
        path = request.url.path
        started = self.clock.now()
        status: int | None = None
        outcome: Literal["answered", "reset", "timeout"] = "answered"
        # The token endpoint is OAuth, not a web-services call: the reference puts SOAP,
        # REST and RESTlets in the concurrency pool (§5), so it stays out of governance.
        governed = path != _TOKEN_PATH
        # `_open` is what the client has in flight (observed concurrency); `_admitted` is
        # what the account is processing, the pool governance counts. A blocked request is
        # not processed, so it never takes a slot.
        self._open += 1
        self._max_in_flight = max(self._max_in_flight, self._open)
        holding = False
        try:
            if injector.should_reset(index):
                outcome = "reset"
                kind: DropKind = (
                    "reset" if injector.roll("reset_kind", index) >= 0.5 else "disconnect"
                )
                raise ConnectionReset("connection reset by the simulated host", kind=kind)
            over = governed and (
                self._admitted + 1 > self.concurrency_limit
                or injector.should_rate_limit(self._admitted + 1, index)
            )
            if not over:
                self._admitted += 1
                holding = True
            delay = injector.latency(index)
            if delay > 0:
                await self.clock.sleep(delay)
            burst = injector.burst_status(index)
            slow = False
            if over:
                response = await self._over_limit(index)
            elif burst is not None:
                response = _error(bodies.server_error(burst))
            else:
                await request.aread()
                response, committed = self._dispatch(request)
                slow = committed and injector.is_slow_commit()
            status = response.status_code
            if slow:
                outcome = "timeout"
                if server:
                    # The write is done; the answer comes after the client's timeout.
                    await self.clock.sleep(self.faults.slow_commits.delay)
            return _Outcome(response, slow=slow)
        finally:
            self._open -= 1
            if holding:
                self._admitted -= 1
            self._log.append(
                SimRequest(
                    index=index,
                    method=request.method,
                    path=path,
                    endpoint=_endpoint(path),
                    status=status,
                    outcome=outcome,
                    started=started,
                    finished=self.clock.now(),
                )
            )

    async def _over_limit(self, index: int) -> httpx.Response:
        """The answer to a request over the account's concurrency limit: the §5 429, or
        the field fault's (slow) 401 INVALID_LOGIN when the plan injects it."""
        if self.injector.invalid_login_when_saturated(index):
            self._saturated_401s += 1
            if self.faults.concurrency_invalid_login_delay > 0:
                await self.clock.sleep(self.faults.concurrency_invalid_login_delay)
            return _error(bodies.invalid_login())
        self._rate_limited += 1
        headers = {}
        if self.faults.retry_after is not None:
            headers["retry-after"] = f"{self.faults.retry_after:g}"
        return _error(bodies.concurrency_exceeded(), headers)

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that answers in-process, with latency, governance and faults.

        A reset raises `httpx.RemoteProtocolError` or `httpx.ReadError` before any effect; a
        slow commit raises `httpx.ReadTimeout` after the write committed.

        Example:
            >>> sim = NetSuiteSimulator()
            >>> client = httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_url)
        """
        return in_process_transport(self._serve_in_process)

    def asgi_app(self) -> AsgiApp:
        """A plain ASGI application serving the simulator (e.g. with uvicorn on loopback).

        A reset starts an answer and drops the connection; a slow commit commits, sleeps
        `faults.slow_commits.delay` on the simulator's clock, then answers.
        """
        return asgi_app(self._serve_over_socket)

    async def _serve_in_process(self, request: httpx.Request) -> httpx.Response:
        outcome = await self._serve(request, server=False)
        if outcome.slow:
            # The write committed; in-process the client's read times out at once.
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        return outcome.response

    async def _serve_over_socket(self, request: httpx.Request) -> httpx.Response:
        return (await self._serve(request, server=True)).response


def _unsimulated_headers(request: httpx.Request) -> list[tuple[str, str]]:
    """The async-job headers of reference §3 this request carries, which are refused.

    §3 "Idempotency and async": `Prefer: respond-async` makes NetSuite answer 202 with a job
    under /services/rest/async/v1/job/, and `X-NetSuite-Idempotency-Key` makes a repeat a
    400 IDEMPOTENCY_ERROR pointing at the earlier job. The simulator models no async jobs.
    Answering synchronously would hide a client's 202 handling, and creating a record twice
    would pass a test that the key should have failed, so both are refused loudly with a
    501 (the simulator's own answer, documented in docs/guides/testing.md), never ignored.
    """
    refusals = []
    prefer = ",".join(request.headers.get_list("prefer"))
    tokens = {part.split(";")[0].strip().lower() for part in prefer.split(",")}
    if "respond-async" in tokens:
        refusals.append(("Prefer", "asynchronous requests (Prefer: respond-async)"))
    if "x-netsuite-idempotency-key" in request.headers:
        refusals.append(
            ("X-NetSuite-Idempotency-Key", "idempotency keys (X-NetSuite-Idempotency-Key)")
        )
    return refusals


def _json_body(request: httpx.Request) -> dict[str, Any] | httpx.Response:
    try:
        body = json.loads(request.content or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        # The reference has no literal for an unreadable body; documented shape, own words.
        return _error(
            bodies.error_body(400, "INVALID_CONTENT", "The request body must be a JSON object.")
        )
    return body
