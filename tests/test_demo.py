"""The synthetic demo workspace: deterministic, loadable, and realistic in measurable ways.

Realism is checked on the generated files with independent statistics (shares, local-time peaks,
weekday ratios, holiday and event ratios, dispersion of week-over-week differences), not by
re-running the generator's own formulas.
"""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capplan.demo import DEFAULT_START, LANGUAGES, SIZES, build_demo_workspace, demo_spec
from capplan.errors import ConfigError

OFFSETS = {lg.code: lg.utc_offset_h for lg in LANGUAGES}
COUNTRY = {lg.code: lg.country for lg in LANGUAGES}
AHT_RANGES = {"video": (90, 150), "photo": (20, 40), "comments": (15, 30), "appeals": (200, 400),
              "live": (120, 240), "audio": (60, 120), "escalations": (240, 480)}
FILES = ["capplan.toml"] + [f"inputs/{t}.csv" for t in ("history", "queues", "handle_times", "pools", "vendors", "shifts", "events")]


def _read(ws: Path) -> dict[str, pd.DataFrame]:
    tables = {t: pd.read_csv(ws / "inputs" / f"{t}.csv", keep_default_na=False) for t in
              ("queues", "handle_times", "pools", "vendors", "shifts", "events")}
    h = pd.read_csv(ws / "inputs" / "history.csv")
    h["interval_start"] = pd.to_datetime(h["interval_start"], utc=True)
    tables["history"] = h
    tables["config"] = tomllib.loads((ws / "capplan.toml").read_text())
    return tables


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return build_demo_workspace(tmp_path_factory.mktemp("demo") / "small", seed=7, size="small")


@pytest.fixture(scope="module")
def t(small) -> dict[str, pd.DataFrame]:
    return _read(small)


def _local_daily(h: pd.DataFrame, queue: str, lang: str) -> pd.Series:
    """Daily totals by the language's local date (representative UTC offset)."""
    s = h[(h.queue == queue) & (h.language == lang)]
    local = s.interval_start + pd.to_timedelta(OFFSETS[lang], unit="h")
    daily = s.groupby(local.dt.date)["volume"].sum()
    return daily.iloc[1:-1]  # drop partial first/last local days


def _event_days(events: pd.DataFrame, lang: str) -> set[dt.date]:
    days = set()
    for e in events.itertuples():
        if e.languages == "*" or lang in e.languages.split(";"):
            rng = pd.date_range(pd.Timestamp(e.start) - pd.Timedelta(days=1), pd.Timestamp(e.end) + pd.Timedelta(days=1), freq="D")
            days |= {d.date() for d in rng}
    return days


# --- determinism and API --------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_another_seed_differs(small, tmp_path):
    again = build_demo_workspace(tmp_path / "again", seed=7, size="small")
    for name in FILES:
        assert (again / name).read_bytes() == (small / name).read_bytes(), name
    other = build_demo_workspace(tmp_path / "other", seed=8, size="small")
    assert (other / "inputs/history.csv").read_bytes() != (small / "inputs/history.csv").read_bytes()
    assert (other / "inputs/handle_times.csv").read_bytes() != (small / "inputs/handle_times.csv").read_bytes()
    # the static structure does not depend on the seed
    assert (other / "inputs/queues.csv").read_bytes() == (small / "inputs/queues.csv").read_bytes()


def test_rebuilding_a_demo_is_allowed_but_a_real_workspace_is_never_overwritten(tmp_path):
    ws = build_demo_workspace(tmp_path / "d", seed=1, size="small")
    build_demo_workspace(ws, seed=1, size="small")  # refresh the same demo: fine
    real = tmp_path / "real"
    real.mkdir()
    (real / "capplan.toml").write_text("[planning]\n")
    with pytest.raises(ConfigError, match="not a demo"):
        build_demo_workspace(real, size="small")
    assert (real / "capplan.toml").read_text() == "[planning]\n"
    assert not (real / "inputs").exists()


def test_unknown_size_is_a_config_error():
    with pytest.raises(ConfigError, match="small, default, large"):
        demo_spec("huge")
    assert SIZES == ("small", "default", "large")


def test_start_fixes_the_history_end_and_the_config(tmp_path):
    ws = build_demo_workspace(tmp_path / "d", seed=3, size="small", start=dt.date(2025, 3, 3))
    tb = _read(ws)
    assert tb["history"].interval_start.max() == pd.Timestamp("2025-03-02T23:00:00Z")
    assert tb["history"].interval_start.min() == pd.Timestamp("2025-03-03T00:00:00Z") - pd.Timedelta(weeks=10)
    assert tb["config"]["planning"]["start"] == dt.date(2025, 3, 3)


