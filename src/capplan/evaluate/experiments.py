"""Experiments: two configurations on the same weeks, paired differences with bootstrap intervals.

The variant configuration comes from a TOML file **merged key by key over the workspace's
capplan.toml**: a key given in the file replaces the workspace's value whole (a table value such as
``fx = {...}`` included); keys it leaves out keep the workspace's values. A full capplan.toml therefore
replaces everything it lists, and a partial one such as ``[staffing]\\nquantile = 80`` changes one
setting. Unknown sections or keys are errors, as in capplan.toml.

Both configurations are run on the same weeks and the same actual arrivals, so every cell-week
appears in both: the differences are *paired*. Their uncertainty is a percentile bootstrap over
cell-weeks (resample the cell-weeks with replacement, recompute each statistic on the same resample,
``n_boot`` times, fixed seed).

References
----------
Efron, B. and Tibshirani, R. J. (1993), *An Introduction to the Bootstrap*, Chapman & Hall,
chapter 13 (percentile intervals).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.config import parse_config
from capplan.errors import ConfigError
from capplan.schema import CELL_KEYS, VARIANT, WEEK

N_BOOT = 2000
LEVEL = 0.95
PER = 100  # cell-weeks differences are reported per this many cell-weeks


def load_variant(base, path: Path):
    """The workspace's config with the keys of ``path`` (a TOML file) replacing its own.

    Raises
    ------
    ConfigError
        File missing or unreadable, not UTF-8, not TOML, or with unknown sections/keys or invalid values.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Fix: pass the path of a capplan.toml (full or partial) to --compare") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}). Fix: save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}). Fix: check the path and its permissions") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}. Fix: correct the syntax at that line") from None
    merged = base.model_dump()
    for section, values in raw.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:
            merged[section] = values  # unknown section or a non-table: validation names it
    return parse_config(merged, source=str(path))


def config_changes(a, b) -> dict[str, dict]:
    """``{"section.key": {"A": value, "B": value}}`` for every setting that differs."""
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    out = {}
    for section in da:
        for key in da[section]:
            if da[section][key] != db[section][key]:
                out[f"{section}.{key}"] = {"A": da[section][key], "B": db[section][key]}
    return out


@dataclass(frozen=True)
class Interval:
    """A bootstrap estimate: the statistic on the data and the percentile interval of its resamples."""

    estimate: float
    lo: float
    hi: float

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2.0

    def excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "lo": self.lo, "hi": self.hi, "half_width": self.half_width}


