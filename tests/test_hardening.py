"""Issue 13: no silent wrong plans, no crashes on valid input, safe shared workspaces.

One test per example of the issue and per sibling found (classes 1, 3, 4, 5, 6, 7; classes 2 and the
deadline rule of 7 belong to the optimizer's tests). Input cases run ``check_workspace`` on the tiny
workspace of ``_ws``; the plan cases share one forecast of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from _ws import TABLES, history_csv, make_workspace
from capplan.errors import InputError
from capplan.inputs import check_workspace

POOL_HEADER = TABLES["pools"].splitlines()[0] + "\n"
POOL_1, POOL_2 = TABLES["pools"].splitlines()[1:3]


def _errors(root: Path, **overrides) -> list:
    make_workspace(root, **overrides)
    ws, problems = check_workspace(root)
    errors = [p for p in problems if p.severity == "error"]
    assert ws is None and errors, "expected an error"
    return errors


def _one(errors, fragment: str):
    found = [p for p in errors if fragment in str(p)]
    assert found, f"no problem with {fragment!r}: " + "\n".join(map(str, errors))
    assert found[0].fix, "every error says how to fix it"
    return found[0]


def _config(root: Path, old: str, new: str) -> None:
    path = root / "capplan.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- class 4: one name policy ---------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["-dub-ih", "+dub", "@dub", "=HYPERLINK(\"x\")", "du\tb", "\"du\rb\""])
def test_unsafe_pool_names_are_refused(tmp_path, bad):
    p = _one(_errors(tmp_path, pools=POOL_HEADER + POOL_1.replace("dub-ih", bad, 1) + "\n" + POOL_2 + "\n"), "not a plain name")
    assert (p.file, p.row, p.column) == ("inputs/pools.csv", 2, "pool")


def test_unsafe_item_inside_a_list_is_refused(tmp_path):
    p = _one(_errors(tmp_path, pools=POOL_HEADER + POOL_1 + "\n" + POOL_2.replace("en;es", "en;-es") + "\n"), "not a plain name")
    assert (p.row, p.column) == (3, "languages")


def test_unsafe_names_in_history_and_handle_times(tmp_path):
    errors = _errors(tmp_path, history=history_csv() + "2026-03-01T23:00:00Z,video,@en,5\n",
                     handle_times=TABLES["handle_times"] + "video,=1+1,60\n")
    assert _one(errors, "inputs/history.csv, row 1514, column 'language': not a plain name")
    assert _one(errors, "inputs/handle_times.csv, row 5, column 'language': not a plain name")


def test_unsafe_names_in_parquet_history(tmp_path):
    make_workspace(tmp_path)
    frame = pd.read_csv(tmp_path / "inputs" / "history.csv")
    frame.loc[3, "queue"] = "\t=cmd"
    (tmp_path / "inputs" / "history.csv").unlink()
    frame.to_parquet(tmp_path / "inputs" / "history.parquet")
    _, problems = check_workspace(tmp_path)
    p = _one([p for p in problems if p.severity == "error"], "not a plain name")
    assert (p.file, p.row, p.column) == ("inputs/history.parquet", 5, "queue")


def test_leading_spaces_and_tabs_are_neutralised(tmp_path):
    make_workspace(tmp_path, pools=POOL_HEADER + POOL_1.replace("Dublin,", "\t Dublin ,", 1) + "\n" + POOL_2 + "\n")
    ws, _ = check_workspace(tmp_path)
    assert ws is not None and "Dublin" in set(ws.pools["site"])


@pytest.mark.parametrize("table, text, fragment, row, column", [
    ("queues", TABLES["queues"] + "Video,deferred,0.9,4h,1,yes,\n", "queue 'Video' and 'video'", 4, "queue"),
    ("pools", POOL_HEADER + POOL_1 + "\n" + POOL_2 + "\n" + POOL_2.replace("mnl-b1", "MNL_B1") + "\n", "pool 'MNL_B1' and 'mnl-b1'", 4, "pool"),
    ("shifts", TABLES["shifts"] + "Day,09:00,8,30,5,Mon-Sun\n", "shift 'Day' and 'day'", 4, "shift"),
    ("handle_times", TABLES["handle_times"].replace("video,es,130", "video,ES,130"), "language 'ES' and 'es'", 3, "language"),
])
def test_names_colliding_after_case_folding_name_both_rows(tmp_path, table, text, fragment, row, column):
    p = _one(_errors(tmp_path, **{table: text}), fragment)
    assert (p.row, p.column) == (row, column) and "row" in p.message


def test_vendor_names_colliding_as_file_names(tmp_path):
    vendors = TABLES["vendors"] + "bpo/1,0,100,0.8,0.9,USD\n"
    pools = POOL_HEADER + POOL_1 + "\n" + POOL_2.replace(",bpo1,", ",bpo_1,") + "\n" + POOL_2.replace("mnl-b1", "x2").replace(",bpo1,", ",bpo/1,") + "\n"
    errors = _errors(tmp_path, vendors=TABLES["vendors"].replace("bpo1", "bpo_1") + "bpo/1,0,100,0.8,0.9,USD\n", pools=pools)
    p = _one(errors, "vendor 'bpo/1' and 'bpo_1'")
    assert "same file name" in p.message
    assert vendors  # the first spelling is named with its file and row
    assert "inputs/vendors.csv, row 2" in p.message


def test_case_near_miss_gets_a_did_you_mean(tmp_path):
    p = _one(_errors(tmp_path, pools=POOL_HEADER + POOL_1.replace("video;live", "Video;live") + "\n" + POOL_2 + "\n"),
             "serves queue 'Video'")
    assert "did you mean 'video'" in p.message


def test_pool_language_in_another_case_is_an_error_not_a_warning(tmp_path):
    p = _one(_errors(tmp_path, pools=POOL_HEADER + POOL_1 + "\n" + POOL_2.replace("en;es", "EN;es") + "\n"), "lists language 'EN'")
    assert p.severity == "error" and "did you mean 'en'" in p.message


# --- class 3: keyed config tables -----------------------------------------------------------------
@pytest.mark.parametrize("old, new, fragment", [
    ("shrinkage_by_site = {}", "shrinkage_by_site = {Manilla = 0.35}", "site 'Manilla' matches no site"),
    ("shrinkage_by_site = {}", "shrinkage_by_site = {manila = 0.35}", "(did you mean 'Manila'?)"),
    ("shrinkage_by_site = {}", 'shrinkage_by_site = {" Manila" = 0.35}', "site ' Manila' matches no site"),
    ("critical_languages = []", 'critical_languages = ["EN"]', "language 'EN' matches no language"),
    ("critical_languages = []", 'critical_languages = ["fr"]', "language 'fr' matches no language"),
    ("EUR = 1.08", "eur = 1.08", "currency 'eur' matches no currency"),
    ('"3" = 120.0}', '"3" = 120.0, "4" = 10.0}', "severity '4' matches no severity"),
])
def test_config_keys_that_match_nothing_are_errors(tmp_path, old, new, fragment):
    make_workspace(tmp_path)
    _config(tmp_path, old, new)
    _, problems = check_workspace(tmp_path)
    p = _one([p for p in problems if p.severity == "error"], fragment)
    assert p.file == "capplan.toml" and p.row is not None and p.column.startswith("[")
    assert "expected a" in str(p)  # the valid choices are listed


def test_unused_fx_rate_is_only_a_warning(tmp_path):
    make_workspace(tmp_path)
    _config(tmp_path, "EUR = 1.08", "EUR = 1.08, GBP = 1.27")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    assert any("currency 'GBP'" in p.message and p.severity == "warning" for p in problems)


def test_reporting_currency_rate_must_be_one(tmp_path):
    make_workspace(tmp_path)
    _config(tmp_path, 'currency = "USD"', 'currency = "EUR"')
    p = _one(_errors_of(tmp_path), "reporting currency EUR must have the rate 1")
    assert p.column == "[policy] fx"


def _errors_of(root: Path) -> list:
    _, problems = check_workspace(root)
    return [p for p in problems if p.severity == "error"]


# --- class 6: inputs ------------------------------------------------------------------------------
def test_semicolon_csv_with_decimal_commas_gets_one_separator_hint(tmp_path):
    errors = _errors(tmp_path, handle_times="queue;language;aht_s\nvideo;en;120,5\nvideo;es;130\nlive;en;180\n")
    assert len([p for p in errors if p.file == "inputs/handle_times.csv"]) == 1
    p = _one(errors, "separated by semicolons")
    assert p.row == 1 and "decimal" in p.fix


def test_tab_separated_csv_gets_the_hint(tmp_path):
    _one(_errors(tmp_path, shifts=TABLES["shifts"].replace(",", "\t")), "separated by tabs")


def test_excel_sep_line_is_explained(tmp_path):
    _one(_errors(tmp_path, vendors="sep=,\n" + TABLES["vendors"]), "Excel separator hint")


def test_repeated_header_column_is_an_error(tmp_path):
    p = _one(_errors(tmp_path, vendors="vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency,vendor\n"
                                       "bpo1,0,5000,0.8,0.92,USD,bpo1\n"), "column appears more than once")
    assert (p.row, p.column) == (1, "vendor")


def test_naive_local_history_across_dst_fall_back_gets_the_right_fix(tmp_path):
    utc = pd.date_range("2026-10-05", "2026-11-02", freq="h", tz="UTC", inclusive="left")
    local = utc.tz_convert("Europe/Dublin").tz_localize(None)
    rows = [f"{t:%Y-%m-%d %H:%M:%S},{q},{lang},5" for q, lang in [("video", "en"), ("video", "es"), ("live", "en")] for t in local]
    make_workspace(tmp_path, history="interval_start,queue,language,volume\n" + "\n".join(rows) + "\n", events=None)
    _config(tmp_path, "start = 2026-03-02", "start = 2026-11-02")
    p = _one(_errors_of(tmp_path), "happens twice in Europe/Dublin")
    assert "UTC" in p.fix and "do not merge" in p.fix
    assert not any("overlaps" in q.message for q in _errors_of(tmp_path)), "a duplicate is reported once"


@pytest.mark.parametrize("minute", ["30", "45"])
def test_hourly_history_off_the_hour_is_an_error(tmp_path, minute):
    p = _one(_errors(tmp_path, history=history_csv().replace(":00:00Z", f":{minute}:00Z")), "does not start on the history's 60-minute grid")
    assert p.column == "interval_start" and p.row is not None


def test_history_coarser_than_hourly_is_an_error_in_validate(tmp_path):
    lines = history_csv().splitlines()
    keep = [lines[0]] + [line for line in lines[1:] if int(line[11:13]) % 2 == 0]
    _one(_errors(tmp_path, history="\n".join(keep) + "\n"), "coarser than hourly")


def test_quarter_hour_history_is_accepted(tmp_path):
    idx = pd.date_range("2026-02-09", "2026-03-02", freq="15min", tz="UTC", inclusive="left")
    rows = [f"{t:%Y-%m-%dT%H:%M:%SZ},{q},{lang},3" for q, lang in [("video", "en"), ("video", "es"), ("live", "en")] for t in idx]
    make_workspace(tmp_path, history="interval_start,queue,language,volume\n" + "\n".join(rows) + "\n")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None, [str(p) for p in problems]


def test_validate_rejects_a_start_before_all_history(tmp_path):
    make_workspace(tmp_path)
    _config(tmp_path, "start = 2026-03-02", "start = 2025-03-03")
    p = _one(_errors_of(tmp_path), "every history row is at or after the planning start")
    assert p.file == "inputs/history.csv" and p.column == "interval_start"


def test_cell_with_history_only_after_the_start_is_named(tmp_path):
    make_workspace(tmp_path, history=history_csv() + "2026-03-02T05:00:00Z,live,es,5\n",
                   handle_times=TABLES["handle_times"] + "live,es,200\n")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    assert any("live/es has history only from the planning start on" in p.message for p in problems)


def test_excel_workbook_beside_csvs_is_a_clear_message(tmp_path):
    make_workspace(tmp_path)
    shutil.copy(Path(__file__).parents[1] / "templates" / "capplan-inputs.xlsx", tmp_path / "capplan-inputs.xlsx")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    p = next(p for p in problems if p.file == "capplan-inputs.xlsx")
    assert p.severity == "warning" and "not read" in p.message


def test_queue_without_history_is_named(tmp_path):
    make_workspace(tmp_path, queues=TABLES["queues"] + "urgent,realtime,0.9,30s,1,yes,\n")
    ws, problems = check_workspace(tmp_path)
    assert any("queue 'urgent' (realtime, severity 1) has no history" in p.message for p in problems)


# --- class 1, 5 and 7 through a real forecast ------------------------------------------------------
@pytest.fixture(scope="module")
def forecasted(tmp_path_factory) -> Path:
    from capplan.pipeline import run_forecast_stage

    root = make_workspace(tmp_path_factory.mktemp("fc") / "ws")
    _config(root, 'models = ["seasonal_naive", "seasonal_mean", "daily_ets", "daily_shift", "mstl", "croston", "combo"]', 'models = ["seasonal_naive"]')
    _config(root, "backtest_windows = 6", "backtest_windows = 1")
    _config(root, "plan_days = 7", "plan_days = 2")  # small plans: the checks here run before the solver
    run_forecast_stage(root)
    return root


@pytest.fixture
def ws_copy(forecasted, tmp_path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(forecasted, copy, symlinks=True)
    return copy


def _fc_dir(root: Path) -> Path:
    return root / "forecasts" / (root / "forecasts" / "latest").read_text().strip()


def _plan_error(root: Path, **kw) -> str:
    from capplan.pipeline import run_plan_stage

    with pytest.raises(Exception) as info:
        run_plan_stage(root, **kw)
    assert getattr(info.value, "exit_code", 1) == 2, f"{type(info.value).__name__}: {info.value}"
    assert not (root / "plans").exists() or not [p for p in (root / "plans").iterdir() if not p.name.startswith(".")]
    return str(info.value)


def test_cell_added_after_the_forecast_stops_the_plan(ws_copy):
    """The issue's example: a severity-1 realtime cell added to history, pools and handle times after the forecast."""
    hist = ws_copy / "inputs" / "history.csv"
    extra = [line.replace(",live,en,", ",live,es,") for line in hist.read_text().splitlines()[1:] if ",live,en," in line]
    hist.write_text(hist.read_text() + "\n".join(extra) + "\n")
    (ws_copy / "inputs" / "handle_times.csv").write_text(TABLES["handle_times"] + "live,es,200\n")
    message = _plan_error(ws_copy)
    assert "inputs/history.csv" in message and "changed since forecast run" in message and "capplan forecast" in message


