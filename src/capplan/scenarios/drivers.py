"""Enqueue levers: human-review demand derived from upstream drivers (``inputs/drivers.csv``, optional).

Per (queue, language, day) the drivers say how review work comes about::

    review = content_volume * flag_rate * (1 - automation_share) * (1 - deflection_share)
             + appeal_rate * content_volume * flag_rate * automation_share
             + user_reports

i.e. the classifiers flag a share of the content, a share of the flags is actioned automatically (and a
share of those automatic actions is appealed to a human), an LLM pre-review deflects a share of the
rest, and user reports arrive on top. The forecast is still made of review volume itself; a scenario's
``[[drivers]]`` rules change drivers from a date on, and the forecast of every affected interval is
multiplied by ``review(scenario drivers) / review(workspace drivers)`` of its day. A day without a
drivers row uses the cell's latest earlier row (the drivers hold until changed), else its first row.

Consistency: on the days the history covers, the drivers must multiply out to the history's daily volume
within :data:`TOLERANCE` (5 %) or 3 Poisson standard deviations, whichever is larger; cells that do not
are reported as warnings naming the cells and days.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from capplan.errors import ConfigError, InputError, Problem
from capplan.inputs import Workspace
from capplan.runs import file_sha256
from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME
from capplan.scenarios.apply import cell_mask, to_utc

DRIVERS_FILE = "inputs/drivers.csv"
DATE = "date"
SHARES = ("flag_rate", "automation_share", "deflection_share", "appeal_rate")
REQUIRED = (DATE, QUEUE, LANGUAGE, "content_volume", *SHARES)
OPTIONAL = ("user_reports",)
TOLERANCE = 0.05  # relative tolerance of drivers vs the history's daily volume
MAX_LISTED = 5  # cells named in one warning


def review_volume(d: pd.DataFrame) -> np.ndarray:
    """Review items per day from driver columns (see the module formula) [items/day]."""
    flagged = d["content_volume"].to_numpy(float) * d["flag_rate"].to_numpy(float)
    auto = d["automation_share"].to_numpy(float)
    human = flagged * (1.0 - auto) * (1.0 - d["deflection_share"].to_numpy(float))
    appeals = d["appeal_rate"].to_numpy(float) * flagged * auto
    reports = d["user_reports"].to_numpy(float) if "user_reports" in d else 0.0
    return human + appeals + reports


def read_drivers(ws: Workspace) -> pd.DataFrame | None:
    """``inputs/drivers.csv`` typed and checked (None when the workspace has none).

    Raises
    ------
    InputError
        Every bad cell at once: missing columns, unparseable dates or numbers, shares outside [0, 1],
        negative volumes, unknown queues, duplicated (date, queue, language).
    """
    path = ws.root / DRIVERS_FILE
    if not path.is_file():
        return None
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputError([Problem(DRIVERS_FILE, "missing column(s)", expected=", ".join(REQUIRED), found=", ".join(raw.columns),
                                  fix="add the columns (user_reports is optional)")])
    problems: list[Problem] = []
    out = pd.DataFrame({QUEUE: raw[QUEUE].str.strip(), LANGUAGE: raw[LANGUAGE].str.strip()})
    out[DATE] = pd.to_datetime(raw[DATE], errors="coerce", utc=True).dt.floor("D")
    for row in np.flatnonzero(out[DATE].isna()):
        problems.append(Problem(DRIVERS_FILE, "not a date", row=int(row) + 2, column=DATE, expected="YYYY-MM-DD", found=raw[DATE].iloc[row],
                                fix="write the day as YYYY-MM-DD, e.g. 2026-03-02"))
    for column in ("content_volume", *SHARES, *[c for c in OPTIONAL if c in raw.columns]):
        values = pd.to_numeric(raw[column], errors="coerce")
        high = 1.0 if column in SHARES else np.inf
        bad = values.isna() | (values < 0) | (values > high)
        for row in np.flatnonzero(bad.to_numpy())[:MAX_LISTED]:
            expected = "a share in [0, 1]" if column in SHARES else "a number >= 0"
            problems.append(Problem(DRIVERS_FILE, "value out of range", row=int(row) + 2, column=column, expected=expected,
                                    found=raw[column].iloc[row], fix="correct the value (shares are fractions, e.g. 0.35)"))
        out[column] = values
    unknown = ~out[QUEUE].isin(set(ws.queues[QUEUE]))
    for row in np.flatnonzero(unknown.to_numpy())[:MAX_LISTED]:
        problems.append(Problem(DRIVERS_FILE, "unknown queue", row=int(row) + 2, column=QUEUE, expected="a queue of queues.csv",
                                found=out[QUEUE].iloc[row], fix="correct the queue name (case matters) or add the queue to queues.csv"))
    dup = out.duplicated([DATE, QUEUE, LANGUAGE], keep="first")
    for row in np.flatnonzero(dup.to_numpy())[:MAX_LISTED]:
        problems.append(Problem(DRIVERS_FILE, "duplicated (date, queue, language)", row=int(row) + 2, fix="keep one row per key"))
    if problems:
        raise InputError(problems)
    return out.sort_values([QUEUE, LANGUAGE, DATE], kind="stable").reset_index(drop=True)


def check_drivers(ws: Workspace, drivers: pd.DataFrame) -> list[Problem]:
    """Warnings for (queue, language, day)s where the drivers do not multiply out to the history's volume."""
    history = ws.history
    daily = (history.assign(**{DATE: history[INTERVAL_START].dt.floor("D")})
             .groupby([QUEUE, LANGUAGE, DATE], as_index=False)[VOLUME].sum())
    both = drivers.assign(derived=review_volume(drivers)).merge(daily, on=[QUEUE, LANGUAGE, DATE], how="inner")
    if not len(both):
        return []
    allowed = np.maximum(TOLERANCE * both[VOLUME], 3.0 * np.sqrt(both[VOLUME].clip(lower=1.0)))
    bad = both[(both["derived"] - both[VOLUME]).abs() > allowed]
    if not len(bad):
        return []
    cells = "; ".join(f"{r.queue}/{r.language} {r.date:%Y-%m-%d}: drivers give {r.derived:,.0f}, history {r.volume:,.0f}"
                      for r in bad.head(MAX_LISTED).itertuples())
    more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return [Problem(DRIVERS_FILE, f"drivers do not multiply out to the history's daily volume within {TOLERANCE:.0%} "
                    f"(or 3 Poisson standard deviations) on {len(bad)} of {len(both)} cell-days: {cells}{more}",
                    fix="correct content_volume or the rates of those days", severity="warning")]


