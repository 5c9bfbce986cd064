"""A realistic synthetic Trust & Safety workspace for demos, tests and benchmarks.

:func:`build_demo_workspace` writes ``capplan.toml`` and ``inputs/*.csv`` in exactly the layout
the loader reads (``capplan.schema``). Everything is drawn from one ``numpy`` Generator seeded by
``seed``, the start date is fixed unless given, and every file is written with a stable row order
and fixed number formats, so the same ``(seed, size, start)`` gives the same bytes.

What the history contains (per (queue, language) cell, hourly, UTC):

* a level: queue volume [items/day] x language share, with a small per-cell random factor;
  a few tail cells have explicit tiny levels (intermittent, many zero hours);
* an intraday profile in the language's *local* time (a representative UTC offset per
  language) that peaks in the local evening, sharper for live streams, flatter for appeals;
* a weekly profile by local weekday (user content peaks at weekends, appeals on weekdays);
* a trend (growth per year by language and queue);
* public holidays of the language's main country (``holidays`` package): a dip to 80 %;
* surge events (an election week, a viral incident, ...) that are also listed in
  ``events.csv``, plus one future event inside the forecast horizon;
* count noise with overdispersion: a gamma day effect and a gamma hour effect around the mean,
  then Poisson counts (a gamma-Poisson, i.e. negative binomial, mixture);
* a couple of cells launched recently (history starts 6-9 weeks before the planning start,
  ramping up over two weeks);
* an observed hourly handle time ``aht_s``: the cell's table value x a trend (per queue,
  :data:`AHT_TREND`; the table is the level :data:`AHT_TABLE_AGE_WEEKS` weeks before the planning
  start, an older time study) x a local-night and weekend shape (:data:`AHT_NIGHT`,
  :data:`AHT_WEEKEND`) x noise that shrinks with the hour's items.

Pools are sized from the generated demand so that total capacity is comfortably above it while
the cheapest vendors' weekly-hour caps are tight enough to bind.

Sizes: ``small`` (4 queues x 5 languages, 10 weeks, 6 pools; what tests use), ``default``
(7 queues x 20 languages, 90 plausible cells, 53 weeks, 13 pools) and ``large`` (10 queues x 40
languages, about 3x the cells and pools of default; for benchmarks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.config import CONFIG_FILE, Config, to_toml
from capplan.errors import ConfigError
from capplan.schema import INHOUSE, PRODUCTION, TABLES_BY_NAME

DEFAULT_START = dt.date(2026, 11, 30)  # a Monday; the demo never depends on today's date
SIZES = ("small", "default", "large")
DEMO_HEADER = "# capplan demo workspace"
HOLIDAY_FACTOR = 0.80  # volume on a public holiday of the language's main country, relative to a normal day
MODERATOR_WEEK_HOURS = 40.0  # paid hours one moderator works per week, for sizing pools [h]
#: handle-time trend per queue (log change per year; harder video, simpler comments), other queues 0
AHT_TREND = {"video": 0.12, "live": 0.08, "audio": 0.06, "photo": -0.04, "comments": -0.08}
AHT_TABLE_AGE_WEEKS = 13  # handle_times.csv is the handle time this many weeks before the planning start
AHT_NIGHT = 0.06  # handle time at 03:00 local is this much above the daily mean, at 15:00 below it
AHT_WEEKEND = 0.04  # handle time on local Saturdays and Sundays is this much above weekdays


# --- static description of the synthetic operation ------------------------------------------------
@dataclass(frozen=True)
class DemoLanguage:
    code: str
    share: float  # share of platform volume (0-1)
    utc_offset_h: float  # representative UTC offset of the language's users [h]
    country: str  # ISO country whose public holidays apply
    growth: float  # volume growth per year (log rate)


@dataclass(frozen=True)
class DemoQueue:
    name: str
    kind: str
    target: float
    within: str
    severity: int
    egregious: bool
    patience: str  # "" = no abandonment
    daily_volume: float  # items per day over all languages (share 1.0) at the planning start [items/day]
    aht_range_s: tuple[float, float]  # range of cell handle times [s]
    growth: float  # extra growth per year (log rate)
    weekly: str  # "ugc": weekend peak; "workweek": weekday peak
    peakiness: float  # exponent on the intraday profile (>1 sharper, <1 flatter)
    languages: tuple[str, ...] | None = None  # plausible languages; None = all
    max_asa: str = ""  # realtime: average-speed-of-answer target, e.g. "30s" ("" = none)
    max_abandon: str = ""  # realtime: largest share of arrivals that may abandon, e.g. "0.05" ("" = none; needs a patience)


@dataclass(frozen=True)
class DemoSite:
    site: str
    timezone: str
    currency: str
    rate: float  # cost per paid hour in currency


@dataclass(frozen=True)
class DemoPool:
    pool: str
    vendor: str
    site: str
    queues: tuple[str, ...]  # ("*",) = every queue
    languages: tuple[str, ...]
    proficiency: float
    shifts: tuple[str, ...]
    rate_factor: float = 1.0  # multiplier on the site rate


@dataclass(frozen=True)
class DemoEvent:
    name: str
    offset_h: int  # start relative to the planning start 00:00 UTC [h] (negative = past)
    hours: int
    queues: tuple[str, ...]  # ("*",) = all
    languages: tuple[str, ...]
    multiplier: float


LANGUAGES: tuple[DemoLanguage, ...] = (
    DemoLanguage("en", 0.260, -5.0, "US", 0.04),
    DemoLanguage("es", 0.100, -6.0, "MX", 0.08),
    DemoLanguage("pt", 0.080, -3.0, "BR", 0.10),
    DemoLanguage("hi", 0.060, 5.5, "IN", 0.30),
    DemoLanguage("id", 0.060, 7.0, "ID", 0.22),
    DemoLanguage("ar", 0.050, 3.0, "SA", 0.12),
    DemoLanguage("fr", 0.040, 1.0, "FR", 0.03),
    DemoLanguage("de", 0.035, 1.0, "DE", 0.02),
    DemoLanguage("ja", 0.035, 9.0, "JP", 0.03),
    DemoLanguage("ru", 0.030, 3.0, "RU", 0.00),
    DemoLanguage("tr", 0.030, 3.0, "TR", 0.10),
    DemoLanguage("tl", 0.030, 8.0, "PH", 0.20),
    DemoLanguage("vi", 0.025, 7.0, "VN", 0.15),
    DemoLanguage("th", 0.025, 7.0, "TH", 0.10),
    DemoLanguage("it", 0.025, 1.0, "IT", 0.02),
    DemoLanguage("ko", 0.020, 9.0, "KR", 0.05),
    DemoLanguage("pl", 0.015, 1.0, "PL", 0.05),
    DemoLanguage("nl", 0.010, 1.0, "NL", 0.02),
    DemoLanguage("sv", 0.005, 1.0, "SE", 0.02),
    DemoLanguage("he", 0.005, 2.0, "IL", 0.05),
)
EXTRA_LANGUAGES: tuple[DemoLanguage, ...] = (  # large size only
    DemoLanguage("bn", 0.006, 6.0, "BD", 0.25),
    DemoLanguage("ur", 0.005, 5.0, "PK", 0.20),
    DemoLanguage("fa", 0.004, 3.5, "IR", 0.05),
    DemoLanguage("ms", 0.005, 8.0, "MY", 0.10),
    DemoLanguage("uk", 0.004, 2.0, "UA", 0.05),
    DemoLanguage("ro", 0.004, 2.0, "RO", 0.04),
    DemoLanguage("el", 0.003, 2.0, "GR", 0.02),
    DemoLanguage("cs", 0.003, 1.0, "CZ", 0.03),
    DemoLanguage("hu", 0.003, 1.0, "HU", 0.02),
    DemoLanguage("da", 0.002, 1.0, "DK", 0.02),
    DemoLanguage("fi", 0.002, 2.0, "FI", 0.02),
    DemoLanguage("no", 0.002, 1.0, "NO", 0.02),
    DemoLanguage("sw", 0.003, 3.0, "KE", 0.30),
    DemoLanguage("ta", 0.004, 5.5, "IN", 0.20),
    DemoLanguage("te", 0.003, 5.5, "IN", 0.20),
    DemoLanguage("mr", 0.003, 5.5, "IN", 0.20),
    DemoLanguage("zh", 0.004, 8.0, "SG", 0.05),
    DemoLanguage("my", 0.002, 6.5, "MM", 0.15),
    DemoLanguage("km", 0.002, 7.0, "KH", 0.15),
    DemoLanguage("sr", 0.002, 1.0, "RS", 0.03),
)

_BIG = ("en", "es", "pt", "hi", "id", "ar")
QUEUES: tuple[DemoQueue, ...] = (
    DemoQueue("video", "deferred", 0.90, "4h", 2, True, "", 120_000, (90, 150), 0.08, "ugc", 1.0),
    DemoQueue("photo", "deferred", 0.90, "2h", 2, False, "", 250_000, (20, 40), 0.02, "ugc", 1.0),
    DemoQueue("comments", "deferred", 0.95, "12h", 3, False, "", 500_000, (15, 30), 0.00, "ugc", 1.0),
    DemoQueue("audio", "deferred", 0.90, "6h", 3, False, "", 20_000, (60, 120), 0.25, "ugc", 1.0,
              ("en", "es", "pt", "hi", "id", "ar", "ja")),
    DemoQueue("live", "realtime", 0.80, "60s", 1, True, "3m", 12_000, (120, 240), 0.30, "ugc", 1.3, _BIG, "30s", "0.05"),
    DemoQueue("appeals", "deferred", 0.90, "24h", 3, False, "", 8_000, (200, 400), 0.05, "workweek", 0.6,
              ("en", "es", "pt", "fr", "de", "ar", "hi", "id", "ja", "tr", "ru", "it", "pl", "tl", "he")),
    DemoQueue("escalations", "realtime", 0.90, "5m", 1, True, "", 1_500, (240, 480), 0.10, "workweek", 0.8, ("en", "es"), "60s"),
)
EXTRA_QUEUES: tuple[DemoQueue, ...] = (  # large size only
    DemoQueue("ads", "deferred", 0.95, "8h", 2, False, "", 60_000, (40, 80), 0.15, "workweek", 0.7),
    DemoQueue("profiles", "deferred", 0.90, "24h", 3, False, "", 80_000, (20, 45), 0.05, "ugc", 1.0),
    DemoQueue("marketplace", "deferred", 0.90, "6h", 2, False, "", 40_000, (45, 90), 0.20, "ugc", 1.0),
)

# a few tail cells with explicit, tiny levels: intermittent series with many zero hours [items/day]
INTERMITTENT: dict[tuple[str, str], float] = {("appeals", "he"): 8.0, ("appeals", "pl"): 14.0, ("appeals", "tl"): 10.0}
# cells launched recently: days of history before the planning start
RECENT: dict[tuple[str, str], int] = {("live", "pt"): 42, ("comments", "tl"): 49, ("audio", "id"): 63}
RAMP_DAYS = 14  # a launched cell ramps from 40 % to full volume over this many days

# moderator activity by local hour 0..23 (evening peak around 21:00, trough 04:00-05:00)
LOCAL_PROFILE = np.array([0.75, 0.55, 0.40, 0.30, 0.25, 0.25, 0.30, 0.45, 0.65, 0.80, 0.90, 0.95,
                          1.00, 1.00, 0.98, 0.98, 1.00, 1.05, 1.15, 1.30, 1.45, 1.50, 1.35, 1.05])
WEEKLY = {  # Mon..Sun
    "ugc": np.array([0.95, 0.94, 0.95, 0.97, 1.03, 1.10, 1.08]),
    "workweek": np.array([1.08, 1.06, 1.05, 1.04, 1.00, 0.88, 0.85]),
}

SITES: dict[str, DemoSite] = {s.site: s for s in (
    DemoSite("Dublin", "Europe/Dublin", "EUR", 38.0),
    DemoSite("Austin", "America/Chicago", "USD", 42.0),
    DemoSite("Singapore", "Asia/Singapore", "SGD", 45.0),
    DemoSite("Manila", "Asia/Manila", "PHP", 520.0),
    DemoSite("Hyderabad", "Asia/Kolkata", "INR", 700.0),
    DemoSite("Bogota", "America/Bogota", "COP", 52_000.0),
    DemoSite("Lisbon", "Europe/Lisbon", "EUR", 17.0),
    DemoSite("Warsaw", "Europe/Warsaw", "PLN", 70.0),
    DemoSite("Istanbul", "Europe/Istanbul", "TRY", 520.0),
    # large size only
    DemoSite("Nairobi", "Africa/Nairobi", "KES", 1_300.0),
    DemoSite("Kuala Lumpur", "Asia/Kuala_Lumpur", "MYR", 42.0),
    DemoSite("Bucharest", "Europe/Bucharest", "RON", 62.0),
    DemoSite("Chennai", "Asia/Kolkata", "INR", 650.0),
    DemoSite("Copenhagen", "Europe/Copenhagen", "DKK", 300.0),
    DemoSite("Cairo", "Africa/Cairo", "EGP", 480.0),
)}
FX = {  # value of one unit in USD (the reporting currency)
    "USD": 1.0, "EUR": 1.08, "SGD": 0.74, "PHP": 0.0175, "INR": 0.012, "COP": 0.00025, "PLN": 0.25,
    "TRY": 0.029, "KES": 0.0077, "MYR": 0.22, "RON": 0.22, "DKK": 0.145, "EGP": 0.02,
}

_ALL = ("*",)
_DEFERRED_CORE = ("video", "photo", "comments", "audio", "appeals")
POOLS: tuple[DemoPool, ...] = (
    DemoPool("dub-core", INHOUSE, "Dublin", _ALL,
             ("en", "fr", "de", "it", "nl", "sv", "pl", "es", "pt", "tr", "ru", "he", "ar"), 1.0, ("day", "evening", "day4x10")),
    DemoPool("dub-specialist", INHOUSE, "Dublin", ("escalations", "appeals", "live"), ("en", "es", "pt", "fr", "de", "ar"),
             0.9, ("day", "evening"), 1.2),
    DemoPool("aus-core", INHOUSE, "Austin", _ALL, ("en", "es", "pt"), 1.0, ("day", "evening", "night", "weekend")),
    DemoPool("aus-newhire", INHOUSE, "Austin", ("video", "photo", "comments"), ("en", "es"), 1.3, ("day", "evening", "weekend"), 0.8),
    DemoPool("sin-core", INHOUSE, "Singapore", _ALL, ("en", "hi", "id", "ja", "ko", "th", "vi", "tl"), 1.0,
             ("day", "evening", "night", "day4x10")),
    DemoPool("mnl-apex", "apexcx", "Manila", ("video", "photo", "comments", "live", "audio", "appeals"),
             ("en", "tl", "id", "th", "vi", "ja", "ko"), 1.05, ("day", "evening", "night", "day4x10", "weekend")),
    DemoPool("mnl-apex-newhire", "apexcx", "Manila", ("video", "photo", "comments"), ("en", "tl"), 1.3, ("day", "evening", "night"), 0.85),
    DemoPool("hyd-meridian", "meridian", "Hyderabad", ("video", "photo", "comments", "audio", "appeals", "live"), ("en", "hi", "ar"),
             1.1, ("day", "evening", "night", "weekend")),
    DemoPool("hyd-meridian-text", "meridian", "Hyderabad", ("comments", "photo"), ("en", "hi"), 1.2, ("day", "evening", "night"), 0.9),
    DemoPool("bog-lumen", "lumen", "Bogota", ("video", "photo", "comments", "live", "audio", "appeals"), ("es", "pt", "en"), 1.05,
             ("day", "evening", "night", "weekend")),
    DemoPool("lis-lumen", "lumen", "Lisbon", ("video", "photo", "comments", "appeals"), ("pt", "es", "fr", "it", "en"), 1.0,
             ("day", "evening", "day4x10")),
    DemoPool("waw-vantage", "vantage", "Warsaw", _DEFERRED_CORE, ("pl", "de", "ru", "tr", "nl", "sv", "he", "en"), 1.05,
             ("day", "evening", "night", "day4x10")),
    DemoPool("ist-vantage", "vantage", "Istanbul", ("video", "photo", "comments", "appeals", "live", "audio"),
             ("tr", "ar", "ru", "he", "en"), 1.1, ("day", "evening", "night", "weekend")),
)
SMALL_POOLS = ("dub-core", "aus-newhire", "sin-core", "mnl-apex", "bog-lumen", "waw-vantage")
# large: every default pool gets a twin for the extra queues, and new sites serve the extra languages
_LARGE_SITES = (  # site, pool name prefix, vendor, languages
    ("Nairobi", "nbo-kairos", "kairos", ("sw", "en", "ar")),
    ("Kuala Lumpur", "kul-apex", "apexcx", ("ms", "zh", "ta", "my", "km", "en")),
    ("Bucharest", "buh-vantage", "vantage", ("ro", "uk", "hu", "cs", "el", "sr", "en")),
    ("Chennai", "maa-meridian", "meridian", ("bn", "ur", "ta", "te", "mr", "hi", "en")),
    ("Copenhagen", "cph-core", INHOUSE, ("da", "fi", "no", "sv", "nl", "en")),
    ("Cairo", "cai-kairos", "kairos", ("ar", "fa", "en")),
)

VENDOR_TERMS = {  # vendor: (max_language_share, quality, contract currency, weekly-hours cap binds)
    "apexcx": (0.80, 0.91, "USD", True),
    "meridian": (0.80, 0.89, "USD", True),
    "lumen": (0.75, 0.93, "USD", False),
    "vantage": (0.85, 0.94, "EUR", False),
    "kairos": (0.80, 0.90, "USD", False),
}

# shift, start_local, paid_hours, break_minutes, days_per_week, start_days
SHIFTS = (
    ("day", "08:00", 8.0, 30.0, 5, "Mon-Sun"),
    ("evening", "16:00", 8.0, 30.0, 5, "Mon-Sun"),
    ("night", "22:00", 8.0, 30.0, 5, "Mon-Sun"),  # overnight: ends 06:30 the next local day
    ("day4x10", "07:00", 10.0, 30.0, 4, "Mon-Sun"),
    ("weekend", "09:00", 10.0, 30.0, 2, "Sat"),
)

EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent("sports-final-mx", -30 * 168 + 5 * 24 + 18, 30, ("comments", "live", "video"), ("es",), 1.60),
    DemoEvent("election-br", -8 * 168 - 24, 7 * 24, ("video", "photo", "comments", "live"), ("pt",), 1.80),
    DemoEvent("viral-incident", -3 * 168 + 3 * 24 + 14, 36, ("video", "photo"), ("*",), 2.50),
    DemoEvent("election-mx", 10 * 24, 5 * 24, ("video", "photo", "comments", "live"), ("es",), 1.50),  # future
)


@dataclass
class DemoSpec:
    """Everything a size fixes before any random draw."""

    size: str
    start: dt.date
    weeks: int
    languages: tuple[DemoLanguage, ...]
    queues: tuple[DemoQueue, ...]
    cells: list[tuple[str, str]]  # sorted (queue, language)
    pools: list[DemoPool]
    critical_languages: list[str]
    forecast_models: list[str] | None = None
    backtest_windows: int | None = None

    @property
    def history_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.start, tz="UTC") - pd.Timedelta(weeks=self.weeks)


def demo_spec(size: str = "default", start: dt.date | None = None) -> DemoSpec:
    """The static plan of a demo workspace of one size (no random draws)."""
    if size not in SIZES:
        raise ConfigError(f"unknown demo size {size!r}; expected one of {', '.join(SIZES)}")
    start = DEFAULT_START if start is None else start
    if size == "small":
        langs = tuple(lg for lg in LANGUAGES if lg.code in ("en", "es", "pt", "tl", "he"))
        queues = tuple(q for q in QUEUES if q.name in ("video", "comments", "live", "appeals"))
        weeks, critical = 10, ["en"]
        pool_defs = [p for p in POOLS if p.pool in SMALL_POOLS]
        models, windows = ["seasonal_naive", "daily_ets", "croston"], 3
    elif size == "default":
        langs, queues, weeks, critical = LANGUAGES, QUEUES, 53, ["en", "es", "ar"]
        pool_defs, models, windows = list(POOLS), None, None
    else:
        langs, queues, weeks, critical = LANGUAGES + EXTRA_LANGUAGES, QUEUES + EXTRA_QUEUES, 53, ["en", "es", "ar", "hi"]
        pool_defs, models, windows = _large_pools(), None, None
    codes = [lg.code for lg in langs]
    cells = sorted((q.name, c) for q in queues for c in codes if q.languages is None or c in q.languages)
    pools = _fit_pools(pool_defs, [q.name for q in queues], codes, langs, cells)
    return DemoSpec(size, start, weeks, langs, queues, cells, pools, critical, models, windows)


def _large_pools() -> list[DemoPool]:
    extra_q = tuple(q.name for q in EXTRA_QUEUES)
    pools = list(POOLS)
    pools += [DemoPool(p.pool + "-biz", p.vendor, p.site, extra_q, p.languages, p.proficiency, p.shifts, p.rate_factor * 0.95)
              for p in POOLS]
    for site, name, vendor, langs in _LARGE_SITES:
        pools += [
            DemoPool(name, vendor, site, _ALL, langs, 1.05, ("day", "evening", "night", "weekend")),
            DemoPool(name + "-newhire", vendor, site, ("video", "photo", "comments") + extra_q, langs, 1.3, ("day", "evening"), 0.85),
            DemoPool(name + "-specialist", vendor, site, ("appeals", "live", "escalations", "audio"), langs, 0.95, ("day", "evening"), 1.15),
        ]
    return pools


def _fit_pools(pools, queues, codes, langs, cells) -> list[DemoPool]:
    """Restrict pools to a size's queues and languages; give every language a second organisation.

    A language served by only one organisation (vendor or in-house) is added to the in-house hub of
    its region (Singapore east of UTC+4:30, Dublin otherwise), so vendor language-share caps never
    force unmet work by construction.
    """
    fitted = []
    for p in pools:
        q = tuple(x for x in queues if p.queues == _ALL or x in p.queues)
        lg = tuple(x for x in p.languages if x in codes)
        if q and lg:
            fitted.append(DemoPool(p.pool, p.vendor, p.site, q, lg, p.proficiency, p.shifts, p.rate_factor))
    offsets = {lg.code: lg.utc_offset_h for lg in langs}
    for code in codes:
        orgs = {p.vendor for p in fitted if code in p.languages}
        if len(orgs) < 2:
            hub = "sin-core" if offsets[code] > 4.5 else "dub-core"
            fitted = [DemoPool(p.pool, p.vendor, p.site, p.queues, p.languages + (code,), p.proficiency, p.shifts, p.rate_factor)
                      if p.pool == hub and code not in p.languages else p for p in fitted]
    skilled = {(q, lg) for p in fitted for q in p.queues for lg in p.languages}
    missing = [c for c in cells if c not in skilled]
    if missing:  # a bug in the tables above, not a user error
        raise AssertionError(f"demo cells without a pool: {missing}")
    return fitted


# --- random draws -------------------------------------------------------------------------------
@dataclass
class DemoDraws:
    """The generated demand: expected and observed volumes per cell and hour, and handle times."""

    times: pd.DatetimeIndex  # hourly, UTC
    cells: list[tuple[str, str]]
    mu: np.ndarray  # expected volume [items/h], shape (cells, hours); NaN before a cell's launch
    volume: np.ndarray  # observed counts [items], same shape; -1 before launch
    aht_s: np.ndarray  # handle time per cell of a proficiency-1.0 moderator [s]
    aht_obs_s: np.ndarray  # observed hourly mean handle time [s], NaN where volume is 0


def draw_demand(spec: DemoSpec, rng: np.random.Generator) -> DemoDraws:
    """Expected and observed hourly volumes and handle times of every cell (vectorized)."""
    import holidays as holidays_lib

    n_h = spec.weeks * 168
    times = pd.date_range(spec.history_start, periods=n_h, freq="h")
    start = pd.Timestamp(spec.start, tz="UTC")
    epoch_h = (times.asi8 // 3_600_000_000_000).astype(float)  # hours since 1970-01-01 (a Thursday)
    years_to_start = (times - start) / pd.Timedelta(days=365.25)
    qidx = {q.name: q for q in spec.queues}
    lidx = {lg.code: lg for lg in spec.languages}

    # per-language local time structure
    local_profile, local_weekday, holiday = {}, {}, {}
    years = sorted({times[0].year - 1, *range(times[0].year, times[-1].year + 2)})
    for lg in spec.languages:
        local_h = epoch_h + lg.utc_offset_h + 0.5  # interval midpoint
        hour = np.mod(local_h, 24.0)
        local_profile[lg.code] = np.interp(hour, np.arange(25), np.append(LOCAL_PROFILE, LOCAL_PROFILE[0]))
        day = np.floor(local_h / 24.0).astype(np.int64)
        local_weekday[lg.code] = (day + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        dates = holidays_lib.country_holidays(lg.country, years=years)
        hol_days = np.array([(d - dt.date(1970, 1, 1)).days for d in dates], dtype=np.int64)
        holiday[lg.code] = np.isin(day, hol_days)

    level_noise = np.exp(rng.normal(0.0, 0.12, len(spec.cells)))
    lang_aht = {lg.code: float(np.exp(rng.normal(0.0, 0.06))) for lg in spec.languages}
    mu = np.empty((len(spec.cells), n_h))
    aht = np.empty(len(spec.cells))
    for i, (qn, code) in enumerate(spec.cells):
        q, lg = qidx[qn], lidx[code]
        daily = INTERMITTENT.get((qn, code), q.daily_volume * lg.share * level_noise[i])
        prof = local_profile[code] ** q.peakiness
        prof = prof / prof.mean()  # whole weeks: every local hour equally often
        weekly = WEEKLY[q.weekly][local_weekday[code]] / WEEKLY[q.weekly].mean()
        trend = np.exp((lg.growth + q.growth) * years_to_start)
        hol = np.where(holiday[code], HOLIDAY_FACTOR, 1.0)
        mu[i] = daily / 24.0 * prof * weekly * trend * hol
        lo, hi = q.aht_range_s
        aht[i] = float(np.clip(rng.uniform(lo, hi) * lang_aht[code], lo * 0.9, hi * 1.1))

    for ev in EVENTS:
        ev_start = start + pd.Timedelta(hours=ev.offset_h)
        in_time = (times >= ev_start) & (times < ev_start + pd.Timedelta(hours=ev.hours))
        if not in_time.any():
            continue
        for i, (qn, code) in enumerate(spec.cells):
            if (ev.queues == _ALL or qn in ev.queues) and (ev.languages == _ALL or code in ev.languages):
                mu[i, in_time] *= ev.multiplier

    for i, cell in enumerate(spec.cells):
        if cell in RECENT:
            launch = start - pd.Timedelta(days=RECENT[cell])
            age_days = (times - launch) / pd.Timedelta(days=1)
            ramp = np.clip(0.4 + 0.6 * age_days / RAMP_DAYS, 0.4, 1.0)
            mu[i] = np.where(age_days >= 0, mu[i] * ramp, np.nan)

    # overdispersed counts: gamma day effect x gamma hour effect x Poisson
    n_days = n_h // 24
    day_effect = rng.gamma(400.0, 1 / 400.0, (len(spec.cells), n_days)).repeat(24, axis=1)
    hour_effect = rng.gamma(300.0, 1 / 300.0, mu.shape)
    lam = np.nan_to_num(mu, nan=0.0) * day_effect * hour_effect
    volume = rng.poisson(lam).astype(np.int64)
    volume[np.isnan(mu)] = -1
    rel_sd = 0.03 + 0.5 / np.sqrt(np.maximum(volume, 1))
    shape = _aht_shape(spec, years_to_start, epoch_h)
    aht_obs = aht[:, None] * shape * np.exp(rng.normal(0.0, 1.0, mu.shape) * rel_sd)
    aht_obs[volume <= 0] = np.nan
    return DemoDraws(times, list(spec.cells), mu, volume, aht, aht_obs)


def _aht_shape(spec: DemoSpec, years_to_start: np.ndarray, epoch_h: np.ndarray) -> np.ndarray:
    """Observed handle time relative to the table per cell and hour: trend x local night x weekend."""
    lidx = {lg.code: lg for lg in spec.languages}
    age = years_to_start + AHT_TABLE_AGE_WEEKS / 52.18
    out = np.empty((len(spec.cells), len(epoch_h)))
    for i, (qn, code) in enumerate(spec.cells):
        local_h = epoch_h + lidx[code].utc_offset_h + 0.5
        night = 1.0 + AHT_NIGHT * np.cos(2 * np.pi * (np.mod(local_h, 24.0) - 3.0) / 24.0)
        weekday = (np.floor(local_h / 24.0).astype(np.int64) + 3) % 7
        weekend = np.where(weekday >= 5, 1.0 + AHT_WEEKEND, 1.0)
        out[i] = np.exp(AHT_TREND.get(qn, 0.0) * np.asarray(age)) * night * weekend
    return out


# --- tables ---------------------------------------------------------------------------------------
def _history_frame(draws: DemoDraws) -> pd.DataFrame:
    stamps = np.asarray(draws.times.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)
    parts = []
    for i, (q, lang) in enumerate(draws.cells):
        keep = draws.volume[i] >= 0
        n = int(keep.sum())
        parts.append(pd.DataFrame({
            "interval_start": stamps[keep],
            "queue": np.full(n, q, dtype=object),
            "language": np.full(n, lang, dtype=object),
            "volume": draws.volume[i, keep],
            "aht_s": np.round(draws.aht_obs_s[i, keep], 1),
        }))
    return pd.concat(parts, ignore_index=True)


def _weekly_paid_hours(spec: DemoSpec, draws: DemoDraws) -> dict[tuple[str, str], float]:
    """Rough paid hours per week a cell needs (last full week of expected volume) [h/week]."""
    mu = np.nan_to_num(draws.mu[:, -168:], nan=0.0).sum(axis=1)
    kind = {q.name: q.kind for q in spec.queues}
    out = {}
    for i, cell in enumerate(spec.cells):
        factor = 1.35 if kind[cell[0]] == "realtime" else 1.0  # queueing slack for pick-up targets
        out[cell] = mu[i] * draws.aht_s[i] / 3600.0 / (1 - 0.30) / 0.90 * factor
    return out


def _pool_and_vendor_tables(spec: DemoSpec, draws: DemoDraws) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pools with headcount limits sized from demand, and vendor contracts."""
    need = _weekly_paid_hours(spec, draws)
    egregious = {q.name for q in spec.queues if q.egregious}
    servers = {cell: [p for p in spec.pools if cell[0] in p.queues and cell[1] in p.languages] for cell in spec.cells}
    expected = {p.pool: 0.0 for p in spec.pools}  # equal split of every cell among its pools [h/week]
    exposed = {p.pool: 0.0 for p in spec.pools}  # the part of it on egregious queues [h/week]
    for cell, pools in servers.items():
        for p in pools:
            expected[p.pool] += need[cell] * p.proficiency / len(pools)
            if cell[0] in egregious:
                exposed[p.pool] += need[cell] * p.proficiency / len(pools)
    # wellbeing: at most this share of a pool's time on egregious queues, so exposed work needs headroom
    max_share = Config().policy.exposure_max_share
    sized = {name: max(hours, exposed[name] / max_share) for name, hours in expected.items()}
    rows = []
    for p in spec.pools:
        site = SITES[p.site]
        heads = sized[p.pool] / MODERATOR_WEEK_HOURS
        max_hc = max(10, int(np.ceil(2.0 * heads / 5.0) * 5))
        min_hc = int(np.floor(0.3 * heads)) if p.vendor == INHOUSE else 0
        rows.append({
            "pool": p.pool, "vendor": p.vendor, "site": p.site, "timezone": site.timezone,
            "queues": ";".join(p.queues), "languages": ";".join(p.languages), "proficiency": f"{p.proficiency:.2f}",
            "min_headcount": min_hc, "max_headcount": max_hc, "cost_per_hour": f"{site.rate * p.rate_factor:.2f}",
            "currency": site.currency, "shifts": ";".join(p.shifts),
        })
    pools = pd.DataFrame(rows)
    vrows = []
    for vendor in sorted({p.vendor for p in spec.pools} - {INHOUSE}):
        share, quality, currency, binds = VENDOR_TERMS[vendor]
        mine = pools[pools["vendor"] == vendor]
        exp_h = sum(sized[p] for p in mine["pool"])
        capacity = float(mine["max_headcount"].sum() * MODERATOR_WEEK_HOURS)
        max_h = min(capacity, 1.15 * exp_h) if binds else capacity
        vrows.append({
            "vendor": vendor, "min_weekly_hours": f"{np.floor(0.3 * exp_h / 100) * 100:.0f}",
            "max_weekly_hours": f"{np.ceil(max_h / 100) * 100:.0f}", "max_language_share": f"{share:.2f}",
            "quality": f"{quality:.2f}", "currency": currency,
        })
    return pools, pd.DataFrame(vrows)


