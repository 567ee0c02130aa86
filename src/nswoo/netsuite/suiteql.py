"""SuiteQL: the injection-safe query builder, as `nswoo.netsuite.suiteql.text(...)` and friends.

A query is a template whose every value is a typed literal (`text`, `number`, `internal_id`,
`ident`, `id_list`, `text_list`); `suiteql_query` joins them, `suiteql_queries` splits a long
`IN` list over several queries. Run one with `NetSuiteClient.suiteql`.
"""

from __future__ import annotations

from ._suiteql import (
    IdList,
    Query,
    SuiteQLPage,
    TextList,
    id_list,
    ident,
    internal_id,
    number,
    suiteql_queries,
    suiteql_query,
    text,
    text_list,
)

__all__ = [
    "IdList",
    "Query",
    "SuiteQLPage",
    "TextList",
    "id_list",
    "ident",
    "internal_id",
    "number",
    "suiteql_queries",
    "suiteql_query",
    "text",
    "text_list",
]
