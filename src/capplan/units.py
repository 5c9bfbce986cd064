"""Durations as people write them (``20s``, ``30m``, ``4h``, ``1.5h``, ``1h30m``) and times as planning-interval indexes."""

from __future__ import annotations

import math
import re

_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ALIASES = {
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]+)\s*")
_FORMS = "a number with a unit s, m, h or d, e.g. 20s, 30m, 4h, 1.5h or 1h30m"


def parse_duration(text: str) -> float:
    """Seconds in a duration written with units.

    Parameters
    ----------
    text : str
        One or more ``<number><unit>`` parts, units ``s``/``m``/``h``/``d`` (also ``sec``,
        ``min``, ``hr``, ``hours``...), case-insensitive: ``"20s"``, ``"30m"``, ``"1.5h"``,
        ``"1h30m"``.

    Returns
    -------
    float
        The duration [s].

    Raises
    ------
    ValueError
        Empty text, a number without a unit, an unknown unit or anything else; the message
        shows what was found and the accepted forms.
    """
    raw = "" if text is None else str(text)
    stripped = raw.strip()
    if not stripped:
        raise ValueError(f"empty duration: expected {_FORMS}")
    if re.fullmatch(r"[+-]?\d+(?:\.\d*)?", stripped):
        raise ValueError(f"duration {raw!r} has no unit: expected {_FORMS}")
    pos, total = 0, 0.0
    while pos < len(stripped):
        match = _PART.match(stripped, pos)
        if not match or match.end() == pos:
            raise ValueError(f"{raw!r} is not a duration: expected {_FORMS}")
        unit = _ALIASES.get(match.group(2).lower())
        if unit is None:
            raise ValueError(f"{raw!r} has an unknown unit {match.group(2)!r}: expected {_FORMS}")
        total += float(match.group(1)) * _UNIT_S[unit]
        pos = match.end()
    if not math.isfinite(total):
        raise ValueError(f"{raw!r} is not a finite duration: expected {_FORMS}")
    return total


def format_duration(seconds: float) -> str:
    """Short human form of a duration: ``20s``, ``5m``, ``4h``, ``1h30m``, ``7.84s``."""
    if seconds is None or not math.isfinite(seconds):
        return "inf"
    if seconds < 60 or seconds != round(seconds):
        return f"{seconds:.3g}s" if seconds < 60 else f"{seconds / 60:.3g}m"
    s = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts) or "0s"


def as_utc(times):
    """``pd.to_datetime(times, utc=True)``, without pandas' cache check when ``times`` already hold datetimes: to decide
    whether to cache, pandas turns up to 10,000 of them into Timestamps (about 6 ms for 15,000 rows, for nothing when
    there is nothing to parse). Text is still parsed with the cache."""
    import pandas as pd

    return pd.to_datetime(times, utc=True, cache=not pd.api.types.is_datetime64_any_dtype(times))


def interval_index(times, start, hours: float):
    """Index of the planning interval holding each time: ``floor((time - start) / hours)`` (negative before ``start``).

    Parameters
    ----------
    times : a timestamp, or a Series / Index / array of them (tz-naive ones are read as UTC)
    start : tz-aware UTC timestamp of interval 0 (the plan window's start)
    hours : interval length [h], e.g. 1.0 or 0.25

    Returns
    -------
    int for one timestamp, else a numpy int array in the order of ``times``.
    """
    import datetime as dt

    import pandas as pd

    step_s = float(hours) * 3600.0
    if isinstance(times, dt.datetime):
        return int((pd.Timestamp(times) - start).total_seconds() // step_s)
    delta = pd.Series(as_utc(times)) - start
    return (delta.dt.total_seconds() // step_s).astype(int).to_numpy()
