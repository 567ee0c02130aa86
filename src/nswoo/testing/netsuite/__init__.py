"""The NetSuite simulator: records, SuiteQL, metadata, auth and governance (see `_sim`)."""

from __future__ import annotations
