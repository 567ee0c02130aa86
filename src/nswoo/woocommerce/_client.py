"""The WooCommerce wc/v3 client: orders, products, variations, batch stock updates.

Every call goes through the shared HTTP pipeline (`nswoo._http.HttpPipeline`): one limiter
slot, HTTP Basic auth, error translation by `_faults.translate`, pauses on 429/503 and
bounded retries. This module builds requests and reads responses; the request builders and
response readers are plain functions so they can be tested without I/O.

Facts it relies on (reference/woocommerce.md): Basic auth over HTTPS (§1); `per_page` at
most 100, `X-WP-TotalPages`, `orderby`/`order`, `dates_are_gmt` (§3); batch endpoints,
their 100-item limit and per-item errors inside a 200 (§4); the `sku=` list filter finding
variations too, and `manage_stock: "parent"` (§6).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import attrs
import httpx

from .._clock import Clock
from .._http import BasicAuth, HttpPipeline, RequestAuth, RetryPolicy, error_context
from .._settings import WooSettings
from .._settings._urls import url_problem
from ..errors import ApiContext, ApiError, ConfigurationError, ResponseInvalid
from ..limits._local import Limiter, LocalLimiter
from ._convert import dumps, loads, structure_order, structure_product, structure_variation
from ._faults import is_too_large, translate
from ._records import WooOrder, WooProduct, WooVariation
from ._webhook_admin import WebhookStatus, WooWebhook, read_webhook

__all__ = [
    "BATCH_LIMIT",
    "PAGE_SIZE",
    "BatchItemError",
    "BatchResult",
    "Patch",
    "StockUpdate",
    "WooClient",
    "check_store",
    "check_store_url",
    "probe",
    "unsearchable_skus",
]

PAGE_SIZE = 100
"""Items per page: wc/v3's maximum; 101 is refused with `rest_invalid_param` (§3)."""

BATCH_LIMIT = 100
"""Items per batch request: WooCommerce's default `woocommerce_rest_batch_items_limit` (§4)."""

# A list of SKUs travels in the query string. The reference is silent on URL length
# limits; web servers commonly refuse request lines of a few KiB, so a chunk is also capped
# in characters (a conservative choice, not a documented WooCommerce limit).
_SKU_QUERY_CHARS = 2000
_MISSING_FROM_RESPONSE = "missing_from_response"


@attrs.frozen
class StockUpdate:
    """An absolute stock change for one product or variation.

    Only the fields given are sent. `stock_quantity` sets the quantity (WooCommerce applies
    it only when the item manages stock); `manage_stock=False` with `stock_status` is the
    "status-only" policy (reference §6, §7).

    Example:
        >>> StockUpdate(id=794, stock_quantity=12).as_patch()
        {'id': 794, 'stock_quantity': 12}
    """

    id: int
    stock_quantity: int | None = None
    stock_status: str | None = None
    manage_stock: bool | None = None

    def as_patch(self) -> dict[str, Any]:
        """The batch `update` entry: `id` plus the fields that are set."""
        patch: dict[str, Any] = {"id": self.id}
        if self.manage_stock is not None:
            patch["manage_stock"] = self.manage_stock
        if self.stock_quantity is not None:
            patch["stock_quantity"] = self.stock_quantity
        if self.stock_status is not None:
            patch["stock_status"] = self.stock_status
        return patch


Patch = StockUpdate | Mapping[str, Any]
"""A batch update item: a `StockUpdate`, or any wc/v3 update object with an integer `id`."""


@attrs.frozen
class BatchItemError:
    """One item a batch refused: its id and WooCommerce's `{code, message, data.status}`."""

    id: int
    code: str
    message: str
    status: int | None = None


@attrs.frozen
class BatchResult:
    """What a batch update did, item by item.

    WooCommerce answers 200 even when items failed, and applies the others (no rollback,
    reference §4), so both lists matter.

    Attributes:
        succeeded: ids WooCommerce updated, in request order.
        failed: the items it refused, with their error codes.
        requests: how many batch requests were sent (a 413 splits a chunk).
    """

    succeeded: tuple[int, ...] = ()
    failed: tuple[BatchItemError, ...] = ()
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed


