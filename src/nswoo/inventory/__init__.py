"""Inventory: publish what NetSuite can sell, never on hand (DESIGN behaviour 5).

`plan_stock` (pure) decides each NetSuite-owned SKU's target and the changes to push.
"""

from __future__ import annotations

from ._availability import Balance as Balance
from ._availability import Listing as Listing
from ._availability import Problem as Problem
from ._availability import StockPlan as StockPlan
from ._availability import StockPush as StockPush
from ._availability import available as available
from ._availability import plan_stock as plan_stock

__all__ = [
    "Balance",
    "Listing",
    "Problem",
    "StockPlan",
    "StockPush",
    "available",
    "plan_stock",
]
