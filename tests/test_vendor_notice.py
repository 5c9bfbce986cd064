"""Vendor notice (issue 12): a vendor's weekly paid hours stay within its flex_share of the previous plan's
unless it had notice_weeks of notice; tiny hand-checkable plans (in-house a at 10 USD/h, vendor b at 5 USD/h)."""

from __future__ import annotations

import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.errors import InputError
from capplan.optimize import solve_plan
from capplan.optimize.check import check_vendors


def two_pools(moderators: int, previous=None, notice=None, flex=None, lead: float = 0.0):
    """``moderators`` needed 08-16 every day; one moderator on the 7-day pattern is 56 paid h/week."""
    cfg = config()
    cfg.contracts.notice_lead_weeks = lead
    v = vendor("bpo") | {"notice_weeks": notice, "flex_share": flex}
    ws = workspace(cfg, [queue("q")], [pool("a", rate=10.0), pool("b", vendor="bpo", rate=5.0)],
                   [shift("day", start="08:00", days=7)], [v])
    ws.vendors = pd.DataFrame([v])
    ws.previous_vendor_paid_hours = previous
    req = requirements(cfg, {("q", "en"): daily_profile([moderators] * 7, cfg, range(8, 16))})
    return ws, req


def plan(ws, req):
    r = solve_plan(ws, req, with_baseline=False)
    assert r.checks == [], r.checks
    assert r.solve["status"] == "optimal"
    return r


def vendor_hours(r) -> float:
    sp = r.shift_plan
    return float(sp.loc[sp["vendor"] == "bpo", "paid_hours_total"].sum())


def test_notice_caps_a_rise_and_the_checker_agrees():
    """Previous plan: b 56 h. Without notice b takes both moderators (112 h); with 4 weeks' notice and no flex it keeps 56 h
    (a binding 'vendor_notice_max' row); flex 1.0 allows 112 h; a plan issued 4 weeks ahead needs no flex."""
    free = plan(*two_pools(2))
    assert vendor_hours(free) == pytest.approx(112.0)
    ws, req = two_pools(2, previous={"bpo": 56.0}, notice=4.0, flex=0.0)
    assert any("notice" in f for f in check_vendors(ws, free))  # the free plan breaks the band
    r = plan(ws, req)
    assert vendor_hours(r) == pytest.approx(56.0)
    assert r.solve["cost"] == pytest.approx(56 * 5 + 56 * 10)
    assert r.solve["vendor_notice"]["bpo"] == {"previous_paid_hours": 56.0, "low": 56.0, "high": 56.0}
    row = r.binding[r.binding["kind"] == "vendor_notice_max"]
    assert list(row["name"]) == ["bpo"] and "vendor_max_hours" not in set(r.binding["kind"])
    assert vendor_hours(plan(*two_pools(2, previous={"bpo": 56.0}, notice=4.0, flex=1.0))) == pytest.approx(112.0)
    assert vendor_hours(plan(*two_pools(2, previous={"bpo": 56.0}, notice=4.0, flex=0.0, lead=4.0))) == pytest.approx(112.0)


def test_notice_floor_is_paid_as_take_or_pay():
    """Previous plan: b 112 h, flex 0.25 -> at least 84 h paid. One moderator is needed: b works 56 h and the other
    28 h/week are paid unused (140 USD), cheaper than a second moderator (280 USD)."""
    ws, req = two_pools(1, previous={"bpo": 112.0}, notice=2.0, flex=0.25)
    r = plan(ws, req)
    assert vendor_hours(r) == pytest.approx(56.0)
    assert r.solve["take_or_pay"] == pytest.approx(28 * 5.0)
    assert "vendor_notice_min" in set(r.binding["kind"])


def test_vendor_not_in_the_previous_plan_gets_no_hours_at_short_notice():
    ws, req = two_pools(1, previous={}, notice=1.0, flex=0.5)
    r = plan(ws, req)
    assert vendor_hours(r) == pytest.approx(0.0)
    assert r.solve["cost"] == pytest.approx(56 * 10.0)


@pytest.mark.parametrize("column, value", [("notice_weeks", "-1"), ("flex_share", "1.5")])
def test_bad_notice_input_names_file_row_and_column(tmp_path, column, value):
    from _ws import make_workspace
    from capplan.inputs import load_workspace

    row = {"notice_weeks": "4", "flex_share": "0.1", column: value}
    text = ("vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency,notice_weeks,flex_share\n"
            f"bpo1,0,5000,0.8,0.92,USD,{row['notice_weeks']},{row['flex_share']}\n")
    root = make_workspace(tmp_path, vendors=text)
    with pytest.raises(InputError) as info:
        load_workspace(root)
    message = str(info.value)
    assert "vendors" in message and f"column '{column}'" in message and "row 2" in message
