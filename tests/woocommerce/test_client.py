"""The WooCommerce client over respx: paging, SKU lookup, batches, limits and safety."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from nswoo._http import RetryPolicy
from nswoo._settings import Secret, WooSettings
from nswoo.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ResponseInvalid,
    ServiceUnavailable,
)
from nswoo.limits._local import LocalLimiter
from nswoo.testing import FakeClock
from nswoo.woocommerce import (
    BatchItemError,
    StockUpdate,
    WooClient,
    WooProduct,
    WooVariation,
    probe,
    unsearchable_skus,
)

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
STORE = "https://shop.example"
API = f"{STORE}/wp-json/wc/v3"
KEY = "ck_0123456789abcdef"
SECRET = "cs_fedcba9876543210"


def settings(url: str = STORE) -> WooSettings:
    """Sandbox store settings with recognisable fake keys."""
    return WooSettings(
        environment="sandbox", url=url, consumer_key=Secret(KEY), consumer_secret=Secret(SECRET)
    )


@pytest.fixture
def clock() -> FakeClock:
    """A clock whose sleeps return at once."""
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> LocalLimiter:
    """The WooCommerce limiter at its default cap of 4."""
    return LocalLimiter(4, clock=clock)


@pytest.fixture
async def woo(
    clock: FakeClock, limiter: LocalLimiter, respx_mock: respx.MockRouter
) -> AsyncIterator[WooClient]:
    """A client on a respx-mocked transport; every request it sends is checked for safety."""
    async with httpx.AsyncClient() as http:
        yield WooClient(
            settings(), http=http, limiter=limiter, clock=clock, policy=RetryPolicy(attempts=4)
        )
    for call in respx_mock.calls:
        assert_safe(call.request)


def assert_safe(request: httpx.Request) -> None:
    """Keys only in the Basic header, never in the URL; per_page never above 100."""
    assert KEY not in str(request.url)
    assert SECRET not in str(request.url)
    assert "consumer_key" not in str(request.url)
    expected = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    per_page = request.url.params.get("per_page")
    if per_page is not None:
        assert 1 <= int(per_page) <= 100


def order_json(
    order_id: int, status: str = "processing", modified: str = "2024-05-01T10:00:00"
) -> dict[str, Any]:
    """The published order example with another id, status and modified date."""
    body: dict[str, Any] = json.loads((FIXTURES / "woo_order_example.json").read_text())
    body.update(id=order_id, number=str(order_id), status=status, date_modified_gmt=modified)
    return body


def product_json(
    product_id: int, sku: str = "", type_: str = "simple", **changes: Any
) -> dict[str, Any]:
    """The published product example with another id, SKU and type."""
    body: dict[str, Any] = json.loads((FIXTURES / "woo_product_example.json").read_text())
    body.update(id=product_id, sku=sku, type=type_, **changes)
    return body


def variation_json(variation_id: int, sku: str, **changes: Any) -> dict[str, Any]:
    """A variation as the variations endpoint returns it."""
    body = {
        "id": variation_id,
        "sku": sku,
        "price": "9.50",
        "regular_price": "9.50",
        "sale_price": "",
        "manage_stock": "parent",
        "stock_quantity": 4,
        "stock_status": "instock",
        "backorders": "no",
        "date_modified_gmt": "2024-05-01T10:00:00",
        "meta_data": [],
    }
    body.update(changes)
    return body


def paged(
    pages: list[list[dict[str, Any]]], total: int | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A handler serving `pages` by the `page` parameter with WP's paging headers."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        items = pages[page - 1] if page <= len(pages) else []
        headers = {"X-WP-Total": str(total if total is not None else sum(map(len, pages)))}
        headers["X-WP-TotalPages"] = str(len(pages))
        return httpx.Response(200, json=items, headers=headers)

    return handler


# ---------------------------------------------------------------------------------------------
# Transport security


@pytest.mark.parametrize(
    "url", ["http://shop.example", "http://10.0.0.5:8080", "ftp://shop.example"]
)
async def test_plain_http_to_remote_hosts_is_refused(url: str) -> None:
    """Basic auth over plain HTTP is refused unless the host is loopback."""
    async with httpx.AsyncClient() as http:
        with pytest.raises(ConfigurationError) as caught:
            WooClient(settings(url), http=http, limiter=LocalLimiter(4))
    assert caught.value.key == "WOO_SANDBOX_URL"
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://localhost:8081", "http://127.0.0.1:9000", "http://[::1]:9000"]
)
async def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    """Simulators and local proxies on loopback may use plain HTTP."""
    async with httpx.AsyncClient() as http:
        assert WooClient(settings(url), http=http, limiter=LocalLimiter(4)).url == url


async def test_credentials_in_the_url_are_refused() -> None:
    """A URL with user:password would leak into logs, so it is refused."""
    async with httpx.AsyncClient() as http:
        with pytest.raises(ConfigurationError, match="credentials"):
            WooClient(settings("https://u:p@shop.example"), http=http, limiter=LocalLimiter(4))


# ---------------------------------------------------------------------------------------------
# Orders


async def test_orders_page_by_id_until_total_pages(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """iter_orders sends the stable paging parameters and stops at X-WP-TotalPages."""
    pages = [
        [order_json(i) for i in range(1, 101)],
        [order_json(i) for i in range(101, 201)],
        [order_json(201)],
    ]
    route = respx_mock.get(f"{API}/orders").mock(side_effect=paged(pages))
    since = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    orders = [
        o async for o in woo.iter_orders(modified_after=since, statuses=["processing", "on-hold"])
    ]
    assert [o.id for o in orders] == list(range(1, 202))
    assert route.call_count == 3
    for number, call in enumerate(route.calls, start=1):
        params = call.request.url.params
        assert params["page"] == str(number)
        assert params["per_page"] == "100"
        assert params["orderby"] == "id"
        assert params["order"] == "asc"
        assert params["dates_are_gmt"] == "true"
        assert params["modified_after"] == "2024-05-01T10:00:00"
        assert params["status"] == "processing,on-hold"


async def test_orders_stop_on_a_short_page_without_the_header(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """Without X-WP-TotalPages, a page shorter than 100 is the last one."""
    route = respx_mock.get(f"{API}/orders").mock(
        return_value=httpx.Response(200, json=[order_json(1), order_json(2)])
    )
    assert [o.id async for o in woo.iter_orders()] == [1, 2]
    assert route.call_count == 1


async def test_orders_moving_between_pages_are_yielded_once(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """An order repeated on the next page (shifted by an edit) comes out only once."""
    first = [order_json(i) for i in range(1, 101)]
    second = [order_json(100), order_json(101)]
    respx_mock.get(f"{API}/orders").mock(side_effect=paged([first, second]))
    ids = [o.id async for o in woo.iter_orders()]
    assert ids == list(range(1, 102))


async def test_orders_outside_the_filter_are_dropped_client_side(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A store that ignored the status and date filters still yields only matching orders."""
    respx_mock.get(f"{API}/orders").mock(
        side_effect=paged(
            [
                [
                    order_json(1, "checkout-draft"),
                    order_json(2, "processing", "2024-04-01T00:00:00"),
                    order_json(3, "processing", "2024-05-01T00:00:00"),
                ]
            ]
        )
    )
    since = datetime(2024, 5, 1, tzinfo=UTC)
    assert [o.id async for o in woo.iter_orders(modified_after=since, statuses=["processing"])] == [
        3
    ]


