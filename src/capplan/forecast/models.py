"""Candidate forecast models: name -> how statsforecast fits it, on which grain.

Every candidate works either on the **hourly** series (``seasonal_naive``, ``seasonal_mean``,
``mstl``) or on the **daily totals** of a cell, spread back to hours by an intraday profile
(``daily_*``, ``croston``, ``adida``, ``imapa``; see :mod:`capplan.forecast.daily`). Candidates of
kind ``numpy`` need no fit (:mod:`capplan.forecast.simple`); ``combo`` is the median of the other
configured non-intermittent candidates (at least three; see :data:`COMBO`). The registry order is
the fixed tie-break order of model choice: on equal backtest scores the simpler, earlier model wins.

Two internal models are not configurable candidates but appear in the ``model`` column:
``zero`` (all-zero history, no fit) and ``daily_mean`` (mean daily total of the most recent
days x profile, the last-resort fallback for series too short for any candidate).

statsforecast is imported inside :meth:`Candidate.build` only (it costs 1-3 s to import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from capplan.config import MODEL_NAMES

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
#: MSTL fits only the most recent weeks of hourly history (cost grows with length; 8 weeks keep
#: ~0.1-0.2 s per fit and are plenty to learn a daily and a weekly season) [weeks].
MSTL_TRAIN_WEEKS = 8
#: Daily models fit at most the most recent weeks of daily totals: AutoETS with damped trends costs
#: ~0.05 s per fit on 16 weeks vs ~0.15 s on 26, with the same held-out accuracy in a benchmark
#: (bench/forecast.py) [weeks].
DAILY_TRAIN_WEEKS = 16
#: Shortest history any backtested candidate is trained on (two weekly seasons) [days].
MIN_TRAIN_DAYS = 14

ZERO = "zero"
DAILY_MEAN = "daily_mean"


@dataclass(frozen=True)
class Candidate:
    """One candidate model.

    Attributes
    ----------
    name : str
        Name used in ``capplan.toml`` and in the ``model`` output column.
    grain : {"hourly", "daily"}
        Series the model is fitted on; daily forecasts are spread to hours by a profile.
    intermittent : bool
        An intermittent-demand method (Croston family).
    train_weeks : int | None
        Cap on the training window [weeks]; ``None`` uses ``forecast.train_weeks``.
    kind : {"statsforecast", "numpy", "combo"}
        Fitted by statsforecast, computed with numpy (no fit), or combined from other candidates.
    backtest_refit : bool
        Refit at every backtest origin; ``False``: fit at the first origin only and update the state
        with the newer data for the later windows (statsforecast ``refit=False``, models with a
        ``forward`` method). For AutoETS on daily totals this is about 6x cheaper over 6 windows with
        the same backtest error to 0.2 % (a measured 60-series check).
    """

    name: str
    grain: Literal["hourly", "daily"]
    intermittent: bool = False
    train_weeks: int | None = None
    description: str = ""
    kind: Literal["statsforecast", "numpy", "combo"] = "statsforecast"
    backtest_refit: bool = True

    @property
    def season_length(self) -> int:
        return HOURS_PER_WEEK if self.grain == "hourly" else 7

    def build(self):
        """The statsforecast model object (aliased to :attr:`name`)."""
        from statsforecast import models as m

        if self.name == "seasonal_naive":
            return m.SeasonalNaive(season_length=HOURS_PER_WEEK, alias=self.name)
        if self.name == "daily_ets":
            # Error, trend (damped only) and season chosen by AICc; damped trends keep 4-week
            # horizons sane on count data.
            return m.AutoETS(season_length=7, model="ZZZ", damped=True, alias=self.name)
        if self.name == "daily_theta":
            return m.AutoTheta(season_length=7, alias=self.name)
        if self.name == "mstl":
            # R's stl() defaults for the LOESS jumps (window / 10): ~3x faster than
            # statsmodels' jump=1 with the same fit to 3 significant digits on hourly series.
            stl = {"seasonal_jump": 2, "trend_jump": 29, "low_pass_jump": 3}
            return m.MSTL(
                season_length=[HOURS_PER_DAY, HOURS_PER_WEEK],
                # a level-only trend: half the cost of AutoETS "ZZN" and no trend extrapolated
                # over multi-week horizons
                trend_forecaster=m.AutoETS(model="ANN"),
                stl_kwargs=stl,
                alias=self.name,
            )
        if self.name == "croston":
            return m.CrostonOptimized(alias=self.name)
        if self.name == "adida":
            return m.ADIDA(alias=self.name)
        if self.name == "imapa":
            return m.IMAPA(alias=self.name)
        raise KeyError(self.name)  # pragma: no cover - the registry below lists every name


CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in (
        Candidate("seasonal_naive", "hourly", train_weeks=2, kind="numpy", description="same hour one week earlier (the baseline)"),
        Candidate("seasonal_mean", "hourly", kind="numpy", description="mean of the last k same-weekday-hours (forecast.seasonal_mean_weeks)"),
        Candidate("daily_ets", "daily", train_weeks=DAILY_TRAIN_WEEKS, backtest_refit=False, description="AutoETS (season 7) on daily totals x intraday profile"),
        Candidate("daily_theta", "daily", train_weeks=DAILY_TRAIN_WEEKS, backtest_refit=False, description="AutoTheta (season 7) on daily totals x intraday profile"),
        Candidate("mstl", "hourly", train_weeks=MSTL_TRAIN_WEEKS, description="MSTL(24, 168) on hourly data, level-only (ETS ANN) trend"),
        Candidate("croston", "daily", train_weeks=DAILY_TRAIN_WEEKS, intermittent=True, description="Croston (optimized) on daily totals x profile"),
        Candidate("adida", "daily", train_weeks=DAILY_TRAIN_WEEKS, intermittent=True, description="ADIDA on daily totals x profile"),
        Candidate("imapa", "daily", train_weeks=DAILY_TRAIN_WEEKS, intermittent=True, description="IMAPA on daily totals x profile"),
        Candidate("daily_shift", "daily", kind="numpy", description="recent level (after a detected level shift) x weekday factors x profile"),
        Candidate("combo", "hourly", kind="combo", description="median of the other configured non-intermittent candidates"),
    )
}
assert tuple(CANDIDATES) == MODEL_NAMES, "registry and config.MODEL_NAMES must list the same models in order"

#: Fixed tie-break order (earlier wins).
MODEL_ORDER: dict[str, int] = {name: i for i, name in enumerate(MODEL_NAMES)}


#: The combination candidate; it needs at least this many members.
COMBO = "combo"
COMBO_MIN_MEMBERS = 3


def candidates(names: list[str]) -> list[Candidate]:
    """The configured candidates in registry order (the config already rejected unknown names).

    ``combo`` is dropped when fewer than :data:`COMBO_MIN_MEMBERS` members are configured.
    """
    chosen = [CANDIDATES[n] for n in MODEL_NAMES if n in set(names)]
    if len(combo_members(chosen)) < COMBO_MIN_MEMBERS:
        chosen = [c for c in chosen if c.kind != "combo"]
    return chosen


def combo_members(cands: list[Candidate]) -> list[str]:
    """Names of the candidates ``combo`` takes the median of: the non-intermittent ones."""
    return [c.name for c in cands if c.kind != "combo" and not c.intermittent]