def _queue_table(spec: DemoSpec) -> pd.DataFrame:
    return pd.DataFrame([{
        "queue": q.name, "kind": q.kind, "target": f"{q.target:.2f}", "within": q.within, "severity": q.severity,
        "egregious": "yes" if q.egregious else "no", "patience": q.patience, "max_asa": q.max_asa,
        "max_abandon": q.max_abandon,
    } for q in spec.queues])


def _handle_time_table(draws: DemoDraws) -> pd.DataFrame:
    return pd.DataFrame({"queue": [c[0] for c in draws.cells], "language": [c[1] for c in draws.cells],
                         "aht_s": [f"{a:.1f}" for a in draws.aht_s]})


def _shift_table() -> pd.DataFrame:
    return pd.DataFrame([{"shift": s, "start_local": t, "paid_hours": f"{p:.1f}", "break_minutes": f"{b:.0f}",
                          "days_per_week": d, "start_days": days} for s, t, p, b, d, days in SHIFTS])


def _event_table(spec: DemoSpec) -> pd.DataFrame:
    start = pd.Timestamp(spec.start, tz="UTC")
    queue_names = {q.name for q in spec.queues}
    codes = {lg.code for lg in spec.languages}
    horizon_end = start + pd.Timedelta(days=28)
    rows = []
    for ev in EVENTS:
        ev_start = start + pd.Timedelta(hours=ev.offset_h)
        ev_end = ev_start + pd.Timedelta(hours=ev.hours)
        queues = ev.queues if ev.queues == _ALL else tuple(q for q in ev.queues if q in queue_names)
        langs = ev.languages if ev.languages == _ALL else tuple(c for c in ev.languages if c in codes)
        if ev_start < spec.history_start or ev_start >= horizon_end or not queues or not langs:
            continue
        rows.append({"name": ev.name, "start": f"{ev_start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{ev_end:%Y-%m-%dT%H:%M:%SZ}",
                     "queues": ";".join(queues), "languages": ";".join(langs), "multiplier": f"{ev.multiplier:.2f}"})
    return pd.DataFrame(rows, columns=TABLES_BY_NAME["events"].column_names)