def test_small_loads_with_no_problems(small):
    from capplan.inputs import check_workspace

    ws, problems = check_workspace(small)
    assert ws is not None
    assert [str(p) for p in problems] == []
    assert len(ws.cells()) == 18
    assert ws.config.planning.start == DEFAULT_START
    # every currency has an FX rate; the Manila site has its own shrinkage
    assert set(ws.pools.currency) | set(ws.vendors.currency) <= set(ws.config.policy.fx)
    assert ws.config.staffing.shrinkage_by_site == {"Manila": 0.35}
    assert ws.config.policy.critical_languages == ["en"]


# --- shape ----------------------------------------------------------------------------------------
def test_small_shape(t):
    h = t["history"]
    assert list(t["queues"].queue) == ["video", "comments", "live", "appeals"]
    assert sorted(h.language.unique()) == ["en", "es", "he", "pt", "tl"]
    cells = set(zip(t["handle_times"].queue, t["handle_times"].language))
    assert set(zip(h.queue, h.language)) == cells and len(cells) == 18
    assert ("live", "tl") not in cells and ("live", "he") not in cells  # live only in the big languages
    assert h.interval_start.max() == pd.Timestamp("2026-11-29T23:00:00Z")  # ends at the planning start
    span = h.interval_start.max() - h.interval_start.min()
    assert span == pd.Timedelta(weeks=10) - pd.Timedelta(hours=1)
    assert not h.duplicated(["queue", "language", "interval_start"]).any()
    assert (h.volume >= 0).all() and (h.volume % 1 == 0).all()
    # hourly grid without gaps inside each cell
    steps = h.groupby(["queue", "language"]).interval_start.diff().dropna()
    assert (steps == pd.Timedelta(hours=1)).all()


def test_volumes_are_plausible(t):
    h = t["history"]
    peak = h.groupby(["queue", "language"]).volume.quantile(0.99)
    assert 1_000 < peak["video", "en"] < 6_000  # en video: a few thousand items per hour at peak
    assert h.volume.max() < 30_000  # even in the viral incident
    mean = h.groupby(["queue", "language"]).volume.mean()
    assert 5 < mean["video", "he"] < 100  # tail language: tens per hour


def test_english_is_the_largest_language_in_every_queue(t):
    h = t["history"]
    for queue, s in h.groupby("queue"):
        shares = s.groupby("language").volume.sum() / s.volume.sum()
        assert shares.idxmax() == "en", queue
    total = h.groupby("language").volume.sum().sort_values(ascending=False)
    assert total.index[0] == "en" and set(total.index[1:3]) == {"es", "pt"} and total.index[-1] == "he"
    assert total["en"] > 2 * total.iloc[1]  # a long tail behind English


# --- seasonality ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "tl", "pt"])
def test_daily_peak_is_in_the_local_evening(t, lang):
    h = t["history"]
    s = h[(h.queue == "video") & (h.language == lang)]
    by_hour = s.groupby(s.interval_start.dt.hour).volume.mean()
    local_peak = (by_hour.idxmax() + OFFSETS[lang]) % 24
    local_trough = (by_hour.idxmin() + OFFSETS[lang]) % 24
    assert 18 <= local_peak <= 23, (lang, by_hour.idxmax())
    assert 1 <= local_trough <= 7
    assert by_hour.max() / by_hour.min() > 4


def test_weekly_pattern_weekends_for_content_weekdays_for_appeals(t):
    h = t["history"]

    def weekend_ratio(queue, lang):
        daily = _local_daily(h, queue, lang)
        dow = pd.to_datetime(pd.Series(daily.index)).dt.dayofweek.to_numpy()
        return daily[dow >= 5].mean() / daily[(dow >= 1) & (dow <= 3)].mean()

    assert 1.04 < weekend_ratio("video", "en") < 1.25  # about 1.14 expected
    assert 1.04 < weekend_ratio("comments", "es") < 1.25
    assert 0.70 < weekend_ratio("appeals", "en") < 0.92


def test_public_holidays_dip(t):
    """Each language's country holidays: the local day is ~20 % below the same weekday in other weeks."""
    import holidays

    h, events = t["history"], t["events"]
    ratios = []
    for lang in ["en", "es", "pt", "tl"]:
        daily = _local_daily(h, "video", lang)
        hol = holidays.country_holidays(COUNTRY[lang], years=[2026])
        skip = _event_days(events, lang)
        normal = [d for d in daily.index if d not in hol and d not in skip]
        for day in daily.index:
            if day in hol and day not in skip:
                same = [d for d in normal if d.weekday() == day.weekday() and abs((d - day).days) <= 21]
                ratios.append(daily[day] / np.mean([daily[d] for d in same]))
        assert len(daily) > 60
    assert len(ratios) >= 4
    assert 0.72 < np.median(ratios) < 0.88


