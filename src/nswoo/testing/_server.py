"""Serve the simulators over loopback HTTP, and everything `nswoo sim` needs.

`serve_simulators` runs the NetSuite and WooCommerce simulators' ASGI apps under two
`uvicorn.Server`s on 127.0.0.1. `seed_demo_catalog` fills both with one small, matching
catalog; `sim_exports` writes the key file and config and returns the `export` lines; `run_sim`
does all of it and serves until SIGTERM or SIGINT.

uvicorn is the optional `server` extra and runs on asyncio only.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import shlex
import signal
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

import anyio
import attrs

from .._http import AsgiApp
from .._http._server import listening_socket, running, signal_free_server
from ..errors import ConfigurationError
from ._faults import FaultPlan, load_fault_plan
from ._keys import generate_m2m_key_pair
from .woocommerce._sim import ConnectionReset, WooSimulator

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .netsuite._sim import NetSuiteSimulator

__all__ = [
    "SIM_AUTH_KINDS",
    "DemoCatalog",
    "SimCredentials",
    "SimulatorUrls",
    "register_sim_credentials",
    "run_sim",
    "side_plans",
    "seed_demo_catalog",
    "serve_simulators",
    "sim_exports",
]

_SIM_ACCOUNT = "1234567_SB1"
_SIM_STORE = "sim"

SimAuth = Literal["m2m", "tba", "oauth2"]
SIM_AUTH_KINDS: tuple[SimAuth, ...] = ("m2m", "tba", "oauth2")
"""The NetSuite credentials `nswoo sim --auth` can register and print (reference §1)."""


@attrs.frozen(kw_only=True)
class SimCredentials:
    """Credentials registered with a NetSuite simulator, as `NS_<ENV>_*` variable values.

    `variables` maps the variable suffix (`CLIENT_ID`, `TOKEN_SECRET`, ...) to its value;
    for `m2m`, `private_key_pem` is written to a key file named by `PRIVATE_KEY_FILE`.
    """

    auth: SimAuth
    variables: dict[str, str]
    private_key_pem: str | None = attrs.field(default=None, repr=False)


def register_sim_credentials(ns_sim: NetSuiteSimulator, auth: SimAuth) -> SimCredentials:
    """Generate fresh credentials of kind `auth`, register them, and return them.

    - `m2m`: an OAuth 2.0 client-credentials mapping with a new PS256 key pair (§1c);
    - `tba`: a TBA consumer and token, signed HMAC-SHA256 with the account as realm (§1a),
      what the common community NetSuite clients use;
    - `oauth2`: an authorized application and a refresh token (§1b), not rotated, so every
      process started against the same `nswoo sim` can refresh with it.

    Raises:
        ValueError: `auth` is not one of `SIM_AUTH_KINDS`.
    """
    if auth == "m2m":
        client_id = "nswoo-sim-" + secrets.token_hex(8)
        certificate_id = "sim-cert-" + secrets.token_hex(8)
        private_pem, public_pem = generate_m2m_key_pair("PS256")
        ns_sim.register_m2m_client(client_id, certificate_id, public_pem)
        return SimCredentials(
            auth="m2m",
            variables={"CLIENT_ID": client_id, "CERTIFICATE_ID": certificate_id},
            private_key_pem=private_pem,
        )
    if auth == "tba":
        values = {
            "CONSUMER_KEY": "sim-consumer-" + secrets.token_hex(16),
            "CONSUMER_SECRET": secrets.token_hex(32),
            "TOKEN_ID": "sim-token-" + secrets.token_hex(16),
            "TOKEN_SECRET": secrets.token_hex(32),
        }
        ns_sim.register_tba(
            values["CONSUMER_KEY"],
            values["CONSUMER_SECRET"],
            values["TOKEN_ID"],
            values["TOKEN_SECRET"],
        )
        return SimCredentials(auth="tba", variables=values)
    if auth == "oauth2":
        values = {
            "CLIENT_ID": "nswoo-sim-app-" + secrets.token_hex(8),
            "CLIENT_SECRET": secrets.token_hex(32),
            "REFRESH_TOKEN": secrets.token_urlsafe(48),
        }
        ns_sim.register_oauth2_client(
            values["CLIENT_ID"], values["CLIENT_SECRET"], values["REFRESH_TOKEN"], rotate=False
        )
        return SimCredentials(auth="oauth2", variables=values)
    raise ValueError(f"auth must be one of {', '.join(SIM_AUTH_KINDS)}, got {auth!r}")


@attrs.frozen(kw_only=True)
class SimulatorUrls:
    """Where `serve_simulators` bound the two apps, e.g. `http://127.0.0.1:8080`."""

    netsuite: str
    woocommerce: str


@attrs.frozen(kw_only=True)
class DemoCatalog:
    """What `seed_demo_catalog` created, by id on each side.

    Example:
        >>> DemoCatalog(
        ...     customer_id=1, locations=(1, 2), shipping_item=3, skus=("A",)
        ... ).locations
        (1, 2)
    """

    customer_id: int
    locations: tuple[int, ...]
    shipping_item: int
    skus: tuple[str, ...]


class _ResetFilter(logging.Filter):
    """Hide the traceback uvicorn logs when a simulator drops a connection on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionReset) and type(exc).__name__ != "ConnectionReset"