def bootstrap_indices(n: int, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """``n_boot`` resamples of ``range(n)`` with replacement, shape (n_boot, n)."""
    if n < 1:
        raise ValueError("the bootstrap needs at least one cell-week")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def _interval(estimate: float, draws: np.ndarray, level: float) -> Interval:
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(draws[np.isfinite(draws)], [tail, 1.0 - tail]) if np.isfinite(draws).any() else (np.nan, np.nan)
    return Interval(float(estimate), float(lo), float(hi))


def mean_interval(values: np.ndarray, idx: np.ndarray, level: float = LEVEL, scale: float = 1.0) -> Interval:
    """Mean of ``values`` (x ``scale``) with its percentile bootstrap interval over the resamples ``idx``."""
    values = np.asarray(values, dtype=float)
    return _interval(scale * values.mean(), scale * values[idx].mean(axis=1), level)


def ratio_interval(num: np.ndarray, den: np.ndarray, idx: np.ndarray, level: float = LEVEL) -> Interval:
    """``sum(num) / sum(den) - 1`` with its percentile bootstrap interval (same resamples for both sums)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = num[idx].sum(axis=1) / den[idx].sum(axis=1) - 1.0
        estimate = num.sum() / den.sum() - 1.0 if den.sum() > 0 else np.nan
    return _interval(estimate, draws, level)


def share_difference(part_a: np.ndarray, part_b: np.ndarray, whole: np.ndarray, idx: np.ndarray,
                     level: float = LEVEL) -> Interval:
    """``(sum(part_b) - sum(part_a)) / sum(whole)`` (e.g. on-time items of B minus A over all items)."""
    diff, whole = np.asarray(part_b, float) - np.asarray(part_a, float), np.asarray(whole, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = diff[idx].sum(axis=1) / whole[idx].sum(axis=1)
        estimate = diff.sum() / whole.sum() if whole.sum() > 0 else np.nan
    return _interval(estimate, draws, level)


def paired(cell_weeks: pd.DataFrame) -> pd.DataFrame:
    """A and B side by side, one row per (week, queue, language) present in both."""
    keys = [WEEK, *CELL_KEYS]
    a = cell_weeks[cell_weeks[VARIANT] == "A"].drop(columns=VARIANT)
    b = cell_weeks[cell_weeks[VARIANT] == "B"].drop(columns=VARIANT)
    return a.merge(b, on=keys, suffixes=("_a", "_b")).sort_values(keys, kind="stable").reset_index(drop=True)


def compare(cell_weeks: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> dict:
    """Paired differences B - A over cell-weeks, with percentile bootstrap intervals.

    Returns
    -------
    dict
        ``cell_weeks`` (paired), ``met_a``, ``met_b`` (counts), ``met_more_per_100`` (B's extra cell-weeks
        meeting target per 100 cell-weeks), ``on_time_share_diff`` (B - A, share of all items),
        ``cost_change`` (B's paid cost / A's - 1), each an :class:`Interval` as a dict, and
        ``n_boot``, ``seed``, ``level``.
    """
    pairs = paired(cell_weeks)
    idx = bootstrap_indices(len(pairs), n_boot, seed)
    met_a = pairs["met_a"].fillna(False).astype(bool).to_numpy()
    met_b = pairs["met_b"].fillna(False).astype(bool).to_numpy()
    return {
        "cell_weeks": int(len(pairs)), "met_a": int(met_a.sum()), "met_b": int(met_b.sum()),
        "met_more_per_100": mean_interval(met_b.astype(float) - met_a, idx, level, scale=PER).as_dict(),
        "on_time_share_diff": share_difference(pairs["on_time_a"], pairs["on_time_b"], pairs["items_a"], idx, level).as_dict(),
        "cost_change": ratio_interval(pairs["cost_b"], pairs["cost_a"], idx, level).as_dict(),
        "n_boot": n_boot, "seed": seed, "level": level,
    }


def verdict(comparison: dict) -> str:
    """The comparison in plain words, e.g. "B meets target in 6 +/- 3 more cell-weeks of 100 at 2.1 % +/- 0.8 % more cost"."""
    met, cost = comparison["met_more_per_100"], comparison["cost_change"]
    m = met["estimate"]
    if round(m) == 0:
        met_text = f"B meets target in as many cell-weeks as A ({m:+.0f} +/- {met['half_width']:.0f} of {PER})"
    else:
        met_text = f"B meets target in {abs(m):.0f} +/- {met['half_width']:.0f} {'more' if m > 0 else 'fewer'} cell-weeks of {PER}"
    c = cost["estimate"]
    cost_text = f"at {abs(c):.1%} +/- {cost['half_width']:.1%} {'more' if c >= 0 else 'less'} cost".replace("%", " %")
    notes = []
    for name, label in (("met_more_per_100", "target"), ("cost_change", "cost")):
        iv = comparison[name]
        if iv["lo"] <= 0 <= iv["hi"]:
            notes.append(label)
    tail = ""
    if notes:
        tail = f" (the {int(comparison['level'] * 100)} % interval of the {' and '.join(notes)} difference includes zero)"
    return f"{met_text} {cost_text}{tail}; {comparison['cell_weeks']} paired cell-weeks"


__all__ = ["load_variant", "config_changes", "Interval", "bootstrap_indices", "mean_interval", "ratio_interval",
           "share_difference", "paired", "compare", "verdict", "N_BOOT", "LEVEL"]
