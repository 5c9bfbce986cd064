"""The scenario language: what ``scenarios/<name>.toml`` may say, as pydantic models.

A scenario is a small TOML file of overrides (see ``docs/scenarios.md`` for examples):

* ``[[volume]]`` multiply the forecast (volume and every band) of some queues x languages in a
  date range;
* ``[[aht]]`` change handle times: ``aht_s * multiplier + delta_s``;
* ``[[events]]`` extra known events (the columns of ``events.csv``), multiplied into the forecast;
* ``[pools.<pool>]``, ``[vendors.<vendor>]``, ``[queues.<queue>]`` change one row of an input table
  (headcount limits, cost, proficiency; contract hours and shares; service target);
* ``[planning]``, ``[forecast]``, ``[staffing]``, ``[policy]``, ``[solver]`` override keys of
  ``capplan.toml`` (shrinkage, exposure caps, penalties, planning quantile...).

Every model forbids unknown keys, so a typo is an error that names the key, the file and the line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ALL = "*"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cells(_Strict):
    """Which (queue, language) cells a rule touches; ``"*"`` (the default) means all."""

    queues: list[str] = Field(default_factory=lambda: [ALL], description="queue names, or * for all")
    languages: list[str] = Field(default_factory=lambda: [ALL], description="language codes, or * for all")


class VolumeRule(Cells):
    """Multiply the forecast of the selected cells from ``start`` (inclusive) to ``end`` (exclusive)."""

    multiplier: float = Field(..., ge=0, description="volume multiplier (1.15 = +15 %), applied to the volume and every band")
    start: dt.datetime | dt.date | None = Field(None, description="first day or time (UTC); default: the forecast's start")
    end: dt.datetime | dt.date | None = Field(None, description="end, exclusive (UTC); default: the forecast's end")


class AhtRule(Cells):
    """New handle time of the selected cells: ``aht_s * multiplier + delta_s`` [s]."""

    delta_s: float = Field(0.0, description="seconds added to the handle time [s]")
    multiplier: float = Field(1.0, gt=0, description="handle-time multiplier (1.1 = 10 % longer)")


class EventRule(Cells):
    """A known event, as in ``events.csv``: the forecast is multiplied from ``start`` to ``end`` (exclusive)."""

    name: str = Field(..., min_length=1, description="event name (reported)")
    start: dt.datetime | dt.date = Field(..., description="start (UTC)")
    end: dt.datetime | dt.date = Field(..., description="end, exclusive (UTC)")
    multiplier: float = Field(..., ge=0, le=100, description="volume multiplier during the event")


class PoolOverride(_Strict):
    """New values for one row of ``pools.csv``."""

    min_headcount: int | None = Field(None, ge=0, description="minimum moderators rostered per week")
    max_headcount: int | None = Field(None, ge=0, description="maximum moderators rostered per week")
    cost_per_hour: float | None = Field(None, ge=0, description="cost per paid hour in the pool's currency")
    proficiency: float | None = Field(None, ge=0.5, le=3.0, description="handle-time multiplier of the pool")


class VendorOverride(_Strict):
    """New contract terms for one row of ``vendors.csv``."""

    min_weekly_hours: float | None = Field(None, ge=0, description="committed paid hours per week")
    max_weekly_hours: float | None = Field(None, ge=0, description="capacity in paid hours per week")
    max_language_share: float | None = Field(None, ge=0, le=1, description="largest share of any one language (0-1)")
    quality: float | None = Field(None, ge=0, le=1, description="quality score (0-1)")


class QueueOverride(_Strict):
    """New service terms for one row of ``queues.csv``."""

    target: float | None = Field(None, ge=0, le=1, description="share of items that must meet the threshold (0-1)")
    severity: int | None = Field(None, ge=1, le=3, description="1 = most severe (unmet work priced highest)")


class DriverRule(Cells):
    """From ``start`` on, set an enqueue driver of the selected cells (needs ``inputs/drivers.csv``)."""

    start: dt.datetime | dt.date | None = Field(None, description="first day (UTC) the new value holds; default: always")
    end: dt.datetime | dt.date | None = Field(None, description="end, exclusive (UTC); default: the forecast's end")
    flag_rate: float | None = Field(None, ge=0, le=1, description="share of content the classifiers flag (0-1)")
    automation_share: float | None = Field(None, ge=0, le=1, description="share of flags actioned automatically (0-1)")
    deflection_share: float | None = Field(None, ge=0, le=1, description="share of the rest deflected by LLM pre-review (0-1)")
    appeal_rate: float | None = Field(None, ge=0, le=1, description="appeals per actioned item (0-1)")
    content_multiplier: float | None = Field(None, ge=0, description="multiplier on content volume")

    @model_validator(mode="after")
    def _sets_something(self) -> "DriverRule":
        if all(getattr(self, k) is None for k in DRIVER_KEYS):
            raise ValueError(f"a [[drivers]] rule must set at least one of {', '.join(DRIVER_KEYS)}")
        return self


DRIVER_KEYS = ("flag_rate", "automation_share", "deflection_share", "appeal_rate", "content_multiplier")
CONFIG_SECTIONS = ("planning", "forecast", "staffing", "policy", "solver")


class ScenarioSpec(_Strict):
    """One scenario file. Config sections are checked against ``capplan.config.Config`` when applied."""

    description: str = Field("", description="one line saying what the scenario asks")
    volume: list[VolumeRule] = Field(default_factory=list)
    aht: list[AhtRule] = Field(default_factory=list)
    events: list[EventRule] = Field(default_factory=list)
    drivers: list[DriverRule] = Field(default_factory=list)
    pools: dict[str, PoolOverride] = Field(default_factory=dict)
    vendors: dict[str, VendorOverride] = Field(default_factory=dict)
    queues: dict[str, QueueOverride] = Field(default_factory=dict)
    planning: dict[str, Any] = Field(default_factory=dict)
    forecast: dict[str, Any] = Field(default_factory=dict)
    staffing: dict[str, Any] = Field(default_factory=dict)
    policy: dict[str, Any] = Field(default_factory=dict)
    solver: dict[str, Any] = Field(default_factory=dict)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of every table header and key of a TOML text, by its path.

    ``[[volume]]`` headers count from 0: the second ``[[volume]]`` table's ``multiplier`` is
    ``("volume", "1", "multiplier")``. Dotted and quoted keys are split and unquoted. Good enough
    for locating an error; the text is parsed for real by :mod:`tomllib`.
    """
    lines: dict[tuple[str, ...], int] = {}
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            path = _split_key(line[2:line.find("]]")])
            index = counts.get(path, 0)
            counts[path] = index + 1
            table = path + (str(index),)
            lines.setdefault(path, number)
            lines[table] = number
        elif line.startswith("["):
            table = _split_key(line[1:line.find("]")])
            lines.setdefault(table, number)
        elif "=" in line:
            key = _split_key(line.split("=", 1)[0])
            for depth in range(1, len(key) + 1):
                lines.setdefault(table + key[:depth], number)
    return lines


def _split_key(text: str) -> tuple[str, ...]:
    parts, current, quote = [], "", ""
    for ch in text.strip():
        if quote:
            if ch == quote:
                quote = ""
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(parts)


def locate(lines: dict[tuple[str, ...], int], loc: tuple) -> int | None:
    """The line of the deepest known prefix of a path (an error's location), or None."""
    path = tuple(str(p) for p in loc)
    for depth in range(len(path), 0, -1):
        if path[:depth] in lines:
            return lines[path[:depth]]
    return None
