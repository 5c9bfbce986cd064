"""Realtime queues: the optional ASA target and abandonment cap of queues.csv, checked against hand calculations."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from _ws import TABLES, make_workspace
from capplan.inputs.validate import check_workspace
from capplan.simulate.metrics import cell_week_frame
from capplan.staffing.erlang import agents_for_abandonment
from capplan.staffing.requirements import compute_requirements
from test_requirements import _forecast, _ws


def _poisson_abandonment(n: int, a: float) -> float:
    """Erlang A with patience = handle time: the number in system is Poisson(a) (every customer leaves at rate mu,
    waiting or served), so the abandonment share is E[(N - n)^+] / a."""
    k = np.arange(0, 400)
    return float((np.maximum(k - n, 0) * poisson.pmf(k, a)).sum() / a)


def test_abandonment_staffing_matches_the_poisson_case():
    # a = 5 Erlang, patience = AHT = 180 s, cap 5 %: 7 moderators leave 5.1 %, 8 leave 2.4 % (hand: Poisson sums)
    assert _poisson_abandonment(7, 5.0) == pytest.approx(0.0511, abs=1e-4)
    assert agents_for_abandonment(5.0, 180.0, 180.0, 0.05, fractional=False) == 8
    assert 7 < agents_for_abandonment(5.0, 180.0, 180.0, 0.05) < 8
    assert agents_for_abandonment([0.0, 5.0], 180.0, [180.0, np.inf], 0.05).tolist() == [0.0, 0.0]  # no load / nobody leaves


def _erlang_c_asa(n: int, a: float, aht_s: float) -> float:
    """Textbook Erlang C: B by the forward recursion, C = n B / (n - a (1 - B)), ASA = C aht / (n - a)."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    c = n * b / (n - a * (1 - b))
    return c * aht_s / (n - a)


def _targets_ws(asa=np.nan, cap=np.nan, patience=np.nan):
    ws = _ws()
    ws.queues = pd.DataFrame({"queue": ["live"], "kind": ["realtime"], "target": [0.8], "within_s": [20.0], "severity": [1],
                              "egregious": [False], "patience_s": [patience], "max_asa_s": [asa], "max_abandon": [cap]})
    return ws


def test_asa_target_binds_and_is_named():
    # 200 items/h at 180 s = 10 Erlang: 80 % in 20 s needs 14; ASA <= 5 s needs 15 (hand: 7.8 s at 14, 3.6 s at 15)
    assert _erlang_c_asa(14, 10.0, 180.0) > 5.0 >= _erlang_c_asa(15, 10.0, 180.0)
    row = compute_requirements(_forecast([("live", "en", 0, 200.0)]), _targets_ws(asa=5.0)).iloc[0]
    assert row["required_productive_int"] == 15 and 14 < row["required_productive"] <= 15
    assert row["binding"] == "asa" and row["asa_s"] <= 5.0 + 1e-9 and row["max_asa_s"] == 5.0
    plain = compute_requirements(_forecast([("live", "en", 0, 200.0)]), _targets_ws()).iloc[0]
    assert plain["binding"] == "service_level" and plain["required_productive_int"] == 14


def test_abandonment_cap_binds_and_is_named():
    # 10 Erlang, patience = AHT: at most 1 % abandon needs the smallest n with E[(N - n)^+] / 10 <= 0.01
    n_hand = next(n for n in range(10, 40) if _poisson_abandonment(n, 10.0) <= 0.01)
    row = compute_requirements(_forecast([("live", "en", 0, 200.0)]), _targets_ws(cap=0.01, patience=180.0)).iloc[0]
    assert row["method"] == "erlang_a" and row["binding"] == "abandonment"
    assert row["required_productive_int"] == n_hand
    assert row["abandon_rate"] == pytest.approx(0.01, rel=1e-4)  # fractional staffing sits on the cap


def test_bad_realtime_targets_name_file_row_and_column(tmp_path):
    queues = ("queue,kind,target,within,severity,egregious,patience,max_asa,max_abandon\n"
              "video,deferred,0.9,4h,1,yes,,,\n"
              "live,realtime,0.8,60s,1,no,,30s,0.05\n"  # a cap with no patience
              "chat,realtime,0.8,60s,1,no,3m,0s,1.5\n")  # ASA below 1 s, cap above 1
    ht = TABLES["handle_times"] + "chat,en,100\n"
    ws, problems = check_workspace(make_workspace(tmp_path / "ws", queues=queues, handle_times=ht))
    assert ws is None
    found = {(p.row, p.column) for p in problems if p.severity == "error" and p.file == "inputs/queues.csv"}
    assert found == {(3, "max_abandon"), (4, "max_asa"), (4, "max_abandon")}


def test_replay_reports_asa_and_abandonment_against_targets():
    times = pd.date_range("2026-03-02", periods=2, freq="h", tz="UTC")
    cells = pd.DataFrame({"queue": ["live"] * 2, "language": ["en"] * 2, "interval_start": times, "arrived": [100.0, 300.0],
                          "handled": [95.0, 280.0], "on_time": [90.0, 240.0], "abandoned": [5.0, 20.0], "backlog": [0.0, 0.0],
                          "avg_wait_s": [10.0, 30.0], "service_level": [0.9, 0.8], "judged": [100.0, 300.0], "kind": ["realtime"] * 2})
    info = pd.DataFrame({"queue": ["live"], "language": ["en"], "kind": ["realtime"], "target": [0.8], "max_asa_s": [20.0],
                         "max_abandon": [0.1]})
    week = cell_week_frame(types.SimpleNamespace(cells=info), cells).iloc[0]
    # ASA over all arrivals (10 x 100 + 30 x 300) / 400 = 25 s > 20 s; abandonment 25 / 400 = 6.25 % <= 10 %
    assert week["asa_s"] == pytest.approx(25.0) and week["abandon_rate"] == pytest.approx(0.0625)
    assert week["achieved"] == pytest.approx(330 / 400) and not week["met"]  # service level met, ASA missed