def test_event_surges_are_visible_and_listed(t):
    h, events = t["history"], t["events"]
    ev = events.set_index("name")
    assert {"election-br", "viral-incident", "election-mx"} <= set(ev.index)

    def ratio(name, queue, lang):
        e = ev.loc[name]
        start, end = pd.Timestamp(e.start), pd.Timestamp(e.end)
        s = h[(h.queue == queue) & (h.language == lang)].set_index("interval_start").volume
        during = s[start:end - pd.Timedelta(hours=1)].sum()
        week = pd.Timedelta(weeks=1)
        before = s[start - week:end - week - pd.Timedelta(hours=1)].sum()
        after = s[start + week:end + week - pd.Timedelta(hours=1)].sum()
        return during / ((before + after) / 2)

    assert ev.loc["election-br", "languages"] == "pt"
    assert 1.55 < ratio("election-br", "video", "pt") < 2.1  # 1.8; a holiday in a reference week moves it
    assert 0.9 < ratio("election-br", "video", "en") < 1.1  # other markets unaffected
    assert ev.loc["viral-incident", "languages"] == "*"
    for lang in ["en", "es", "tl"]:
        assert 2.0 < ratio("viral-incident", "video", lang) < 3.1  # 2.5 over 36 h: day-to-day noise
    # one future event inside the forecast horizon
    start = pd.Timestamp(DEFAULT_START, tz="UTC")
    future = events[pd.to_datetime(events.start, utc=True) >= start]
    assert len(future) == 1
    assert pd.Timestamp(future.iloc[0].end) <= start + pd.Timedelta(days=t["config"]["planning"]["horizon_days"])
    # events name only existing queues
    queues = set(t["queues"].queue)
    for e in events.itertuples():
        assert e.queues == "*" or set(e.queues.split(";")) <= queues


def test_counts_are_overdispersed(t):
    """Week-over-week differences vary far more than Poisson counts would (var/mean >> 1)."""
    h = t["history"]
    for lang in ["en", "es"]:
        s = h[(h.queue == "comments") & (h.language == lang)].set_index("interval_start").volume
        diff = (s - s.shift(168)).dropna()
        mad_sd = 1.4826 * np.median(np.abs(diff - np.median(diff)))
        dispersion = mad_sd**2 / (2 * s.mean())  # 1.0 for Poisson counts
        assert dispersion > 3, (lang, dispersion)


# --- awkward cells --------------------------------------------------------------------------------
def test_recent_start_and_intermittent_cells_exist(t):
    h = t["history"]
    first = h.groupby(["queue", "language"]).interval_start.min()
    hist_start = h.interval_start.min()
    recent = first[first > hist_start + pd.Timedelta(weeks=2)]
    assert len(recent) >= 2
    start = pd.Timestamp(DEFAULT_START, tz="UTC")
    age_weeks = (start - recent) / pd.Timedelta(weeks=1)
    assert ((age_weeks >= 5.9) & (age_weeks <= 10)).all()
    zero_share = h.groupby(["queue", "language"]).volume.apply(lambda v: (v == 0).mean())
    sparse = zero_share[zero_share > 0.3]
    assert len(sparse) >= 1
    assert all(q == "appeals" for q, _ in sparse.index)  # the tail of a low-volume queue
    assert (h.groupby(["queue", "language"]).volume.sum() > 0).all()


def test_handle_times_per_queue_and_history_aht(t):
    ht, h = t["handle_times"], t["history"]
    for r in ht.itertuples():
        lo, hi = AHT_RANGES[r.queue]
        assert 0.9 * lo <= r.aht_s <= 1.1 * hi, r
    # observed hourly AHT scatters around the cell's handle time; empty when nothing arrived
    assert h.loc[h.volume == 0, "aht_s"].isna().all()
    assert h.loc[h.volume > 0, "aht_s"].notna().all()
    busy = h[h.volume > 50].groupby(["queue", "language"]).aht_s
    obs = busy.median()[busy.size() >= 100]
    ref = ht.set_index(["queue", "language"]).aht_s.reindex(obs.index)
    assert len(obs) >= 10 and (np.abs(obs / ref - 1) < 0.03).all()
    assert h[h.volume > 50].groupby(["queue", "language"]).aht_s.std().min() > 0