def test_forecast_missing_a_cell_stops_the_plan(ws_copy):
    path = _fc_dir(ws_copy) / "forecast.parquet"
    fc = pd.read_parquet(path)
    fc[fc["queue"] != "live"].to_parquet(path)
    message = _plan_error(ws_copy)
    assert "no forecast for live/en (realtime queue, severity 1)" in message


def test_forecast_missing_a_day_stops_the_plan(ws_copy):
    path = _fc_dir(ws_copy) / "forecast.parquet"
    fc = pd.read_parquet(path)
    t = fc["interval_start"]
    fc[~((t >= pd.Timestamp("2026-03-03", tz="UTC")) & (t < pd.Timestamp("2026-03-04", tz="UTC")) & (fc["queue"] == "live"))].to_parquet(path)
    message = _plan_error(ws_copy)
    assert "the forecast of live/en lacks 24 intervals of the plan window (first 2026-03-03 00:00 UTC" in message


def test_events_changed_after_the_forecast_stop_the_plan(ws_copy):
    path = ws_copy / "inputs" / "events.csv"
    path.write_text(path.read_text().replace(",2.0", ",3.0"))
    assert "inputs/events.csv" in _plan_error(ws_copy)


def test_interval_changed_after_the_forecast_stops_the_plan(ws_copy):
    _config(ws_copy, "interval_minutes = 60", "interval_minutes = 30")
    assert "made for 60-minute intervals" in _plan_error(ws_copy)


