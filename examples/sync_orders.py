"""Poll WooCommerce for new orders and import each into NetSuite exactly once.

Run it against the simulators without any account:

    nswoo sim > sim.env &
    sleep 2 && source sim.env
    export NSWOO_SANDBOX_STORE=sqlite:///nswoo-sandbox.db
    python examples/sync_orders.py sandbox
"""

from __future__ import annotations

import sys

import anyio

from nswoo import OrderSync, from_env, load_config, open_store
from nswoo.netsuite import open_netsuite
from nswoo.woocommerce import WooClient


async def main(environment: str) -> int:
    settings = from_env(environment)  # NS_<ENV>_*, WOO_<ENV>_*, NSWOO_<ENV>_* only
    config = load_config(settings.require_config_path())
    async with (
        await open_store(settings.store_url) as store,
        open_netsuite(settings.require_netsuite()) as netsuite,
        WooClient.from_settings(settings.require_woocommerce()) as woocommerce,
    ):
        sync = OrderSync(
            netsuite=netsuite, woocommerce=woocommerce, store=store, config=config.orders
        )
        report = await sync.sync()
    print(report.to_json())
    return 3 if report.dead_letters else 0


if __name__ == "__main__":
    sys.exit(anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "sandbox"))
