"""Slow senders over real loopback HTTP: connections trickling a request are cut off in time.

A sender that opens connections and sends its request a byte at a time must not hold them
for long: the body gets `body_timeout` seconds from the request head (then 408 and close),
the head gets `header_timeout` seconds from the connection (or the previous response).
Meanwhile WooCommerce's deliveries are still answered.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from anyio.abc import SocketStream
from tests.orders.receiver._support import SECRET, STORE, order_body, serving, signed

from nswoo.cli._serve import DEFAULT_HEADER_TIMEOUT, server_config
from nswoo.errors import ConfigurationError
from nswoo.orders._receiver import DEFAULT_BODY_TIMEOUT, WebhookReceiver, asgi_app
from nswoo.store.memory import MemoryStore

pytestmark = pytest.mark.anyio

URL = "/webhooks/woocommerce"
BODY_TIMEOUT = 1.0
HEADER_TIMEOUT = 1.0
# How much later than its deadline a connection may close: the machine is shared and busy.
SLACK = 3.0
SLOW_CLIENTS = 60  # of each kind


def make(*, body_timeout: float = BODY_TIMEOUT) -> WebhookReceiver:
    return WebhookReceiver(
        store=MemoryStore(),
        store_name=STORE,
        secret=SECRET,
        max_body_bytes=1024 * 1024,
        body_timeout=body_timeout,
    )


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def head(port: int, content_length: int) -> bytes:
    return (
        f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {content_length}\r\n\r\n"
    ).encode()


@asynccontextmanager
async def connection(port: int) -> AsyncIterator[SocketStream]:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        yield stream


async def trickle(stream: SocketStream, data: Iterator[bytes], every: float) -> None:
    """Send one piece every `every` seconds until the server stops listening."""
    for piece in data:
        await anyio.sleep(every)
        try:
            await stream.send(piece)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return


async def read_until_closed(stream: SocketStream) -> bytes:
    answer = b""
    while True:
        try:
            answer += await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return answer


async def slow_body(port: int, bound: float) -> tuple[bytes, float]:
    """Send a head announcing 10 kB, then the body a byte at a time; (answer, seconds open)."""
    started = time.monotonic()
    with anyio.fail_after(bound):
        async with connection(port) as stream, anyio.create_task_group() as tg:
            await stream.send(head(port, 10_000) + b'{"id": ')
            tg.start_soon(trickle, stream, iter(lambda: b"7", None), 0.2)
            answer = await read_until_closed(stream)
            tg.cancel_scope.cancel()
    return answer, time.monotonic() - started


async def slow_head(port: int, bound: float, *, first: bytes) -> tuple[bytes, float]:
    """Send `first`, then header lines a few bytes at a time; (answer, seconds open)."""
    started = time.monotonic()
    lines = (b"X-Slow-%d: y\r\n" % n for n in range(10**6))
    with anyio.fail_after(bound):
        async with connection(port) as stream, anyio.create_task_group() as tg:
            if first:
                await stream.send(first)
            tg.start_soon(trickle, stream, lines, 0.2)
            answer = await read_until_closed(stream)
            tg.cancel_scope.cancel()
    return answer, time.monotonic() - started


async def deliveries_while(port: int, done: anyio.Event) -> list[tuple[int, float]]:
    """Post signed deliveries until `done`; each (status, seconds to answer)."""
    answers: list[tuple[int, float]] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        n = 0
        while not done.is_set() or n < 3:
            n += 1
            body = order_body(id=1000 + n)
            started = time.monotonic()
            response = await http.post(URL, content=body, headers=signed(body, delivery_id=f"{n}"))
            answers.append((response.status_code, time.monotonic() - started))
            await anyio.sleep(0.1)
    return answers


async def test_slow_bodies_get_408_and_are_closed_while_deliveries_are_answered() -> None:
    """Sixty bodies trickled a byte at a time get 408 and a close in time; deliveries go on."""
    receiver = make()
    bound = BODY_TIMEOUT + SLACK
    results: list[tuple[bytes, float]] = []
    answers: list[tuple[int, float]] = []
    async with serving(asgi_app(receiver), header_timeout=30) as base:
        port = port_of(base)
        done = anyio.Event()

        async def one() -> None:
            results.append(await slow_body(port, bound))

        async def post() -> None:
            answers.extend(await deliveries_while(port, done))

        async with anyio.create_task_group() as tg:
            for _ in range(SLOW_CLIENTS):
                tg.start_soon(one)
            tg.start_soon(post)
            while len(results) < SLOW_CLIENTS:  # noqa: ASYNC110 - polling our own list
                await anyio.sleep(0.05)
            done.set()
    assert len(results) == SLOW_CLIENTS
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer, _ in results), results[0][0]
    assert b'"status":"rejected"' in results[0][0]
    assert max(seconds for _, seconds in results) < bound
    assert receiver.stats.rejected == {408: SLOW_CLIENTS}
    assert answers, "no delivery was tried during the attack"
    assert {status for status, _ in answers} == {200}
    assert max(seconds for _, seconds in answers) < 3.0
    assert receiver.stats.accepted == len(answers)


@pytest.mark.parametrize(
    "first",
    [
        b"",  # connect and send nothing
        b"POST /webhooks/woocommerce HTTP/1.1\r\n",  # a request line, then headers trickled
    ],
    ids=["silent", "trickled-headers"],
)
async def test_slow_request_heads_are_closed_while_deliveries_are_answered(
    first: bytes,
) -> None:
    """Connections that never finish their request head are closed after the head deadline."""
    receiver = make(body_timeout=30)
    bound = HEADER_TIMEOUT + SLACK
    results: list[tuple[bytes, float]] = []
    answers: list[tuple[int, float]] = []
    async with serving(asgi_app(receiver), header_timeout=HEADER_TIMEOUT) as base:
        port = port_of(base)
        done = anyio.Event()

        async def one() -> None:
            results.append(await slow_head(port, bound, first=first))

        async def post() -> None:
            answers.extend(await deliveries_while(port, done))

        async with anyio.create_task_group() as tg:
            for _ in range(SLOW_CLIENTS):
                tg.start_soon(one)
            tg.start_soon(post)
            while len(results) < SLOW_CLIENTS:  # noqa: ASYNC110 - polling our own list
                await anyio.sleep(0.05)
            done.set()
    assert len(results) == SLOW_CLIENTS
    # Closed without an answer: no request was ever handed to the app.
    assert {answer for answer, _ in results} == {b""}
    assert max(seconds for _, seconds in results) < bound
    assert min(seconds for _, seconds in results) >= HEADER_TIMEOUT * 0.9
    assert {status for status, _ in answers} == {200}
    assert max(seconds for _, seconds in answers) < 3.0


async def test_a_kept_alive_connection_gets_the_head_deadline_again() -> None:
    """After one answered request, a second head trickled on the same connection is cut off."""
    receiver = make(body_timeout=30)
    body = order_body()
    request = head(0, len(body)).replace(b"Host: 127.0.0.1:0", b"Host: x")
    signed_lines = b"".join(f"{k}: {v}\r\n".encode() for k, v in signed(body).items())
    request = request[:-2] + signed_lines + b"\r\n" + body
    async with serving(asgi_app(receiver), header_timeout=HEADER_TIMEOUT) as base:
        port = port_of(base)
        started = time.monotonic()
        with anyio.fail_after(HEADER_TIMEOUT + SLACK + 5):
            async with connection(port) as stream:
                await stream.send(request)
                first = await stream.receive()
                assert first.startswith(b"HTTP/1.1 200 ")
                # uvicorn's keep-alive timer stops at the first byte of the next request.
                await stream.send(b"POST /webhooks/woocommerce HTTP/1.1\r\n")
                async with anyio.create_task_group() as tg:
                    lines = (b"X-Slow-%d: y\r\n" % n for n in range(10**6))
                    tg.start_soon(trickle, stream, lines, 0.2)
                    rest = await read_until_closed(stream)
                    tg.cancel_scope.cancel()
        seconds = time.monotonic() - started
    assert rest == b""
    assert seconds < HEADER_TIMEOUT + SLACK
    assert receiver.stats.accepted == 1


async def test_a_slow_but_timely_body_is_accepted() -> None:
    """A body that arrives in pieces but within the deadline is stored and answered 200."""
    receiver = make(body_timeout=5)
    body = order_body()
    signed_lines = b"".join(f"{k}: {v}\r\n".encode() for k, v in signed(body).items())
    async with serving(asgi_app(receiver)) as base:
        port = port_of(base)
        with anyio.fail_after(10):
            async with connection(port) as stream:
                await stream.send(head(port, len(body))[:-2] + signed_lines + b"\r\n")
                for start in range(0, len(body), len(body) // 4 + 1):
                    await anyio.sleep(0.2)
                    await stream.send(body[start : start + len(body) // 4 + 1])
                answer = await stream.receive()
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert receiver.stats.accepted == 1


@pytest.mark.parametrize("value", [0, -1, math.inf, math.nan])
def test_body_timeout_must_be_a_positive_number(value: float) -> None:
    """A zero, negative or non-finite body timeout is refused when the receiver is built."""
    with pytest.raises(ConfigurationError, match="body_timeout"):
        make(body_timeout=value)


def test_defaults_and_uvicorn_limits() -> None:
    """The shipped defaults: 20 s body, 10 s head, uvicorn keep-alive 5 s, head ≤ 16 KiB."""
    assert (DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT) == (20.0, 10.0)
    assert make(body_timeout=DEFAULT_BODY_TIMEOUT).body_timeout == 20.0
    config = server_config(asgi_app(make()))
    assert config.timeout_keep_alive == 5
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.limit_concurrency is None
    assert config.ws == "none"
    with pytest.raises(ValueError, match="header_timeout"):
        server_config(asgi_app(make()), header_timeout=0)
