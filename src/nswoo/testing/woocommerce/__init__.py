"""The WooCommerce simulator: wc/v3 REST, stock rules, batches and webhooks (see `_sim`)."""

from __future__ import annotations
