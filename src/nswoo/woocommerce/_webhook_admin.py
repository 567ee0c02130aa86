"""Keep the store's order webhooks on: find what is wrong with them, and repair it.

WooCommerce disables a webhook after repeated failed deliveries and never retries a
delivery (reference/woocommerce.md §8), so a receiver that was down for an afternoon can
silently stop getting orders for good. `check_webhooks` reports the order webhooks'
problems (missing, disabled, paused, pointing elsewhere); `ensure_webhooks` creates the
missing `order.created`/`order.updated` webhooks and re-enables, re-points and re-keys
nswoo's own ones, idempotently.

Which webhooks are nswoo's: those whose delivery URL is the receiver URL given, those
named `nswoo ...` (the name `ensure_webhooks` gives them), and, when no URL is given, those
whose delivery URL ends with the receiver's path (`/webhooks/woocommerce`, under any mount
prefix). Other integrations' webhooks on the same topics are left alone.

**Secrets.** WooCommerce never returns a webhook's secret: the wc/v3 webhooks controller
(`WC_REST_Webhooks_V2_Controller::prepare_item_for_response`, inherited by v3) leaves it
out although the schema lists it for the edit context. A wrong secret therefore cannot be
detected over REST; `ensure_webhooks` writes the configured secret to every webhook it
keeps, each time, which leaves the same state however often it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import attrs

from .._settings import Secret
from .._settings._urls import redact_url, url_problem
from ..errors import ApiContext, ConfigurationError, ResponseInvalid

if TYPE_CHECKING:
    from ._client import WooClient

__all__ = [
    "ORDER_TOPICS",
    "RECEIVER_PATH",
    "EnsureResult",
    "WebhookCheck",
    "WebhookProblem",
    "WooWebhook",
    "check_receiver_url",
    "check_webhooks",
    "ensure_webhooks",
    "read_webhook",
]

ORDER_TOPICS: tuple[str, ...] = ("order.created", "order.updated")
"""The topics nswoo's receiver needs (DESIGN behaviour 4)."""

RECEIVER_PATH = "/webhooks/woocommerce"
"""The path nswoo's receiver listens on (`nswoo.orders.WEBHOOK_PATH`; a test keeps them equal)."""

NAME_PREFIX = "nswoo"
"""The name prefix of the webhooks `ensure_webhooks` creates (`nswoo order.created`)."""

WebhookStatus = Literal["active", "paused", "disabled"]
ProblemKind = Literal["missing", "disabled", "paused", "elsewhere", "duplicate"]

_STATUSES = ("active", "paused", "disabled")


@attrs.frozen(kw_only=True)
class WooWebhook:
    """A webhook as wc/v3 answers it (the secret is never part of the answer).

    Attributes:
        id: the webhook id.
        name: its friendly name.
        status: `active`, `paused` (by an admin) or `disabled` (by WooCommerce, after
            repeated failed deliveries, §8).
        topic: e.g. `order.updated`.
        delivery_url: where WooCommerce POSTs.
    """

    id: int
    name: str
    status: WebhookStatus
    topic: str
    delivery_url: str

    def describe(self) -> str:
        """`webhook 12 "nswoo order.created"`."""
        return f'webhook {self.id} "{self.name}"' if self.name else f"webhook {self.id}"


def read_webhook(item: Any, context: ApiContext) -> WooWebhook:
    """One item of a wc/v3 webhooks answer → `WooWebhook`.

    Raises:
        ResponseInvalid: not an object with an integer `id`, a known `status`, and string
            `topic` and `delivery_url`.
    """
    if not isinstance(item, Mapping):
        raise ResponseInvalid("a webhook is not a JSON object", **context)
    webhook_id = item.get("id")
    status = item.get("status")
    topic = item.get("topic")
    url = item.get("delivery_url")
    name = item.get("name")
    if isinstance(webhook_id, bool) or not isinstance(webhook_id, int) or webhook_id <= 0:
        raise ResponseInvalid("a webhook has no positive integer id", **context)
    if status not in _STATUSES:
        raise ResponseInvalid(f"webhook {webhook_id} has an unknown status", **context)
    if not isinstance(topic, str) or not isinstance(url, str):
        raise ResponseInvalid(f"webhook {webhook_id} has no topic or delivery_url", **context)
    return WooWebhook(
        id=webhook_id,
        name=name if isinstance(name, str) else "",
        status=status,
        topic=topic,
        delivery_url=url,
    )


