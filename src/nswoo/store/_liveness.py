"""Is the process behind a lease owner id gone? The one place the store layer asks the OS.

Owner ids are `host:pid` (`nswoo.orders` `default_owner`). A lease whose owner ran on this
host and whose process no longer exists is dead: nobody will finish or renew it, so the
lease rules (`_rules`) treat it as expired at once instead of waiting out its lease.

Only a certain "gone" counts. Anything else is "alive" and the lease falls back to its
expiry: an owner id that is not `host:pid` (tests and callers pick their own), one from
another host (its processes cannot be seen from here), a process that exists but belongs to
another user (`PermissionError`), or any other OS error.

PID reuse can only err in the safe direction: if the dead owner's pid was given to a new
process, the owner looks alive and the lease simply runs to its expiry, as it did before
this check existed. The check can never make a live owner look dead, because a live process
keeps its pid. And even a wrong takeover would be harmless: the new holder gets
`taken_over_from` set and looks in NetSuite before creating (find-before-create), and the
sales order's externalId is unique in NetSuite, so a second create for the same order is
refused rather than duplicated.

A killed process that its parent has not reaped yet (a zombie) still exists, so it counts
as alive until reaped; supervisors (systemd, a shell, the chaos harness) reap promptly.
"""

from __future__ import annotations

import os
import socket

__all__ = ["owner_is_gone"]


def owner_is_gone(owner: str) -> bool:
    """True when `owner` is `host:pid` of this host and no process `pid` exists."""
    host, sep, pid_text = owner.rpartition(":")
    if not sep or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid <= 0:
        # kill(0, ...) and kill(-n, ...) address process groups, not one process.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        # PermissionError: it exists under another user; anything else: we cannot tell.
        return False
    return False
