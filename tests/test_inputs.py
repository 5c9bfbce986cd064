"""Malformed inputs: each case pins the file, row, column and message of the problem reported."""

from __future__ import annotations

import pytest

from _ws import TABLES, history_csv, make_workspace
from capplan.errors import InputError
from capplan.inputs import check_workspace, load_workspace

POOL_HEADER = "pool,vendor,site,timezone,queues,languages,proficiency,min_headcount,max_headcount,cost_per_hour,currency,shifts\n"
GOOD_POOL_2 = "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2,0,60,9,USD,day;night\n"
GOOD_POOL_1 = "dub-ih,inhouse,Dublin,Europe/Dublin,video;live,en,1.0,0,40,30,EUR,day;night\n"
SHIFT_HEADER = "shift,start_local,paid_hours,break_minutes,days_per_week,start_days\n"
QUEUE_HEADER = "queue,kind,target,within,severity,egregious,patience\n"


def _hist_with(extra_rows: str = "", replace: tuple[str, str] | None = None) -> str:
    text = history_csv()
    if replace:
        text = text.replace(*replace, 1)
    return text + extra_rows


CASES = [
    # (id, overrides, file, row, column, message fragment)
    ("missing-column", {"queues": "queue,kind,target,severity,egregious,patience\nvideo,deferred,0.9,1,yes,\n"},
     "inputs/queues.csv", 1, "within", "required column missing"),
    ("missing-file", {"vendors": None}, "inputs/vendors.csv", None, None, "file missing"),
    ("empty-file", {"shifts": ""}, "inputs/shifts.csv", None, None, "file is empty"),
    ("negative-volume", {"history": _hist_with(replace=(",video,en,", ",video,en,-"))}, "inputs/history.csv", 2, "volume", "below the minimum 0"),
    ("nan-volume", {"history": _hist_with("2026-03-01T23:00:00Z,video,fr,NaN\n")}, "inputs/history.csv", 1514, "volume", "not a number"),
    ("text-volume", {"history": _hist_with("2026-03-01T23:00:00Z,video,fr,lots\n")}, "inputs/history.csv", 1514, "volume", "not a number"),
    ("duplicate-interval", {"history": _hist_with("2026-02-09T00:00:00Z,video,en,5\n")}, "inputs/history.csv", 1514, "interval_start", "duplicate row"),
    ("bad-timestamp", {"history": _hist_with("yesterday,video,en,5\n")}, "inputs/history.csv", 1514, "interval_start", "not a date-time"),
    ("mixed-naive-aware", {"history": _hist_with("2026-03-01 23:30:00,video,fr,5\n")}, "inputs/history.csv", 1514, "interval_start", "without a UTC offset"),
    ("off-grid-interval", {"history": _hist_with("2026-03-01T23:07:00Z,video,fr,5\n")}, "inputs/history.csv", 1514, "interval_start", "15-minute grid"),
    ("unknown-queue-in-history", {"history": _hist_with("2026-03-01T23:00:00Z,vidoe,en,5\n")}, "inputs/history.csv", 1514, "queue", "queue 'vidoe' is not in queues"),
    ("empty-history", {"history": "interval_start,queue,language,volume\n"}, "inputs/history.csv", 2, None, "no data rows"),
    ("one-row-history", {"history": "interval_start,queue,language,volume\n2026-03-01T23:00:00Z,video,en,5\n"}, "inputs/history.csv", 2, None, "only one row"),
    ("bad-kind", {"queues": QUEUE_HEADER + "video,batch,0.9,4h,1,yes,\nlive,realtime,0.8,60s,1,no,3m\n"}, "inputs/queues.csv", 2, "kind", "not one of"),
    ("target-above-1", {"queues": QUEUE_HEADER + "video,deferred,1.5,4h,1,yes,\nlive,realtime,0.8,60s,1,no,3m\n"}, "inputs/queues.csv", 2, "target", "above the maximum 1"),
    ("duration-without-unit", {"queues": QUEUE_HEADER + "video,deferred,0.9,4,1,yes,\nlive,realtime,0.8,60s,1,no,3m\n"}, "inputs/queues.csv", 2, "within", "not a duration"),
    ("severity-out-of-range", {"queues": QUEUE_HEADER + "video,deferred,0.9,4h,7,yes,\nlive,realtime,0.8,60s,1,no,3m\n"}, "inputs/queues.csv", 2, "severity", "above the maximum 3"),
    ("bool-not-yes-no", {"queues": QUEUE_HEADER + "video,deferred,0.9,4h,1,maybe,\nlive,realtime,0.8,60s,1,no,3m\n"}, "inputs/queues.csv", 2, "egregious", "not yes/no"),
    ("duplicate-queue", {"queues": TABLES["queues"] + "video,deferred,0.9,2h,1,yes,\n"}, "inputs/queues.csv", 4, "queue", "duplicate row"),
    ("handle-time-unknown-queue", {"handle_times": TABLES["handle_times"] + "audio,en,60\n"}, "inputs/handle_times.csv", 5, "queue", "queue 'audio' is not in queues"),
    ("handle-time-zero", {"handle_times": "queue,language,aht_s\nvideo,en,0\nvideo,es,130\nlive,en,180\n"}, "inputs/handle_times.csv", 2, "aht_s", "below the minimum 1"),
    ("unknown-timezone", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo1,Manila,Asia/Manilla,video,en;es,1.2,0,60,9,USD,day;night\n"}, "inputs/pools.csv", 3, "timezone", "unknown time zone"),
    ("min-above-max-headcount", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2,80,60,9,USD,day;night\n"}, "inputs/pools.csv", 3, "min_headcount", "above max_headcount"),
    ("pool-unknown-queue", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo1,Manila,Asia/Manila,videos,en;es,1.2,0,60,9,USD,day;night\n"}, "inputs/pools.csv", 3, "queues", "queue 'videos', which is not in queues"),
    ("pool-unknown-shift", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2,0,60,9,USD,late\n"}, "inputs/pools.csv", 3, "shifts", "shift 'late', which is not in shifts"),
    ("pool-unknown-vendor", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo7,Manila,Asia/Manila,video,en;es,1.2,0,60,9,USD,day\n"}, "inputs/pools.csv", 3, "vendor", "vendor 'bpo7' is not in vendors"),
    ("pool-no-skills", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo1,Manila,Asia/Manila,,en;es,1.2,0,60,9,USD,day\n"}, "inputs/pools.csv", 3, "queues", "empty cell"),
    ("pool-currency-without-fx", {"pools": POOL_HEADER + GOOD_POOL_1 + "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2,0,60,500,PHP,day\n"}, "inputs/pools.csv", 3, "currency", "'PHP' has no FX rate"),
    ("formula-in-name", {"pools": POOL_HEADER + GOOD_POOL_1 + "=HYPERLINK(\"x\"),bpo1,Manila,Asia/Manila,video,en;es,1.2,0,60,9,USD,day\n"}, "inputs/pools.csv", 3, "pool", "formula"),
    ("vendor-min-above-max", {"vendors": "vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\nbpo1,6000,5000,0.8,0.9,USD\n"}, "inputs/vendors.csv", 2, "min_weekly_hours", "above max_weekly_hours"),
    ("vendor-share-above-1", {"vendors": "vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\nbpo1,0,5000,1.8,0.9,USD\n"}, "inputs/vendors.csv", 2, "max_language_share", "above the maximum 1"),
    ("shift-longer-than-24h", {"shifts": SHIFT_HEADER + "day,08:00,23.5,60,5,Mon-Sun\nnight,22:00,8,30,5,Mon-Sun\n"}, "inputs/shifts.csv", 2, "paid_hours", "longer than 24 hours"),
    ("shift-bad-time", {"shifts": SHIFT_HEADER + "day,8am,8,30,5,Mon-Sun\nnight,22:00,8,30,5,Mon-Sun\n"}, "inputs/shifts.csv", 2, "start_local", "not a time of day"),
    ("shift-bad-days", {"shifts": SHIFT_HEADER + "day,08:00,8,30,5,Mon-Fry\nnight,22:00,8,30,5,Mon-Sun\n"}, "inputs/shifts.csv", 2, "start_days", "not a list of weekdays"),
    ("shift-days-per-week-8", {"shifts": SHIFT_HEADER + "day,08:00,8,30,8,Mon-Sun\nnight,22:00,8,30,5,Mon-Sun\n"}, "inputs/shifts.csv", 2, "days_per_week", "above the maximum 7"),
    ("event-ends-before-start", {"events": "name,start,end,queues,languages,multiplier\nx,2026-02-21T00:00:00Z,2026-02-20T00:00:00Z,video,*,2\n"}, "inputs/events.csv", 2, "end", "ends before it starts"),
    ("event-unknown-queue", {"events": "name,start,end,queues,languages,multiplier\nx,2026-02-20T00:00:00Z,2026-02-21T00:00:00Z,audio,*,2\n"}, "inputs/events.csv", 2, "queues", "queue 'audio', which is not in queues"),
    ("history-too-old", {"history": history_csv().replace("2026-02-", "2025-02-").replace("2026-03-", "2025-03-")}, "inputs/history.csv", None, "interval_start", "days before the planning start"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_located(tmp_path, case):
    _, overrides, file, row, column, fragment = case
    make_workspace(tmp_path, **overrides)
    ws, problems = check_workspace(tmp_path)
    assert ws is None, "an error must prevent typing the workspace"
    errors = [p for p in problems if p.severity == "error"]
    match = [p for p in errors if p.file == file and fragment in p.message or (p.file == file and fragment in str(p))]
    assert match, f"no error with {fragment!r} in {file}; got: " + "\n".join(map(str, errors))
    p = match[0]
    assert p.row == row
    assert p.column == column
    assert p.fix, "every error says how to fix it"


def test_all_problems_reported_at_once(tmp_path):
    make_workspace(
        tmp_path,
        pools=POOL_HEADER + "x,bpo9,A,Mars/Base,video;nope,en,abc,50,10,9,XYZ,day;late\n",
        shifts=SHIFT_HEADER + "day,8am,8,30,5,Mon-Sun\nnight,22:00,8,30,5,Mon-Sun\n",
    )
    _, problems = check_workspace(tmp_path)
    errors = [p for p in problems if p.severity == "error"]
    assert {p.column for p in errors} >= {"proficiency", "timezone", "start_local"}
    assert len(errors) >= 3


def test_non_utf8_csv(tmp_path):
    make_workspace(tmp_path)
    (tmp_path / "inputs" / "queues.csv").write_bytes("queue,kind,target,within,severity,egregious,patience\nvídeo,deferred,0.9,4h,1,yes,\n".encode("latin-1"))
    _, problems = check_workspace(tmp_path)
    p = next(p for p in problems if p.file == "inputs/queues.csv")
    assert "not UTF-8" in p.message and p.row == 2 and "UTF-8" in p.fix


def test_unknown_column_is_a_warning_and_run_goes_on(tmp_path):
    make_workspace(tmp_path, handle_times="queue,language,aht_s,comment\nvideo,en,120,x\nvideo,es,130,y\nlive,en,180,z\n")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    w = [p for p in problems if p.column == "comment"]
    assert w and w[0].severity == "warning" and w[0].row == 1


def test_orphan_cell_is_a_warning(tmp_path):
    make_workspace(tmp_path, pools=POOL_HEADER + GOOD_POOL_1)  # nobody serves video/es
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    assert any("video/es has volume but no pool" in p.message and p.severity == "warning" for p in problems)


def test_gaps_in_history_are_a_warning(tmp_path):
    lines = history_csv().splitlines()
    make_workspace(tmp_path, history="\n".join(lines[:100] + lines[110:]) + "\n")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    gap = [p for p in problems if "gaps" in p.message]
    assert gap and gap[0].severity == "warning" and "10 missing intervals" in gap[0].message


def test_dst_gap_shift_start_is_warned(tmp_path):
    # Europe/Dublin springs forward on 2026-03-29 at 01:00 -> 02:00; a 01:30 start does not exist that day
    from capplan.config import Config, to_toml

    make_workspace(tmp_path, shifts=SHIFT_HEADER + "day,01:30,8,30,5,Mon-Sun\nnight,22:00,8,30,5,Mon-Sun\n")
    cfg = Config()
    cfg.planning.start = __import__("datetime").date(2026, 3, 23)
    cfg.policy.fx = {"USD": 1.0, "EUR": 1.08}
    (tmp_path / "capplan.toml").write_text(to_toml(cfg))
    (tmp_path / "inputs" / "history.csv").write_text(history_csv().replace("2026-02-", "2026-03-").replace("2026-03-0", "2026-03-1"))
    ws, problems = check_workspace(tmp_path)
    warn = [p for p in problems if "does not exist in Europe/Dublin" in p.message]
    assert warn and warn[0].severity == "warning" and warn[0].column == "start_local"


def test_typed_workspace(tmp_path):
    make_workspace(tmp_path)
    ws = load_workspace(tmp_path)
    assert str(ws.history["interval_start"].dt.tz) == "UTC"
    q = ws.queues.set_index("queue")
    assert q.loc["video", "within_s"] == 4 * 3600 and q.loc["live", "patience_s"] == 180
    assert bool(q.loc["video", "egregious"]) is True
    s = ws.shifts.set_index("shift")
    assert s.loc["night", "start_minute"] == 22 * 60 and s.loc["day", "start_days"] == tuple(range(7))
    assert set(map(tuple, ws.skills().to_numpy())) == {
        ("dub-ih", "live", "en"), ("dub-ih", "video", "en"), ("mnl-b1", "video", "en"), ("mnl-b1", "video", "es")}


def test_load_workspace_raises_with_every_problem(tmp_path):
    make_workspace(tmp_path, vendors=None, shifts="")
    with pytest.raises(InputError) as info:
        load_workspace(tmp_path)
    assert len(info.value.problems) >= 2
    assert "more problem" in str(info.value)


def test_excel_workbook_inputs(tmp_path):
    """The same tables in one workbook are read like the CSVs; a missing sheet is named."""
    from openpyxl import Workbook

    src = make_workspace(tmp_path / "csv")
    wb = Workbook()
    wb.remove(wb.active)
    for name in ["history", "queues", "handle_times", "pools", "vendors", "shifts"]:
        sheet = wb.create_sheet(name)
        for line in (src / "inputs" / f"{name}.csv").read_text().splitlines():
            sheet.append(line.split(","))
    xl = tmp_path / "xl"
    (xl / "inputs").mkdir(parents=True)
    (xl / "capplan.toml").write_text((src / "capplan.toml").read_text())
    wb.save(xl / "capplan-inputs.xlsx")
    ws = load_workspace(xl)
    assert len(ws.history) == len(load_workspace(src).history)
    del wb["vendors"]
    wb.save(xl / "capplan-inputs.xlsx")
    _, problems = check_workspace(xl)
    assert any("sheet 'vendors' missing" in p.message and p.file == "capplan-inputs.xlsx" for p in problems)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_bad_input_stops_a_run_cleanly(tmp_path, case):
    """Through the CLI: exit 2, one-line error naming the file, no traceback, no run folder."""
    from typer.testing import CliRunner

    from capplan.cli.main import app

    _, overrides, file, *_ = case
    make_workspace(tmp_path, **overrides)
    res = CliRunner().invoke(app, ["forecast", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "error:" in res.output and file in res.output
    assert "Traceback" not in res.output
    runs = tmp_path / "forecasts"
    assert not runs.exists() or not any(runs.iterdir())


def test_vendor_minimum_far_above_demand_is_a_warning(tmp_path):
    make_workspace(tmp_path, vendors="vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\nbpo1,90000,95000,0.8,0.9,USD\n")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    warn = [p for p in problems if "vendor minimums" in p.message]
    assert warn and warn[0].severity == "warning" and warn[0].column == "min_weekly_hours"


def test_very_large_csv_is_refused_with_a_fix(tmp_path, monkeypatch):
    import capplan.inputs.read as read

    make_workspace(tmp_path)
    monkeypatch.setattr(read, "MAX_FILE_BYTES", 10_000)  # the history file is ~60 kB
    _, problems = check_workspace(tmp_path)
    p = next(p for p in problems if p.file == "inputs/history.csv")
    assert "above the" in p.message and "parquet" in p.fix.lower()


def test_history_as_parquet_is_read_like_csv(tmp_path):
    import pandas as pd

    make_workspace(tmp_path)
    csv_ws = load_workspace(tmp_path)
    frame = pd.read_csv(tmp_path / "inputs" / "history.csv", parse_dates=["interval_start"])
    (tmp_path / "inputs" / "history.csv").unlink()
    frame.to_parquet(tmp_path / "inputs" / "history.parquet")
    pq_ws = load_workspace(tmp_path)
    pd.testing.assert_frame_equal(csv_ws.history, pq_ws.history, check_dtype=False)


def test_overlapping_interval_names_its_own_row(tmp_path):
    """The overlap check runs on history sorted by cell and time; the row must still be the file's row."""
    make_workspace(tmp_path, history=_hist_with("2026-02-09T00:30:00Z,video,en,5\n"))
    _, problems = check_workspace(tmp_path)
    p = next(p for p in problems if "overlaps" in p.message)
    assert (p.row, p.column, p.found) == (1514, "interval_start", "2026-02-09 00:30:00+00:00")
