"""`nswoo demo`: the main job against the simulators, with a scorecard (see `_run`)."""

from __future__ import annotations
