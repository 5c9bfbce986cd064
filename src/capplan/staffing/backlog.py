"""Deferred queues: a fluid FIFO backlog model with turnaround deadlines.

Deferred moderation work (targets such as "90 % actioned within 4 h") waits in a backlog, so
staffing follows the flow of work across intervals, not a queueing formula.

Conventions
-----------
* Intervals ``t = 0 .. n-1`` of length ``L`` seconds; interval ``t`` covers ``[t L, (t+1) L)``.
* Work is a fluid measured in **hours of handling** (``workload_hours = volume * aht_s / 3600``)
  arriving evenly inside its interval; it can be processed in the interval it arrives in.
* **Deadline.** The arrivals of interval ``i`` are due at ``start_i + within``. They must be done
  by the end of the last interval that ends no later than that instant:
  ``due[i] = i + floor(within / L) - 1``, and never earlier than ``i`` itself (a window shorter
  than one interval is read as "within the arrival interval"). See :func:`due_interval_index`.
* **FIFO.** Work is processed in arrival order, so the constraint "every item on time" is the
  cumulative inequality ``sum_{s<=t} done_s >= sum_{i: due[i] <= t} workload_i`` for every ``t``
  (work done covers work due), together with ``sum_{s<=t} done_s <= sum_{i<=t} workload_i``
  (nothing is processed before it arrives).
* **Target share.** The whole workload is planned to meet its deadline: a target such as 0.90 is
  reported with the requirement but the fluid plan is built for 100 % on time. This is
  conservative (the last 10 % are not allowed to slip) and exact for the deadline; the checker
  (:func:`check_capacity`) reports the on-time share any given capacity really achieves.
* **Horizon end.** Work due after the last interval is, by default (``clip=True``), due at the
  last interval, so a profile never leaves a backlog behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TOL = 1e-9


def due_shift(interval_minutes: float, within_s: float) -> int:
    """Intervals between an arrival interval and the interval by whose end its work is due.

    ``max(floor(within_s / L) - 1, 0)`` with ``L = 60 * interval_minutes`` [s]: the last interval whose
    end is at most the deadline ``start_i + within_s``, never before the arrival interval. The one
    definition of the deferred-work deadline, used by staffing (:func:`due_interval_index`), the
    optimizer and the plan checker. Examples: 4 h on hourly intervals -> 3; 90 min on hourly
    intervals -> 0 (the 1.5 h deadline falls inside the next interval, whose end is too late);
    30 min -> 0.

    Parameters
    ----------
    interval_minutes : float
        Interval length [min], > 0.
    within_s : float
        Turnaround window [s], >= 0.
    """
    length_s = 60.0 * float(interval_minutes)
    if not length_s > 0:
        raise ValueError(f"interval_minutes must be > 0, got {interval_minutes}")
    if not within_s >= 0:
        raise ValueError(f"within_s must be >= 0 seconds, got {within_s}")
    return max(int(np.floor(float(within_s) / length_s + _TOL)) - 1, 0)


def due_interval_index(n_intervals: int, interval_minutes: float, within_s: float, *, clip: bool = False) -> np.ndarray:
    """For each arrival interval ``i``, the index of the interval by whose end its work is due.

    ``due[i] = i + max(floor(within_s / L) - 1, 0)`` with ``L = 60 * interval_minutes``: the last
    interval whose end ``(j + 1) L`` is at most ``start_i + within_s = i L + within_s``, and no
    earlier than ``i``. Example: 1-hour intervals and a 4-hour window give ``due[i] = i + 3``;
    a 90-minute window gives ``i`` (the 1.5 h deadline falls inside interval ``i + 1``, whose end
    is too late, so the work is due by the end of ``i``).

    Parameters
    ----------
    n_intervals : int
        Number of intervals.
    interval_minutes : float
        Interval length [min].
    within_s : float
        Turnaround window [s].
    clip : bool
        Cap indices at ``n_intervals - 1`` (work due after the horizon is due at its end).
        Without clipping an index ``>= n_intervals`` means "due after the horizon".

    Returns
    -------
    numpy.ndarray of int
        ``due[i]`` for ``i = 0 .. n_intervals - 1``.
    """
    shift = due_shift(interval_minutes, within_s)
    due = np.arange(int(n_intervals), dtype=np.int64) + shift
    if clip:
        due = np.minimum(due, max(int(n_intervals) - 1, 0))
    return due


def cumulative_due(workload_hours, due: np.ndarray) -> np.ndarray:
    """Work due by the end of each interval, ``D_t = sum_{i: due[i] <= t} workload_i`` [h].

    Arrivals due after the last interval (``due >= n``) are not counted.
    """
    w = np.asarray(workload_hours, dtype=float)
    n = w.size
    inside = due < n
    per_interval = np.bincount(due[inside], weights=w[inside], minlength=n)[:n]
    return np.cumsum(per_interval)


def minimal_profile(workload_hours, interval_minutes: float, within_s: float) -> np.ndarray:
    """Flattest processing profile that meets every deadline [hours of work per interval].

    The cumulative work done ``Y_t`` must lie between the work due ``D_t`` (lower bound) and the
    work arrived ``A_t`` (upper bound) and finish all work by the last interval (work due after the
    horizon is due at its end). Among all such curves the *taut string* -- the shortest path
    through the corridor from ``(0, 0)`` to ``(n, total)`` -- has the smallest peak rate, and
    more: it minimises ``sum_t f(done_t)`` for every convex ``f`` at once, so it is the flattest
    feasible profile. Its peak equals ``max_{s < t} (D_t - A_s) / (t - s)`` (the densest window of
    due work), the least any on-time plan can have.

    The string is pulled tight with the funnel algorithm: from the last bend, scan forward keeping
    the steepest slope to the lower bound and the shallowest slope to the upper bound; when they
    cross, the string bends at the point that set the binding slope.

    Parameters
    ----------
    workload_hours : array_like
        Work arriving in each interval [h], ``>= 0``.
    interval_minutes : float
        Interval length [min].
    within_s : float
        Turnaround window [s].

    Returns
    -------
    numpy.ndarray
        Hours of work to process in each interval (sums to the total workload).

    References
    ----------
    .. [1] P. L. Davies, A. Kovac (2001), "Local extremes, runs, strings and multiresolution",
       Annals of Statistics 29(1), 1-65 (taut string).
    .. [2] J. D. Salehi, Z.-L. Zhang, J. Kurose, D. Towsley (1998), "Supporting stored video:
       reducing rate variability and end-to-end resource requirements through optimal smoothing",
       IEEE/ACM Transactions on Networking 6(4), 397-410 (the same construction for deadlines).
    """
    w = np.asarray(workload_hours, dtype=float)
    if np.any(~(w >= 0)):
        raise ValueError("workload_hours must be numbers >= 0")
    n = w.size
    if n == 0:
        return np.zeros(0)
    due = due_interval_index(n, interval_minutes, within_s, clip=True)
    lower = np.concatenate([[0.0], cumulative_due(w, due)])
    upper = np.concatenate([[0.0], np.cumsum(w)])
    lower = np.minimum(lower, upper)  # float noise only: due work has always arrived
    total = upper[-1]
    scale = max(total, 1.0) * _TOL
    ts, ys = [0], [0.0]
    t0, y0 = 0, 0.0
    while t0 < n:
        ks = np.arange(t0 + 1, n + 1)
        dt = (ks - t0).astype(float)
        slope_lo = (lower[ks] - y0) / dt
        slope_hi = (upper[ks] - y0) / dt
        max_lo = np.maximum.accumulate(slope_lo)
        min_hi = np.minimum.accumulate(slope_hi)
        cross = np.flatnonzero(max_lo > min_hi + scale)
        if cross.size == 0:
            ts.append(n)
            ys.append(total)
            break
        j = int(cross[0])
        if slope_lo[j] > min_hi[j - 1] + scale:  # due work outruns the upper edge: bend on the upper bound
            k = _last_argmin(slope_hi[:j])
            t0, y0 = int(ks[k]), float(upper[ks[k]])
        else:  # arrivals fall below the lower edge: bend on the lower bound
            k = _last_argmax(slope_lo[:j])
            t0, y0 = int(ks[k]), float(lower[ks[k]])
        ts.append(t0)
        ys.append(y0)
    cum = np.interp(np.arange(n + 1), ts, ys)
    return np.maximum(np.diff(cum), 0.0)


def _last_argmin(x: np.ndarray) -> int:
    return int(x.size - 1 - np.argmin(x[::-1]))


def _last_argmax(x: np.ndarray) -> int:
    return int(x.size - 1 - np.argmax(x[::-1]))


def minimal_peak(workload_hours, interval_minutes: float, within_s: float) -> float:
    """Least possible peak of an on-time profile, ``max_{s < t} (D_t - A_s) / (t - s)`` [h per interval].

    Brute force over all windows (``O(n^2)``): a reference for :func:`minimal_profile`.
    """
    w = np.asarray(workload_hours, dtype=float)
    n = w.size
    due = due_interval_index(n, interval_minutes, within_s, clip=True)
    lower = np.concatenate([[0.0], cumulative_due(w, due)])
    upper = np.concatenate([[0.0], np.cumsum(w)])
    t = np.arange(n + 1)
    gap = t[None, :] - t[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(gap > 0, (lower[None, :] - upper[:, None]) / gap, -np.inf)
    return float(max(rate.max(), 0.0)) if n else 0.0


@dataclass(frozen=True)
class BacklogCheck:
    """How a capacity profile copes with a deferred cell's work (FIFO fluid model).

    Attributes
    ----------
    done_hours : work processed in each interval [h]
    backlog_hours : work arrived but not done at the end of each interval [h]
    late_hours : work past its deadline still undone at the end of each interval [h]
    late_by_arrival_hours : work of each arrival interval that misses its deadline [h]
    on_time_share : share of the work (due inside the horizon) done by its deadline [0-1]
    """

    done_hours: np.ndarray
    backlog_hours: np.ndarray
    late_hours: np.ndarray
    late_by_arrival_hours: np.ndarray
    on_time_share: float


def check_capacity(workload_hours, capacity_hours, interval_minutes: float, within_s: float, *, clip: bool = True) -> BacklogCheck:
    """Run a capacity profile against the work and its deadlines (FIFO fluid backlog).

    Cumulative work done follows ``P_t = min(P_{t-1} + c_t, A_t)`` (capacity ``c_t`` is used up to
    the work that has arrived), i.e. ``P_t = C_t + min(0, min_{s<=t} (A_s - C_s))`` with ``C`` the
    cumulative capacity. Work overdue at the end of ``t`` is ``max(0, D_t - P_t)``; arrival
    interval ``i`` (its work occupies ``(A_{i-1}, A_i]`` of the FIFO line) is on time for
    ``clip(P_{due[i]} - A_{i-1}, 0, w_i)`` hours.

    Parameters
    ----------
    workload_hours : array_like
        Work arriving per interval [h].
    capacity_hours : array_like
        Hours of work the staff can process per interval [h] (productive moderators times interval
        hours times utilisation).
    interval_minutes : float
        Interval length [min].
    within_s : float
        Turnaround window [s].
    clip : bool
        Work due after the horizon is due at its last interval (default); with ``False`` it is not
        judged (and not counted in ``on_time_share``).

    Returns
    -------
    BacklogCheck
    """
    w = np.asarray(workload_hours, dtype=float)
    c = np.asarray(capacity_hours, dtype=float)
    if w.shape != c.shape:
        raise ValueError(f"workload and capacity need the same length, got {w.size} and {c.size}")
    n = w.size
    due = due_interval_index(n, interval_minutes, within_s, clip=clip)
    arrived = np.cumsum(w)
    cap = np.cumsum(c)
    done_cum = cap + np.minimum(np.minimum.accumulate(arrived - cap), 0.0)
    done_cum = np.minimum(done_cum, arrived)
    done = np.diff(np.concatenate([[0.0], done_cum]))
    due_cum = cumulative_due(w, due)
    late = np.maximum(due_cum - done_cum, 0.0)
    late[late < _TOL * max(arrived[-1] if n else 0.0, 1.0)] = 0.0
    judged = due < n
    before = np.concatenate([[0.0], arrived[:-1]])
    on_time = np.zeros(n)
    on_time[judged] = np.clip(done_cum[due[judged]] - before[judged], 0.0, w[judged])
    late_by_arrival = np.where(judged, w - on_time, 0.0)
    late_by_arrival[late_by_arrival < _TOL * max(float(w.max()) if n else 0.0, 1.0)] = 0.0
    judged_work = float(w[judged].sum())
    share = 1.0 if judged_work == 0 else float(1.0 - late_by_arrival.sum() / judged_work)
    return BacklogCheck(
        done_hours=done,
        backlog_hours=np.maximum(arrived - done_cum, 0.0),
        late_hours=late,
        late_by_arrival_hours=late_by_arrival,
        on_time_share=share,
    )


# --- rolling weeks: an opening backlog and the end of the plan window --------------------------------
WEEK_ENDS = ("cyclic", "terminal")


def opening_due_hours(n_intervals: int, interval_minutes: float, within_s: float, arrival_interval, hours) -> np.ndarray:
    """Opening backlog work [h] due by the end of each interval, plus one last bucket for work due after the window.

    An item waiting at the window's start arrived in interval ``i < 0`` (``floor((arrived - start) / L)``) and is
    due, by the one deadline rule :func:`due_shift`, by the end of interval ``i + due_shift``; work already overdue
    (``i + due_shift < 0``) is due by the end of interval 0.

    Parameters
    ----------
    n_intervals : int
        Intervals in the window.
    interval_minutes, within_s : float
        Interval length [min] and turnaround window [s].
    arrival_interval : array_like of int
        Arrival interval of each waiting cohort, relative to the window start (negative).
    hours : array_like
        Standard hours of work of each cohort [h].

    Returns
    -------
    numpy.ndarray
        Length ``n_intervals + 1``: hours due by the end of interval t; the last entry is due after the window.
    """
    due = np.asarray(arrival_interval, dtype=np.int64) + due_shift(interval_minutes, within_s)
    out = np.zeros(int(n_intervals) + 1)
    np.add.at(out, np.clip(due, 0, int(n_intervals)), np.asarray(hours, dtype=float))
    return out


def carried_over(workload_hours, shift: int, backlog_hours: float) -> np.ndarray:
    """Cyclic week: the week's last ``backlog_hours`` of work (FIFO, the newest) carried to its start, by due interval.

    The arrivals of interval ``i`` are due by the end of ``i + shift``; carried into the same week's start they are
    due by the end of ``i + shift - n`` (never before interval 0). Returns the length-``n + 1`` vector of
    :func:`opening_due_hours`.
    """
    w = np.asarray(workload_hours, dtype=float)
    n = w.size
    out = np.zeros(n + 1)
    left = float(backlog_hours)
    for i in range(n - 1, -1, -1):
        if left <= 0:
            break
        take = min(left, w[i])
        out[min(max(i + shift - n, 0), n)] += take
        left -= take
    return out


@dataclass(frozen=True)
class DeferredFlow:
    """Cumulative curves of one deferred cell over the window (FIFO fluid, late work dropped once) [h].

    Attributes
    ----------
    arrived : work available by the end of each interval (opening backlog included)
    due : work due by the end of each interval
    done : work done by the end of each interval
    late : work dropped as late by the end of each interval (cumulative)
    backlog : live backlog at the end of each interval (arrived - done - late)
    opening : the opening backlog [h]
    """

    arrived: np.ndarray
    due: np.ndarray
    done: np.ndarray
    late: np.ndarray
    backlog: np.ndarray
    opening: float


def deferred_flow(workload_hours, shift: int, work_hours, *, opening_due=None, cyclic: bool = False) -> DeferredFlow:
    """Run the work done per interval against a deferred cell's arrivals, deadlines and opening backlog.

    A FIFO fluid, interval by interval: the work waiting is ``e_{t-1} + a_t`` (plus the opening backlog ``O`` at
    ``t = 0``); capacity does ``min(work_t, waiting)`` (capacity with nothing to do is lost); then whatever is due by
    the end of t and not done (``due_t - done_t - late_{t-1}``) is dropped as late, once. ``due_t`` is the opening
    work due by t plus the arrivals of intervals ``i`` with ``i + shift <= t``.

    Parameters
    ----------
    workload_hours : array_like
        Work arriving in each interval [h].
    shift : int
        :func:`due_shift` of the cell.
    work_hours : array_like
        Standard hours of work the staff can do in each interval [h].
    opening_due : array_like, optional
        Length ``n + 1`` (:func:`opening_due_hours`): the opening backlog by due interval (terminal week).
    cyclic : bool
        The week wraps: the opening backlog is the same week's end backlog (:func:`carried_over`), found as the least
        fixed point of "opening -> end backlog" (iterated from an empty start; the map is monotone and bounded by the
        work not yet due at the end).
    """
    w = np.asarray(workload_hours, dtype=float)
    n = w.size
    if cyclic:
        carried = 0.0
        for _ in range(500):
            flow = deferred_flow(w, shift, work_hours, opening_due=carried_over(w, shift, carried))
            end = float(flow.backlog[-1]) if n else 0.0
            if abs(end - carried) <= 1e-9 * max(1.0, end):
                break
            carried = end
        return flow
    opening = np.zeros(n + 1) if opening_due is None else np.asarray(opening_due, dtype=float)
    total_open = float(opening.sum())
    arrived = total_open + np.cumsum(w)
    due_new = np.concatenate([np.zeros(min(shift, n)), np.cumsum(w)[: max(n - shift, 0)]])
    due = np.cumsum(opening[:n]) + due_new
    cap = np.asarray(work_hours, dtype=float)
    done = np.zeros(n)
    late = np.zeros(n)
    waiting, done_c, late_c = total_open, 0.0, 0.0
    for t in range(n):
        waiting += w[t]
        x = min(cap[t], waiting)
        done_c += x
        drop = min(max(due[t] - done_c - late_c, 0.0), waiting - x)
        late_c += drop
        waiting -= x + drop
        done[t], late[t] = done_c, late_c
    backlog = np.maximum(arrived - done - late, 0.0)
    return DeferredFlow(arrived=arrived, due=due, done=done, late=late, backlog=backlog, opening=total_open)


def not_due_bound(workload_hours, shift: int, *, opening_due=None, cyclic: bool = False) -> np.ndarray:
    """Work arrived and not yet due at the end of each interval [h]: the most a live backlog may hold.

    Terminal week: ``O + A_t - due_t`` (see :func:`deferred_flow`). Cyclic week: the arrivals of the last ``shift``
    intervals, counted round the week (``sum_{j = t - shift + 1}^{t} a_{j mod n}``).
    """
    w = np.asarray(workload_hours, dtype=float)
    n = w.size
    if cyclic:
        if shift <= 0 or n == 0:
            return np.zeros(n)
        reps = int(np.ceil(shift / n)) + 1
        ext = np.cumsum(np.concatenate([np.tile(w, reps)]))
        idx = np.arange(n) + (reps - 1) * n
        return ext[idx] - ext[idx - shift]
    flow = deferred_flow(w, shift, np.zeros(n), opening_due=opening_due)
    return flow.arrived - flow.due
