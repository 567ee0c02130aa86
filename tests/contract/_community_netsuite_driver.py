"""Drive the community `netsuite` client (PyPI `netsuite`, jacobsvante/netsuite) in its own venv.

Run by `test_community_netsuite_client.py` with that venv's interpreter: the client pins
`httpx<0.28`, nswoo needs newer, so the two never share an environment. Usage:

    python _community_netsuite_driver.py '<json>'

where the JSON holds `base_url` (the served simulator), `account`, the four TBA values and
`steps`: `["get", path, params]`, `["post"|"put"|"patch", path, body]`, `["delete", path]`,
`["suiteql", query, limit, offset]`, `["jsonschema", record]`. It prints one JSON list: per
step `{"ok": true, "value": ...}` or `{"ok": false, "status": ..., "body": ...}`.

Pointing the client at the simulator is one override: `NetSuiteRestApi._make_url` builds
`https://<account>.suitetalk.api.netsuite.com/services/rest<subpath>`; the subclass below
builds `<base_url>/services/rest<subpath>` instead. Everything else (TBA signing with
HMAC-SHA256 and the account as realm, its headers, its JSON) is the client's own.
"""

# This file runs under another interpreter and another httpx; it is not imported by pytest.
# mypy: ignore-errors

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


def main() -> None:
    from netsuite.exceptions import NetsuiteAPIRequestError
    from netsuite.rest_api import NetSuiteRestApi

    from netsuite import Config, TokenAuth

    spec = json.loads(sys.argv[1])

    class LoopbackRestApi(NetSuiteRestApi):
        def _make_url(self, subpath: str) -> str:
            return f"{spec['base_url']}/services/rest{subpath}"

    config = Config(
        account=spec["account"],
        auth=TokenAuth(
            consumer_key=spec["consumer_key"],
            consumer_secret=spec["consumer_secret"],
            token_id=spec["token_id"],
            token_secret=spec["token_secret"],
        ),
    )
    api = LoopbackRestApi(config)

    async def run() -> list[dict[str, Any]]:
        results = []
        for step in spec["steps"]:
            kind, *args = step
            try:
                if kind == "get":
                    value = await api.get(args[0], params=args[1] if len(args) > 1 else None)
                elif kind in ("post", "put", "patch"):
                    value = await getattr(api, kind)(args[0], json=args[1])
                elif kind == "delete":
                    value = await api.delete(args[0])
                elif kind == "suiteql":
                    value = await api.suiteql(q=args[0], limit=args[1], offset=args[2])
                elif kind == "jsonschema":
                    value = await api.jsonschema(args[0])
                else:
                    raise SystemExit(f"unknown step {kind}")
                results.append({"ok": True, "value": value})
            except NetsuiteAPIRequestError as exc:
                try:
                    body = json.loads(exc.response_text)
                except ValueError:
                    body = exc.response_text
                results.append({"ok": False, "status": exc.status_code, "body": body})
        return results

    print(json.dumps(asyncio.run(run())))


if __name__ == "__main__":
    main()
