"""The command groups `nswoo` offers, in help order.

A command group is a module of this package with a `COMMANDS: tuple[Command, ...]`; a new
group joins with one line here. Modules are imported when the parser is built, and each
imports its heavy stack (the server, the simulators) inside its command functions, so
`nswoo check` stays light.
"""

from __future__ import annotations

COMMAND_GROUPS: tuple[str, ...] = (
    "._check",
    "._orders",
    "._inventory",
    "._schema",
    "._webhooks",
    "._demo",
    "._sim",
)