def demo_config(spec: DemoSpec, currencies: set[str]) -> Config:
    """The demo's ``capplan.toml`` settings."""
    config = Config()
    config.planning.start = spec.start
    config.policy.currency = "USD"
    config.policy.fx = {c: FX[c] for c in sorted(currencies | {"USD"})}
    config.policy.critical_languages = list(spec.critical_languages)
    config.staffing.shrinkage_by_site = {"Manila": 0.35}
    if spec.forecast_models is not None:
        config.forecast.models = list(spec.forecast_models)
    if spec.backtest_windows is not None:
        config.forecast.backtest_windows = spec.backtest_windows
    return config


def _write_csv(frame: pd.DataFrame, table: str, folder: Path, float_format: str | None = None) -> None:
    columns = TABLES_BY_NAME[table].column_names  # an optional column the demo does not fill is written empty
    frame.reindex(columns=columns).to_csv(folder / f"{table}.csv", index=False, lineterminator="\n", float_format=float_format, na_rep="")


def build_demo_workspace(directory: Path, seed: int = 7, size: str = "default", start: dt.date | None = None) -> Path:
    """Write a complete synthetic Trust & Safety workspace.

    Parameters
    ----------
    directory : Path
        Workspace folder to create (or refresh, if it holds an earlier demo).
    seed : int
        Seed of the numpy Generator; the same seed, size and start give byte-identical files.
    size : {"small", "default", "large"}
        ``small`` runs the whole pipeline in seconds (tests), ``default`` is a year of hourly
        history for 90 cells, ``large`` about triples cells and pools (benchmarks).
    start : datetime.date, optional
        Planning start; the history ends at this date 00:00 UTC. Default 2026-11-30 (a Monday).

    Returns
    -------
    Path
        The workspace folder.

    Raises
    ------
    ConfigError
        Unknown size, or ``directory`` already holds a workspace that is not a demo.
    """
    directory = Path(directory)
    spec = demo_spec(size, start)
    config_path = directory / CONFIG_FILE
    if config_path.exists() and not config_path.read_text(encoding="utf-8").startswith(DEMO_HEADER):
        raise ConfigError(f"{directory} already holds a capplan workspace that is not a demo ({CONFIG_FILE} exists). "
                          "Fix: choose an empty or new folder for the demo")
    rng = np.random.default_rng(seed)
    draws = draw_demand(spec, rng)
    pools, vendors = _pool_and_vendor_tables(spec, draws)
    inputs = directory / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    history = _history_frame(draws)
    _write_csv(history, "history", inputs, float_format="%.1f")
    _write_csv(_queue_table(spec), "queues", inputs)
    _write_csv(_handle_time_table(draws), "handle_times", inputs)
    _write_csv(pools, "pools", inputs)
    _write_csv(vendors, "vendors", inputs)
    _write_csv(_shift_table(), "shifts", inputs)
    _write_csv(_event_table(spec), "events", inputs)
    roster, budget = capacity_tables(spec, pools, vendors)
    roster.to_csv(inputs / "roster.csv", index=False, lineterminator="\n")
    budget.to_csv(inputs / "budget.csv", index=False, lineterminator="\n")
    config = demo_config(spec, set(pools["currency"]) | set(vendors["currency"]))
    header = f"{DEMO_HEADER} (size {size}, seed {seed}); synthetic data, see capplan.demo\n"
    config_path.write_text(header + to_toml(config), encoding="utf-8")
    write_demo_scenarios(directory, spec, vendors)
    write_demo_drivers(inputs, spec, history)
    write_production(inputs, spec, draws, seed)
    write_demo_backlog(inputs, spec, history)
    return directory