def _drivers_on(drivers: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The drivers row holding for each (queue, language, date) of ``keys``: that day's, else the latest earlier, else the first."""
    keys = keys.reset_index(drop=True).assign(_row=lambda f: np.arange(len(f)))
    right = drivers.rename(columns={DATE: "_from"}).sort_values("_from", kind="stable")
    left = keys.sort_values(DATE, kind="stable")
    back = pd.merge_asof(left, right, left_on=DATE, right_on="_from", by=[QUEUE, LANGUAGE], direction="backward")
    fwd = pd.merge_asof(left, right, left_on=DATE, right_on="_from", by=[QUEUE, LANGUAGE], direction="forward")
    merged = back.set_index("_row").sort_index()
    merged = merged.fillna(fwd.set_index("_row").sort_index())
    return merged.reset_index(drop=True)


def driver_factors_for(ws: Workspace, scenario) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """Forecast rows -> multiplier implied by the scenario's ``[[drivers]]`` rules (None without rules).

    Raises
    ------
    ConfigError
        Rules but no ``inputs/drivers.csv``, or a rule selecting cells that have no drivers rows.
    """
    rules = scenario.spec.drivers
    if not rules:
        return None
    drivers = read_drivers(ws)
    if drivers is None:
        raise ConfigError(f"{scenario.label}, line {scenario.line('drivers')}: [[drivers]] rules need {DRIVERS_FILE} "
                          "(date, queue, language, content_volume, flag_rate, automation_share, deflection_share, appeal_rate). "
                          "Fix: add the file (see docs/scenarios.md) or remove the rules")
    covered = drivers[[QUEUE, LANGUAGE]].drop_duplicates()
    for i, rule in enumerate(rules):
        if not cell_mask(covered, rule).any():
            raise ConfigError(f"{scenario.label}, line {scenario.line('drivers', i)}: no row of {DRIVERS_FILE} for the cells "
                              f"{rule.queues} x {rule.languages}. Fix: add their drivers or select other cells")

    def factors(forecast: pd.DataFrame) -> np.ndarray:
        keys = forecast[[QUEUE, LANGUAGE]].assign(**{DATE: forecast[INTERVAL_START].dt.floor("D")})
        base = _drivers_on(drivers, keys)
        new = base.copy()
        times = forecast[INTERVAL_START].reset_index(drop=True)
        for rule in rules:
            mask = cell_mask(base, rule) & base["content_volume"].notna()
            if rule.start is not None:
                mask &= times >= to_utc(rule.start)
            if rule.end is not None:
                mask &= times < to_utc(rule.end)
            for column in SHARES:
                if getattr(rule, column) is not None:
                    new.loc[mask, column] = getattr(rule, column)
            if rule.content_multiplier is not None:
                new.loc[mask, "content_volume"] = new.loc[mask, "content_volume"] * rule.content_multiplier
        before, after = review_volume(base.fillna(0.0)), review_volume(new.fillna(0.0))
        return np.where(before > 0, after / np.where(before > 0, before, 1.0), 1.0)

    return factors


def drivers_record(ws: Workspace, scenario) -> dict:
    """The drivers file's sha256 for run.json, when the scenario uses it."""
    path = ws.root / DRIVERS_FILE
    if not scenario.spec.drivers or not path.is_file():
        return {}
    return {"drivers_file": DRIVERS_FILE, "drivers_sha256": file_sha256(path)}
