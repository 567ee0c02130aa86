"""Storage: the ports nswoo remembers through (claims, links, inbox, dead letters, cursors,
reports, stock pushes) and `open_store`. Backends: `nswoo.store.sqlite` (the embedded
default) and `nswoo.store.memory` (tests).
"""

from __future__ import annotations

from ._open import open_store as open_store
from ._ports import AlreadyLinked as AlreadyLinked
from ._ports import Busy as Busy
from ._ports import Claim as Claim
from ._ports import Claimed as Claimed
from ._ports import Cursors as Cursors
from ._ports import DeadLetter as DeadLetter
from ._ports import DeadLetters as DeadLetters
from ._ports import Inbox as Inbox
from ._ports import InboxItem as InboxItem
from ._ports import Lease as Lease
from ._ports import OrderLink as OrderLink
from ._ports import OrderLinks as OrderLinks
from ._ports import PushedStock as PushedStock
from ._ports import Report as Report
from ._ports import Reports as Reports
from ._ports import StockPushes as StockPushes
from ._ports import Store as Store

__all__ = [
    "AlreadyLinked",
    "Busy",
    "Claim",
    "Claimed",
    "Cursors",
    "DeadLetter",
    "DeadLetters",
    "Inbox",
    "InboxItem",
    "Lease",
    "OrderLink",
    "OrderLinks",
    "PushedStock",
    "Report",
    "Reports",
    "StockPushes",
    "Store",
    "open_store",
]