# --- inputs of the long-range capacity plan (capplan capacity) -----------------------------------------
ROSTER_SHARE = 0.45  # today's contracted FTE of a vendor pool as a share of its max_headcount
INHOUSE_ABOVE_FLOOR = 1.06  # today's in-house roster relative to the pool's min_headcount (attrition erodes it)
COMMITTED_CLASS = (14, 8)  # one in-house class already committed: days after the start, hires
BUDGET_MONTHS = 12
BUDGET_GROWTH = 0.01  # budget grows by this share per month over the run rate of today's roster
VENDOR_BUDGET_SHARE = 0.85  # a vendor's budget: this share of its max_weekly_hours at its pools' mean rate
PART_TIME_SHARE = 0.2  # share of an in-house pool's roster on part-time contracts, for pools with a weekend shift
PART_TIME_HOURS = 20.0  # contracted paid hours per week of a part-timer [h]


def capacity_tables(spec: DemoSpec, pools: pd.DataFrame, vendors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``roster.csv`` (today's headcount per pool, one committed class) and ``budget.csv`` (12 months).

    In-house pools with a weekend shift have :data:`PART_TIME_SHARE` of their roster on 20 h part-time
    contracts (``weekly_hours``); the other rows leave it empty (``[contracts] default_weekly_hours``, 40 h).

    Vendor pools hold :data:`ROSTER_SHARE` of their ``max_headcount`` (about 90 % of their equal share of
    demand); in-house pools sit just above their ``min_headcount`` (:data:`INHOUSE_ABOVE_FLOOR`), so
    attrition soon calls for hiring classes and growth for vendor ramps. The budget is
    the run rate of that in-house roster (heads x 40 h x rate x days / 7) growing 1 % a month, in the
    site's currency, and for each vendor :data:`VENDOR_BUDGET_SHARE` of its ``max_weekly_hours`` at its
    pools' mean rate, in USD: finance expects vendors to take most of the growth.
    """
    from capplan.schema import BUDGET, ROSTER

    inhouse_floor = np.ceil(pools["min_headcount"].astype(float) * INHOUSE_ABOVE_FLOOR)
    heads = np.where(pools["vendor"] == INHOUSE, inhouse_floor, np.ceil(pools["max_headcount"].astype(float) * ROSTER_SHARE)).astype(int)
    rows = []
    for p, n, vendor, shifts in zip(pools["pool"], heads, pools["vendor"], pools["shifts"]):
        part = int(round(n * PART_TIME_SHARE)) if vendor == INHOUSE and "weekend" in str(shifts).split(";") else 0
        rows.append({"pool": p, "headcount": int(n) - part, "class_start": ""})
        if part:  # weekend part-timers: 20 h contracts on the 2 x 10 h weekend shift
            rows.append({"pool": p, "headcount": part, "class_start": "", "weekly_hours": f"{PART_TIME_HOURS:g}"})
    inhouse = pools[pools["vendor"] == INHOUSE]
    if len(inhouse):
        day, hires = COMMITTED_CLASS
        rows.append({"pool": inhouse["pool"].iloc[0], "headcount": hires, "class_start": f"{spec.start + dt.timedelta(days=day):%Y-%m-%d}"})
    roster = pd.DataFrame(rows, columns=ROSTER.column_names)
    weekly = heads * MODERATOR_WEEK_HOURS * pools["cost_per_hour"].astype(float)
    centres = []
    for site, group in pools[pools["vendor"] == INHOUSE].groupby("site", sort=True):
        centres.append((site, float(weekly[group.index].sum()), group["currency"].iloc[0]))
    cap = vendors.set_index("vendor")["max_weekly_hours"].astype(float)
    for vendor, group in pools[pools["vendor"] != INHOUSE].groupby("vendor", sort=True):
        rate = float((group["cost_per_hour"].astype(float) * group["currency"].map(FX)).mean())
        centres.append((vendor, VENDOR_BUDGET_SHARE * cap[vendor] * rate, "USD"))
    brows = []
    first = pd.Period(spec.start, freq="M")
    for i in range(BUDGET_MONTHS):
        month = first + i
        for centre, run_rate, currency in centres:
            amount = run_rate * month.days_in_month / 7 * (1 + BUDGET_GROWTH * i)
            brows.append({"month": str(month), "cost_centre": centre, "budget": f"{np.round(amount, -2):.0f}", "currency": currency})
    return roster, pd.DataFrame(brows, columns=BUDGET.column_names)
def write_demo_scenarios(directory: Path, spec: "DemoSpec", vendors: pd.DataFrame) -> list[Path]:
    """The demo's what-if files ``scenarios/*.toml`` (see docs/scenarios.md): a surge and a vendor cap.

    * ``surge``: video volume +15 % in every language for three days from the plan's second day;
    * ``vendor-cap``: the vendor with the largest weekly capacity capped at 60 % of it;
    * ``deflection``: LLM pre-review deflects 30 % of comments/en from the plan's fourth day (needs drivers.csv).
    """
    folder = Path(directory) / "scenarios"
    folder.mkdir(exist_ok=True)
    start = pd.Timestamp(spec.start)
    surge_from, surge_to = (start + pd.Timedelta(days=1)).date(), (start + pd.Timedelta(days=4)).date()
    deflect_from = (start + pd.Timedelta(days=3)).date()
    big = vendors.assign(cap=vendors["max_weekly_hours"].astype(float)).sort_values(["cap", "vendor"], ascending=[False, True]).iloc[0]
    cap = round(0.6 * float(big["cap"]) / 100.0) * 100.0
    cap = max(cap, float(big["min_weekly_hours"]))
    texts = {
        "surge": (f'description = "video volume +15 % for three days ({surge_from} to {surge_to})"\n\n'
                  f'[[volume]]\nqueues = ["video"]\nstart = {surge_from}\nend = {surge_to}  # exclusive\nmultiplier = 1.15\n'),
        "vendor-cap": (f'description = "{big["vendor"]} caps at {cap:,.0f} paid hours a week (was {float(big["cap"]):,.0f})"\n\n'
                       f'[vendors.{big["vendor"]}]\nmax_weekly_hours = {cap:.0f}\n'),
    }
    texts["deflection"] = (f'description = "LLM pre-review deflects 30 % of comments/en from {deflect_from} (was 0 %)"\n\n'
                           f'[[drivers]]\nqueues = ["comments"]\nlanguages = ["en"]\nstart = {deflect_from}\n'
                           f'deflection_share = 0.30\n')
    paths = []
    for name, text in texts.items():
        path = folder / f"{name}.toml"
        path.write_text(f"# capplan demo scenario (docs/scenarios.md)\n{text}", encoding="utf-8")
        paths.append(path)
    return paths


DEMO_DRIVERS = {"flag_rate": 0.03, "automation_share": 0.40, "deflection_share": 0.0, "appeal_rate": 0.02}  # comments queue
DRIVER_WEEKS = 8  # weeks of history the demo's drivers.csv covers


def write_demo_drivers(inputs: Path, spec: "DemoSpec", history: pd.DataFrame) -> Path | None:
    """``inputs/drivers.csv`` for the comments queue: content volume backed out of the history's daily volume.

    review = content x flag x (1 - automation) x (1 - deflection) + appeal x content x flag x automation
    (see :mod:`capplan.scenarios.drivers`), so the drivers multiply out to the history by construction
    (up to rounding content volume to whole items).
    """
    comments = history[history["queue"] == "comments"]
    if not len(comments):
        return None
    times = pd.to_datetime(comments["interval_start"], utc=True)
    first = pd.Timestamp(spec.start, tz="UTC") - pd.Timedelta(weeks=DRIVER_WEEKS)
    recent = comments[times >= first].assign(date=times[times >= first].dt.strftime("%Y-%m-%d"))
    daily = recent.groupby(["date", "queue", "language"], as_index=False)["volume"].sum()
    d = DEMO_DRIVERS
    per_content = d["flag_rate"] * ((1 - d["automation_share"]) * (1 - d["deflection_share"]) + d["appeal_rate"] * d["automation_share"])
    daily["content_volume"] = (daily["volume"].astype(float) / per_content).round(0).astype(int)
    for key, value in d.items():
        daily[key] = value
    path = inputs / "drivers.csv"
    columns = ["date", "queue", "language", "content_volume", *d]
    daily.sort_values(["queue", "language", "date"], kind="stable")[columns].to_csv(path, index=False, lineterminator="\n")
    return path


# --- production records (capplan capability): inputs/production.csv with known true parameters ---------------
# Synthetic production records for the demo (``inputs/production.csv``) with known true parameters.
#
# What the records contain (see :mod:`capplan.inputs.production` for the columns):
#
# * **pool rows**: every skilled (pool, cell) pair, every day of the history, the tenured staff's items
#   (the cell's observed daily volume split among its pools with fixed Dirichlet shares, so some pairs are
#   thin) and their total handle time ``items x reference AHT x exp(m + bump + e)``, where
#
#   - ``m = alpha_pool + beta_cell + gamma_pair`` is the true log AHT multiplier: ``alpha`` is the log of the
#     pool's typed proficiency plus N(0, 0.05) (the typed value is a little off), ``beta`` ~ N(0, 0.08) (the
#     reference AHT of a cell is a little off for everyone), ``gamma`` ~ N(0, 0.10) (pool-specific strengths);
#   - ``bump`` is the policy change: from :attr:`ProductionTruth.policy_date` video AHT rises by
#     ``policy_bump`` (log) and fades with half-life ``policy_half_life_days``;
#   - ``e`` ~ N(0, 0.04^2 + 0.5^2 / items): day-to-day conditions plus the mean of ``items`` handle times
#     with coefficient of variation 0.5;
#
#   a QA sample (2 % of items) passing with the pair's true rate (logit-normal around the vendor's quality
#   score; in-house 0.97) and appeals (0.4 % of items) overturned at a rate growing with the error rate;
# * **moderator rows**: per site, hiring cohorts every 8 weeks; each new moderator works weekdays on one cell
#   of the site's first pool for up to 26 weeks, with the extra log multiplier
#   ``log(1 + (L0_site - 1) x 0.5^(tenure_weeks / h_site))`` (the true learning curve).
#
# The truth is drawn from its own generator (``seed`` and a fixed salt), never from the demand's, so adding
# production records leaves every other demo file unchanged; :func:`production_truth` returns it from the seed.
PRODUCTION_SALT = 17_017  # the production generator's own stream: np.random.default_rng([seed, PRODUCTION_SALT])
INHOUSE_QUALITY = 0.97
QA_SHARE = 0.02  # share of items sampled for QA
APPEAL_SHARE = 0.004  # share of items appealed
DAY_SD = 0.04  # day-to-day log AHT noise
ITEM_CV = 0.5  # coefficient of variation of one item's handle time
COHORT_EVERY_DAYS = 56
COHORT_WEEKS = 26  # how long a new hire's rows are recorded
NEWHIRE_PRODUCTIVE_S = 6 * 3600.0  # productive seconds a new hire handles items per working day
POLICY_QUEUE = "video"


@dataclass
class ProductionTruth:
    """The generator's true parameters (what the capability estimates should recover)."""

    pairs: pd.DataFrame  # pool, queue, language, site, share, log_multiplier, multiplier, qa_pass, overturn
    learning: pd.DataFrame  # site, l0, half_life_weeks
    policy_date: dt.date
    policy_queue: str
    policy_bump: float  # log AHT rise on the day of the change
    policy_half_life_days: float

    def learning_multiplier(self, site: str, tenure_weeks) -> np.ndarray:
        """True AHT multiplier of a new hire relative to a tenured moderator of the site."""
        row = self.learning.set_index("site").loc[site]
        return 1.0 + (row["l0"] - 1.0) * 0.5 ** (np.asarray(tenure_weeks, float) / row["half_life_weeks"])


def _logit(p):
    return np.log(p / (1 - p))


def production_truth(spec, seed: int = 7) -> ProductionTruth:
    """The true parameters of a demo's production records (a pure function of the spec and the seed)."""
    rng = np.random.default_rng([seed, PRODUCTION_SALT])
    cells = list(spec.cells)
    beta = dict(zip(cells, rng.normal(0.0, 0.08, len(cells))))
    rows = []
    for p in spec.pools:
        alpha = np.log(p.proficiency) + rng.normal(0.0, 0.05)
        base_q = INHOUSE_QUALITY if p.vendor == INHOUSE else VENDOR_TERMS[p.vendor][1]
        mine = [c for c in cells if c[0] in p.queues and c[1] in p.languages]
        gamma = rng.normal(0.0, 0.10, len(mine))
        qdev = rng.normal(0.0, 0.3, len(mine))
        odev = rng.normal(0.0, 0.2, len(mine))
        for k, (q, lg) in enumerate(mine):
            qa = 1 / (1 + np.exp(-(_logit(base_q) + qdev[k])))
            overturn = 1 / (1 + np.exp(-(_logit(min(0.9, 2.0 * (1 - qa))) + odev[k])))
            m = alpha + beta[(q, lg)] + gamma[k]
            rows.append((p.pool, q, lg, p.site, m, float(np.exp(m)), qa, overturn))
    pairs = pd.DataFrame(rows, columns=["pool", "queue", "language", "site", "log_multiplier", "multiplier", "qa_pass", "overturn"])
    shares = np.zeros(len(pairs))
    for _, idx in pairs.groupby(["queue", "language"], sort=True).indices.items():
        shares[idx] = rng.dirichlet(np.full(len(idx), 0.8))
    pairs["share"] = shares
    sites = sorted({p.site for p in spec.pools})
    learning = pd.DataFrame({"site": sites, "l0": rng.uniform(1.5, 1.9, len(sites)), "half_life_weeks": rng.uniform(2.0, 4.0, len(sites))})
    days = spec.weeks * 7
    policy_date = (spec.history_start + pd.Timedelta(days=int(days * 0.6))).date()
    return ProductionTruth(pairs, learning, policy_date, POLICY_QUEUE, float(np.log(1.25)), 10.0)


def _bump(truth: ProductionTruth, dates: pd.DatetimeIndex) -> np.ndarray:
    age = (dates.tz_localize(None) - pd.Timestamp(truth.policy_date)).days.to_numpy(float)
    return np.where(age >= 0, truth.policy_bump * 0.5 ** (np.maximum(age, 0) / truth.policy_half_life_days), 0.0)


def _outcomes(rng, items: np.ndarray, log_mult: np.ndarray, ref_aht: np.ndarray, qa: np.ndarray, overturn: np.ndarray) -> dict:
    """Handle time, QA and appeals of rows of ``items`` (vectorised; draws in a fixed order)."""
    safe = np.maximum(items, 1)
    eps = rng.normal(0.0, 1.0, len(items)) * np.sqrt(DAY_SD**2 + ITEM_CV**2 / safe)
    handle = items * ref_aht * np.exp(log_mult + eps)
    sampled = rng.binomial(items, QA_SHARE)
    passed = rng.binomial(sampled, qa)
    appeals = rng.binomial(items, APPEAL_SHARE)
    overturned = rng.binomial(appeals, overturn)
    return {"handle_time_s": np.round(handle, 1), "qa_sampled": sampled, "qa_passed": passed, "appeals": appeals,
            "overturned": overturned}


def production_records(spec, daily_volume: np.ndarray, ref_aht: dict, seed: int = 7) -> tuple[pd.DataFrame, ProductionTruth]:
    """The production table of a demo and its truth.

    Parameters
    ----------
    spec : capplan.demo.DemoSpec
    daily_volume : numpy.ndarray
        Observed items per cell (``spec.cells`` order) and history day, shape (cells, days).
    ref_aht : dict
        (queue, language) -> reference handle time as written to handle_times.csv [s].
    seed : int
    """
    truth = production_truth(spec, seed)
    rng = np.random.default_rng([seed, PRODUCTION_SALT, 1])
    n_days = daily_volume.shape[1]
    dates = pd.date_range(spec.history_start, periods=n_days, freq="D")
    bump = _bump(truth, dates)
    cell_index = {c: i for i, c in enumerate(spec.cells)}
    pairs = truth.pairs
    frames = []
    for k, pair in enumerate(pairs.itertuples(index=False)):
        vol = np.maximum(daily_volume[cell_index[(pair.queue, pair.language)]], 0).astype(np.int64)
        items = rng.binomial(vol, pair.share)
        keep = items > 0
        if not keep.any():
            continue
        bumps = bump if pair.queue == truth.policy_queue else np.zeros(n_days)
        out = _outcomes(rng, items[keep], pair.log_multiplier + bumps[keep], np.full(keep.sum(), ref_aht[(pair.queue, pair.language)]),
                        pair.qa_pass, pair.overturn)
        frames.append(pd.DataFrame({"date": dates[keep], "pool": pair.pool, "moderator": "", "tenure_weeks": np.nan,
                                    "queue": pair.queue, "language": pair.language, "items": items[keep], **out}))
    frames.append(_moderator_rows(spec, truth, rng, dates, bump, ref_aht, daily_volume, cell_index))
    table = pd.concat(frames, ignore_index=True).sort_values(["date", "pool", "moderator", "queue", "language"], kind="stable")
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    return table[PRODUCTION.column_names].reset_index(drop=True), truth


def _moderator_rows(spec, truth, rng, dates, bump, ref_aht, daily_volume, cell_index) -> pd.DataFrame:
    """New-hire cohorts per site: weekday rows of one moderator on one cell, tenure in whole weeks."""
    pairs = truth.pairs
    cohort = 4 if spec.size == "small" else 6
    frames = []
    for site in truth.learning["site"]:
        pool = next(p.pool for p in spec.pools if p.site == site)
        mine = pairs[pairs["pool"] == pool]
        vols = np.array([daily_volume[cell_index[(q, lg)]].sum() for q, lg in zip(mine["queue"], mine["language"])])
        pair = mine.iloc[int(np.argmax(vols * mine["share"].to_numpy()))]
        for c, first in enumerate(range(0, len(dates) - 7, COHORT_EVERY_DAYS)):
            day = np.arange(first, min(first + COHORT_WEEKS * 7, len(dates)))
            day = day[dates[day].weekday < 5]
            tenure = (day - first) // 7
            mult = truth.learning_multiplier(site, tenure)
            bumps = bump[day] if pair["queue"] == truth.policy_queue else 0.0
            log_mult = pair["log_multiplier"] + np.log(mult) + bumps
            aht = ref_aht[(pair["queue"], pair["language"])]
            for m in range(cohort):
                items = rng.poisson(NEWHIRE_PRODUCTIVE_S / (aht * np.exp(log_mult)))
                out = _outcomes(rng, items, log_mult, np.full(len(day), aht), pair["qa_pass"], pair["overturn"])
                frames.append(pd.DataFrame({"date": dates[day], "pool": pool, "moderator": f"{site[:3].lower()}-{c:02d}{m:02d}",
                                            "tenure_weeks": tenure.astype(float), "queue": pair["queue"],
                                            "language": pair["language"], "items": items, **out})[items > 0])
    return pd.concat(frames, ignore_index=True)


def write_production(inputs, spec, draws, seed: int = 7) -> ProductionTruth:
    """Write ``inputs/production.csv`` from a demo's draws; returns the truth."""
    n_days = draws.volume.shape[1] // 24
    daily = np.clip(draws.volume[:, : n_days * 24], 0, None).reshape(len(draws.cells), n_days, 24).sum(axis=2)
    ref = {c: float(f"{a:.1f}") for c, a in zip(draws.cells, draws.aht_s)}
    table, truth = production_records(spec, daily, ref, seed)
    table.to_csv(inputs / "production.csv", index=False, lineterminator="\n", float_format="%.1f")
    return truth


# --- the opening backlog (rolling weeks, docs/rolling.md) ------------------------------------------------------
def write_demo_backlog(inputs: Path, spec: "DemoSpec", history: pd.DataFrame) -> Path:
    """``inputs/backlog.csv``: the deferred items still waiting at the planning start, from the history's last hours.

    A queue worked at a steady rate through its turnaround window leaves the newest arrivals waiting and the oldest
    nearly done: of the items that arrived ``j`` hours before the start (``j = 1 .. k``, ``k`` the window in whole
    hours minus one, the work not yet due at the start), a share ``(k - j + 1) / k`` still waits, rounded down to
    whole items. So the demo's plan opens with a realistic carry-in and the week is planned as a rolling week.
    """
    from capplan.schema import BACKLOG_TABLE
    from capplan.units import parse_duration

    start = pd.Timestamp(spec.start, tz="UTC")
    stamps = pd.to_datetime(history["interval_start"], utc=True)
    rows = []
    for q in spec.queues:
        if q.kind != "deferred":
            continue
        k = max(int(parse_duration(q.within) // 3600) - 1, 0)
        for j in range(1, k + 1):
            at = start - pd.Timedelta(hours=j)
            sel = history[(history["queue"] == q.name) & (stamps == at)]
            for lang, volume in zip(sel["language"], sel["volume"]):
                items = int(np.floor(float(volume) * (k - j + 1) / k))
                if items > 0:
                    rows.append((q.name, lang, at.strftime("%Y-%m-%dT%H:%M:%SZ"), items))
    frame = pd.DataFrame(rows, columns=BACKLOG_TABLE.column_names).sort_values(["queue", "language", "arrived"], kind="stable")
    path = inputs / "backlog.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    return path