async def test_naive_datetimes_are_refused(woo: WooClient) -> None:
    """A naive modified_after is ambiguous and refused before any request."""
    with pytest.raises(ValueError, match="timezone-aware"):
        async for _ in woo.iter_orders(modified_after=datetime(2024, 5, 1)):
            pass


async def test_get_order_unknown_id_is_not_found(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """GET orders/<unknown> gives NotFound from woocommerce_rest_shop_order_invalid_id."""
    respx_mock.get(f"{API}/orders/999").mock(
        return_value=httpx.Response(
            404,
            json={
                "code": "woocommerce_rest_shop_order_invalid_id",
                "message": "Invalid ID.",
                "data": {"status": 404},
            },
        )
    )
    with pytest.raises(NotFound) as caught:
        await woo.get_order(999)
    assert caught.value.code == "woocommerce_rest_shop_order_invalid_id"


async def test_get_order_returns_the_model(woo: WooClient, respx_mock: respx.MockRouter) -> None:
    """GET orders/<id> structures the body into a WooOrder."""
    respx_mock.get(f"{API}/orders/727").mock(return_value=httpx.Response(200, json=order_json(727)))
    order = await woo.get_order(727)
    assert order.id == 727
    assert str(order.total) == "29.35"


# ---------------------------------------------------------------------------------------------
# Products, variations, SKUs


async def test_iter_products_includes_variations_of_variable_products(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """Variable products are followed by their variations, with parent_id from the URL."""
    respx_mock.get(f"{API}/products").mock(
        side_effect=paged(
            [[product_json(10, "S-1"), product_json(22, "", "variable", variations=[23, 24])]]
        )
    )
    variations = respx_mock.get(f"{API}/products/22/variations").mock(
        side_effect=paged(
            [[variation_json(23, "V-23"), variation_json(24, "V-24", manage_stock=True)]]
        )
    )
    items = [item async for item in woo.iter_products()]
    assert [type(i).__name__ for i in items] == [
        "WooProduct",
        "WooProduct",
        "WooVariation",
        "WooVariation",
    ]
    first, second = items[2], items[3]
    assert isinstance(first, WooVariation)
    assert isinstance(second, WooVariation)
    assert first.parent_id == 22
    assert first.parent_managed is True
    assert second.parent_managed is False
    assert variations.call_count == 1
    assert variations.calls[0].request.url.params["per_page"] == "100"


async def test_find_by_sku_chunks_requests_and_returns_variations(
    woo: WooClient, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """250 SKUs take 3 requests of at most 100; variations come back as WooVariation."""
    caplog.set_level(logging.WARNING)

    def handler(request: httpx.Request) -> httpx.Response:
        skus = request.url.params["sku"].split(",")
        items = []
        for sku in skus:
            number = int(sku.split("-")[1])
            if number % 50 == 0:
                continue  # not in the store
            if number == 7:
                items.append(variation_json(7, sku, parent_id=3, type="variation"))
            else:
                items.append(product_json(number, sku))
        return httpx.Response(200, json=items, headers={"X-WP-TotalPages": "1"})

    route = respx_mock.get(f"{API}/products").mock(side_effect=handler)
    wanted = [f"SKU-{i}" for i in range(1, 251)] + ["A,B", ""]
    found = await woo.find_by_sku(wanted)
    assert route.call_count == 3
    assert [len(c.request.url.params["sku"].split(",")) for c in route.calls] == [100, 100, 50]
    assert len(found) == 245
    assert "SKU-50" not in found
    assert isinstance(found["SKU-7"], WooVariation)
    assert found["SKU-7"].parent_id == 3
    assert isinstance(found["SKU-8"], WooProduct)
    assert "A,B" not in found
    assert unsearchable_skus(wanted) == ("A,B",)
    assert any("A,B" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------------------
# Batch updates


def batch_answer(
    failing: dict[int, str] | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A batch endpoint: 200 with one entry per update, failing the ids given."""
    failing = failing or {}

    def handler(request: httpx.Request) -> httpx.Response:
        update = json.loads(request.content)["update"]
        if len(update) > 100:
            return httpx.Response(
                413,
                json={
                    "code": "woocommerce_rest_request_entity_too_large",
                    "message": "Unable to accept more than 100 items for this request.",
                    "data": {"status": 413},
                },
            )
        answer = []
        for item in update:
            if item["id"] in failing:
                error = {"code": failing[item["id"]], "message": "Nope.", "data": {"status": 400}}
                answer.append({"id": item["id"], "error": error})
            else:
                answer.append({"id": item["id"], "stock_quantity": item.get("stock_quantity")})
        return httpx.Response(200, json={"update": answer})

    return handler


async def test_250_stock_updates_take_3_batch_requests(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """Updates go out in chunks of 100, 100 and 50, in order."""
    route = respx_mock.post(f"{API}/products/batch").mock(side_effect=batch_answer())
    updates = [StockUpdate(id=i, stock_quantity=i % 7) for i in range(1, 251)]
    result = await woo.batch_update_products(updates)
    assert route.call_count == 3
    sizes = [len(json.loads(c.request.content)["update"]) for c in route.calls]
    assert sizes == [100, 100, 50]
    assert result.succeeded == tuple(range(1, 251))
    assert result.failed == ()
    assert result.requests == 3
    assert json.loads(route.calls[0].request.content)["update"][0] == {"id": 1, "stock_quantity": 1}


async def test_batch_reports_exactly_the_failing_items(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A 200 holding 2 per-item errors reports those 2 items with their codes."""
    respx_mock.post(f"{API}/products/batch").mock(
        side_effect=batch_answer(
            {5: "product_invalid_sku", 9: "woocommerce_rest_product_invalid_id"}
        )
    )
    result = await woo.batch_update_products(
        [StockUpdate(id=i, stock_status="instock") for i in range(1, 11)]
    )
    assert result.failed == (
        BatchItemError(id=5, code="product_invalid_sku", message="Nope.", status=400),
        BatchItemError(
            id=9, code="woocommerce_rest_product_invalid_id", message="Nope.", status=400
        ),
    )
    assert result.succeeded == (1, 2, 3, 4, 6, 7, 8, 10)
    assert result.ok is False


async def test_413_halves_the_chunk_and_succeeds(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A store whose limit is below 100 answers 413; the client halves and finishes."""

    def handler(request: httpx.Request) -> httpx.Response:
        if len(json.loads(request.content)["update"]) > 40:
            return httpx.Response(413, text="<html>413 Request Entity Too Large</html>")
        return batch_answer()(request)

    route = respx_mock.post(f"{API}/products/1/variations/batch").mock(side_effect=handler)
    result = await woo.batch_update_variations(
        1, [StockUpdate(id=i, stock_quantity=1) for i in range(1, 101)]
    )
    sizes = [len(json.loads(c.request.content)["update"]) for c in route.calls]
    assert sizes == [100, 50, 25, 25, 25, 25]
    assert result.succeeded == tuple(range(1, 101))
    assert result.failed == ()


async def test_items_missing_from_the_answer_are_failures(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """An update the batch response does not mention is reported failed, not assumed done."""
    respx_mock.post(f"{API}/products/batch").mock(
        return_value=httpx.Response(200, json={"update": [{"id": 1, "stock_quantity": 3}]})
    )
    result = await woo.batch_update_products(
        [{"id": 1, "stock_quantity": 3}, {"id": 2, "stock_quantity": 3}]
    )
    assert result.succeeded == (1,)
    assert [(e.id, e.code) for e in result.failed] == [(2, "missing_from_response")]


async def test_absolute_batches_are_retried_after_a_timeout(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A batch of absolute values is idempotent, so a lost answer is retried."""
    answer = batch_answer()
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return answer(request)

    route = respx_mock.post(f"{API}/products/batch").mock(side_effect=handler)
    result = await woo.batch_update_products([StockUpdate(id=1, stock_quantity=2)])
    assert route.call_count == 2
    assert result.succeeded == (1,)


async def test_relative_batches_are_never_retried_blind(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """An inventory_delta batch that times out is OutcomeUnknown after one attempt."""
    route = respx_mock.post(f"{API}/products/batch").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        await woo.batch_update_products([{"id": 1, "inventory_delta": -2}])
    assert route.call_count == 1


async def test_batch_updates_need_ids(woo: WooClient) -> None:
    """An update without a positive integer id is refused before sending."""
    with pytest.raises(ValueError, match="positive integer id"):
        await woo.batch_update_products([{"stock_quantity": 1}])


# ---------------------------------------------------------------------------------------------
# Limits, answers nswoo cannot use


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_pauses_the_shared_limiter(
    status: int,
    woo: WooClient,
    limiter: LocalLimiter,
    clock: FakeClock,
    respx_mock: respx.MockRouter,
) -> None:
    """A 429/503 with Retry-After pauses the limiter for that long, then the retry succeeds."""
    route = respx_mock.get(f"{API}/orders/727").mock(
        side_effect=[
            httpx.Response(status, text="busy", headers={"Retry-After": "12"}),
            httpx.Response(200, json=order_json(727)),
        ]
    )
    started = clock.now()
    order = await woo.get_order(727)
    assert order.id == 727
    assert route.call_count == 2
    stats = limiter.stats()
    assert stats.rate_limited == 1
    assert stats.waits == 1
    assert clock.now() - started >= 12
    assert stats.cap < stats.configured_cap


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limits_without_retry_after_back_off(
    status: int, woo: WooClient, limiter: LocalLimiter, respx_mock: respx.MockRouter
) -> None:
    """Without Retry-After the limiter still pauses (backoff) and the request is retried."""
    route = respx_mock.get(f"{API}/orders/727").mock(
        side_effect=[httpx.Response(status, text="busy"), httpx.Response(200, json=order_json(727))]
    )
    assert (await woo.get_order(727)).id == 727
    assert route.call_count == 2
    assert limiter.stats().rate_limited == 1


async def test_persistent_429_gives_up_within_the_budget(
    woo: WooClient, limiter: LocalLimiter, respx_mock: respx.MockRouter
) -> None:
    """A store that keeps answering 429 raises RateLimited after the policy's 4 attempts."""
    route = respx_mock.get(f"{API}/orders/727").mock(
        return_value=httpx.Response(429, text="busy", headers={"Retry-After": "1"})
    )
    with pytest.raises(RateLimited):
        await woo.get_order(727)
    assert route.call_count == 4
    assert limiter.stats().rate_limited == 4


async def test_html_page_from_a_waf_is_retried_then_reported(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A host's HTML error page is retryable: retried up to the budget, then ServiceUnavailable."""
    route = respx_mock.get(f"{API}/orders/727").mock(
        return_value=httpx.Response(502, text="<html>Bad gateway</html>")
    )
    with pytest.raises(ServiceUnavailable):
        await woo.get_order(727)
    assert route.call_count == 4


async def test_non_json_success_is_response_invalid(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A 200 whose body is not JSON (a cache or PHP notices) is ResponseInvalid."""
    respx_mock.get(f"{API}/orders/727").mock(
        return_value=httpx.Response(200, text="<b>Notice</b>: {}")
    )
    with pytest.raises(ResponseInvalid, match="not JSON"):
        await woo.get_order(727)


async def test_redirects_are_reported_not_followed(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A redirect (www, http→https) names the target host and is not followed."""
    respx_mock.get(f"{API}/orders/727").mock(
        return_value=httpx.Response(
            301, headers={"Location": "https://www.shop.example/wp-json/wc/v3/orders/727"}
        )
    )
    with pytest.raises(ResponseInvalid, match=r"https://www\.shop\.example"):
        await woo.get_order(727)


async def test_wrong_keys_are_an_authentication_error(
    woo: WooClient, respx_mock: respx.MockRouter
) -> None:
    """A 401 is final for Basic auth: one request, AuthenticationError, no secret shown."""
    route = respx_mock.get(f"{API}/products").mock(
        return_value=httpx.Response(
            401,
            json={
                "code": "woocommerce_rest_authentication_error",
                "message": "Consumer secret is invalid.",
                "data": {"status": 401},
            },
        )
    )
    with pytest.raises(AuthenticationError) as caught:
        await probe(woo)
    assert route.call_count == 1
    assert SECRET not in str(caught.value)
    assert KEY not in str(caught.value)


async def test_probe_reads_one_product(woo: WooClient, respx_mock: respx.MockRouter) -> None:
    """probe sends GET products?per_page=1 and reports the product count."""
    route = respx_mock.get(f"{API}/products").mock(
        return_value=httpx.Response(200, json=[product_json(1)], headers={"X-WP-Total": "42"})
    )
    assert await probe(woo) == "wc/v3 products answered (42 products)"
    assert route.calls[0].request.url.params["per_page"] == "1"


async def test_nothing_logged_contains_the_keys(
    woo: WooClient, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """Pauses, retries, paging and failures log nothing that contains the consumer key or secret."""
    caplog.set_level(logging.DEBUG)
    respx_mock.get(f"{API}/orders").mock(
        side_effect=[
            httpx.Response(429, text="busy", headers={"Retry-After": "1"}),
            paged([[order_json(1)]])(httpx.Request("GET", API)),
        ]
    )
    respx_mock.get(f"{API}/products").mock(return_value=httpx.Response(401, text="no"))
    assert [o.id async for o in woo.iter_orders()] == [1]
    with pytest.raises(AuthenticationError):
        await probe(woo)
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage()
        assert KEY not in text
        assert SECRET not in text
        assert base64.b64encode(f"{KEY}:{SECRET}".encode()).decode() not in text


async def test_from_settings_owns_and_closes_its_http_client() -> None:
    """A client built from settings has a limiter capped at the configured 4 and closes its http."""
    client = WooClient.from_settings(settings())
    assert client.pipeline.limiter.stats().configured_cap == 4
    async with client:
        pass
    assert client.pipeline.http.is_closed