@attrs.frozen(kw_only=True)
class WebhookProblem:
    """One thing wrong with the store's order webhooks.

    Attributes:
        topic: the topic concerned (`order.created`).
        kind: `missing` (no webhook of nswoo's for the topic), `disabled` (turned off by
            WooCommerce after failed deliveries), `paused` (turned off by an admin),
            `elsewhere` (nswoo's webhook posts to another URL) or `duplicate` (two of
            nswoo's webhooks for one topic: every event arrives twice).
        webhook: the webhook concerned, None when missing.
    """

    topic: str
    kind: ProblemKind
    webhook: WooWebhook | None = None

    def message(self) -> str:
        """One line naming the webhook and what it means, e.g. for a CLI warning."""
        hook = self.webhook
        if self.kind == "missing" or hook is None:
            return f"no {self.topic} webhook delivers to nswoo: orders arrive only by polling"
        where = redact_url(hook.delivery_url)
        text = {
            "disabled": "is disabled (WooCommerce turns a webhook off after repeated failed "
            "deliveries)",
            "paused": "is paused",
            "elsewhere": f"delivers to {where}, not to this receiver",
            "duplicate": f"duplicates another {self.topic} webhook to {where}",
        }[self.kind]
        return f"{self.topic} {hook.describe()} {text}"