@contextmanager
def _quiet_resets() -> Iterator[None]:
    logger = logging.getLogger("uvicorn.error")
    flt = _ResetFilter()
    logger.addFilter(flt)
    try:
        yield
    finally:
        logger.removeFilter(flt)


@asynccontextmanager
async def serve_simulators(
    netsuite_app: AsgiApp,
    woo_app: AsgiApp,
    *,
    host: str = "127.0.0.1",
    ns_port: int = 0,
    woo_port: int = 0,
) -> AsyncIterator[SimulatorUrls]:
    """Serve both simulators over HTTP on `host` while the context is open.

    Port 0 picks a free port. On exit both servers stop accepting, finish what is in hand and
    close their sockets. Signals are left to the caller (`run_sim` handles SIGTERM/SIGINT).

    Raises:
        ImportError: uvicorn is missing (`pip install 'nswoo[server]'`).
        OSError: a port is taken.

    Example:
        >>> async def main(ns: NetSuiteSimulator, woo: WooSimulator) -> None:  # doctest: +SKIP
        ...     async with serve_simulators(ns.asgi_app(), woo.asgi_app()) as urls:
        ...         print(urls.woocommerce)
    """
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("serving simulators needs uvicorn: pip install 'nswoo[server]'") from exc

    first = listening_socket(host, ns_port)
    try:
        second = listening_socket(host, woo_port)
    except OSError:
        first.close()
        raise
    sockets = [first, second]
    servers = [
        signal_free_server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False),
            what="serving the simulators",
        )
        for app in (netsuite_app, woo_app)
    ]
    urls = []
    for sock in sockets:
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        urls.append(f"http://{shown}:{bound_port}")
    with _quiet_resets():
        async with running(*zip(servers, sockets, strict=True)):
            yield SimulatorUrls(netsuite=urls[0], woocommerce=urls[1])


