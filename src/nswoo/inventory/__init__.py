"""Inventory: publish what NetSuite can sell, never on hand (DESIGN behaviour 5).

`plan_stock` (pure) decides each NetSuite-owned SKU's target and the changes to push;
`StockSync` gathers NetSuite balances, the WooCommerce catalog and the orders in flight,
calls it, and pushes the changes in batches.
"""

from __future__ import annotations

from ._availability import Balance as Balance
from ._availability import Listing as Listing
from ._availability import Problem as Problem
from ._availability import StockPlan as StockPlan
from ._availability import StockPush as StockPush
from ._availability import available as available
from ._availability import plan_stock as plan_stock
from ._sync import FailedPush as FailedPush
from ._sync import StockSync as StockSync
from ._sync import StockSyncReport as StockSyncReport
from ._sync import SyncProgress as SyncProgress

__all__ = [
    "Balance",
    "FailedPush",
    "Listing",
    "Problem",
    "StockPlan",
    "StockPush",
    "StockSync",
    "StockSyncReport",
    "SyncProgress",
    "available",
    "plan_stock",
]