# --- supply ---------------------------------------------------------------------------------------
def test_pools_sites_vendors_and_shifts(t):
    pools, vendors, shifts = t["pools"], t["vendors"], t["shifts"]
    assert len(pools) == 6
    bpo = set(pools.vendor) - {"inhouse"}
    assert len(bpo) >= 3 and set(vendors.vendor) == bpo
    assert "inhouse" in set(pools.vendor)
    assert pools.site.nunique() >= 4 and pools.timezone.nunique() >= 4
    assert pools.proficiency.max() >= 1.3 and pools.proficiency.min() <= 1.0
    assert (pools.min_headcount <= pools.max_headcount).all()
    assert pools.currency.nunique() >= 4
    # every pool's shifts exist; an overnight, a 4x10 and a weekend pattern are among them
    names = set(shifts["shift"])
    assert all(set(s.split(";")) <= names for s in pools.shifts)
    start_h = shifts.start_local.str.slice(0, 2).astype(int) + shifts.start_local.str.slice(3, 5).astype(int) / 60
    ends = start_h + shifts.paid_hours + shifts.break_minutes / 60
    assert (ends > 24).any()  # crosses midnight
    assert ((shifts.days_per_week == 4) & (shifts.paid_hours == 10)).any()
    weekend = shifts[shifts.days_per_week == 2]
    assert list(weekend.start_days) == ["Sat"]
    assert (vendors.min_weekly_hours < vendors.max_weekly_hours).all()
    assert vendors.max_language_share.between(0.5, 1).all() and vendors.quality.between(0.8, 1).all()


def test_every_cell_with_volume_has_a_skilled_pool_and_two_organisations_per_language(t):
    pools, h = t["pools"], t["history"]
    skills = {(q, lang) for p in pools.itertuples() for q in p.queues.split(";") for lang in p.languages.split(";")}
    with_volume = h[h.volume > 0][["queue", "language"]].drop_duplicates().itertuples(index=False)
    assert all((r.queue, r.language) in skills for r in with_volume)
    orgs = {}
    for p in pools.itertuples():
        for lang in p.languages.split(";"):
            orgs.setdefault(lang, set()).add(p.vendor)
    assert all(len(v) >= 2 for v in orgs.values()), orgs


def test_capacity_is_above_demand_and_a_vendor_cap_binds(t):
    pools, vendors, h, ht = t["pools"], t["vendors"], t["history"], t["handle_times"]
    last = h[h.interval_start >= h.interval_start.max() - pd.Timedelta(hours=167)]
    work = last.groupby(["queue", "language"]).volume.sum() * ht.set_index(["queue", "language"]).aht_s / 3600
    productive_capacity = (pools.max_headcount * 40 * 0.7 / pools.proficiency).sum()
    assert productive_capacity > 1.5 * work.sum()
    # the cheapest vendor's weekly cap is below what its pools could work
    pool_hours = pools.groupby("vendor").max_headcount.sum() * 40
    cap = vendors.set_index("vendor").max_weekly_hours
    assert (cap < pool_hours.reindex(cap.index)).any()


# --- the bigger sizes -----------------------------------------------------------------------------
def test_size_specs_scale():
    small, default, large = (demo_spec(s) for s in SIZES)
    assert (len(small.queues), len(small.languages), small.weeks) == (4, 5, 10)
    assert len(default.queues) >= 6 and len(default.languages) == 20 and default.weeks >= 53
    assert 60 <= len(default.cells) <= 90 and len(default.pools) >= 12
    assert len(large.cells) >= 3 * len(default.cells) - 5 and len(large.pools) >= 3 * len(default.pools)
    assert {"live", "comments", "appeals", "video", "photo", "audio"} <= {q.name for q in default.queues}


@pytest.mark.slow
def test_default_size_is_realistic_and_loads(tmp_path):
    from capplan.inputs import check_workspace

    t0 = time.perf_counter()
    ws = build_demo_workspace(tmp_path / "default", seed=7)
    assert time.perf_counter() - t0 < 30
    tb = _read(ws)
    h, pools = tb["history"], tb["pools"]
    assert h.language.nunique() == 20 and h.queue.nunique() == 7
    assert 60 <= h.groupby(["queue", "language"]).ngroups <= 90
    assert h.interval_start.max() - h.interval_start.min() >= pd.Timedelta(weeks=53) - pd.Timedelta(hours=1)
    shares = h.groupby("language").volume.sum() / h.volume.sum()
    assert shares.idxmax() == "en" and 0.2 < shares["en"] < 0.4 and shares.min() < 0.01
    assert len(pools) >= 12 and pools.site.nunique() >= 4 and len(set(pools.vendor) - {"inhouse"}) >= 3
    zero_share = h.groupby(["queue", "language"]).volume.apply(lambda v: (v == 0).mean())
    assert (zero_share > 0.3).sum() >= 2
    first = h.groupby(["queue", "language"]).interval_start.min()
    assert (first > h.interval_start.min() + pd.Timedelta(weeks=4)).sum() >= 2
    # a year of trend: the last 4 weeks of the fast-growing Hindi video above the first 4 weeks
    s = h[(h.queue == "video") & (h.language == "hi")].volume
    assert s.iloc[-672:].mean() > 1.15 * s.iloc[:672].mean()
    wkspace, problems = check_workspace(ws)
    assert wkspace is not None
    assert [str(p) for p in problems if p.severity == "error"] == []