def seed_demo_catalog(ns_sim: NetSuiteSimulator, woo_sim: WooSimulator) -> DemoCatalog:
    """Create the small matching catalog `nswoo sim` serves.

    NetSuite: two locations, four inventory items (one SKU per WooCommerce product or
    variation) with stock in both, a non-inventory shipping item and one customer.
    WooCommerce: two simple products and a variable T-shirt with two sizes, all with the same
    SKUs and managed stock, plus one processing order so `orders sync` has work to do.

    Returns:
        The ids `sim_exports` writes into the TOML config.
    """
    east = ns_sim.add_location("East Warehouse")
    west = ns_sim.add_location("West Warehouse")
    catalog = (
        # sku, NetSuite cost, WooCommerce price, on hand east, on hand west
        ("MUG-BLUE", "3.10", "12.00", 40, 25),
        ("POSTER-A2", "1.80", "9.50", 60, 0),
        ("TEE-RED-M", "4.20", "19.00", 15, 10),
        ("TEE-RED-L", "4.20", "19.00", 8, 12),
    )
    for sku, cost, _price, east_qty, west_qty in catalog:
        ns_sim.add_item(
            sku, cost=cost, average_cost=cost, locations={east: east_qty, west: west_qty}
        )
    shipping_item = ns_sim.add_item(
        "SHIPPING", cost=None, locations={}, item_type="NonInvtPart", display_name="Shipping"
    )
    customer = ns_sim.add_customer(company_name="Web Store Customers", email="orders@example.com")
    for sku, _cost, price, east_qty, west_qty in catalog[:2]:
        woo_sim.add_product(sku, price=Decimal(price), stock_quantity=east_qty + west_qty)
    woo_sim.add_variable_product(
        "TEE-RED",
        [
            {
                "sku": sku,
                "price": price,
                "stock_quantity": east_qty + west_qty,
                "attributes": {"Size": sku.rsplit("-", 1)[1]},
            }
            for sku, _cost, price, east_qty, west_qty in catalog[2:]
        ],
        name="Red T-Shirt",
    )
    woo_sim.place_order([("MUG-BLUE", 2), ("TEE-RED-M", 1)], shipping_total="5.00")
    return DemoCatalog(
        customer_id=customer,
        locations=(east, west),
        shipping_item=shipping_item,
        skus=tuple(sku for sku, *_ in catalog),
    )


def _config_toml(catalog: DemoCatalog) -> str:
    locations = ", ".join(str(loc) for loc in catalog.locations)
    return (
        "# nswoo mapping settings for the seeded simulators (nswoo sim).\n"
        "[orders]\n"
        f'store = "{_SIM_STORE}"\n'
        f'customer = {{ strategy = "single", id = {catalog.customer_id} }}\n'
        f"location = {catalog.locations[0]}\n"
        f"shipping_item = {catalog.shipping_item}\n"
        "\n"
        "[inventory]\n"
        f"locations = [{locations}]\n"
    )


def sim_exports(
    *,
    ns_sim: NetSuiteSimulator,
    woo_sim: WooSimulator,
    urls: SimulatorUrls,
    catalog: DemoCatalog,
    directory: Path,
    credentials: SimCredentials | None = None,
    client_id: str | None = None,
    certificate_id: str | None = None,
    private_key_pem: str | None = None,
) -> list[str]:
    """Write the TOML config (and an M2M key file) into `directory`; return the export lines.

    One `export NAME=VALUE` per variable that points nswoo's sandbox environment at the
    simulators, values quoted with `shlex.quote`: `NS_SANDBOX_AUTH` and the variables of the
    kind in `credentials` (see `register_sim_credentials`). Without `credentials`,
    `client_id`, `certificate_id` and `private_key_pem` describe an M2M mapping already
    registered. The key file is readable by its owner only.

    Raises:
        ValueError: neither `credentials` nor all three M2M values were given.
    """
    if credentials is None:
        if client_id is None or certificate_id is None or private_key_pem is None:
            raise ValueError("pass credentials, or client_id, certificate_id and private_key_pem")
        credentials = SimCredentials(
            auth="m2m",
            variables={"CLIENT_ID": client_id, "CERTIFICATE_ID": certificate_id},
            private_key_pem=private_key_pem,
        )
    netsuite = {f"NS_SANDBOX_{name}": value for name, value in credentials.variables.items()}
    if credentials.private_key_pem is not None:
        key_file = directory / "netsuite-m2m-key.pem"
        key_file.write_text(credentials.private_key_pem)
        key_file.chmod(0o600)
        netsuite["NS_SANDBOX_PRIVATE_KEY_FILE"] = str(key_file)
    config_file = directory / "nswoo-sim.toml"
    config_file.write_text(_config_toml(catalog))
    values = {
        "NS_SANDBOX_ACCOUNT_ID": ns_sim.account_id,
        "NS_SANDBOX_BASE_URL": urls.netsuite,
        "NS_SANDBOX_AUTH": credentials.auth,
        **netsuite,
        "WOO_SANDBOX_URL": urls.woocommerce,
        "WOO_SANDBOX_CONSUMER_KEY": woo_sim.consumer_key,
        "WOO_SANDBOX_CONSUMER_SECRET": woo_sim.consumer_secret,
        "WOO_SANDBOX_WEBHOOK_SECRET": woo_sim.webhook_secret or "",
        "NSWOO_SANDBOX_CONFIG": str(config_file),
    }
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def side_plans(plan: FaultPlan) -> tuple[FaultPlan, FaultPlan]:
    """The NetSuite and WooCommerce copies of `plan`, each with its own seed derived from it.

    Every random fault decision is a function of `(seed, question, request index)`, so two
    simulators sharing one seed would reset, rate-limit or slow the same request indexes
    together, a correlation no real pair of services has. Each side gets the first 8 bytes of
    SHA-256 of `"<seed>:netsuite"` or `"<seed>:woocommerce"` as its seed: still fixed by the
    plan's seed (same file, same faults), but independent streams. Index-based knobs such as
    `error_bursts` and `schema_changes` are unchanged.
    """

    def derived(side: str) -> FaultPlan:
        digest = hashlib.sha256(f"{plan.seed}:{side}".encode()).digest()
        return attrs.evolve(plan, seed=int.from_bytes(digest[:8], "big"))

    return derived("netsuite"), derived("woocommerce")


