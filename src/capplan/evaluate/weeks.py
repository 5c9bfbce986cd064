"""Which past weeks a walk-forward evaluation can use, and the workspace as it stood before each.

A week starts at 00:00 UTC on the weekday of ``[planning] start`` (a Monday in the usual
configuration) and is *whole* when the history covers all of it. The walk-forward needs at least
one whole week of history before the first evaluated week (the weekly seasonal naive and every
daily model need it), so a history of ``n`` whole weeks allows at most ``n - 1`` evaluated weeks.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from capplan.errors import ConfigError
from capplan.schema import INTERVAL_START

WEEK = pd.Timedelta(days=7)
EVAL_DAYS = 7


def whole_weeks(history: pd.DataFrame, config) -> list[pd.Timestamp]:
    """Start (UTC) of every whole week of history, oldest first.

    The history ends at its last interval's start plus the interval length (the smallest step
    between interval starts, at most one hour).
    """
    times = pd.to_datetime(history[INTERVAL_START], utc=True)
    if times.empty:
        return []
    steps = pd.Series(times.drop_duplicates().sort_values().to_numpy()).diff().dropna()
    step = min(steps.min(), pd.Timedelta(hours=1)) if len(steps) else pd.Timedelta(hours=1)
    first, end = times.min(), times.max() + step
    anchor = pd.Timestamp(config.planning.start, tz="UTC")
    # the latest week boundary (anchor + k weeks, any integer k) at or before the history's end
    last_end = anchor + ((end - anchor) // WEEK) * WEEK
    weeks = []
    start = last_end - WEEK
    while start >= first:
        weeks.append(start)
        start -= WEEK
    return weeks[::-1]


def evaluation_weeks(history: pd.DataFrame, config, k: int) -> list[pd.Timestamp]:
    """The last ``k`` whole weeks of history, oldest first.

    Raises
    ------
    ConfigError
        ``k < 1``, or more weeks than the history allows (one whole week must come before them).
    """
    if k < 1:
        raise ConfigError(f"--weeks must be at least 1, got {k}")
    weeks = whole_weeks(history, config)
    allowed = max(len(weeks) - 1, 0)
    if k > allowed:
        span = ""
        if len(history):
            times = pd.to_datetime(history[INTERVAL_START], utc=True)
            span = f" ({times.min():%Y-%m-%d} to {times.max():%Y-%m-%d %H:%M} UTC)"
        raise ConfigError(
            f"--weeks {k}: the history{span} holds {len(weeks)} whole week(s) starting on "
            f"{pd.Timestamp(config.planning.start):%A}s, and the walk-forward needs one whole week of history before "
            f"the first evaluated week, so at most {allowed} can be evaluated. Fix: pass --weeks {allowed} or less"
            + ("" if allowed else ", after adding history"))
    return weeks[-k:]


def week_config(config, week: pd.Timestamp):
    """The config for planning ``week``: planning start moved there, one week forecast and planned.

    Built with pydantic ``model_copy(update=...)``, section by section; nothing else changes.
    """
    planning = config.planning.model_copy(update={
        "start": week.date(), "horizon_days": EVAL_DAYS, "plan_days": EVAL_DAYS})
    return config.model_copy(update={"planning": planning})


def workspace_before(ws, week: pd.Timestamp, config):
    """The workspace as it stood at ``week``: history before the week only, the week's config.

    The opening backlog of ``inputs/backlog.csv`` belongs to the workspace's own plan start, not to a past week:
    past weeks are planned without it (``week_end = "auto"`` then plans them as cyclic weeks).
    """
    times = pd.to_datetime(ws.history[INTERVAL_START], utc=True)
    return dataclasses.replace(ws, config=config, history=ws.history[times < week].reset_index(drop=True), backlog=None)


def week_arrivals(history: pd.DataFrame, week: pd.Timestamp) -> pd.DataFrame:
    """The history rows of ``week`` (what actually arrived), as read."""
    times = pd.to_datetime(history[INTERVAL_START], utc=True)
    return history[(times >= week) & (times < week + WEEK)].reset_index(drop=True)


__all__ = ["whole_weeks", "evaluation_weeks", "week_config", "workspace_before", "week_arrivals", "WEEK", "EVAL_DAYS"]