def test_forecast_without_run_json_or_damaged(ws_copy):
    fc = _fc_dir(ws_copy)
    (fc / "forecast.parquet").write_bytes(b"not parquet")
    assert "cannot read the forecast" in _plan_error(ws_copy)
    (fc / "run.json").unlink()
    assert "has no run.json" in _plan_error(ws_copy)


@pytest.mark.parametrize("latest", ["", "\n"])
def test_empty_latest_or_forecast_option(ws_copy, latest):
    (ws_copy / "forecasts" / "latest").write_text(latest)
    assert "latest is empty" in _plan_error(ws_copy)
    assert "run id is empty" in _plan_error(ws_copy, forecast_run="")


def test_forecast_option_outside_the_workspace(ws_copy, tmp_path):
    other = tmp_path / "elsewhere"
    shutil.copytree(_fc_dir(ws_copy), other)
    assert "not a run id" in _plan_error(ws_copy, forecast_run="../../elsewhere")
    assert "not a run id" in _plan_error(ws_copy, forecast_run=str(other))
    (ws_copy / "forecasts" / "linked").symlink_to(other)
    assert "outside" in _plan_error(ws_copy, forecast_run="linked")


def test_quantile_zero_is_an_error(ws_copy):
    assert "--quantile must be one of 50, 80, 90, 95, got 0" in _plan_error(ws_copy, quantile=0)


