"""A server-side WooCommerce fake: wc/v3 REST, stock rules, batch endpoints and webhooks.

It follows `reference/woocommerce.md` (cited by section in comments) field by field, and it
does not import `nswoo.woocommerce`: a simulator sharing the client's code would hide the
client's bugs. Where the reference is silent the simulator picks the most plausible behaviour,
says so, and makes it configurable.

Use it in-process with `transport()` (an httpx transport) or over loopback with
`asgi_app()` (a plain ASGI callable for uvicorn; see `serve_simulators`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import httpx

from ..._clock import Clock, SystemClock
from ..._http import AsgiApp
from .._factories import wc_date
from .._faults import FaultInjector, FaultPlan
from .._transport import ConnectionReset, asgi_app, in_process_transport
from ._auth import NonceBook, oauth_parameters, verify_oauth
from ._store import (
    ORDER_STATUSES,
    RestError,
    StockWrite,
    WooStore,
    _Item,
    _Order,
    full_address,
    gmt,
    invalid_id,
    variation_through_products,
)
from ._webhooks import (
    DeliveryResult,
    WebhookSender,
    WebhookSubscription,
    php_json_encode,
    valid_webhook_topic,
    webhook_hooks,
)

__all__ = ["BatchRecord", "ConnectionReset", "RequestRecord", "WooSimulator"]

_API_PREFIX = "/wp-json/wc/v3"
# §1: the header sent with errors from the Basic-auth path.
_WWW_AUTHENTICATE = (
    'Basic realm="WooCommerce API. Use a consumer key in the username field and a consumer '
    'secret in the password field."'
)
_ORDERBY = ("date", "id", "include", "title", "slug", "modified")
# §3: products add price/popularity/rating (and menu_order in code, not verified).
_PRODUCT_ORDERBY = (*_ORDERBY, "price", "popularity", "rating", "menu_order")
# §3: the v3 order list `status` is an array whose enum is the registered statuses plus `any`,
# `trash` and `auto-draft`; anything else is schema-validated into the §2 400. (`draft` and
# `new` are legacy/internal statuses the simulator stores, not registered ones.)
_ORDER_STATUS_FILTER = (
    "any",
    "trash",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "auto-draft",
)
# The reference does not list the product `status` filter's enum; WooCommerce's is `any`,
# `future`, `trash` and WordPress's post statuses. `stock_status` is §6's enum.
_PRODUCT_STATUS_FILTER = ("any", "future", "trash", "draft", "pending", "private", "publish")
_STOCK_STATUSES = ("instock", "outofstock", "onbackorder")
_NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

Handler = Callable[["_Call"], Awaitable[httpx.Response]]
_Route = Callable[["_Call", tuple[int, ...]], httpx.Response]
# WordPress's WP_REST_Server::EDITABLE.
_EDITABLE = ("POST", "PUT", "PATCH")
# Each controller's schema title (its post type, or `webhook`).
_SCHEMA_TITLES = {"orders": "shop_order", "products": "product", "webhooks": "webhook"}
# wp_generate_password's character set with special characters and extra specials.
_WP_GENERATED_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
)


@attrs.frozen(kw_only=True)
class RequestRecord:
    """One request the simulator answered: index, method, endpoint template, status."""

    index: int
    method: str
    path: str
    query: str
    endpoint: str
    status: int | None
    at: float


@attrs.frozen(kw_only=True)
class BatchRecord:
    """One batch request received: endpoint, the counts asked for, and the body."""

    endpoint: str
    create: int
    update: int
    delete: int
    body: Mapping[str, Any] = attrs.field(repr=False)


@attrs.define
class _Call:
    request: httpx.Request
    index: int
    params: list[tuple[str, str]]
    body: bytes
    authenticated: bool = False
    auth_method: str = ""

    def is_form(self) -> bool:
        content_type: str = self.request.headers.get("Content-Type", "")
        media_type = content_type.partition(";")[0].strip().lower()
        return media_type == "application/x-www-form-urlencoded"

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    def param_list(self, name: str) -> list[str] | None:
        # WordPress accepts `a=x,y` and `a[]=x&a[]=y` for array parameters.
        values = [v for k, v in self.params if k in {name, f"{name}[]"}]
        if not values:
            return None
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def json(self) -> Any:
        if not self.body:
            return {}
        if self.is_form():
            # WordPress reads form bodies into the body parameters ($_POST) as well.
            return dict(parse_qsl(self.body.decode("latin-1"), keep_blank_values=True))
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise RestError(
                400,
                "rest_invalid_json",
                "Invalid JSON body passed.",
                json_error_code=4,
                json_error_message="Syntax error",
            ) from exc


_DATE_BOUNDS = frozenset({"after", "before", "modified_after", "modified_before"})


def _json_response(
    status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()
) -> httpx.Response:
    # WordPress answers REST with `wp_json_encode` too, so escaped slashes are on the wire.
    return httpx.Response(
        status,
        headers=[("Content-Type", "application/json; charset=UTF-8"), *headers],
        content=php_json_encode(payload),
    )


def _invalid_params(errors: Mapping[str, str]) -> RestError:
    # §2: WordPress schema validation, one body naming every invalid parameter.
    return RestError(
        400, "rest_invalid_param", f"Invalid parameter(s): {', '.join(errors)}", params=dict(errors)
    )


def _enum_errors(call: _Call, enums: Mapping[str, tuple[Sequence[str], bool]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, (allowed, array) in enums.items():
        values = call.param_list(name) if array else [call.param(name)]
        for index, value in enumerate(values or []):
            if value is not None and value not in allowed:
                # WordPress's `rest_validate_enum`; an array's items are named `name[index]`.
                param = f"{name}[{index}]" if array else name
                errors[name] = f"{param} is not one of {_wp_list(allowed)}."
                break
    return errors


def _wp_list(values: Sequence[str]) -> str:
    # WordPress's `%l` list format: "a and b", "a, b, and c".
    if len(values) < 3:
        return " and ".join(values)
    return f"{', '.join(values[:-1])}, and {values[-1]}"


def _parse_date(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _clock_or_system(clock: Clock | None) -> Clock:
    return SystemClock() if clock is None else clock


@attrs.define(kw_only=True)
class WooSimulator:
    """An in-process WooCommerce store speaking wc/v3, with seeded faults and webhooks.

    Requests go to `handle()` (pure REST behaviour), through `transport()` (in-process httpx,
    with the fault plan applied) or through `asgi_app()` (served over loopback). Seed the store
    with `add_product`/`add_variable_product`/`place_order`, observe it with `requests`,
    `counts`, `max_in_flight`, `batches` and `stock_writes`, and deliver webhooks with
    `deliver_pending()`.

    Example:
        >>> sim = WooSimulator(consumer_key="ck_test", consumer_secret="cs_test")
        >>> product_id = sim.add_product("MUG-1", price="9.50", stock_quantity=3)
        >>> order = sim.place_order(line_items=[("MUG-1", 1)], status="processing")
        >>> sim.stock_of("MUG-1")
        2
    """

    url: str = attrs.field(default="http://127.0.0.1:8081", kw_only=False)
    consumer_key: str
    consumer_secret: str = attrs.field(repr=False)
    faults: FaultPlan = attrs.field(factory=FaultPlan)
    clock: Clock = attrs.field(default=None, converter=_clock_or_system)
    webhook_secret: str | None = attrs.field(default=None, repr=False)
    # The site-local offset from GMT for the date fields without `_gmt` (§3, §5).
    utc_offset: timedelta = timedelta(0)
    price_decimals: int = 2
    tax_rate: Decimal = attrs.field(default=Decimal(0), converter=Decimal)
    # Whether shipping is taxed at `tax_rate` (the published example's store does not).
    tax_shipping: bool = True
    # The reference names no versions; these only show up in `version` and the User-Agent.
    wc_version: str = "9.3.3"
    wp_version: str = "6.6.2"
    first_id: int = 100
    manage_stock_option: bool = True
    batch_limit: int = 100
    max_webhook_delivery_failures: int = 5
    delivery_ids: Literal["per-second", "unique"] = "per-second"
    ping_content_type: str | None = "application/x-www-form-urlencoded"
    # Unconfirmed 8: whether `status=any` lists checkout-draft orders (probably yes on CPT).
    drafts_in_any: bool = True
    # §7 says `set_paid` on update acts when the order `needs_payment()` but not which statuses
    # that means. WooCommerce's `woocommerce_valid_order_statuses_for_payment` filter defaults
    # to pending and failed (on-hold is payable only where a plugin adds it); add "on-hold"
    # here to simulate such a store.
    payable_statuses: tuple[str, ...] = ("pending", "failed")
    # WordPress's serve_request adds `Link: <.../wp-json/>; rel="https://api.w.org/"` to REST
    # answers (WordPress core, not in the reference); paging rels come on their own lines.
    api_root_link: bool = True
    # §1: WooCommerce tries Basic auth (and `consumer_key`/`consumer_secret` in the query
    # string) only when WordPress sees the request as HTTPS; over plain HTTP it expects OAuth
    # 1.0a and a Basic request runs anonymous (401 `woocommerce_rest_cannot_view`). Off by
    # default: the simulator is served on plain loopback HTTP standing in for a store reached
    # over HTTPS, or behind a proxy that tells WordPress it is, where Basic works, and nswoo
    # (like most clients) sends Basic to such stores. Turn it on to test a client against a
    # store WordPress sees as plain HTTP. OAuth 1.0a is accepted either way, as in §1.
    refuse_basic_over_http: bool = False

    requests: list[RequestRecord] = attrs.field(init=False, factory=list)
    batches: list[BatchRecord] = attrs.field(init=False, factory=list)
    max_in_flight: int = attrs.field(init=False, default=0)
    _in_flight: int = attrs.field(init=False, default=0)
    _injector: FaultInjector = attrs.field(init=False)
    _store: WooStore = attrs.field(init=False)
    _webhooks: WebhookSender = attrs.field(init=False)
    _nonces: NonceBook = attrs.field(init=False, factory=NonceBook)
    _route_table: list[tuple[re.Pattern[str], dict[str, _Route]]] = attrs.field(
        init=False, factory=list, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self._route_table = self._routes()
        self._injector = FaultInjector(plan=self.faults)
        self._store = WooStore(
            base_url=self.url,
            now=lambda: gmt(self.clock.time()),
            emit=self._emit,
            utc_offset=self.utc_offset,
            dp=self.price_decimals,
            wc_version=self.wc_version,
            tax_rate=self.tax_rate,
            manage_stock_option=self.manage_stock_option,
            first_id=self.first_id,
        )
        self._webhooks = WebhookSender(
            source_url=self.url + "/",
            user_agent=f"WooCommerce/{self.wc_version} Hookshot (WordPress/{self.wp_version})",
            payload=self._webhook_payload,
            time=self.clock.time,
            salt=secrets.token_bytes(16),
            max_failures=self.max_webhook_delivery_failures,
            delivery_ids=self.delivery_ids,
            ping_content_type=self.ping_content_type,
            duplicate=self._injector.duplicate_webhook,
            redeliver=self._injector.redeliver_webhook,
            outage=self._injector.webhook_outage,
        )

    def rebase(self, url: str) -> None:
        """Move the store to `url` (its site root): links, `_links` and webhook sources follow.

        For servers bound to a free port, whose address is known only once they listen.
        """
        self.url = url.rstrip("/")
        self._store.base_url = self.url
        self._webhooks.source_url = self.url + "/"

    # -----------------------------------------------------------------------------------------
    # Seeding

    def add_product(
        self,
        sku: str,
        *,
        price: Decimal | str | int,
        stock_quantity: int | None = None,
        manage_stock: bool = True,
        type: Literal["simple", "variable", "grouped", "external"] = "simple",
        name: str = "",
        backorders: Literal["no", "notify", "yes"] = "no",
        stock_status: Literal["instock", "outofstock", "onbackorder"] | None = None,
    ) -> int:
        """Add a product and return its id. A managed product without a quantity holds 0.

        Raises:
            ValueError: the SKU is already used by a product or variation.
        """
        try:
            item = self._store.add_item(
                sku=sku,
                price=Decimal(price),
                type=type,
                name=name,
                manage_stock=manage_stock,
                stock_quantity=stock_quantity,
                stock_status=stock_status,
                backorders=backorders,
            )
        except RestError as exc:
            raise ValueError(f"SKU {sku!r}: {exc.message}") from exc
        return item.id

    def add_variable_product(
        self,
        sku: str,
        variations: Sequence[Mapping[str, Any]],
        *,
        name: str = "",
        manage_stock: bool = False,
        stock_quantity: int | None = None,
    ) -> int:
        """Add a variable product with its variations; return the parent's id.

        Each variation is a mapping with `sku`, `price` and optionally `stock_quantity`,
        `manage_stock` (default True; False with a stock-managing parent makes the variation
        answer `"parent"`, §6) and `attributes` (a mapping such as `{"Size": "M"}`). Find
        variation ids with `id_for_sku`.

        Raises:
            ValueError: a SKU is already used.
        """
        parent_id = self.add_product(
            sku,
            price=0,
            type="variable",
            name=name,
            manage_stock=manage_stock,
            stock_quantity=stock_quantity,
        )
        parent_name = self._store.items[parent_id].name
        for spec in variations:
            attributes = list(dict(spec.get("attributes", {})).items())
            try:
                self._store.add_item(
                    sku=str(spec["sku"]),
                    price=Decimal(str(spec["price"])),
                    type="variation",
                    parent_id=parent_id,
                    name=f"{parent_name} - {', '.join(str(o) for _, o in attributes)}"
                    if attributes
                    else parent_name,
                    manage_stock=bool(spec.get("manage_stock", True)),
                    stock_quantity=spec.get("stock_quantity"),
                    attributes=[(str(n), str(o)) for n, o in attributes],
                )
            except RestError as exc:
                raise ValueError(f"SKU {spec['sku']!r}: {exc.message}") from exc
        return parent_id

    def id_for_sku(self, sku: str) -> int:
        """The id of the product or variation with `sku`.

        Raises:
            KeyError: no such SKU.
        """
        item = self._store.sku_owner(sku)
        if item is None:
            raise KeyError(sku)
        return item.id

    def stock_of(self, sku: str) -> int | None:
        """The quantity the API shows for `sku` (a parent-managed variation shows the parent's)."""
        item = self._store.sku_owner(sku)
        if item is None:
            raise KeyError(sku)
        return self._store.render_item(item)["stock_quantity"]  # type: ignore[no-any-return]

    def place_order(
        self,
        line_items: Sequence[tuple[str, int]] | Sequence[tuple[str, int, Decimal | str]],
        *,
        status: str = "processing",
        shipping_total: Decimal | str = Decimal("0.00"),
        shipping_method: tuple[str, str] = ("flat_rate", "Flat Rate"),
        fees: Sequence[tuple[str, Decimal | str]] = (),
        coupons: Sequence[tuple[str, Decimal | str]] = (),
        tax_rate: Decimal | str | None = None,
        customer_id: int = 0,
        billing: Mapping[str, str] | None = None,
        currency: str = "USD",
        created_via: str = "checkout",
    ) -> dict[str, Any]:
        """Place an order as a shopper would and return its REST body.

        Lines are `(sku, quantity)` (catalog price) or `(sku, quantity, unit_price)`. Totals add
        up (lines, shipping, fees, coupons and tax sum to `total`). A `processing`, `on-hold` or
        `completed` order reduces managed stock once (§7); webhooks are queued (§8).

        Raises:
            KeyError: an unknown SKU.
        """
        lines = []
        for entry in line_items:
            sku, quantity = entry[0], entry[1]
            price = Decimal(entry[2]) if len(entry) > 2 else None
            if self._store.sku_owner(sku) is None:
                raise KeyError(sku)
            lines.append(self._store.order_line(sku=sku, quantity=quantity, price=price))
        now = gmt(self.clock.time())
        order = _Order(
            id=self._store.allocate_id(),
            status=status,
            lines=lines,
            shipping_total=Decimal(shipping_total),
            shipping_method=shipping_method,
            fees=[(name, Decimal(amount)) for name, amount in fees],
            coupons=[(code, Decimal(amount)) for code, amount in coupons],
            tax_rate=self.tax_rate if tax_rate is None else Decimal(tax_rate),
            tax_shipping=self.tax_shipping,
            currency=currency,
            customer_id=customer_id,
            billing=full_address("billing", billing) if billing is not None else None,
            created_via=created_via,
            created=now,
            modified=now,
        )
        self._store.create_order(order)
        return self._store.render_order(order)

    def set_order_status(self, order_id: int, status: str) -> dict[str, Any]:
        """Change an order's status (stock reduced or restored per §7) and return it.

        Raises:
            KeyError: an unknown order id.
        """
        order = self._order(order_id)
        self._store.set_status(order, status)
        return self._store.render_order(order)

    def modify_order(
        self,
        order_id: int,
        *,
        line_items: Sequence[tuple[str, int]] | None = None,
        shipping_total: Decimal | str | None = None,
        billing: Mapping[str, str] | None = None,
        customer_note: str | None = None,
        meta_data: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Edit an order as an admin would (totals recalculated, §5) and return it.

        Raises:
            KeyError: an unknown order id or SKU.
        """
        order = self._order(order_id)
        if line_items is not None:
            for sku, _ in line_items:
                if self._store.sku_owner(sku) is None:
                    raise KeyError(sku)
            self._store.replace_lines(
                order,
                [self._store.order_line(sku=s, quantity=q, price=None) for s, q in line_items],
            )
        if shipping_total is not None:
            order.shipping_total = Decimal(shipping_total)
        if billing is not None:
            order.billing = full_address("billing", billing)
        if customer_note is not None:
            order.customer_note = customer_note
        if meta_data is not None:
            self._store._upsert_meta(order.meta_data, meta_data)
        order.modified = gmt(self.clock.time())
        if order.status not in {"draft", "auto-draft", "new"}:
            self._emit("order", order.id, "updated")
        return self._store.render_order(order)

    def order(self, order_id: int) -> dict[str, Any]:
        """An order's current REST body."""
        return self._store.render_order(self._order(order_id))

    def product(self, product_id: int) -> dict[str, Any]:
        """A product's (or variation's) current REST body in its own endpoint's shape."""
        item = self._store.items[product_id]
        return self._store.render_item(item)

    def _order(self, order_id: int) -> _Order:
        order = self._store.orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        return order

    # -----------------------------------------------------------------------------------------
    # Webhooks

    def add_webhook(self, subscription: WebhookSubscription) -> WebhookSubscription:
        """Register a webhook; it gets the next webhook id and starts `active`."""
        now = gmt(self.clock.time())
        subscription.created = subscription.created or now
        subscription.modified = subscription.modified or now
        return self._webhooks.add(subscription)

    def subscribe(
        self, delivery_url: str, topic: str = "order.updated", *, secret: str | None = None
    ) -> WebhookSubscription:
        """Add a webhook for `topic`, signed with `secret` or else the simulator's `webhook_secret`.

        Raises:
            ValueError: neither secret is set.
        """
        key = secret if secret is not None else self.webhook_secret
        if key is None:
            raise ValueError("a webhook needs a secret: pass secret= or set webhook_secret")
        return self.add_webhook(
            WebhookSubscription(delivery_url=delivery_url, topic=topic, secret=key)
        )

    @property
    def webhooks(self) -> Mapping[int, WebhookSubscription]:
        """The registered webhooks by id."""
        return self._webhooks.subscriptions

    @property
    def pending_deliveries(self) -> int:
        """How many deliveries are queued."""
        return len(self._webhooks.pending)

    @property
    def deliveries(self) -> Sequence[DeliveryResult]:
        """Every delivery and ping attempted so far, in order."""
        return self._webhooks.results

    async def deliver_pending(self, client: httpx.AsyncClient) -> list[DeliveryResult]:
        """POST every queued delivery once, exactly as WooCommerce does (§8).

        Bodies are built now (the REST representation at delivery time) and signed with the
        webhook's secret. Failures (anything but 200-302, or a transport error) are counted
        toward auto-disable and never retried. The fault plan may send a delivery twice with
        the same delivery id, or again later with a new one.
        """
        return await self._webhooks.deliver_pending(client)

    async def send_ping(self, client: httpx.AsyncClient, webhook_id: int) -> DeliveryResult:
        """POST the unsigned `webhook_id=<id>` ping WooCommerce sends when a webhook is saved."""
        return await self._webhooks.send_ping(client, webhook_id)

    def _emit(self, resource: str, resource_id: int, event: str) -> None:
        self._webhooks.queue(resource, resource_id, event)

    def _webhook_payload(self, resource: str, resource_id: int) -> dict[str, Any]:
        # §8: an internal GET of /wc/v3/<resource>s/<id> at delivery time; a variation comes
        # through /products/<id> in product shape (Unconfirmed 13: believed yes).
        if resource == "order":
            return self._store.render_order(self._store.get_order(resource_id))
        return self._store.render_item(self._store.get_item(resource_id), product_shape=True)

    # -----------------------------------------------------------------------------------------
    # Observation

    @property
    def counts(self) -> Counter[tuple[str, int | None]]:
        """Requests per `(endpoint, status)`, e.g. `("GET /products", 200)`."""
        return Counter((r.endpoint, r.status) for r in self.requests)

    @property
    def stock_writes(self) -> Sequence[StockWrite]:
        """Every REST write that touched stock fields, in order."""
        return self._store.stock_writes

    # -----------------------------------------------------------------------------------------
    # Serving

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that sends requests to this simulator in-process, with faults.

        Resets raise `httpx.RemoteProtocolError` like a dropped connection would.
        """
        return in_process_transport(self.serve)

    def asgi_app(self) -> AsgiApp:
        """A plain ASGI 3 application serving this simulator (for uvicorn), with faults."""
        return asgi_app(self.serve)

    async def serve(self, request: httpx.Request) -> httpx.Response:
        """Answer one request with the fault plan applied (latency, 429, 5xx, resets).

        Raises:
            ConnectionReset: the plan resets this connection before it has any effect.
        """
        index = self._injector.begin_request()
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        status: int | None = None
        try:
            delay = self._injector.latency(index)
            if delay > 0:
                await self.clock.sleep(delay)
            if self._injector.should_reset(index):
                raise ConnectionReset("connection reset by the simulated host")
            if self._injector.should_rate_limit(self._in_flight, index):
                response = self._host_error(429)
            elif (burst := self._injector.burst_status(index)) is not None:
                response = self._host_error(burst)
            else:
                response = await self._handle(request, index)
            status = response.status_code
            return response
        finally:
            self._in_flight -= 1
            self.requests.append(
                RequestRecord(
                    index=index,
                    method=request.method,
                    path=request.url.path,
                    query=request.url.query.decode(),
                    endpoint=self._endpoint(request),
                    status=status,
                    at=self.clock.time(),
                )
            )

    def _host_error(self, status: int) -> httpx.Response:
        # §9: wc/v3 itself has no rate limit; 429s and 5xx come from the host or a WAF, and
        # clients meet HTML pages there. The reference gives no literal page, so the
        # simulator sends nginx's default error page.
        reason = httpx.codes.get_reason_phrase(status)
        headers = [("Content-Type", "text/html")]
        retry_after = self.faults.retry_after
        if status == 429 and retry_after is not None:
            headers.append(("Retry-After", str(math.ceil(retry_after))))
        return httpx.Response(
            status,
            headers=headers,
            content=_NGINX_PAGE.format(status=status, reason=reason).encode(),
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one wc/v3 request (no fault injection), as WooCommerce would."""
        return await self._handle(request, self._injector.requests)

    async def _handle(self, request: httpx.Request, index: int) -> httpx.Response:
        body = await request.aread()
        call = _Call(
            request, index, parse_qsl(request.url.query.decode(), keep_blank_values=True), body
        )
        try:
            return self._dispatch(call)
        except RestError as exc:
            # §1 send_unauthorized_headers: only errors from the Basic-auth path carry it.
            basic = call.auth_method == "basic_auth"
            extra = [("WWW-Authenticate", _WWW_AUTHENTICATE)] if basic else []
            return self._respond(exc.status, exc.body(), extra)

    def _respond(
        self, status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()
    ) -> httpx.Response:
        extra = list(headers)
        if self.api_root_link:
            extra.append(("Link", f'<{self.url}/wp-json/>; rel="https://api.w.org/"'))
        return _json_response(status, payload, extra)

    # -----------------------------------------------------------------------------------------
    # Routing

    def _endpoint(self, request: httpx.Request) -> str:
        path = request.url.path
        if path.startswith(_API_PREFIX):
            path = path[len(_API_PREFIX) :]
        template = re.sub(r"/\d+(?=/|$)", "/{id}", path)
        return f"{request.method} {template}"

    def _authenticate(self, call: _Call) -> None:
        """§1 `WC_REST_Authentication::authenticate()`: Basic only when WordPress sees HTTPS,
        then OAuth 1.0a; an unknown key or no credentials leave the request anonymous.

        The Basic path reads `consumer_key`/`consumer_secret` from the query string first,
        then the `Authorization: Basic` header; only a known key with a wrong secret is an
        error. Over plain HTTP real WooCommerce skips that path (`is_ssl()` is false) and
        expects OAuth 1.0a; the simulator skips it only with `refuse_basic_over_http=True`
        (see the attribute). OAuth 1.0a is checked as WooCommerce checks it (`_auth`).
        """
        is_ssl = call.request.url.scheme == "https"
        if is_ssl or not self.refuse_basic_over_http:
            self._basic(call)
            if call.authenticated:
                return
        header = call.request.headers.get("Authorization", "")
        # $_POST holds only form bodies; a JSON body is never part of the signature.
        form = (
            parse_qsl(call.body.decode("latin-1"), keep_blank_values=True) if call.is_form() else []
        )
        params = oauth_parameters(call.params, form, header)
        if params is None:
            return
        raw_path = call.request.url.raw_path.split(b"?", 1)[0].decode("latin-1")
        site = urlsplit(self.url)
        home_path = site.path.rstrip("/")
        if home_path and raw_path.startswith(home_path + "/"):
            raw_path = raw_path[len(home_path) :]
        # check_oauth_signature: get_home_url(null, $path, is_ssl() ? 'https' : 'http').
        base_uri = f"{'https' if is_ssl else 'http'}://{site.netloc}{home_path}/" + (
            raw_path.lstrip("/")
        )
        verify_oauth(
            params,
            method=call.request.method,
            base_uri=base_uri,
            secrets={self.consumer_key: self.consumer_secret},
            nonces=self._nonces,
            now=self.clock.time(),
        )
        call.authenticated = True

    def _basic(self, call: _Call) -> None:
        # §1 perform_basic_authentication: query parameters first, then the Basic header.
        key = call.param("consumer_key")
        secret = call.param("consumer_secret")
        if not key or not secret:
            key = secret = None
            header = call.request.headers.get("Authorization", "")
            if header[:6].lower() == "basic ":
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    return
                key, secret = user, password
        if not key or not secret or key != self.consumer_key:
            # §1: an unknown key sets no error; the permission check answers 401 later.
            return
        if not secrets.compare_digest(secret.encode(), self.consumer_secret.encode()):
            call.auth_method = "basic_auth"
            raise RestError(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        call.authenticated = True

    def _permission(self, call: _Call, action: str) -> None:
        if call.authenticated:
            return
        # §1: anonymous requests fail the permission check with 401 (not logged in). The
        # reference quotes the two `cannot_view` messages; the others are WooCommerce's CRUD
        # controller wording, matched by code in nswoo.
        code, message = {
            "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
            "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
            "create": (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            ),
            "edit": (
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ),
            "batch": (
                "woocommerce_rest_cannot_batch",
                "Sorry, you are not allowed to batch manipulate this resource.",
            ),
            "delete": (
                "woocommerce_rest_cannot_delete",
                "Sorry, you are not allowed to delete this resource.",
            ),
        }[action]
        raise RestError(401, code, message)

    def _routes(self) -> list[tuple[re.Pattern[str], dict[str, _Route]]]:
        """wc/v3's routes the simulator serves, as `register_routes` declares them: a
        WordPress route regex and a handler per method (`EDITABLE` is POST, PUT and PATCH)."""

        def editable(handler: _Route) -> dict[str, _Route]:
            return dict.fromkeys(_EDITABLE, handler)

        table: list[tuple[str, dict[str, _Route]]] = [
            ("/orders", {"GET": self._list_orders_route, "POST": self._create_order_route}),
            ("/orders/batch", editable(lambda call, _ids: self._order_batch(call))),
            (
                r"/orders/(\d+)",
                {
                    "GET": self._get_order_route,
                    **editable(lambda call, ids: self._update_order(call, ids[0])),
                    "DELETE": self._delete_order_route,
                },
            ),
            ("/products", {"GET": self._list_products_route, "POST": self._create_product}),
            (
                "/products/batch",
                editable(lambda call, _ids: self._product_batch(call, parent_id=None)),
            ),
            (
                r"/products/(\d+)",
                {
                    "GET": self._get_product_route,
                    **editable(self._update_product_route),
                    "DELETE": self._delete_product_route,
                },
            ),
            (
                r"/products/(\d+)/variations",
                {
                    "GET": lambda call, ids: self._list_products(call, parent_id=ids[0]),
                    "POST": self._create_variation,
                },
            ),
            (
                r"/products/(\d+)/variations/batch",
                editable(lambda call, ids: self._product_batch(call, parent_id=ids[0])),
            ),
            (
                r"/products/(\d+)/variations/(\d+)",
                {"GET": self._get_variation_route, **editable(self._update_variation_route)},
            ),
            ("/webhooks", {"GET": self._list_webhooks, "POST": self._create_webhook}),
            (
                r"/webhooks/(\d+)",
                {
                    "GET": self._get_webhook,
                    **editable(self._update_webhook),
                    "DELETE": self._delete_webhook,
                },
            ),
        ]
        return [(re.compile(pattern), handlers) for pattern, handlers in table]

    def _match(self, route: str) -> tuple[str, dict[str, _Route], tuple[int, ...]] | None:
        for pattern, handlers in self._route_table:
            if m := pattern.fullmatch(route):
                return pattern.pattern, handlers, tuple(int(g) for g in m.groups())
        return None

    def _dispatch(self, call: _Call) -> httpx.Response:
        self._authenticate(call)
        method = call.request.method
        path = call.request.url.path
        no_route = RestError(
            404, "rest_no_route", "No route was found matching the URL and request method"
        )
        matched = (
            self._match(path[len(_API_PREFIX) :].rstrip("/"))
            if path.startswith(_API_PREFIX + "/")
            else None
        )
        if method == "OPTIONS":
            return self._options(call, matched)
        if matched is None or method not in matched[1]:
            # WordPress answers a known route with an unknown method like an unknown route.
            raise no_route
        _pattern, handlers, ids = matched
        return handlers[method](call, ids)

    def _options(
        self, call: _Call, matched: tuple[str, dict[str, _Route], tuple[int, ...]] | None
    ) -> httpx.Response:
        """WordPress's `rest_handle_options_request` and `rest_send_allow_header`.

        The route's namespace, methods and endpoints (`get_data_for_route(..., 'help')`),
        with `Allow` naming the methods whose permission check passes: all of them for an
        authenticated key, none (no header) for an anonymous request. A path matching no
        route answers 200 with `[]`. OPTIONS needs no key permission (§1 `check_permissions`).
        The endpoints' argument lists and the item schema are not simulated: `args` is
        empty and `schema` carries only the schema's title and type.
        """
        if matched is None:
            return self._respond(200, [])
        pattern, handlers, _ids = matched
        endpoints: list[dict[str, Any]] = []
        for method in handlers:
            if method in _EDITABLE[1:]:
                continue  # one EDITABLE endpoint lists its three methods
            methods = list(_EDITABLE) if method == "POST" and "PUT" in handlers else [method]
            endpoints.append({"methods": methods, "args": {}})
        title = (
            "product_variation"
            if "variations" in pattern
            else _SCHEMA_TITLES.get(pattern.split("/")[1], "")
        )
        data = {
            "namespace": "wc/v3",
            "methods": list(handlers),
            "endpoints": endpoints,
            "schema": {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "title": title,
                "type": "object",
            },
        }
        headers = [("Allow", ", ".join(handlers))] if call.authenticated else []
        return self._respond(200, data, headers)

    # -- route handlers over the store ---------------------------------------------------

    def _list_orders_route(self, call: _Call, _ids: tuple[int, ...]) -> httpx.Response:
        return self._list_orders(call)

    def _create_order_route(self, call: _Call, _ids: tuple[int, ...]) -> httpx.Response:
        return self._create_order(call)

    def _get_order_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "view")
        return self._respond(200, self._store.render_order(self._store.get_order(ids[0])))

    def _list_products_route(self, call: _Call, _ids: tuple[int, ...]) -> httpx.Response:
        return self._list_products(call, parent_id=None)

    def _create_product(self, call: _Call, _ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "create")
        return self._created(self._store.create_item(self._object_body(call)))

    def _get_product_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "view")
        # Unconfirmed 13: a variation id answers in product shape.
        item = self._store.get_item(ids[0])
        return self._respond(200, self._store.render_item(item, product_shape=True))

    def _update_product_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "edit")
        item = self._product_for_update(ids[0], status=400)
        self._store.update_item(item, self._object_body(call), endpoint="PUT /products/{id}")
        return self._respond(200, self._store.render_item(item))

    def _create_variation(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "create")
        item = self._store.create_item(self._object_body(call), parent_id=ids[0])
        return self._created(item)

    def _get_variation_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "view")
        item = self._store.get_variation(ids[0], ids[1])
        return self._respond(200, self._store.render_item(item))

    def _update_variation_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "edit")
        item = self._store.get_variation(ids[0], ids[1], status=400)
        self._store.update_item(
            item, self._object_body(call), endpoint="PUT /products/{id}/variations/{id}"
        )
        return self._respond(200, self._store.render_item(item))

    def _delete_product_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        """`WC_REST_Products_V2_Controller::delete_item`: `force=true` deletes the product
        (a variable product with its variations), otherwise it goes to the trash; a second
        trash is 410. The answer is the product as it was before (prepared first, context
        edit). Trashing fires `product.deleted` (§8 `wp_trash_post`); a permanent delete
        fires nothing (Unconfirmed 6).
        """
        self._permission(call, "delete")
        item = self._store.get_item(ids[0])
        if item.type == "variation":
            raise variation_through_products()
        answer = self._store.render_item(item, product_shape=True)
        if _bool(call.param("force")):
            self._delete(item)
            return self._respond(200, answer)
        if item.status == "trash":
            raise RestError(
                410, "woocommerce_rest_already_trashed", "The product has already been deleted."
            )
        now = gmt(self.clock.time())
        for member in [item, *(self._store.items[c] for c in item.children)]:
            member.status = "trash"
            member.modified = now
        self._emit("product", item.id, "deleted")
        return self._respond(200, answer)

    def _delete_order_route(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        """`WC_REST_CRUD_Controller::delete_item` for orders: `force=true` deletes, otherwise
        the order goes to the trash (status `trash`; no stock hook runs, §7 hooks only
        cancelled and pending); a second trash is 410. The answer is the order as it was.
        Trashing fires `order.deleted` (§8 `woocommerce_trash_order`); a permanent delete
        fires nothing (Unconfirmed 6) and leaves stock as it is.
        """
        self._permission(call, "delete")
        order = self._store.get_order(ids[0])
        answer = self._store.render_order(order)
        if _bool(call.param("force")):
            del self._store.orders[order.id]
            return self._respond(200, answer)
        if order.status == "trash":
            raise RestError(
                410, "woocommerce_rest_already_trashed", "The shop_order has already been deleted."
            )
        order.status = "trash"
        order.modified = gmt(self.clock.time())
        self._emit("order", order.id, "deleted")
        return self._respond(200, answer)

    # -- webhooks (C-webhook-rest: the v1 controller, v2's answer shape, v3 inherits both) --

    def _render_webhook(self, sub: WebhookSubscription) -> dict[str, Any]:
        # The v2 `prepare_item_for_response` (wc/v3 inherits it) never includes `secret`,
        # although the schema lists it for the edit context: it is write-only over REST.
        created = sub.created or gmt(0)
        modified = sub.modified or created
        return {
            "id": sub.id,
            "name": sub.name,
            "status": sub.status,
            "topic": sub.topic,
            "resource": sub.resource,
            "event": sub.event,
            "hooks": list(webhook_hooks(sub.topic)),
            "delivery_url": sub.delivery_url,
            "date_created": wc_date(created, self.utc_offset),
            "date_created_gmt": wc_date(created),
            "date_modified": wc_date(modified, self.utc_offset),
            "date_modified_gmt": wc_date(modified),
            "_links": {
                "self": [{"href": f"{self.url}{_API_PREFIX}/webhooks/{sub.id}"}],
                "collection": [{"href": f"{self.url}{_API_PREFIX}/webhooks"}],
            },
        }

    def _webhook(self, webhook_id: int, *, status: int) -> WebhookSubscription:
        sub = self._webhooks.subscriptions.get(webhook_id)
        if sub is None:
            message = "Invalid ID." if status == 404 else "ID is invalid."
            raise RestError(status, "woocommerce_rest_shop_webhook_invalid_id", message)
        return sub

    def _list_webhooks(self, call: _Call, _ids: tuple[int, ...]) -> httpx.Response:
        params = self._list_params(
            call,
            ("date", "id", "title"),
            {
                "status": (("all", "active", "paused", "disabled"), False),
                "context": (("view", "edit"), False),
            },
        )
        self._permission(call, "list")
        status = call.param("status") or "all"
        subs = self._webhooks.subscriptions
        rows = [
            (sub.id, sub.created or gmt(0), sub.modified or gmt(0), sub.name)
            for sub in subs.values()
            if status in ("all", sub.status)
        ]
        return self._page(call, params, rows, lambda i: self._render_webhook(subs[i]), "webhooks")

    def _get_webhook(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "view")
        return self._respond(200, self._render_webhook(self._webhook(ids[0], status=404)))

    def _create_webhook(self, call: _Call, _ids: tuple[int, ...]) -> httpx.Response:
        """`create_item`: topic and delivery URL checked, the webhook saved `active` (the
        request's `status` is not read on create), a 50-character secret generated when none
        is given, 201 with `Location`, then the ping (§8) whatever it answers.

        WooCommerce pings synchronously inside the request; the simulator has no HTTP
        client of its own there, so the ping goes out first at the next `deliver_pending`.
        """
        body = self._object_body(call)
        self._permission(call, "create")
        if body.get("id"):
            raise RestError(
                400, "woocommerce_rest_shop_webhook_exists", "Cannot create existing shop_webhook."
            )
        topic = str(body.get("topic") or "").lower()
        if not valid_webhook_topic(topic):
            raise RestError(
                400,
                "woocommerce_rest_shop_webhook_invalid_topic",
                "Webhook topic is required and must be valid.",
            )
        url = body.get("delivery_url")
        if not isinstance(url, str) or not _valid_url(url):
            raise _invalid_delivery_url()
        now = gmt(self.clock.time())
        secret = body.get("secret")
        name = body.get("name")
        sub = self._webhooks.add(
            WebhookSubscription(
                delivery_url=url,
                topic=topic,
                # wp_generate_password(50, true, true) (§8).
                secret=str(secret) if secret else _generated_secret(),
                name=str(name)
                if name
                else f"Webhook created on {(now + self.utc_offset):%b %d, %Y @ %I:%M %p}",
                created=now,
                modified=now,
            )
        )
        self._webhooks.queue_ping(sub.id)
        return self._respond(
            201,
            self._render_webhook(sub),
            [("Location", f"{self.url}{_API_PREFIX}/webhooks/{sub.id}")],
        )

    def _update_webhook(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        """`update_item`: each of topic, delivery URL, secret, status and name is applied
        when given and valid; `failure_count` is left as it is (re-enabling does not reset
        it). The data store re-pings an `active` webhook whose delivery URL changed or whose
        first ping has not yet succeeded (C-webhook-ds `update`)."""
        self._permission(call, "edit")
        sub = self._webhook(ids[0], status=400)
        body = self._object_body(call)
        topic = body.get("topic")
        if topic:
            if not valid_webhook_topic(str(topic).lower()):
                raise RestError(
                    400,
                    "woocommerce_rest_shop_webhook_invalid_topic",
                    "Webhook topic must be valid.",
                )
            sub.topic = str(topic)
        url_changed = False
        url = body.get("delivery_url")
        if url:
            if not isinstance(url, str) or not _valid_url(url):
                raise _invalid_delivery_url()
            url_changed = url != sub.delivery_url
            sub.delivery_url = url
        if body.get("secret"):
            sub.secret = str(body["secret"])
        status = body.get("status")
        if status:
            if str(status).lower() not in ("active", "paused", "disabled"):
                raise RestError(
                    400,
                    "woocommerce_rest_shop_webhook_invalid_status",
                    "Webhook status must be valid.",
                )
            sub.status = str(status).lower()  # type: ignore[assignment]
        if body.get("name"):
            sub.name = str(body["name"])
        sub.modified = gmt(self.clock.time())
        if sub.status == "active" and (url_changed or sub.pending_delivery):
            self._webhooks.queue_ping(sub.id)
        return self._respond(200, self._render_webhook(sub))

    def _delete_webhook(self, call: _Call, ids: tuple[int, ...]) -> httpx.Response:
        self._permission(call, "delete")
        if not _bool(call.param("force")):
            # §8: webhooks cannot be trashed.
            raise RestError(
                501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."
            )
        sub = self._webhook(ids[0], status=404)
        answer = self._render_webhook(sub)
        del self._webhooks.subscriptions[sub.id]
        self._webhooks.pending = [p for p in self._webhooks.pending if p.webhook_id != sub.id]
        return self._respond(200, answer)

    def _created(self, item: _Item) -> httpx.Response:
        # §2: a successful create answers 201 with a Location header.
        path = (
            f"products/{item.parent_id}/variations/{item.id}"
            if item.parent_id
            else f"products/{item.id}"
        )
        return self._respond(
            201, self._store.render_item(item), [("Location", f"{self.url}{_API_PREFIX}/{path}")]
        )

    def _product_for_update(self, item_id: int, *, status: int) -> _Item:
        item = self._store.get_item(item_id, status=status)
        if item.type == "variation":
            raise variation_through_products()
        return item

    @staticmethod
    def _object_body(call: _Call) -> Mapping[str, Any]:
        body = call.json()
        if not isinstance(body, Mapping):
            raise RestError(400, "rest_invalid_json", "Invalid JSON body passed.")
        # WordPress merges query parameters into the request's parameters.
        return {**dict(call.params), **body}

    # -----------------------------------------------------------------------------------------
    # Collections

    def _list_params(
        self,
        call: _Call,
        orderby_enum: Sequence[str],
        enums: Mapping[str, tuple[Sequence[str], bool]] | None = None,
    ) -> dict[str, Any]:
        """Validate a collection's parameters; all invalid ones are named in one 400 (§2).

        `enums` maps a filter to `(allowed values, is an array parameter)`.
        """
        errors = _enum_errors(call, enums or {})
        out: dict[str, Any] = {}

        def integer(name: str, default: int, low: int, high: int | None) -> None:
            raw = call.param(name)
            if raw is None:
                out[name] = default
                return
            try:
                value = int(raw)
            except ValueError:
                errors[name] = f"{name} is not of type integer."
                return
            if high is not None and not low <= value <= high:
                # §2: the literal message for per_page.
                errors[name] = f"{name} must be between {low} (inclusive) and {high} (inclusive)"
            elif high is None and value < low:
                errors[name] = f"{name} must be greater than or equal to {low}"
            else:
                out[name] = value

        integer("per_page", 10, 1, 100)
        integer("page", 1, 1, None)
        if call.param("offset") is not None:
            integer("offset", 0, 0, None)
        order = call.param("order") or "desc"
        if order not in {"asc", "desc"}:
            errors["order"] = "order is not one of asc and desc."
        out["order"] = order
        orderby = call.param("orderby") or "date"
        if orderby not in orderby_enum:
            errors["orderby"] = (
                f"orderby is not one of {', '.join(orderby_enum[:-1])}, and {orderby_enum[-1]}."
            )
        out["orderby"] = orderby
        gmt_raw = (call.param("dates_are_gmt") or "false").lower()
        if gmt_raw not in {"true", "false", "1", "0"}:
            errors["dates_are_gmt"] = "dates_are_gmt is not of type boolean."
        out["dates_are_gmt"] = gmt_raw in {"true", "1"}
        for name in ("after", "before", "modified_after", "modified_before"):
            raw = call.param(name)
            if raw is None:
                continue
            parsed = _parse_date(raw)
            if parsed is None:
                errors[name] = "Invalid date."
            out[name] = parsed
        include = call.param_list("include")
        if include is not None:
            try:
                out["include"] = [int(v) for v in include]
            except ValueError:
                errors["include"] = "include[0] is not of type integer."
        if errors:
            raise _invalid_params(errors)
        return out

    def _filter_dates(
        self, params: Mapping[str, Any], created: datetime, modified: datetime
    ) -> bool:
        # §3: GMT columns with dates_are_gmt=true, else the site-local ones; all ANDed, the
        # bounds exclusive (WordPress date queries are not inclusive by default).
        if params.keys().isdisjoint(_DATE_BOUNDS):
            return True  # no date filter: skip the conversions (a listing checks every item)
        shift = timedelta(0) if params["dates_are_gmt"] else self.utc_offset
        created_at = (created.astimezone(UTC) + shift).replace(tzinfo=None, microsecond=0)
        modified_at = (modified.astimezone(UTC) + shift).replace(tzinfo=None, microsecond=0)
        checks = (
            ("after", created_at, 1),
            ("before", created_at, -1),
            ("modified_after", modified_at, 1),
            ("modified_before", modified_at, -1),
        )
        for name, value, sign in checks:
            bound = params.get(name)
            if bound is None:
                continue
            if (sign > 0 and not value > bound) or (sign < 0 and not value < bound):
                return False
        return True

    def _page(
        self,
        call: _Call,
        params: Mapping[str, Any],
        rows: list[tuple[int, datetime, datetime, str]],
        render: Callable[[int], Any],
        base_path: str,
    ) -> httpx.Response:
        """Sort, slice and answer a collection with §3's headers.

        Rows are `(id, created, modified, title)`.
        """
        orderby, descending = params["orderby"], params["order"] == "desc"
        include = params.get("include") or []
        keys: dict[str, Callable[[tuple[int, datetime, datetime, str]], Any]] = {
            # §3: date/modified get ` ID` appended as a tie-break, in the same direction.
            "date": lambda r: (r[1], r[0]),
            "modified": lambda r: (r[2], r[0]),
            "id": lambda r: r[0],
            "title": lambda r: (r[3], r[0]),
            "slug": lambda r: (r[3].lower(), r[0]),
            "include": lambda r: include.index(r[0]) if r[0] in include else len(include),
        }
        key = keys.get(orderby, keys["date"])
        if orderby == "include":
            rows.sort(key=key)
        else:
            rows.sort(key=key, reverse=descending)
        per_page, page = params["per_page"], params["page"]
        total = len(rows)
        max_pages = math.ceil(total / per_page)
        start = params["offset"] if "offset" in params else (page - 1) * per_page
        chunk = rows[start : start + per_page]
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(max_pages))]
        base = f"{self.url}/wp-json/wc/v3/{base_path}"

        def link(target: int) -> str:
            # §3: the links keep the request's query parameters with `page` replaced.
            query = [(k, v) for k, v in call.params if k != "page"]
            query.append(("page", str(target)))
            return f"{base}?{urlencode(query)}"

        # §3: the CRUD controller emits only prev and next; prev is capped at the last page.
        if page > 1:
            headers.append(("Link", f'<{link(min(page - 1, max_pages) or 1)}>; rel="prev"'))
        if max_pages > page:
            headers.append(("Link", f'<{link(page + 1)}>; rel="next"'))
        return self._respond(200, [render(r[0]) for r in chunk], headers)

    def _list_orders(self, call: _Call) -> httpx.Response:
        params = self._list_params(call, _ORDERBY, {"status": (_ORDER_STATUS_FILTER, True)})
        self._permission(call, "list")
        statuses = call.param_list("status") or ["any"]
        customer = call.param("customer")
        rows = []
        for order in self._store.orders.values():
            if "any" in statuses:
                hidden = {"trash", "auto-draft"} | (
                    set() if self.drafts_in_any else {"checkout-draft"}
                )
                if order.status in hidden and order.status not in statuses:
                    continue
            elif order.status not in statuses:
                continue
            if "include" in params and order.id not in params["include"]:
                continue
            if customer is not None and str(order.customer_id) != customer:
                continue
            if not self._filter_dates(params, order.created, order.modified):
                continue
            rows.append((order.id, order.created, order.modified, str(order.id)))
        return self._page(
            call, params, rows, lambda i: self._store.render_order(self._store.orders[i]), "orders"
        )

    def _list_products(self, call: _Call, *, parent_id: int | None) -> httpx.Response:
        params = self._list_params(
            call,
            _PRODUCT_ORDERBY if parent_id is None else _ORDERBY,
            {
                "status": (_PRODUCT_STATUS_FILTER, False),
                "stock_status": (_STOCK_STATUSES, False),
            },
        )
        self._permission(call, "list")
        skus = call.param_list("sku")
        types = call.param_list("type")
        statuses = call.param_list("status") or ["any"]
        stock_status = call.param("stock_status")
        rows = []
        items = self._store.items
        candidates: Iterable[_Item]
        # Narrow through the SKU index or the id list so a filtered listing costs the same in
        # a large catalog as in a small one (issue 12); the checks below still apply to every
        # candidate.
        if parent_id is None and skus is not None:
            owners = (self._store.sku_owner(sku) for sku in dict.fromkeys(skus))
            candidates = [item for item in owners if item is not None]
        elif parent_id is None and "include" in params:
            candidates = [items[i] for i in dict.fromkeys(params["include"]) if i in items]
        elif parent_id is None:
            candidates = items.values()
        else:
            # A parent's variations are its children: no need to look at every item.
            parent = items.get(parent_id)
            children = parent.children if parent is not None else []
            candidates = [items[child] for child in children if child in items]
        for item in candidates:
            if parent_id is None:
                # §3: a `sku` filter searches products and variations; otherwise only products.
                if item.type == "variation" and skus is None:
                    continue
            elif item.type != "variation" or item.parent_id != parent_id:
                # The reference is silent on an unknown parent; like WordPress's post_parent
                # query, the simulator answers an empty list.
                continue
            if skus is not None and item.sku not in skus:
                continue
            if types is not None and item.type not in types:
                continue
            if "any" in statuses:
                # WP_Query's `any` leaves out statuses excluded from search, trash among them.
                if item.status == "trash":
                    continue
            elif item.status not in statuses:
                continue
            if "include" in params and item.id not in params["include"]:
                continue
            if (
                stock_status is not None
                and self._store.render_item(item)["stock_status"] != stock_status
            ):
                continue
            if not self._filter_dates(params, item.created, item.modified):
                continue
            rows.append((item.id, item.created, item.modified, item.name))
        base = "products" if parent_id is None else f"products/{parent_id}/variations"
        return self._page(
            call,
            params,
            rows,
            lambda i: self._store.render_item(
                self._store.items[i], product_shape=parent_id is None
            ),
            base,
        )

    # -----------------------------------------------------------------------------------------
    # Orders over REST

    def _order_from_body(self, body: Mapping[str, Any]) -> _Order:
        # §5 "Writing orders": an entry with quantity 0 or a null product_id adds no line.
        lines = [
            self._store.line_from_body(raw)
            for raw in body.get("line_items") or []
            if isinstance(raw, Mapping) and not self._store.removes_line(raw)
        ]
        shipping = [s for s in body.get("shipping_lines") or [] if isinstance(s, Mapping)]
        shipping_total = sum((Decimal(str(s.get("total") or 0)) for s in shipping), Decimal(0))
        method = (
            (str(shipping[0].get("method_id", "")), str(shipping[0].get("method_title", "")))
            if shipping
            else ("", "")
        )
        now = gmt(self.clock.time())
        status = str(body.get("status") or "pending")  # §5: pending is the REST default
        if _bool(body.get("set_paid")) and status == "pending":
            # §7: set_paid runs payment_complete: processing, and stock is reduced.
            status = "processing"
        return _Order(
            id=self._store.allocate_id(),
            status=status,
            lines=lines,
            shipping_total=shipping_total,
            shipping_method=method,
            fees=[
                (str(f.get("name", "")), Decimal(str(f.get("total") or 0)))
                for f in body.get("fee_lines") or []
                if isinstance(f, Mapping)
            ],
            # The reference is silent on how coupons apply without WooCommerce's coupon
            # records; the simulator takes each coupon line's `discount` as its amount.
            coupons=[
                (str(c.get("code", "")), Decimal(str(c.get("discount") or 0)))
                for c in body.get("coupon_lines") or []
                if isinstance(c, Mapping)
            ],
            tax_rate=self.tax_rate,
            tax_shipping=self.tax_shipping,
            currency=str(body.get("currency") or "USD"),
            customer_id=int(body.get("customer_id") or 0),
            # §5: a REST-created order carries every address key, empty when not given.
            billing=full_address("billing", _mapping(body.get("billing"))),
            shipping=full_address("shipping", _mapping(body.get("shipping"))),
            payment_method=str(body.get("payment_method") or "bacs"),
            payment_method_title=str(body.get("payment_method_title") or "Direct Bank Transfer"),
            customer_note=str(body.get("customer_note") or ""),
            meta_data=[
                {"id": n + 1, "key": m["key"], "value": m.get("value")}
                for n, m in enumerate(body.get("meta_data") or [])
                if isinstance(m, Mapping) and "key" in m
            ],
            created_via="rest-api",  # §5
            created=now,
            modified=now,
        )

    def _create_order(self, call: _Call) -> httpx.Response:
        self._permission(call, "create")
        order = self._order_create(self._object_body(call))
        return self._respond(
            201,
            self._store.render_order(order),
            [("Location", f"{self.url}{_API_PREFIX}/orders/{order.id}")],
        )

    def _order_create(self, body: Mapping[str, Any]) -> _Order:
        """POST /orders semantics, shared by the single route and `orders/batch` (§4)."""
        if body.get("id"):
            raise RestError(
                400, "woocommerce_rest_shop_order_exists", "Cannot create existing order."
            )
        if body.get("status") and body["status"] not in ORDER_STATUSES:
            raise _invalid_params({"status": f"status is not one of {', '.join(ORDER_STATUSES)}."})
        return self._store.create_order(self._order_from_body(body))

    def _update_order(self, call: _Call, order_id: int) -> httpx.Response:
        self._permission(call, "edit")
        order = self._order_update(order_id, self._object_body(call))
        return self._respond(200, self._store.render_order(order))

    def _order_update(self, order_id: int, body: Mapping[str, Any]) -> _Order:
        """PUT /orders/<id> semantics, shared by the single route and `orders/batch` (§4)."""
        order = self._store.get_order(order_id, status=400)  # §2: PUT on unknown → 400
        status = body.get("status")
        if status is not None and status not in ORDER_STATUSES:
            raise _invalid_params({"status": f"status is not one of {', '.join(ORDER_STATUSES)}."})
        # Worked out before anything is applied, so a refused line write changes nothing.
        lines = (
            self._store.edited_lines(order, body["line_items"])
            if isinstance(body.get("line_items"), list)
            else None
        )
        if isinstance(body.get("meta_data"), list):
            self._store._upsert_meta(order.meta_data, body["meta_data"])
        for kind in ("billing", "shipping"):
            given = body.get(kind)
            if isinstance(given, Mapping):
                # The address as the order renders it, with the given keys changed.
                current = self._store.render_order(order)[kind]
                setattr(order, kind, full_address(kind, current, given))
        if "customer_note" in body:
            order.customer_note = str(body["customer_note"])
        if lines is not None:
            # §5, §7: totals follow the lines; stock already reduced moves by the difference.
            self._store.replace_lines(order, lines)
        order.modified = gmt(self.clock.time())
        if status is not None and status != order.status:
            self._store.set_status(order, str(status))
        elif order.status not in {"draft", "auto-draft", "new"}:
            self._emit("order", order.id, "updated")
        if _bool(body.get("set_paid")) and self._needs_payment(order):
            # §7: after the save, set_paid calls payment_complete() on an order that
            # needs_payment(): processing, date_paid, stock reduced (once).
            self._store.payment_complete(order)
        return order

    def _needs_payment(self, order: _Order) -> bool:
        # `WC_Order::needs_payment()`: a payable status and a total above zero.
        total = Decimal(str(self._store.render_order(order)["total"]))
        return order.status in self.payable_statuses and total > 0

    # -----------------------------------------------------------------------------------------
    # Batch

    def _product_batch(self, call: _Call, *, parent_id: int | None) -> httpx.Response:
        return self._batch(
            call,
            endpoint="products/batch" if parent_id is None else "products/{id}/variations/batch",
            post_type="product" if parent_id is None else "product_variation",
            item=lambda op, raw, wanted: self._batch_item(op, raw, wanted, parent_id),
        )

    def _order_batch(self, call: _Call) -> httpx.Response:
        def item(op: str, raw: Any, wanted: int) -> dict[str, Any]:
            if op == "create":
                if not isinstance(raw, Mapping):
                    raise RestError(400, "rest_invalid_param", "Invalid parameter(s): create")
                # §4: the batch URL's query parameters reach create sub-requests only.
                order = self._order_create({**dict(call.params), **raw})
                return self._store.render_order(order)
            if op == "update":
                if not isinstance(raw, Mapping):
                    raise invalid_id("shop_order", 400)
                return self._store.render_order(self._order_update(wanted, raw))
            # delete: §4, permanent (force=true); the answer is the order as it was. Stock is
            # left as it is and, per Unconfirmed 6, no webhook is queued.
            doc = self._store.render_order(self._store.get_order(wanted))
            del self._store.orders[wanted]
            return doc

        return self._batch(call, endpoint="orders/batch", post_type="shop_order", item=item)

    def _batch(
        self,
        call: _Call,
        *,
        endpoint: str,
        post_type: str,
        item: Callable[[str, Any, int], dict[str, Any]],
    ) -> httpx.Response:
        """§4 for every batch route: limit, per-item answers, HTTP 200 with failures."""
        body = call.json()
        if not isinstance(body, Mapping):
            raise RestError(400, "rest_invalid_json", "Invalid JSON body passed.")
        self._permission(call, "batch")
        ops = {op: list(body.get(op) or []) for op in ("create", "update", "delete")}
        self.batches.append(
            BatchRecord(
                endpoint=endpoint,
                create=len(ops["create"]),
                update=len(ops["update"]),
                delete=len(ops["delete"]),
                body=body,
            )
        )
        if sum(len(v) for v in ops.values()) > self.batch_limit:
            # §4: the literal 413 body.
            raise RestError(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {self.batch_limit} items for this request.",
            )
        out: dict[str, list[Any]] = {}
        position = 0
        for op in ("create", "update", "delete"):
            if not ops[op] and op not in body:
                continue
            results = out.setdefault(op, [])
            for raw in ops[op]:
                item_no = position
                position += 1
                requested = raw.get("id", 0) if isinstance(raw, Mapping) else raw
                try:
                    wanted = int(requested or 0)
                except (TypeError, ValueError):
                    wanted = 0
                if op == "delete" and wanted == 0:
                    continue  # §4: delete ids that cast to 0 are skipped silently
                try:
                    if self._injector.batch_item_fails(call.index, item_no):
                        raise self._injected_failure(op, post_type)
                    results.append(item(op, raw, wanted))
                except RestError as exc:
                    # §4: a failed item is {"id", "error"} (id 0 for creates); HTTP stays 200.
                    results.append(
                        {
                            "id": 0 if op == "create" else wanted,
                            "error": {
                                "code": exc.code,
                                "message": exc.message,
                                "data": {"status": exc.status, **exc.data},
                            },
                        }
                    )
        return self._respond(200, out)

    @staticmethod
    def _injected_failure(op: str, post_type: str) -> RestError:
        if op == "create":
            # §2: an exception while saving; the message is the simulator's own.
            return RestError(
                400, f"woocommerce_rest_{post_type}_not_created", "Simulated failure while saving."
            )
        return invalid_id(post_type, 400 if op == "update" else 404)

    def _batch_item(self, op: str, raw: Any, wanted: int, parent_id: int | None) -> dict[str, Any]:
        if op == "create":
            if not isinstance(raw, Mapping):
                raise RestError(400, "rest_invalid_param", "Invalid parameter(s): create")
            item = self._store.create_item(raw, parent_id=parent_id or 0)
            return self._store.render_item(item)
        if op == "update":
            if not isinstance(raw, Mapping):
                raise invalid_id("product" if parent_id is None else "product_variation", 400)
            if parent_id is None:
                item = self._product_for_update(wanted, status=400)
                endpoint = "POST /products/batch"
            else:
                item = self._store.get_variation(parent_id, wanted, status=400)
                endpoint = "POST /products/{id}/variations/batch"
            self._store.update_item(item, raw, endpoint=endpoint)
            return self._store.render_item(item)
        # delete: §4, batch deletes are permanent (force=true); the answer is the item as it was.
        if parent_id is None:
            item = self._store.get_item(wanted)
            if item.type == "variation":
                raise variation_through_products()
        else:
            item = self._store.get_variation(parent_id, wanted)
        doc = self._store.render_item(item)
        self._delete(item)
        return doc

    def _delete(self, item: _Item) -> None:
        for child in list(item.children):
            self._store.items.pop(child, None)
        self._store.items.pop(item.id, None)
        if item.parent_id and item.parent_id in self._store.items:
            self._store.items[item.parent_id].children.remove(item.id)
        # Unconfirmed 6: a permanent delete may fire no webhook, so none is queued.


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _valid_url(url: str) -> bool:
    # wc_is_valid_url: http:// or https:// and a host (FILTER_VALIDATE_URL).
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def _invalid_delivery_url() -> RestError:
    return RestError(
        400,
        "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "Webhook delivery URL must be a valid URL starting with http:// or https://.",
    )


def _generated_secret() -> str:
    return "".join(secrets.choice(_WP_GENERATED_ALPHABET) for _ in range(50))


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true", "yes"}
    return bool(value)
