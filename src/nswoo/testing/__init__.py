"""Test doubles that ship with nswoo: simulators, fault plans, fakes and payload factories.

Use them in your own integration's tests the way nswoo's tests do:

- `NetSuiteSimulator` and `WooSimulator`: stateful fakes that follow the documented APIs,
  in-process (`transport()`) or over loopback HTTP (`asgi_app()`, `serve_simulators`);
- `FaultPlan` and its parts: latency, 429s, 5xx bursts, resets, early token death, slow
  commits, schema changes, failing batch items, duplicate webhooks, all seedable;
- `build_world()`: both simulators seeded with one catalog, and real clients wired to them;
- `MemoryStore`, `UnlimitedLimiter`, `FakeClock`: fakes for the ports nswoo injects;
- `make_order`, `make_product`, `make_variation`: wc/v3 payloads whose totals add up.
"""

from __future__ import annotations

from ..limits._local import UnlimitedLimiter as UnlimitedLimiter
from ..store.memory import MemoryStore as MemoryStore
from ._clock import FakeClock as FakeClock
from ._factories import OrderLine as OrderLine
from ._factories import make_order as make_order
from ._factories import make_product as make_product
from ._factories import make_variation as make_variation
from ._faults import ErrorBurst as ErrorBurst
from ._faults import FaultInjector as FaultInjector
from ._faults import FaultPlan as FaultPlan
from ._faults import SchemaChange as SchemaChange
from ._faults import SlowCommit as SlowCommit
from ._faults import load_fault_plan as load_fault_plan
from ._keys import generate_m2m_key_pair as generate_m2m_key_pair
from ._server import DemoCatalog as DemoCatalog
from ._server import SimulatorUrls as SimulatorUrls
from ._server import run_sim as run_sim
from ._server import seed_demo_catalog as seed_demo_catalog
from ._server import serve_simulators as serve_simulators
from ._server import sim_exports as sim_exports
from ._world import DEFAULT_CATALOG as DEFAULT_CATALOG
from ._world import CatalogItem as CatalogItem
from ._world import SimWorld as SimWorld
from ._world import build_world as build_world
from .netsuite._sim import ItemSeed as ItemSeed
from .netsuite._sim import NetSuiteSimStats as NetSuiteSimStats
from .netsuite._sim import NetSuiteSimulator as NetSuiteSimulator
from .netsuite._sim import SimRequest as SimRequest
from .woocommerce._sim import BatchRecord as BatchRecord
from .woocommerce._sim import RequestRecord as RequestRecord
from .woocommerce._sim import WooSimulator as WooSimulator
from .woocommerce._webhooks import DeliveryResult as DeliveryResult
from .woocommerce._webhooks import WebhookSubscription as WebhookSubscription

__all__ = [
    "BatchRecord",
    "CatalogItem",
    "DEFAULT_CATALOG",
    "DeliveryResult",
    "DemoCatalog",
    "ErrorBurst",
    "FakeClock",
    "FaultInjector",
    "FaultPlan",
    "ItemSeed",
    "MemoryStore",
    "NetSuiteSimStats",
    "NetSuiteSimulator",
    "OrderLine",
    "RequestRecord",
    "SchemaChange",
    "SimRequest",
    "SimWorld",
    "SimulatorUrls",
    "SlowCommit",
    "UnlimitedLimiter",
    "WebhookSubscription",
    "WooSimulator",
    "build_world",
    "generate_m2m_key_pair",
    "load_fault_plan",
    "make_order",
    "make_product",
    "make_variation",
    "run_sim",
    "seed_demo_catalog",
    "serve_simulators",
    "sim_exports",
]