# ---------------------------------------------------------------------------------------------
# Pure helpers: settings checks, request builders, response readers


def check_store_url(settings: WooSettings) -> None:
    """Refuse store URLs that would send the consumer key where it must not go.

    The URL rules every part of nswoo applies (`nswoo._settings._urls.url_problem`): HTTPS,
    or plain HTTP to a loopback host only (simulators, local proxies), because Basic auth
    sends the key and secret in every request; no credentials in the URL (they would end
    up in logs); the site root, without a query or fragment.

    Raises:
        ConfigurationError: naming `WOO_<ENV>_URL`, never its value.
    """
    problem = url_problem(settings.url)
    if problem is not None:
        raise ConfigurationError(problem, key=f"WOO_{settings.environment.upper()}_URL")


def gmt_param(moment: datetime) -> str:
    """An aware datetime → the ISO 8601 UTC text sent with `dates_are_gmt=true` (§3).

    Raises:
        ValueError: `moment` is naive (its time zone would be a guess).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("dates sent to WooCommerce must be timezone-aware")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def order_list_params(
    *,
    modified_after: datetime | None = None,
    modified_before: datetime | None = None,
    statuses: Sequence[str] | None = None,
) -> dict[str, str]:
    """Query parameters for listing orders, oldest id first (without `page`).

    `orderby=id&order=asc` keeps paging stable: with `orderby=date` orders sharing a
    timestamp are duplicated and skipped across pages (peers #15), while ids are unique and
    new orders only append at the end. `dates_are_gmt=true` makes `modified_after` compare
    with the GMT modified date (§3).
    """
    params = {
        "per_page": str(PAGE_SIZE),
        "orderby": "id",
        "order": "asc",
        "dates_are_gmt": "true",
    }
    if modified_after is not None:
        params["modified_after"] = gmt_param(modified_after)
    if modified_before is not None:
        params["modified_before"] = gmt_param(modified_before)
    if statuses:
        # `status` is an array parameter in v3 (§3); the reference does not say how arrays
        # are encoded in a query. A comma-separated list is what WordPress parses for array
        # arguments (as for `sku=`, §3); the client also filters by status itself, so a
        # store that ignored the list would cost requests, never correctness.
        params["status"] = ",".join(statuses)
    return params


def total_pages(response: httpx.Response) -> int | None:
    """`X-WP-TotalPages` as an int, or None when absent or not a number (§3)."""
    value = response.headers.get("x-wp-totalpages")
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


_MAX_RESTARTS = 3
"""How often one listing restarts from page 1 because it shrank while being paged."""


def _total_items(response: httpx.Response) -> int | None:
    """`X-WP-Total`, when present and a number (reference §3: set on every collection)."""
    value = response.headers.get("x-wp-total", "").strip()
    return int(value) if value.isdigit() else None


def chunk_skus(skus: Iterable[str]) -> list[list[str]]:
    """Distinct, searchable SKUs in chunks of at most 100 SKUs and ~2000 characters.

    Empty SKUs and SKUs containing a comma are left out: the `sku=` filter splits its value
    on commas (§3), so such a SKU can never be matched exactly (see `unsearchable_skus`).
    """
    chunks: list[list[str]] = []
    current: list[str] = []
    length = 0
    seen: set[str] = set()
    for sku in skus:
        if not sku or "," in sku or sku in seen:
            continue
        seen.add(sku)
        if current and (len(current) >= PAGE_SIZE or length + len(sku) + 1 > _SKU_QUERY_CHARS):
            chunks.append(current)
            current, length = [], 0
        current.append(sku)
        length += len(sku) + 1
    if current:
        chunks.append(current)
    return chunks


def unsearchable_skus(skus: Iterable[str]) -> tuple[str, ...]:
    """SKUs `find_by_sku` cannot look up: those containing a comma (§3 `sku=` splits on it)."""
    return tuple(dict.fromkeys(sku for sku in skus if "," in sku))


def batch_patch(update: Patch) -> dict[str, Any]:
    """A batch `update` entry from a `StockUpdate` or a mapping, checking its `id`.

    Raises:
        ValueError: no positive integer `id` (WooCommerce silently skips id 0, §4).
    """
    patch = update.as_patch() if isinstance(update, StockUpdate) else dict(update)
    item_id = patch.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id <= 0:
        raise ValueError("every batch update needs a positive integer id")
    return patch


def is_absolute(patch: Mapping[str, Any]) -> bool:
    """Whether applying `patch` twice leaves the same state as applying it once.

    Every wc/v3 update field sets a value, except `inventory_delta`, which adds to the
    current stock (§6): a retried delta would count twice.
    """
    return "inventory_delta" not in patch


def read_batch(body: Any, requested: Sequence[int], context: ApiContext) -> BatchResult:
    """A batch response's `update` list → succeeded ids and typed per-item errors.

    A failed item is `{"id": <id>, "error": {code, message, data}}` inside a 200 (§4).
    Requested ids missing from the answer are reported as failed
    (`missing_from_response`) rather than assumed done.

    Raises:
        ResponseInvalid: the body is not `{"update": [...]}`.
    """
    items = body.get("update") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise ResponseInvalid("batch response has no update list", **context)
    succeeded: list[int] = []
    failed: list[BatchItemError] = []
    answered: set[int] = set()
    for item in items:
        if not isinstance(item, Mapping):
            continue
        item_id = item.get("id")
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            continue
        answered.add(item_id)
        error = item.get("error")
        if isinstance(error, Mapping):
            data = error.get("data")
            status = data.get("status") if isinstance(data, Mapping) else None
            failed.append(
                BatchItemError(
                    id=item_id,
                    code=str(error.get("code") or "unknown"),
                    message=str(error.get("message") or ""),
                    status=status if isinstance(status, int) else None,
                )
            )
        else:
            succeeded.append(item_id)
    for item_id in requested:
        if item_id not in answered:
            failed.append(
                BatchItemError(
                    id=item_id,
                    code=_MISSING_FROM_RESPONSE,
                    message="the batch response did not mention this item",
                )
            )
            answered.add(item_id)
    return BatchResult(succeeded=tuple(succeeded), failed=tuple(failed), requests=1)


def _product_or_variation(item: Any, context: ApiContext) -> WooProduct | WooVariation:
    # `GET /products?sku=` returns variations too, as `type: "variation"` with a parent_id
    # (§3, §6).
    if isinstance(item, Mapping) and item.get("type") == "variation":
        return structure_variation(item, context=context)
    return structure_product(item, context=context)


# ---------------------------------------------------------------------------------------------
# The client


class WooClient:
    """An async client for one WooCommerce store's wc/v3 REST API.

    Example:
        >>> async with WooClient.from_settings(settings) as woo:  # doctest: +SKIP
        ...     async for order in woo.iter_orders(modified_after=since):
        ...         ...
        ...     found = await woo.find_by_sku(["ABC-1", "ABC-2"])
        ...     result = await woo.batch_update_products([StockUpdate(id=794, stock_quantity=3)])

    Args:
        settings: the store URL and keys.
        http: the httpx client; its timeout applies to each attempt. Closed by `aclose()`
            only when this client created it (`from_settings`).
        limiter: the WooCommerce limiter shared by every caller (default cap 4:
            `WOO_<ENV>_CONCURRENCY`).
        auth: request auth; default HTTP Basic with the consumer key and secret.
        clock: time source for pauses and backoff.
        policy: retry bounds.

    Raises:
        ConfigurationError: the store URL is not HTTPS (plain HTTP is allowed for loopback
            hosts only) or carries credentials.
    """

    def __init__(
        self,
        settings: WooSettings,
        *,
        http: httpx.AsyncClient,
        limiter: Limiter,
        auth: RequestAuth | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        check_store_url(settings)
        self._settings = settings
        self._api = settings.api_url
        self._http = http
        self._owns_http = False
        self._log = logging.getLogger("nswoo.woocommerce")
        self.pipeline = HttpPipeline(
            system="woocommerce",
            http=http,
            limiter=limiter,
            auth=auth or BasicAuth(settings.consumer_key, settings.consumer_secret),
            translate=translate,
            policy=policy,
            clock=clock,
        )

    @classmethod
    def from_settings(
        cls,
        settings: WooSettings,
        *,
        limiter: Limiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
    ) -> Self:
        """A client with its own httpx client (timeout from settings, redirects not followed)
        and, unless given, a `LocalLimiter` capped at `settings.concurrency`.
        """
        http = httpx.AsyncClient(
            timeout=settings.timeout, transport=transport, follow_redirects=False
        )
        client = cls(
            settings,
            http=http,
            limiter=limiter or LocalLimiter(settings.concurrency, clock=clock),
            clock=clock,
            policy=policy,
        )
        client._owns_http = True
        return client

    @property
    def url(self) -> str:
        """The store URL (site root)."""
        return self._settings.url

    def __repr__(self) -> str:
        return f"WooClient(url={self._settings.url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the httpx client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    # -- sending ----------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> httpx.Request:
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = dumps(body)
        # The keys go only in the Authorization header (added by the pipeline's auth), never
        # in the query string, where servers and proxies log them (§1 allows both).
        return self._http.build_request(
            method, f"{self._api}/{path}", params=params, headers=headers, content=content
        )

    async def _send(self, request: httpx.Request, *, idempotent: bool | None = None) -> Any:
        response = await self.pipeline.send(request, idempotent=idempotent)
        return self._json(response)

    def _json(self, response: httpx.Response) -> Any:
        context = error_context(response, "woocommerce")
        if 300 <= response.status_code < 400:
            location = urlsplit(response.headers.get("location", ""))
            where = f"{location.scheme}://{location.netloc}" if location.netloc else "elsewhere"
            raise ResponseInvalid(
                f"the store redirected to {where}; set WOO_<ENV>_URL to the address it "
                "redirects to (redirects are not followed: they can drop the credentials)",
                **context,
            )
        try:
            return loads(response.content)
        except ValueError:
            # A 2xx that is not JSON: a caching plugin, a host page, or PHP notices printed
            # before the JSON (reference §9 item 11). Nothing here can be trusted.
            raise ResponseInvalid(
                "the store answered 2xx with a body that is not JSON", **context
            ) from None

    async def _pages(
        self, path: str, params: Mapping[str, str]
    ) -> AsyncIterator[tuple[list[Any], ApiContext]]:
        """Each page of a collection, following `X-WP-TotalPages` (re-read on every page).

        Page-number paging shifts when an item earlier in the listing leaves it (trashed, or
        edited out of the filter): the first item of the next page moves onto the page
        already read and would be skipped. When `X-WP-Total` drops between pages, paging
        starts again from page 1 (at most `_MAX_RESTARTS` times); callers drop the items
        they already saw.
        """
        page = 1
        known_total: int | None = None
        restarts = 0
        while True:
            request = self._request("GET", path, params={**params, "page": str(page)})
            response = await self.pipeline.send(request)
            context = error_context(response, "woocommerce")
            items = self._json(response)
            if not isinstance(items, list):
                raise ResponseInvalid("expected a JSON array of items", **context)
            total = _total_items(response)
            if (
                page > 1
                and total is not None
                and known_total is not None
                and total < known_total
                and restarts < _MAX_RESTARTS
            ):
                self._log.info(
                    "GET %s: the listing shrank from %d to %d items while paging; "
                    "reading it again from page 1",
                    path,
                    known_total,
                    total,
                )
                restarts += 1
                known_total = total
                page = 1
                continue
            if total is not None:
                known_total = total
            pages = total_pages(response)
            self._log.debug("GET %s page %d of %s: %d items", path, page, pages, len(items))
            yield items, context
            if not items:
                return
            # The header is always set on collections (§3); without it, a short page is last.
            if pages is not None and page >= pages:
                return
            if pages is None and len(items) < PAGE_SIZE:
                return
            page += 1

    async def probe(self) -> str:
        """`GET products?per_page=1`: are the URL and keys good? (See the module `probe`.)"""
        request = self._request("GET", "products", params={"per_page": "1"})
        response = await self.pipeline.send(request)
        if not isinstance(self._json(response), list):
            raise ResponseInvalid(
                "products did not answer with a JSON array",
                **error_context(response, "woocommerce"),
            )
        total = response.headers.get("x-wp-total", "").strip()
        count = f" ({total} products)" if total.isdigit() else ""
        return f"wc/v3 products answered{count}"

    # -- orders -----------------------------------------------------------------------------

    async def iter_orders(
        self,
        *,
        modified_after: datetime | None = None,
        modified_before: datetime | None = None,
        statuses: Sequence[str] | None = None,
        on_unreadable: Callable[[Any, ResponseInvalid], Awaitable[None]] | None = None,
    ) -> AsyncIterator[WooOrder]:
        """Every order matching the filters, oldest id first, each once.

        Pages with `per_page=100&orderby=id&order=asc&dates_are_gmt=true` until
        `X-WP-TotalPages`. An order that moves between pages while paging (edited into the
        filter) is yielded only once; one that leaves the filter mid-way may be missed by
        this pass and is found by the next poll, whose `modified_after` window overlaps.

        Args:
            modified_after: only orders modified after this aware datetime.
            modified_before: only orders modified before this aware datetime.
            statuses: only these statuses (e.g. `["processing", "on-hold"]`); all when None.
            on_unreadable: called with the raw JSON item and the error for an order that
                does not fit the model, which is then skipped; without it such an order
                raises, and one damaged order would stop every poll.

        Raises:
            ValueError: a naive datetime.
            ApiError: as the pipeline raises; `ResponseInvalid` for an unreadable order
                when `on_unreadable` is not given.
        """
        params = order_list_params(
            modified_after=modified_after, modified_before=modified_before, statuses=statuses
        )
        wanted = frozenset(statuses) if statuses else None
        seen: set[int] = set()
        async for items, context in self._pages("orders", params):
            for item in items:
                try:
                    order = structure_order(item, context=context)
                except ResponseInvalid as exc:
                    if on_unreadable is None:
                        raise
                    await on_unreadable(item, exc)
                    continue
                if order.id in seen:
                    continue
                seen.add(order.id)
                if wanted is not None and order.status not in wanted:
                    continue
                # Inclusive bounds: whether WooCommerce's own bounds are inclusive is not
                # documented (reference §3 is silent), and dropping an order modified in the
                # cursor's very second could lose it for good. Overlap costs only a re-check.
                if modified_after is not None and order.date_modified_gmt < modified_after:
                    continue
                if modified_before is not None and order.date_modified_gmt > modified_before:
                    continue
                yield order

    async def get_order(self, order_id: int) -> WooOrder:
        """One order by id.

        Raises:
            NotFound: no such order (`woocommerce_rest_shop_order_invalid_id`).
        """
        request = self._request("GET", f"orders/{int(order_id)}")
        response = await self.pipeline.send(request)
        return structure_order(self._json(response), context=error_context(response, "woocommerce"))

    # -- products and variations ------------------------------------------------------------

    async def iter_products(
        self, *, variations: bool = True
    ) -> AsyncIterator[WooProduct | WooVariation]:
        """Every product, oldest id first; each `variable` product is followed by its
        variations (read from `products/<id>/variations`, paged the same way) unless
        `variations=False` (the caller reads them with `iter_variations`, e.g. concurrently).
        """
        params = {"per_page": str(PAGE_SIZE), "orderby": "id", "order": "asc"}
        seen: set[int] = set()
        async for items, context in self._pages("products", params):
            for item in items:
                product = _product_or_variation(item, context)
                if product.id in seen:
                    continue
                seen.add(product.id)
                yield product
                if variations and isinstance(product, WooProduct) and product.type == "variable":
                    async for variation in self.iter_variations(product.id):
                        yield variation

    async def iter_variations(self, parent_id: int) -> AsyncIterator[WooVariation]:
        """Every variation of one variable product, oldest id first."""
        params = {"per_page": str(PAGE_SIZE), "orderby": "id", "order": "asc"}
        seen: set[int] = set()
        async for items, context in self._pages(f"products/{int(parent_id)}/variations", params):
            for item in items:
                variation = structure_variation(item, parent_id=parent_id, context=context)
                if variation.id not in seen:
                    seen.add(variation.id)
                    yield variation

    async def find_by_sku(self, skus: Iterable[str]) -> dict[str, WooProduct | WooVariation]:
        """Products and variations by exact SKU; SKUs not found are absent from the result.

        Uses `GET products?sku=A,B,...` (exact match, variations included, §3/§6) with at
        most 100 SKUs per request and 100 items per page. A SKU containing a comma cannot be
        looked up this way (the filter splits on commas): it is left out of the result and
        logged; `unsearchable_skus` names them, and `iter_products` does find them.
        """
        wanted = list(skus)
        for sku in unsearchable_skus(wanted):
            self._log.warning("SKU %r contains a comma and cannot be looked up by SKU", sku)
        found: dict[str, WooProduct | WooVariation] = {}
        for chunk in chunk_skus(wanted):
            names = frozenset(chunk)
            params = {
                "sku": ",".join(chunk),
                "per_page": str(PAGE_SIZE),
                "orderby": "id",
                "order": "asc",
            }
            async for items, context in self._pages("products", params):
                for item in items:
                    record = _product_or_variation(item, context)
                    # Keep exact matches only; the reference does not say whether the
                    # filter compares case-insensitively (it is a database match).
                    if record.sku is not None and record.sku in names:
                        found.setdefault(record.sku, record)
        return found

    # -- batch updates ----------------------------------------------------------------------

    async def batch_update_products(self, updates: Iterable[Patch]) -> BatchResult:
        """Update products in batches of at most 100 (`POST products/batch`).

        Variations cannot be updated here (WooCommerce refuses them, §6): use
        `batch_update_variations`.
        """
        return await self._batch("products/batch", updates)

    async def batch_update_variations(
        self, parent_id: int, updates: Iterable[Patch]
    ) -> BatchResult:
        """Update variations of one product in batches of at most 100
        (`POST products/<parent_id>/variations/batch`).
        """
        return await self._batch(f"products/{int(parent_id)}/variations/batch", updates)

    async def _batch(self, path: str, updates: Iterable[Patch]) -> BatchResult:
        pending = [batch_patch(update) for update in updates]
        # Absolute updates ("set stock to 5") are idempotent like a PUT: sending one again
        # after a lost answer leaves the same state, so the pipeline may retry it after a
        # timeout or 5xx instead of raising OutcomeUnknown. (It can overwrite a decrement
        # made in between, the same race any absolute push has, §7 item 2.) Relative
        # `inventory_delta` updates are not, and are never retried blind.
        idempotent = all(is_absolute(patch) for patch in pending)
        size = BATCH_LIMIT
        succeeded: list[int] = []
        failed: list[BatchItemError] = []
        requests = 0
        while pending:
            chunk = pending[:size]
            request = self._request("POST", path, body={"update": chunk})
            requests += 1
            try:
                response = await self.pipeline.send(request, idempotent=idempotent)
            except ApiError as exc:
                if not is_too_large(exc):
                    raise
                if len(chunk) > 1:
                    # The store's limit (filterable, §4) or a web server's body limit is
                    # lower than ours: halve, and keep the smaller size for what is left.
                    size = max(1, len(chunk) // 2)
                    self._log.info(
                        "%s: HTTP 413 for %d items, retrying %d at a time", path, len(chunk), size
                    )
                    continue
                failed.append(_too_large_item(chunk[0]["id"], exc))
                pending = pending[1:]
                continue
            result = read_batch(
                self._json(response),
                [patch["id"] for patch in chunk],
                error_context(response, "woocommerce"),
            )
            succeeded.extend(result.succeeded)
            failed.extend(result.failed)
            pending = pending[len(chunk) :]
        return BatchResult(succeeded=tuple(succeeded), failed=tuple(failed), requests=requests)

    # -- webhooks ---------------------------------------------------------------------------

    async def list_webhooks(self) -> list[WooWebhook]:
        """Every webhook on the store, whatever its status, oldest id first.

        `GET webhooks?status=all` (the default), paged like any collection. WooCommerce
        answers only keys of users who may manage WooCommerce; the answer never holds a
        webhook's secret (see `nswoo.woocommerce.ensure_webhooks`).

        Raises:
            ApiError: as the pipeline raises; `ResponseInvalid` for an unreadable webhook.
        """
        params = {"per_page": str(PAGE_SIZE), "orderby": "id", "order": "asc"}
        hooks: dict[int, WooWebhook] = {}
        async for items, context in self._pages("webhooks", params):
            for item in items:
                hook = read_webhook(item, context)
                hooks.setdefault(hook.id, hook)
        return list(hooks.values())

    async def create_webhook(
        self, *, topic: str, delivery_url: str, secret: str, name: str = ""
    ) -> WooWebhook:
        """Create an active webhook (`POST webhooks`); WooCommerce pings its URL (§8).

        Not retried blind after a lost answer (a second POST would make a second webhook):
        such a failure raises `OutcomeUnknown`, and listing the webhooks tells.

        Raises:
            ApiError: e.g. 400 `woocommerce_rest_shop_webhook_invalid_topic` or
                `..._invalid_delivery_url`, 401 for a key without write access.
        """
        body = {"name": name, "topic": topic, "delivery_url": delivery_url, "secret": secret}
        request = self._request("POST", "webhooks", body=body)
        response = await self.pipeline.send(request, idempotent=False)
        return read_webhook(self._json(response), error_context(response, "woocommerce"))

    async def update_webhook(
        self,
        webhook_id: int,
        *,
        status: WebhookStatus | None = None,
        delivery_url: str | None = None,
        secret: str | None = None,
        name: str | None = None,
        topic: str | None = None,
    ) -> WooWebhook:
        """Change the fields given (`PUT webhooks/<id>`); the others stay.

        Setting `status="active"` re-enables a webhook WooCommerce disabled after failed
        deliveries. Idempotent: each field is set to a value, so a retry is harmless.

        Raises:
            ApiError: e.g. 400 `woocommerce_rest_shop_webhook_invalid_id` for an unknown id.
        """
        fields = {
            "status": status,
            "delivery_url": delivery_url,
            "secret": secret,
            "name": name,
            "topic": topic,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        request = self._request("PUT", f"webhooks/{int(webhook_id)}", body=body)
        response = await self.pipeline.send(request)
        return read_webhook(self._json(response), error_context(response, "woocommerce"))


def _too_large_item(item_id: int, exc: ApiError) -> BatchItemError:
    return BatchItemError(
        id=item_id,
        code=exc.code or "request_entity_too_large",
        message="a single item is larger than the store accepts",
        status=exc.status,
    )


async def probe(client: WooClient) -> str:
    """The `nswoo check` probe: `GET products?per_page=1` through the full pipeline.

    Returns:
        A short detail for the report, e.g. `"wc/v3 products answered (42 products)"`.

    Raises:
        AuthenticationError: the keys were refused (with a hint on the likely cause).
        ApiError: the store could not be reached or answered something unusable.
    """
    return await client.probe()


async def check_store(settings: WooSettings) -> str:
    """`probe` on a client of its own, built from `settings` and closed afterwards.

    Raises:
        ConfigurationError: the store URL is refused.
        ApiError: as `probe`.
    """
    async with WooClient.from_settings(settings) as client:
        return await probe(client)