def test_command_line_quantile_is_what_run_json_and_workbooks_say(ws_copy):
    """Issue 13 class 7: --quantile reached the requirements but run.json's config and the workbooks said the config's."""
    from openpyxl import load_workbook

    from capplan.pipeline import run_plan_stage

    run = run_plan_stage(ws_copy, quantile=90)
    meta = json.loads((run.folder / "run.json").read_text())
    assert meta["quantile"] == 90 and meta["config"]["staffing"]["quantile"] == 90
    assert set(pd.read_parquet(run.folder / "requirements.parquet")["volume_quantile"]) == {90}
    for book in ("planner.xlsx", "finance.xlsx"):
        wb = load_workbook(run.folder / book)
        cells = [(c.value, row[i + 1].value if i + 1 < len(row) else None) for s in wb.worksheets for row in s.iter_rows()
                 for i, c in enumerate(row) if c.value == "Forecast quantile"]
        assert cells and all(v == 90 for _, v in cells), (book, cells)
    # the same workspace and forecast, unchanged, still plans (the consistency check passes for a true match)
    assert run.forecast_run == _fc_dir(ws_copy).name


def test_history_parquet_beside_csv_is_a_clear_message(tmp_path):
    """Sibling of the Excel case: history.csv and history.parquet together, the Parquet file is not read."""
    make_workspace(tmp_path)
    pd.read_csv(tmp_path / "inputs" / "history.csv").to_parquet(tmp_path / "inputs" / "history.parquet")
    ws, problems = check_workspace(tmp_path)
    assert ws is not None
    p = next(p for p in problems if p.file == "inputs/history.parquet")
    assert p.severity == "warning" and "not read" in p.message


def test_duplicated_handle_time_is_reported_not_a_crash(tmp_path):
    """Found by the fuzz test: a repeated handle-time row crashed the vendor-minimum check (exit 1)."""
    p = _one(_errors(tmp_path, handle_times=TABLES["handle_times"] + "video,es,130\n"), "duplicate row")
    assert (p.file, p.row) == ("inputs/handle_times.csv", 5)


def test_empty_key_cells_are_reported_not_a_crash(tmp_path):
    _one(_errors(tmp_path, queues=TABLES["queues"] + ",deferred,0.9,4h,1,yes,\n", pools=POOL_HEADER + POOL_1 + "\n" + POOL_2 + "\n"
                 + ",bpo1,Manila,Asia/Manila,video,en,1.0,0,5,9,USD,day\n"), "empty cell")


def test_percent_share_gets_a_decimal_hint(tmp_path):
    p = _one(_errors(tmp_path, queues=TABLES["queues"].replace(",0.9,", ",90%,")), "not a number")
    assert (p.row, p.column) == (2, "target") and "0.9, not 90%" in p.fix
