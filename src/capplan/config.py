"""Typed configuration (``capplan.toml``): the single source of truth for every setting.

Each section is a pydantic model with descriptions and ``extra="forbid"``; the commented default
file written by ``capplan init`` / ``capplan demo`` is generated from these models
(:func:`default_toml`), and a test checks the generated file loads back to the defaults.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from capplan.errors import ConfigError

CONFIG_FILE = "capplan.toml"

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

OVERTIME_PREMIUM = 1.5  # default overtime pay multiple: [policy] overtime_premium
#: Keys a section takes from another unless it sets them itself: (section, key) -> (section, key). The one value lives
#: in the target; ``Config`` fills the followers it was not given (``model_fields_set``) and ``to_toml`` writes them
#: as comments, so editing the one value changes them all and a follower set in the file still wins.
FOLLOWS: dict[tuple[str, str], tuple[str, str]] = {
    ("capacity", "overtime_premium"): ("policy", "overtime_premium"),
    ("contracts", "overtime_premium"): ("policy", "overtime_premium"),
    ("reforecast", "overtime_premium"): ("policy", "overtime_premium"),
}

MODEL_NAMES = ("seasonal_naive", "seasonal_mean", "daily_ets", "daily_theta", "mstl", "croston", "adida", "imapa",
               "daily_shift", "combo")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PlanningConfig(_Section):
    start: dt.date = Field(
        default_factory=lambda: _next_monday(dt.date.today()),
        description="first day of the forecast and the plan (UTC midnight); a Monday is usual",
    )
    horizon_days: int = Field(28, ge=1, le=366, description="forecast horizon [days]")
    plan_days: int = Field(7, ge=1, le=28, description="days the optimizer plans from the start (whole weeks recommended) [days]")
    interval_minutes: Literal[15, 30, 60] = Field(60, description="planning interval length [min]: 15, 30 or 60")
    max_history_gap_days: int = Field(
        14, ge=0, description="history must reach at least this close to the planning start [days]"
    )
    week_end: Literal["auto", "cyclic", "terminal"] = Field(
        "auto", description="deferred work at the plan window's end: cyclic (the week wraps: Sunday night's work due Monday "
        "counts against the same plan's Monday), terminal (opening backlog from inputs/backlog.csv, the end backlog "
        "priced at the cheapest standard hour), auto (terminal when inputs/backlog.csv exists, else cyclic); see docs/rolling.md",
    )


class ForecastConfig(_Section):
    models: list[str] = Field(
        default_factory=lambda: ["seasonal_naive", "seasonal_mean", "daily_ets", "daily_shift", "mstl", "croston", "combo"],
        description=f"candidate models, chosen per cell by backtest; valid: {', '.join(MODEL_NAMES)}",
    )
    levels: list[int] = Field(default_factory=lambda: [80, 95], description="prediction-interval levels [%]")
    backtest_windows: int = Field(6, ge=1, le=20, description="rolling-origin backtest windows")
    backtest_step_days: int = Field(7, ge=1, description="days between backtest origins [days]")
    backtest_horizon_days: int = Field(14, ge=1, description="horizon of each backtest window [days]")
    metric: Literal["mase", "wape"] = Field("mase", description="model-choice metric for regular cells (sparse cells use wape)")
    sparse_zero_share: float = Field(
        0.3, ge=0, le=1, description="a cell with more than this share of zero intervals is 'sparse' (intermittent models)"
    )
    profile_weeks: int = Field(8, ge=1, description="recent weeks used to learn the intraday profile of daily models [weeks]")
    train_weeks: int = Field(26, ge=2, description="most recent weeks of history used for fitting [weeks]")
    seed: int = Field(0, description="random seed (recorded in run.json)")
    engine: Literal["local", "dask"] = Field("local", description="where statsforecast runs: local processes or Dask (via fugue)")
    n_jobs: int = Field(1, ge=-1, description="local worker processes for statsforecast (-1 = all cores)")
    seasonal_mean_weeks: int = Field(4, ge=1, le=52, description="weeks averaged by the seasonal_mean model (same weekday-hour) [weeks]")
    window_half_life: float = Field(
        4.0, gt=0, description="half-life of the backtest window weights in model choice (recent windows weigh more) [windows]"
    )
    choice_min_t: float = Field(
        1.5, ge=0, description="paired t statistic across backtest windows a model needs to replace the seasonal naive"
    )
    outage_ratio: float = Field(
        0.5, ge=0, lt=1, description="a history day below this share of its weekday's usual total is an outage or holiday, replaced for fitting (0 = off)"
    )
    holiday_countries: dict[str, str] = Field(
        default_factory=dict,
        description='public-holiday calendar per language code, or "*" for every cell, e.g. {"*" = "US"} or {en = "US", pt = "BR", de = "DE-BY"}: holidays are taken out of the history and forecast with the cell\'s past holiday effect',
    )
    profile_pool: Literal["language", "queue", "none"] = Field(
        "language", description="cells whose intraday profile a thin cell borrows from (shrinkage): same language, same queue, or none"
    )
    aht: Literal["table", "forecast"] = Field(
        "table", description='handle time requirements plan with: "table" = handle_times.csv per cell; "forecast" = the forecast\'s hourly aht_s (history aht_s: level, trend, weekday and hour shape, shrunk toward the table; see docs/forecast.md)'
    )
    aht_weeks: int = Field(13, ge=1, le=104, description="recent weeks of history the handle-time forecast learns from [weeks]")
    time_zones: dict[str, str] = Field(
        default_factory=lambda: {"*": "auto"},
        description='IANA time zone whose clock the arrivals of a language follow, or "*" for every cell, e.g. {"*" = "America/New_York"} or {de = "Europe/Berlin"}: history is modelled without daylight-saving jumps and the forecast follows the zone\'s changes; "auto" (the default, also written time_zones = "auto") detects per language from the history\'s daylight-saving changes whether its arrivals follow a zone with daylight saving (US, EU, Australia, ...) and keeps UTC otherwise; {} = off, every cell on UTC (see docs/forecast.md)',
    )

    @field_validator("models")
    @classmethod
    def _known_models(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in MODEL_NAMES]
        if unknown:
            raise ValueError(f"unknown model(s) {unknown}; valid names: {', '.join(MODEL_NAMES)}")
        if not value:
            raise ValueError(f"at least one model is needed; valid names: {', '.join(MODEL_NAMES)}")
        members = [m for m in value if m not in ("combo", "croston", "adida", "imapa")]
        if "combo" in value and len(members) < 3:
            raise ValueError(f"combo is the median of the other non-intermittent models and needs at least three of them; got {members}")
        return value

    @field_validator("holiday_countries")
    @classmethod
    def _holiday_countries(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            return value
        import holidays

        for lang, code in value.items():
            country, _, subdiv = code.partition("-")
            try:
                holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None, years=2000)
            except NotImplementedError as exc:
                raise ValueError(f"holiday country {code!r} (language {lang!r}) is not known to the holidays package "
                                 f"({exc}); use an ISO 3166 code such as US, GB, DE, BR, PH, optionally with a "
                                 "subdivision such as AU-VIC") from None
        return value

    @field_validator("time_zones", mode="before")
    @classmethod
    def _time_zones_shorthand(cls, value):
        """``"auto"`` or one zone name for every cell = ``{"*" = value}``; ``"off"`` or ``""`` = ``{}``."""
        if isinstance(value, str):
            return {} if value.strip().lower() in ("", "off") else {"*": value}
        return value

    @field_validator("time_zones")
    @classmethod
    def _time_zones(cls, value: dict[str, str]) -> dict[str, str]:
        import zoneinfo

        for lang, zone in value.items():
            if zone == "auto":
                continue
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"time zone {zone!r} (language {lang!r}) is not an IANA zone name; use e.g. "
                                 "America/New_York, Europe/Berlin, Asia/Manila, or \"auto\"") from None
        return value

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        if any(not 0 < lv < 100 for lv in value):
            raise ValueError("levels must be between 1 and 99 (percent)")
        return sorted(set(value))


class StaffingConfig(_Section):
    quantile: Literal[50, 80, 90, 95] = Field(
        50, description="plan for this forecast quantile: 50 = the mean forecast, else the upper bound of the matching interval"
    )
    shrinkage: float = Field(0.30, ge=0, lt=1, description="share of paid time not productive (breaks, training, absence)")
    shrinkage_by_site: dict[str, float] = Field(
        default_factory=dict, description="per-site shrinkage overriding the global value, e.g. {Manila = 0.35}"
    )
    max_occupancy: float = Field(0.85, gt=0, le=1, description="occupancy cap for realtime queues (0-1]")
    deferred_max_utilisation: float = Field(
        0.95, gt=0, le=1, description="productive time a moderator spends handling deferred work (0-1]"
    )
    proficiency: Literal["fixed", "estimated"] = Field(
        "fixed", description="AHT multiplier of a pool on a cell: fixed = pools.csv proficiency; estimated = the latest "
        "capplan capability run's estimate per pool x cell (pools.csv where it has none)"
    )
    rework: bool = Field(
        False, description="quality-adjusted capacity: items failing QA or overturned on appeal are reviewed again, so a pool's "
        "hours on a cell do (1 + (1 - quality) x rework_aht_ratio) times the work; quality = the vendor's score (in-house 1.0), "
        "or the capability estimate when proficiency = estimated"
    )
    rework_aht_ratio: float = Field(1.0, ge=0, le=10, description="handle time of a re-review relative to the first review")
    risk: Literal["quantile", "scenarios", "checked"] = Field(
        "quantile", description="how the plan meets targets under uncertainty: quantile = staff for one forecast quantile "
        "(see quantile); scenarios = one shift plan for demand scenarios drawn from the backtest errors (optimize/stochastic.py); "
        "checked = the P50 plan checked against such scenarios and lifted where a cell falls short (optimize/checked.py)"
    )
    target_probability: float = Field(
        0.95, description="risk = scenarios or checked: wanted probability that a cell meets its service target over the week (0-1)"
    )
    scenarios: int = Field(10, ge=1, le=200, description="risk = scenarios: demand scenarios in the plan model; checked: scenarios the plan is checked against, and as many held out to state its risk")
    scenario_pricing: Literal["expected", "mean"] = Field(
        "expected", description="risk = scenarios: how late work within a target's allowance is priced: expected = its "
        "expected penalty over the scenarios; mean = its penalty on the mean forecast only (docs/risk.md)"
    )
    check_rounds: int = Field(
        2, ge=0, le=20, description="risk = checked: at most this many lift-and-re-solve rounds after the P50 plan (0 = "
        "state the P50 plan's risk, lift nothing)"
    )
    check_workers: int = Field(
        2, ge=1, le=64, description="risk = checked: processes solving the scenario LPs side by side (1 = in this process; "
        "used from 5,000 cell-intervals, e.g. the default demo week; each holds its own copy of the model)"
    )
    scenario_error_cap: float = Field(
        1.0, gt=0, description="risk = scenarios or checked: a scenario's plan hour takes its backtest hour's error scaled "
        "to the plan hour's level, but at most this many times the error the backtest hour had (1 = never larger; inf = "
        "scaled without a cap): a near-empty backtest hour does not lend a large standardised error to a busy plan hour "
        "(docs/risk.md)"
    )
    check_judge: Literal["replay", "model"] = Field(
        "replay", description="risk = checked: what judges a scenario (the check, the lift and the stated risk; risk = scenarios: "
        "the stated risk): replay = the "
        "scenario replayed item by item on the plan's shifts as capplan evaluate replays a week; model = the linear check "
        "(the allocation re-solved knowing the whole scenario: optimistic on real arrivals, docs/risk.md)"
    )
    check_policy: Literal["priority", "edf"] = Field(
        "priority", description="check_judge = replay: the replay's routing policy (capplan evaluate's default is priority)"
    )

    @field_validator("target_probability")
    @classmethod
    def _target_probability(cls, value: float) -> float:
        if not 0 < value < 1:
            raise ValueError(f"target_probability must be strictly between 0 and 1 (e.g. 0.95), got {value}")
        return value

    @field_validator("shrinkage_by_site")
    @classmethod
    def _site_shrinkage(cls, value: dict[str, float]) -> dict[str, float]:
        for site, s in value.items():
            if not 0 <= s < 1:
                raise ValueError(f"shrinkage for site {site!r} must be in [0, 1), got {s}")
        return value


class PolicyConfig(_Section):
    currency: str = Field("USD", description="reporting currency (ISO code)")
    fx: dict[str, float] = Field(
        default_factory=lambda: {"USD": 1.0},
        description="value of one unit of each currency in the reporting currency, e.g. {EUR = 1.08, PHP = 0.0175}",
    )
    exposure_max_share: float = Field(
        0.5, ge=0, le=1, description="wellbeing: max share of a pool's productive time on egregious queues, per interval"
    )
    exposure_max_hours_per_day: float = Field(
        4.0, ge=0, le=24, description="wellbeing: max hours per moderator per day on egregious queues [h]"
    )
    critical_languages: list[str] = Field(
        default_factory=list, description="languages that must be served by at least two vendors where capacity exists"
    )
    unmet_penalty_per_hour: dict[int, float] = Field(
        default_factory=lambda: {1: 2000.0, 2: 400.0, 3: 120.0},
        description="price of one hour of unmet work by severity tier [reporting currency / h]",
    )
    vendor_max_share: float = Field(
        1.0, gt=0, le=1,
        description="concentration: max share of all productive hours of the plan given to any one vendor, e.g. 0.5 "
        "(in-house pools are not a vendor; applies when at least two providers have pools with max_headcount > 0); 1 = no limit",
    )
    severe_graphic_min_quality: float = Field(
        0.0, ge=0, le=1,
        description="quality floor: egregious work of severity 1 and 2 goes only to pools whose quality (the vendor's "
        "quality score; in-house pools 1.0) is at least this, e.g. 0.92; 0 = no floor",
    )
    overtime_premium: float = Field(
        OVERTIME_PREMIUM, ge=1, description="overtime pay as a multiple of the hourly rate: the one value [capacity], [contracts] "
        "and [reforecast] use unless they set their own overtime_premium"
    )

    @field_validator("fx")
    @classmethod
    def _fx_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for cur, rate in value.items():
            if not rate > 0:
                raise ValueError(f"fx rate for {cur} must be positive, got {rate}")
        return value

    @model_validator(mode="after")
    def _reporting_currency_in_fx(self) -> "PolicyConfig":
        if self.currency not in self.fx:
            self.fx = {**self.fx, self.currency: 1.0}
        return self


class SolverConfig(_Section):
    backend: Literal["highs", "scip"] = Field(
        "highs", description="MILP solver through OR-Tools MathOpt: highs (relax-round-fix, fast) or scip (plain MIP, slow at demo size)"
    )
    time_limit_s: float = Field(300.0, gt=0, description="wall-clock limit of one solve [s]; the default demo solves in about 20-40 s on 2 quiet cores, the margin is for shared machines")
    relative_gap: float = Field(0.01, ge=0, le=1, description="stop when the optimality gap is at most this")
    seed: int = Field(0, description="solver random seed")
    price_rules: bool = Field(
        True, description="binding.csv: also price the limits that are rules of the patterns and skills (overtime cap, quality "
        "floors) from the LP relaxation with the limit moved one step: a step the relaxation's duals prove saves nothing costs "
        "one model build (about 3 s CPU on the default demo), any other one relaxation re-solved (about 13-17 s CPU), in the "
        "time left of time_limit_s; false leaves them unpriced (docs/optimizer.md)"
    )
    fallback: Literal["baseline", "none"] = Field(
        "baseline", description="when time_limit_s runs out before the optimizer has any plan: baseline = write a fallback plan, "
        "the LP relaxation's staffing rounded when the relaxation finished, else (or when cheaper) the baseline's shifts (a competent "
        "planner's method), labelled status fallback; none = fail with a solver error (docs/optimizer.md)"
    )
    fallback_lp_share: float = Field(
        0.5, ge=0, le=1, description="the fallback's fixed-staff LPs (the rounded relaxation's staffing, then the baseline's shifts; "
        "about 55-100 s each on the 3x demo) may take this share of time_limit_s after the limit, together; when none finishes the "
        "baseline's own allocation is kept; 0 = always the baseline's allocation"
    )


class CapacityConfig(_Section):
    weeks: int = Field(26, ge=13, le=52, description="long-range plan length [weeks] (13-52); capplan capacity --weeks overrides")
    quantile: Literal[50, 80, 90, 95] = Field(
        50, description="weekly forecast quantile the capacity plan covers: 50 = the mean, else the upper bound of the matching interval"
    )
    fte_week_hours: float = Field(40.0, gt=0, le=80, description="paid hours of one full-time moderator per week [h]")
    calibration_weeks: int = Field(
        4, ge=1, le=12, description="recent weeks of hourly history whose requirements calibrate workload hours -> productive hours [weeks]"
    )
    attrition_monthly: float = Field(0.03, ge=0, lt=1, description="share of in-house moderators leaving per month (0-1)")
    attrition_by_site: dict[str, float] = Field(
        default_factory=dict, description="per-site monthly attrition overriding the global rate, e.g. {Austin = 0.05}"
    )
    hiring_lead_weeks: int = Field(
        6, ge=0, le=52, description="weeks from the plan start to the earliest new hiring class (recruiting lead time) [weeks]"
    )
    training_weeks: int = Field(4, ge=0, le=26, description="weeks of paid classroom training before a hire handles work [weeks]")
    ramp: list[float] = Field(
        default_factory=lambda: [0.5, 0.7, 0.85, 0.95],
        description="nesting ramp: proficiency of a new hire (share of a tenured moderator's output) in each week after training; 1.0 after the list; non-decreasing, each in (0, 1]",
    )
    max_hires_per_site_month: int = Field(25, ge=0, description="most hires whose class starts in one calendar month, per site")
    max_hires_by_site: dict[str, int] = Field(
        default_factory=dict, description="per-site monthly hiring limit overriding the global one, e.g. {Dublin = 10}"
    )
    min_class_size: int = Field(1, ge=1, description="smallest hiring class worth running (a class is 0 or at least this many hires)")
    hire_cost: float = Field(3000.0, ge=0, description="one-off cost per hire: recruiting and onboarding [reporting currency]")
    overtime_premium: float = Field(
        OVERTIME_PREMIUM, ge=1, description="long-range plan's overtime pay as a multiple of the hourly rate; unset = [policy] overtime_premium"
    )
    overtime_max_share: float = Field(
        0.10, ge=0, le=0.5, description="most overtime per in-house pool and week, as a share of its productive moderators' paid hours"
    )
    vendor_notice_weeks: int = Field(
        4, ge=0, le=52, description="notice period: a vendor's weekly hours stay at least at the opening level for this many weeks [weeks]"
    )
    vendor_ramp_up_share: float = Field(
        0.15, gt=0, le=1, description="most a vendor's weekly hours may rise from one week to the next, as a share of its max_weekly_hours"
    )
    vendor_ramp_down_share: float = Field(
        0.15, gt=0, le=1, description="most a vendor's weekly hours may fall from one week to the next (after notice), as a share of its max_weekly_hours"
    )
    transfer_lead_weeks: int = Field(
        2, ge=0, le=52, description="weeks from the plan start to the earliest transfer of moderators between in-house pools [weeks]"
    )
    transfer_training_weeks: int = Field(
        2, ge=0, le=26, description="weeks of cross-training a transferred moderator spends before working in the new pool (paid by it, not productive) [weeks]"
    )
    transfer_cost: float = Field(500.0, ge=0, description="one-off cost per moderator transferred between in-house pools [reporting currency]")
    transfer_cross_site_cost: float = Field(
        5000.0, ge=0, description="extra one-off cost per transfer between pools of different sites (relocation) [reporting currency]"
    )
    max_transfers_per_pool_month: int = Field(
        5, ge=0, description="most moderators moved out of one in-house pool per calendar month (0 = no transfers)"
    )
    max_transfers_by_pool: dict[str, int] = Field(
        default_factory=dict, description="per-pool monthly transfer limit overriding the global one, e.g. {dub-core = 10}"
    )
    transfer_same_site: bool = Field(True, description="allow transfers between any two in-house pools of the same site")
    transfer_routes: dict[str, list[str]] = Field(
        default_factory=dict,
        description="further allowed transfers, source pool -> target pools (may cross sites, at transfer_cross_site_cost), e.g. {dub-core = [\"aus-core\"]}",
    )

    @field_validator("attrition_by_site")
    @classmethod
    def _site_attrition(cls, value: dict[str, float]) -> dict[str, float]:
        for site, rate in value.items():
            if not 0 <= rate < 1:
                raise ValueError(f"attrition for site {site!r} must be in [0, 1) (a monthly share below 100 %), got {rate}")
        return value

    @field_validator("max_hires_by_site")
    @classmethod
    def _site_hires(cls, value: dict[str, int]) -> dict[str, int]:
        for site, n in value.items():
            if n < 0:
                raise ValueError(f"hiring limit for site {site!r} must be >= 0, got {n}")
        return value

    @field_validator("max_transfers_by_pool")
    @classmethod
    def _pool_transfers(cls, value: dict[str, int]) -> dict[str, int]:
        for pool, n in value.items():
            if n < 0:
                raise ValueError(f"transfer limit for pool {pool!r} must be >= 0, got {n}")
        return value

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, value: list[float]) -> list[float]:
        for i, share in enumerate(value):
            if not 0 < share <= 1:
                raise ValueError(f"ramp week {i + 1} is {share}: each proficiency share must be in (0, 1]")
            if i and share < value[i - 1]:
                raise ValueError(f"ramp is not monotone: week {i + 1} ({share}) is below week {i} ({value[i - 1]}); "
                                 "a new hire's proficiency never falls with tenure")
        return value


class ReforecastConfig(_Section):
    overtime_premium: float = Field(
        OVERTIME_PREMIUM, ge=1, description="intraday re-plan: overtime pay as a multiple of the pool's hourly rate; unset = [policy] overtime_premium"
    )
    overtime_max_hours: float = Field(
        2.0, ge=0, le=8, description="intraday re-plan: most overtime one moderator may work after a shift's end [h] (0 = no overtime)"
    )
    vto: bool = Field(True, description="intraday re-plan: may offer voluntary time off (early release saves the paid hours)")
    vto_vendor_pools: bool = Field(
        False, description="intraday re-plan: offer voluntary time off in vendor pools too (their weekly contract minimums are not re-checked)"
    )
    credibility_weeks: int = Field(
        8, ge=1, le=52, description="weeks of history that fit the credibility weights of the intraday forecast update [weeks]"
    )
    time_zone: str = Field(
        "", description="intraday re-plan: whose calendar day is 'today': a site of inputs/pools.csv or an IANA zone, e.g. "
        "Dublin or Europe/Dublin; empty = forecast.time_zones \"*\" when set, else the site with the most planned paid hours "
        "(see docs/reforecast.md); capplan reforecast --time-zone overrides"
    )


class CapabilityConfig(_Section):
    level: float = Field(0.95, gt=0, lt=1, description="level of the uncertainty intervals of the estimates (0-1)")
    policy_changes: list[dt.date] = Field(
        default_factory=list, description="dates of changes (policy, tooling) that may raise handle times for a while, e.g. "
        "[2026-06-15]: a bump and its fading are fitted in every queue from each date; empty = detect them from the records"
    )
    detect_policy_changes: bool = Field(True, description="look for a temporary AHT bump in every queue when policy_changes is empty")


class ContractsConfig(_Section):
    default_weekly_hours: float = Field(
        40.0, gt=0, le=168, description="contracted paid hours per week of a roster row without weekly_hours (inputs/roster.csv) [h]"
    )
    max_consecutive_days: int = Field(6, ge=1, le=7, description="most consecutive working days of a rostered employee (7 = no limit)")
    min_rest_hours: float = Field(11.0, ge=0, le=24, description="least rest between two shifts of a rostered employee [h]")
    overtime_premium: float = Field(
        OVERTIME_PREMIUM, ge=1, description="rostered staff's overtime pay as a multiple of the hourly rate; unset = [policy] overtime_premium"
    )
    overtime_max_hours_per_week: float = Field(
        8.0, ge=0, le=40, description="most overtime per rostered employee and week [h]; overtime is one extra shift, so shifts longer than this get none; 0 = no overtime"
    )
    temp_rate_factor: float = Field(1.3, ge=1, description="temporary staff's hourly cost as a multiple of the in-house pool's rate")
    temp_max_share: float = Field(
        0.0, ge=0, le=1, description="most temporary staff per rostered in-house pool, as a share of its roster headcount; 0 = no temps"
    )
    min_pair_weekly_hours: float = Field(
        0.0, ge=0, description="no slivers: a pool works a queue-language cell at least this many productive hours per week or not at all [h], e.g. 8; "
        "0 = off (default; at 8 h the default demo solves in about 1.6x the time, the 3x demo within 1 % in about 3 min; see docs/contracts.md)"
    )
    vendor_change_price_per_hour: float = Field(
        0.0, ge=0, description="stability: price of each weekly productive hour a vendor's total moves away from the previous plan (plans/latest) [reporting currency / h]; 0 = off"
    )
    vendor_max_change_share: float = Field(
        1.0, ge=0, le=1, description="stability: most a vendor's weekly productive hours may move from the previous plan, as a share of them; beyond it each hour costs the highest unmet penalty; 1 = off"
    )
    notice_lead_weeks: float = Field(
        0.0, ge=0, description="vendor notice: weeks between issuing a plan to the vendors and its start; a vendor whose notice_weeks "
        "(inputs/vendors.csv) is longer keeps its weekly paid hours within its flex_share of the previous plan's (plans/latest) [weeks]"
    )


class Config(_Section):
    planning: PlanningConfig = Field(default_factory=PlanningConfig, description="what to plan and when")
    forecast: ForecastConfig = Field(default_factory=ForecastConfig, description="forecast models and backtest")
    staffing: StaffingConfig = Field(default_factory=StaffingConfig, description="requirements maths")
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="money and wellbeing policy")
    solver: SolverConfig = Field(default_factory=SolverConfig, description="optimizer settings")
    capacity: CapacityConfig = Field(default_factory=CapacityConfig, description="long-range capacity plan: attrition, hiring, ramp, vendors")
    reforecast: ReforecastConfig = Field(default_factory=ReforecastConfig, description="intraday re-plan: forecast update, overtime, voluntary time off")
    capability: CapabilityConfig = Field(default_factory=CapabilityConfig, description="capplan capability: estimates from production records")
    contracts: ContractsConfig = Field(default_factory=ContractsConfig, description="employment contracts of rostered in-house staff, overtime, temps, no slivers, vendor stability")


    @model_validator(mode="after")
    def _followers_take_their_source(self) -> "Config":
        """Fill each key of :data:`FOLLOWS` the file did not set from the one it follows (kept as not set)."""
        for (name, key), (src_name, src_key) in FOLLOWS.items():
            section = getattr(self, name)
            if key not in section.model_fields_set:
                section.__dict__[key] = getattr(getattr(self, src_name), src_key)  # a plain fill: no assignment, not marked set
        return self

    @model_validator(mode="after")
    def _plan_inside_forecast(self) -> "Config":
        if self.planning.plan_days > self.planning.horizon_days:
            raise ValueError(
                f"planning.plan_days ({self.planning.plan_days}) is longer than planning.horizon_days ({self.planning.horizon_days}): "
                "the plan needs a forecast for every day it covers; raise horizon_days or lower plan_days"
            )
        return self


def _next_monday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 or 7)


def load_config(workspace: Path) -> Config:
    """Read ``capplan.toml`` from a workspace; a missing file gives the defaults."""
    path = Path(workspace) / CONFIG_FILE
    if not path.exists():
        raise ConfigError(f"{path}: no {CONFIG_FILE} here. Fix: run 'capplan init {workspace}' or point at a workspace folder")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason}). Fix: save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}. Fix: correct the syntax at that line") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict, source: str = CONFIG_FILE) -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                section = ".".join(str(p) for p in err["loc"][:-1])
                model = _section_model(err["loc"][:-1])
                valid = ", ".join(model.model_fields) if model else ""
                msg = f"unknown key '{err['loc'][-1]}'" + (f" in [{section}]" if section else "") + (f"; valid keys: {valid}" if valid else "")
            else:
                msg = f"{loc}: {msg} (found {err.get('input')!r})"
            lines.append(msg)
        raise ConfigError(f"{source}: " + "; ".join(lines)) from None


def _section_model(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped; any Unicode letter kept."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\u{ord(ch):04X}"))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = str(k)
            key = key if _BARE_KEY.fullmatch(key) and not key.isdigit() else _toml_string(key)  # bare keys are ASCII only
            items.append(f"{key} = {_toml_value(v)}")
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(config: Config) -> str:
    """The config as a commented TOML file (comments are the field descriptions)."""
    out = ["# capplan workspace configuration. Generated from capplan.config; every key is optional.", ""]
    for name, field in Config.model_fields.items():
        section = getattr(config, name)
        out.append(f"[{name}]  # {field.description}")
        for key, sub in type(section).model_fields.items():
            out.append(f"# {sub.description}")
            line = f"{key} = {_toml_value(getattr(section, key))}"
            follows = FOLLOWS.get((name, key))
            if follows and key not in section.model_fields_set:  # unset: follows its source, written as a comment
                line = f"# {line}  (unset: follows [{follows[0]}] {follows[1]}; remove the '#' to set it here)"
            out.append(line)
        out.append("")
    return "\n".join(out)


def default_toml(start: dt.date | None = None) -> str:
    config = Config()
    if start is not None:
        config.planning.start = start
    return to_toml(config)


# --- keyed tables ------------------------------------------------------------------------------
#: What the keys (or items) of the config's keyed tables name. Fields called ``<x>_by_<kind>`` (a
#: kind below) are found by their name; others are listed in :data:`KEYED_FIELDS`. ``capplan
#: validate`` checks every key against the workspace (``capplan.inputs.config_keys``), so a key that
#: matches no site, language, currency... is an error, not silently ignored.
KEY_KINDS = ("site", "language", "currency", "queue", "pool", "vendor", "shift", "severity")
KEYED_FIELDS: dict[tuple[str, str], str] = {
    ("policy", "fx"): "currency",
    ("policy", "unmet_penalty_per_hour"): "severity",
    ("policy", "critical_languages"): "language",
    ("forecast", "holiday_countries"): "language",
    ("capacity", "transfer_routes"): "pool",
    ("forecast", "time_zones"): "language",
}
#: A key that stands for every name of its kind (``holiday_countries = {"*" = "US"}``): not checked.
WILDCARD_KEY = "*"


def keyed_tables(config: Config) -> list[tuple[str, str, str, list]]:
    """``(section, field, kind, keys)`` of every keyed table of ``config`` (dict keys or list items)."""
    out = []
    for section_name in type(config).model_fields:
        section = getattr(config, section_name)
        if not isinstance(section, BaseModel):
            continue
        for name in type(section).model_fields:
            kind = KEYED_FIELDS.get((section_name, name))
            if kind is None and "_by_" in name and name.rsplit("_by_", 1)[1] in KEY_KINDS:
                kind = name.rsplit("_by_", 1)[1]
            if kind is not None:
                value = getattr(section, name)
                keys = value.keys() if isinstance(value, dict) else value
                out.append((section_name, name, kind, [k for k in keys if k != WILDCARD_KEY]))
    return out