async def run_sim(
    *, port: int = 0, faults_path: str | None = None, stdout: TextIO, auth: SimAuth = "m2m"
) -> int:
    """Run both seeded simulators on loopback, print the exports, serve until SIGTERM/SIGINT.

    `auth` chooses the NetSuite credentials registered and printed: `m2m` (default), `tba`
    or `oauth2` (`register_sim_credentials`).

    NetSuite listens on `port` and WooCommerce on `port + 1` (0: two free ports). The key file
    and config live in a temporary directory removed on exit. The fault plan is split with
    `side_plans`, so the two simulators draw independent faults from the one seed.

    Returns:
        0 after a clean shutdown.

    Raises:
        ConfigurationError: the fault plan file is unreadable or invalid, or `auth` is not
            m2m, tba or oauth2.
        OSError: a port is taken.
    """
    from .netsuite._sim import NetSuiteSimulator

    ns_plan, woo_plan = side_plans(load_fault_plan(faults_path) if faults_path else FaultPlan())
    if auth not in SIM_AUTH_KINDS:
        raise ConfigurationError(f"must be one of {', '.join(SIM_AUTH_KINDS)}", key="--auth")
    ns_sim = NetSuiteSimulator(_SIM_ACCOUNT, faults=ns_plan)
    credentials = register_sim_credentials(ns_sim, auth)
    woo_port = port + 1 if port else 0
    woo_url = f"http://127.0.0.1:{woo_port}" if woo_port else "http://127.0.0.1"
    woo_sim = WooSimulator(
        woo_url,
        consumer_key="ck_" + secrets.token_hex(20),
        consumer_secret="cs_" + secrets.token_hex(20),
        webhook_secret=secrets.token_urlsafe(32),
        faults=woo_plan,
    )
    catalog = seed_demo_catalog(ns_sim, woo_sim)
    with (
        tempfile.TemporaryDirectory(prefix="nswoo-sim-") as tmp,
        anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals,
    ):
        async with serve_simulators(
            ns_sim.asgi_app(), woo_sim.asgi_app(), ns_port=port, woo_port=woo_port
        ) as urls:
            # With free ports the store learns its address only now; links and webhook
            # sources must name the bound URL.
            woo_sim.rebase(urls.woocommerce)
            lines = sim_exports(
                ns_sim=ns_sim,
                woo_sim=woo_sim,
                urls=urls,
                catalog=catalog,
                credentials=credentials,
                directory=Path(tmp),
            )
            stdout.write("\n".join(lines) + "\n")
            stdout.flush()
            async for _ in signals:
                break
    return 0
