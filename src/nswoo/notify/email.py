"""The e-mail notifier: one message per alert over a real SMTP conversation.

`smtp://host[:port]` (default port 587) upgrades with STARTTLS (RFC 3207); `smtps://host[:port]`
(default 465) speaks TLS from the first byte (RFC 8314 implicit TLS). A user and password
in the URL log in after TLS is up. Plain text is allowed only to a loopback host whose
server offers no STARTTLS (a local relay).

Python's `smtplib` does the talking, run in a worker thread: it is the standard library
(no extra dependency), it handles both TLS modes, and a few alerts a week do not need an
async SMTP client; the thread keeps the event loop free while the server answers.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import anyio.to_thread

from .._settings._mapping import EmailTarget
from ._port import Alert, NotifyError

__all__ = ["EmailNotifier"]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmailNotifier:
    """Sends each alert as a plain-text e-mail to `target.to`.

    Args:
        target: recipients, sender and `smtp_url` (from `[notify] email`).
        ssl_context: verifies the server (default: the system's trust store).
        timeout: seconds for connecting and for each SMTP reply.
    """

    channel = "email"

    def __init__(
        self,
        target: EmailTarget,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(target.smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise NotifyError("smtp_url must be smtp://host[:port] or smtps://", channel="email")
        self._target = target
        self._implicit = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._implicit else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._context = ssl_context or ssl.create_default_context()
        self._timeout = timeout

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for `alert`."""
        message = EmailMessage()
        message["From"] = self._target.sender
        message["To"] = ", ".join(self._target.to)
        message["Subject"] = f"[nswoo {alert.severity}] {alert.subject}"
        message["Date"] = formatdate(alert.raised_at.timestamp(), usegmt=True)
        message["Message-ID"] = make_msgid(domain="nswoo")
        message.set_content(alert.body or alert.subject)
        return message

    async def send(self, alert: Alert) -> None:
        """Deliver `alert`.

        Raises:
            NotifyError: the server is unreachable, refused TLS, the login or a recipient.
        """
        message = self.message(alert)
        await anyio.to_thread.run_sync(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        where = f"{self._host}:{self._port}"
        try:
            if self._implicit:
                with smtplib.SMTP_SSL(
                    self._host, self._port, timeout=self._timeout, context=self._context
                ) as smtp:
                    self._deliver(smtp, message)
            else:
                with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                    smtp.ehlo()
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=self._context)
                        smtp.ehlo()
                    elif not _loopback(self._host):
                        raise NotifyError(
                            f"{where} offers no STARTTLS; refusing to send in clear text",
                            channel=self.channel,
                        )
                    self._deliver(smtp, message)
        except NotifyError:
            raise
        except smtplib.SMTPAuthenticationError:
            raise NotifyError(f"{where} refused the login", channel=self.channel) from None
        except smtplib.SMTPException as exc:
            raise NotifyError(f"{where}: {type(exc).__name__}", channel=self.channel) from None
        except ssl.SSLError as exc:
            raise NotifyError(f"{where}: TLS failed ({exc.reason})", channel=self.channel) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise NotifyError(f"{where} unreachable ({reason})", channel=self.channel) from None

    def _deliver(self, smtp: smtplib.SMTP, message: EmailMessage) -> None:
        if self._user is not None:
            smtp.login(self._user, self._password or "")
        smtp.send_message(message)