@attrs.frozen(kw_only=True)
class WebhookCheck:
    """What `check_webhooks` found.

    Attributes:
        webhooks: nswoo's order webhooks on the store.
        problems: what is wrong with them; empty when delivery is set up.
    """

    webhooks: tuple[WooWebhook, ...]
    problems: tuple[WebhookProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (URLs redacted)."""
        return {
            "ok": self.ok,
            "webhooks": [_hook_dict(h) for h in self.webhooks],
            "problems": [
                {
                    "topic": p.topic,
                    "kind": p.kind,
                    "webhook_id": p.webhook.id if p.webhook else None,
                    "message": p.message(),
                }
                for p in self.problems
            ],
        }


@attrs.frozen(kw_only=True)
class EnsureResult:
    """What `ensure_webhooks` did.

    Attributes:
        created: webhooks created.
        updated: webhooks re-enabled or re-pointed at the receiver (their secret written
            too).
        rekeyed: webhooks already right, whose secret was written again (it cannot be
            read back to compare).
        problems: what is still wrong afterwards, left to a person: nswoo's other
            webhooks on a topic (duplicates, or pointing elsewhere, turned off).
    """

    created: tuple[WooWebhook, ...] = ()
    updated: tuple[WooWebhook, ...] = ()
    rekeyed: tuple[WooWebhook, ...] = ()
    problems: tuple[WebhookProblem, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether a webhook was created, re-enabled or re-pointed."""
        return bool(self.created or self.updated)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (URLs redacted)."""
        return {
            "created": [_hook_dict(h) for h in self.created],
            "updated": [_hook_dict(h) for h in self.updated],
            "rekeyed": [_hook_dict(h) for h in self.rekeyed],
            "problems": [p.message() for p in self.problems],
        }


def _hook_dict(hook: WooWebhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "name": hook.name,
        "topic": hook.topic,
        "status": hook.status,
        "delivery_url": redact_url(hook.delivery_url),
    }


def _is_nswoo(hook: WooWebhook, url: str | None) -> bool:
    if url is not None and hook.delivery_url == url:
        return True
    if hook.name.split(" ", 1)[0] == NAME_PREFIX:
        return True
    return url is None and urlsplit(hook.delivery_url).path.rstrip("/").endswith(RECEIVER_PATH)


def _problems(
    hooks: Sequence[WooWebhook], url: str | None, topics: Sequence[str]
) -> tuple[list[WooWebhook], list[WebhookProblem]]:
    ours = [h for h in hooks if h.topic in topics and _is_nswoo(h, url)]
    problems: list[WebhookProblem] = []
    for topic in topics:
        mine = [h for h in ours if h.topic == topic]
        if not mine:
            problems.append(WebhookProblem(topic=topic, kind="missing"))
            continue
        delivering = [
            h
            for h in mine
            if h.status == "active"
            and (
                h.delivery_url == url
                if url is not None
                else urlsplit(h.delivery_url).path.rstrip("/").endswith(RECEIVER_PATH)
            )
        ]
        for hook in mine:
            if hook.status != "active":
                problems.append(WebhookProblem(topic=topic, kind=hook.status, webhook=hook))
            elif hook not in delivering:
                problems.append(WebhookProblem(topic=topic, kind="elsewhere", webhook=hook))
        same_target: dict[str, WooWebhook] = {}
        for hook in delivering:
            if hook.delivery_url in same_target:
                problems.append(WebhookProblem(topic=topic, kind="duplicate", webhook=hook))
            else:
                same_target[hook.delivery_url] = hook
    return ours, problems


async def check_webhooks(
    woo: WooClient, *, url: str | None = None, topics: Sequence[str] = ORDER_TOPICS
) -> WebhookCheck:
    """Report what is wrong with the store's order webhooks, changing nothing.

    Args:
        woo: the store's client (its key needs read access to webhooks, which WooCommerce
            grants to users who may manage WooCommerce).
        url: the receiver's public URL, when known; without it, nswoo's webhooks are those
            named `nswoo ...` or delivering to a URL ending in `/webhooks/woocommerce`.
        topics: the topics to check.

    Raises:
        ApiError: the webhooks could not be listed (e.g. `AuthenticationError` for a key
            without that permission).
    """
    hooks = await woo.list_webhooks()
    ours, problems = _problems(hooks, url, topics)
    return WebhookCheck(webhooks=tuple(ours), problems=tuple(problems))


def check_receiver_url(url: str) -> None:
    """Refuse a delivery URL WooCommerce must not be told to post orders to.

    Raises:
        ConfigurationError: not http(s), credentials or a fragment in it, or plain
            `http://` to a host other than this machine (orders would cross the network in
            clear text). `key` is `--url`.
    """
    problem = url_problem(url, query=True)
    if problem is None and urlsplit(url).fragment:
        problem = "must not contain a fragment"
    if problem is not None:
        raise ConfigurationError(problem, key="--url")


async def ensure_webhooks(
    woo: WooClient,
    *,
    url: str,
    secret: str | Secret,
    topics: Sequence[str] = ORDER_TOPICS,
) -> EnsureResult:
    """Make the store deliver each of `topics` to `url`, signed with `secret`.

    For each topic: when nswoo has no webhook, one is created (`nswoo <topic>`, active;
    WooCommerce pings it). Otherwise the first of nswoo's webhooks (preferring one already
    delivering to `url`) is updated: status `active`, delivery URL `url`, and the secret
    written again (it cannot be read back, see the module docstring). Running it twice
    leaves the same webhooks. Duplicates are reported, never deleted.

    Args:
        woo: the store's client (its key needs write access; WooCommerce answers 401
            otherwise).
        url: the receiver's public URL, e.g. `https://hooks.example.com/webhooks/woocommerce`.
        secret: the webhook secret the receiver verifies (`WOO_<ENV>_WEBHOOK_SECRET`, e.g.
            `settings.woocommerce.webhook_secret`).
        topics: the topics to ensure.

    Raises:
        ConfigurationError: `url` is refused (`check_receiver_url`) or `secret` is empty.
        ApiError: a webhook could not be listed, created or updated.
    """
    check_receiver_url(url)
    if isinstance(secret, Secret):
        secret = secret.reveal()
    if not secret:
        raise ConfigurationError("the webhook secret is empty", key="WOO_<ENV>_WEBHOOK_SECRET")
    hooks = await woo.list_webhooks()
    created: list[WooWebhook] = []
    updated: list[WooWebhook] = []
    rekeyed: list[WooWebhook] = []
    ours = [h for h in hooks if h.topic in topics and _is_nswoo(h, url)]
    for topic in topics:
        mine = [h for h in ours if h.topic == topic]
        if not mine:
            created.append(
                await woo.create_webhook(
                    topic=topic, delivery_url=url, secret=secret, name=f"{NAME_PREFIX} {topic}"
                )
            )
            continue
        # Prefer the one already delivering here, then an active one, then the oldest.
        keep = min(mine, key=lambda h: (h.delivery_url != url, h.status != "active", h.id))
        status: WebhookStatus | None = None if keep.status == "active" else "active"
        repoint = None if keep.delivery_url == url else url
        answer = await woo.update_webhook(
            keep.id, status=status, delivery_url=repoint, secret=secret
        )
        (updated if status or repoint else rekeyed).append(answer)
    kept = {h.id: h for h in [*updated, *rekeyed]}
    after = [kept.get(h.id, h) for h in hooks] + created
    _, problems = _problems(after, url, topics)
    return EnsureResult(
        created=tuple(created),
        updated=tuple(updated),
        rekeyed=tuple(rekeyed),
        problems=tuple(problems),
    )
