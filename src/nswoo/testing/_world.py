"""A simulated world: both simulators, seeded with one catalog, and clients wired to them.

What nswoo's own shell tests and the demo run on, and what users can run their integration
tests on: real clients, real pipeline, real auth (an M2M key pair generated for the run),
in-process transports instead of sockets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal

import attrs
import httpx

from .._clock import Clock, SystemClock
from .._http import RetryPolicy
from .._settings import Config, M2MCredentials, NetSuiteSettings, Secret, WooSettings, parse_config
from ..limits._local import Limiter, LocalLimiter
from ..netsuite._client import NetSuiteClient, open_netsuite
from ..woocommerce._client import WooClient
from ._faults import FaultPlan
from ._keys import generate_m2m_key_pair
from .netsuite._sim import NetSuiteSimulator
from .woocommerce._sim import WooSimulator

__all__ = ["CatalogItem", "SimWorld", "build_world", "DEFAULT_CATALOG"]


@attrs.frozen
class CatalogItem:
    """One SKU on both sides: a NetSuite item with stock, a WooCommerce product.

    `on_hand` is per location name; `woo_stock` is what the store shows (None: the same as
    NetSuite's total on hand).
    """

    sku: str
    price: Decimal
    cost: Decimal | None
    on_hand: Mapping[str, int]
    woo_stock: int | None = None


DEFAULT_CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem("MUG-BLUE", Decimal("12.50"), Decimal("4.10"), {"Main": 40, "Overflow": 10}),
    CatalogItem("MUG-RED", Decimal("12.50"), Decimal("4.10"), {"Main": 25}),
    CatalogItem("TEE-S", Decimal("19.99"), Decimal("6.75"), {"Main": 30, "Overflow": 5}),
    CatalogItem("TEE-M", Decimal("19.99"), Decimal("6.75"), {"Main": 30}),
    CatalogItem("POSTER", Decimal("8.00"), None, {"Main": 100}),
    CatalogItem("CAP", Decimal("15.00"), Decimal("5.20"), {"Overflow": 12}),
)
"""A small catalog: mugs, shirts, a poster without a cost, a cap only in the overflow site."""

_CLIENT_ID = "nswoo-sim-client"
_CERTIFICATE_ID = "nswoo-sim-cert"
_CONSUMER_KEY = "ck_sim_0123456789abcdef"
_CONSUMER_SECRET = "cs_sim_0123456789abcdef"  # noqa: S105 - a simulator credential
_WEBHOOK_SECRET = "whsec-sim-0123456789"  # noqa: S105 - a simulator credential


@attrs.define
class SimWorld:
    """Both simulators, their settings, the mapping config and the seeded ids.

    Example:
        >>> world = build_world()  # doctest: +SKIP
        >>> async with world.netsuite_client() as ns:  # doctest: +SKIP
        ...     rows = [r async for r in ns.suiteql("SELECT id, itemid FROM item")]
    """

    netsuite: NetSuiteSimulator
    woocommerce: WooSimulator
    ns_settings: NetSuiteSettings
    woo_settings: WooSettings
    config: Config
    clock: Clock
    item_ids: dict[str, int]
    location_ids: dict[str, int]
    customer_id: int
    webhook_secret: Secret

    def netsuite_client(
        self,
        *,
        limiter: Limiter | None = None,
        policy: RetryPolicy | None = None,
    ) -> NetSuiteClient:
        """A NetSuite client on the simulator's in-process transport (real auth and pipeline)."""
        return open_netsuite(
            self.ns_settings,
            limiter=limiter or LocalLimiter(self.ns_settings.concurrency, clock=self.clock),
            clock=self.clock,
            policy=policy,
            transport=self.netsuite.transport(),
        )

    def woo_client(
        self,
        *,
        limiter: Limiter | None = None,
        policy: RetryPolicy | None = None,
    ) -> WooClient:
        """A WooCommerce client on the simulator's in-process transport."""
        return WooClient.from_settings(
            self.woo_settings,
            limiter=limiter or LocalLimiter(self.woo_settings.concurrency, clock=self.clock),
            transport=self.woocommerce.transport(),
            clock=self.clock,
            policy=policy,
        )

    def http_to_woo(self) -> httpx.AsyncClient:
        """A plain httpx client into the store (for sending webhooks *from* the simulator)."""
        return httpx.AsyncClient(transport=self.woocommerce.transport())


def build_world(
    *,
    store: str = "sim",
    catalog: Sequence[CatalogItem] = DEFAULT_CATALOG,
    ns_faults: FaultPlan | None = None,
    woo_faults: FaultPlan | None = None,
    clock: Clock | None = None,
    account_id: str = "1234567_SB1",
    concurrency_limit: int = 5,
    ns_concurrency: int = 5,
    algorithm: Literal["PS256", "ES256"] = "ES256",
    extra_config: str = "",
) -> SimWorld:
    """Build both simulators, seed `catalog` on both sides, and describe how to reach them.

    Args:
        store: the `[orders] store` name (part of every sales order's externalId).
        catalog: the SKUs to seed.
        ns_faults: the NetSuite simulator's fault plan.
        woo_faults: the WooCommerce simulator's fault plan.
        clock: shared by simulators and clients (default: the system clock).
        account_id: the simulated NetSuite account (a sandbox id by default).
        concurrency_limit: the NetSuite account's real concurrency limit.
        ns_concurrency: the cap nswoo is configured with (`NS_<ENV>_CONCURRENCY`).
        algorithm: the M2M signing algorithm (ES256 keys are fast to generate).
        extra_config: TOML appended to the generated mapping file (e.g. `[inventory]`).
    """
    clock = clock or SystemClock()
    ns_sim = NetSuiteSimulator(
        account_id,
        faults=ns_faults or FaultPlan(),
        clock=clock,
        concurrency_limit=concurrency_limit,
    )
    woo_url = "http://127.0.0.1:8081"
    woo_sim = WooSimulator(
        woo_url,
        consumer_key=_CONSUMER_KEY,
        consumer_secret=_CONSUMER_SECRET,
        faults=woo_faults or FaultPlan(),
        clock=clock,
        webhook_secret=_WEBHOOK_SECRET,
    )
    private_pem, public_pem = generate_m2m_key_pair(algorithm)
    ns_sim.register_m2m_client(_CLIENT_ID, _CERTIFICATE_ID, public_pem)
    locations = {
        name: ns_sim.add_location(name)
        for name in sorted({loc for item in catalog for loc in item.on_hand})
    }
    item_ids = {}
    for item in catalog:
        item_ids[item.sku] = ns_sim.add_item(
            item.sku,
            cost=item.cost,
            locations={locations[name]: qty for name, qty in item.on_hand.items()},
        )
        stock = item.woo_stock if item.woo_stock is not None else sum(item.on_hand.values())
        woo_sim.add_product(item.sku, price=item.price, stock_quantity=stock)
    customer_id = ns_sim.add_customer(company_name="Web Store Customers", email="web@example.com")
    ns_settings = NetSuiteSettings(
        environment="sandbox",
        account_id=account_id,
        auth=M2MCredentials(
            client_id=_CLIENT_ID,
            certificate_id=_CERTIFICATE_ID,
            private_key=Secret(private_pem),
            algorithm=algorithm,
        ),
        base_url=ns_sim.base_url,
        concurrency=ns_concurrency,
    )
    woo_settings = WooSettings(
        environment="sandbox",
        url=woo_url,
        consumer_key=Secret(_CONSUMER_KEY),
        consumer_secret=Secret(_CONSUMER_SECRET),
        webhook_secret=Secret(_WEBHOOK_SECRET),
    )
    config = parse_config(
        f"""
[orders]
store = "{store}"
customer = {{ strategy = "single", id = {customer_id} }}
{extra_config}
""",
        source="simulated world",
    )
    return SimWorld(
        netsuite=ns_sim,
        woocommerce=woo_sim,
        ns_settings=ns_settings,
        woo_settings=woo_settings,
        config=config,
        clock=clock,
        item_ids=item_ids,
        location_ids=locations,
        customer_id=customer_id,
        webhook_secret=Secret(_WEBHOOK_SECRET),
    )
