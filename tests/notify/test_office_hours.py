"""Office hours: the next moment a page may go out (pure), and the pager holding a page."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswoo._settings._mapping import OfficeHours
from nswoo.notify import Alert, LogNotifier, MemoryPendingAlerts, Pager, next_send_time

pytestmark = pytest.mark.anyio

PARIS = OfficeHours(timezone="Europe/Paris")  # mon-fri 09:00-17:00


def paris(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS.zone)


def test_saturday_night_waits_for_monday_morning() -> None:
    saturday = paris(2026, 3, 7, 3, 0)

    assert next_send_time(PARIS, saturday) == paris(2026, 3, 9, 9, 0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ((2026, 3, 4, 10, 30), (2026, 3, 4, 10, 30)),  # inside: now
        ((2026, 3, 4, 8, 59), (2026, 3, 4, 9, 0)),  # before opening: today
        ((2026, 3, 4, 17, 0), (2026, 3, 5, 9, 0)),  # at closing: tomorrow
        ((2026, 3, 6, 18, 0), (2026, 3, 9, 9, 0)),  # Friday evening: Monday
        ((2026, 3, 28, 12, 0), (2026, 3, 30, 9, 0)),  # across the switch to summer time
    ],
)
def test_next_send_time(
    now: tuple[int, int, int, int, int], expected: tuple[int, int, int, int, int]
) -> None:
    assert next_send_time(PARIS, paris(*now)) == paris(*expected)


def test_a_window_past_midnight_belongs_to_the_day_it_starts_on() -> None:
    nights = OfficeHours(timezone="UTC", days=(4,), start=dt.time(22), end=dt.time(6))
    saturday_2am = dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC)  # Friday's night shift
    saturday_7am = dt.datetime(2026, 3, 7, 7, 0, tzinfo=dt.UTC)

    assert next_send_time(nights, saturday_2am) == saturday_2am
    assert next_send_time(nights, saturday_7am) == dt.datetime(2026, 3, 13, 22, tzinfo=dt.UTC)


def test_naive_times_and_empty_days_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_send_time(PARIS, dt.datetime(2026, 3, 7, 3, 0))
    with pytest.raises(ValueError, match="no days"):
        next_send_time(OfficeHours(days=()), paris(2026, 3, 7, 3, 0))


@given(
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1),
        max_value=dt.datetime(2035, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
    st.sets(st.integers(0, 6), min_size=1),
)
def test_the_send_time_is_in_office_hours_and_never_earlier(
    now: dt.datetime, zone: str, days: set[int]
) -> None:
    hours = OfficeHours(timezone=zone, days=tuple(sorted(days)))

    sent = next_send_time(hours, now)

    assert sent >= now
    assert hours.contains(sent)
    assert sent - now < dt.timedelta(days=8)


class Recorder:
    """A notifier keeping what it was given, and when."""

    channel = "recorder"

    def __init__(self, clock: list[dt.datetime]) -> None:
        self.clock = clock
        self.sent: list[tuple[str, dt.datetime]] = []

    async def send(self, alert: Alert) -> None:
        self.sent.append((alert.subject, self.clock[0]))


def alert(at: dt.datetime, key: str = "schema-drift:salesOrder:custbody_woo") -> Alert:
    return Alert(key, "field renamed", "details", "critical", at.astimezone(dt.UTC))


async def test_a_page_raised_saturday_3am_is_sent_monday_9am() -> None:
    clock = [paris(2026, 3, 7, 3, 0)]
    recorder = Recorder(clock)
    pager = Pager([recorder], MemoryPendingAlerts(), PARIS, now=lambda: clock[0])

    await pager.raise_alert(alert(clock[0]))
    clock[0] = paris(2026, 3, 9, 8, 59)
    await pager.flush()
    held = list(recorder.sent)
    clock[0] = paris(2026, 3, 9, 9, 0)
    report = await pager.flush()

    assert held == []
    assert recorder.sent == [("field renamed", paris(2026, 3, 9, 9, 0))]
    assert (report.sent, report.waiting) == (1, 0)


async def test_identical_alerts_page_once() -> None:
    clock = [paris(2026, 3, 4, 10, 0)]
    recorder = Recorder(clock)
    pager = Pager([recorder], MemoryPendingAlerts(), PARIS, now=lambda: clock[0])

    queued = [await pager.raise_alert(alert(clock[0])) for _ in range(5)]
    clock[0] += dt.timedelta(hours=1)
    queued.append(await pager.raise_alert(alert(clock[0])))
    queued.append(await pager.raise_alert(alert(clock[0], key="schema-drift:customer:x")))
    clock[0] += dt.timedelta(days=2)
    queued.append(await pager.raise_alert(alert(clock[0])))  # after the quiet time: again

    assert queued == [True, False, False, False, False, False, True, True]
    assert len(recorder.sent) == 3


async def test_the_log_notifier_logs_critical_alerts_as_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="nswoo.notify"):
        await LogNotifier().send(alert(paris(2026, 3, 4, 10, 0)))

    [record] = [r for r in caplog.records if r.name == "nswoo.notify"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "field renamed: details"
