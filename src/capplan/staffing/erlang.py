"""Queueing formulas for real-time queues: Erlang B, Erlang C and Erlang A (M/M/n+M).

Every function is pure and vectorized: arguments broadcast against each other as numpy arrays,
so one call evaluates millions of interval-cells.

Conventions
-----------
* **Offered load** ``a = lambda * AHT`` [Erlang] = ``volume * aht_s / interval_s``.
* **Moderators** ``n`` may be real-valued. Non-integer ``n`` uses the standard continuous
  extension through the incomplete gamma function (Jagerman 1974): it agrees with the textbook
  formulas at every integer and is increasing and smooth in between.
* **Service level within T** is the share of *all* arrivals that are answered within ``T``
  seconds. With abandonment (Erlang A) an item that abandons counts as a miss, whenever it
  abandons. Without abandonment this is the usual Erlang C service level.
* **ASA** (``asa_s``) is the mean wait in queue over *all* arrivals [s]: items answered at once
  count 0 and, in Erlang A, abandoned items count their time until they left. Erlang C:
  ``C * AHT / (n - a)``; Erlang A: ``P(abandon) * patience`` (Little's law on the queue).
* **Occupancy** is carried load over moderators, ``a * (1 - P(abandon)) / n`` (``a / n`` in
  Erlang C); 0 when ``n = 0``.
* Erlang C with ``n <= a`` is unstable (the queue grows without end): ``P(wait) = 1``,
  service level 0, ASA infinite, occupancy 1.
* Zero load is not an error: it needs zero moderators, whose service level is 1.

References
----------
.. [1] A. K. Erlang (1917), "Solution of some problems in the theory of probabilities of
   significance in automatic telephone exchanges", Elektroteknikeren 13.
.. [2] D. L. Jagerman (1974), "Some properties of the Erlang loss function", Bell System
   Technical Journal 53(3), 525-551 (continuous extension, stable recursion).
.. [3] N. Gans, G. Koole, A. Mandelbaum (2003), "Telephone call centers: tutorial, review, and
   research prospects", Manufacturing & Service Operations Management 5(2), 79-141 (Erlang C
   service level and ASA).
.. [4] A. Mandelbaum, S. Zeltyn (2007), "Service engineering in action: the Palm/Erlang-A
   queue, with applications to call centers", in Advances in Services Innovations, Springer,
   17-45; and S. Zeltyn (2004), PhD thesis, Technion, ch. 3 (M/M/n+M formulas through the
   incomplete gamma function).
.. [5] O. Garnett, A. Mandelbaum, M. Reiman (2002), "Designing a call center with impatient
   customers", Manufacturing & Service Operations Management 4(3), 208-227.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc, gammaincc, gammaln, xlogy

_TINY = 1e-280  # below this a regularized incomplete gamma is replaced by its series / fraction
_EPS = 1e-16
_SL_TOL = 1e-12  # a target counts as met when the metric is within this of it (float noise)
_STEP_LIMIT = 64  # Erlang C search: forward-recursion steps before switching to bisection


# --- special-function building blocks -----------------------------------------------------------
def _log_inv_erlang_b(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``log(1 / B(n, a))`` for ``n >= 0``, ``a >= 0``, real ``n``.

    ``1 / B(n, a) = e^a a^(-n) Gamma(n + 1, a)`` (upper incomplete gamma, [2]). Where the
    regularized ``Q(n + 1, a)`` underflows (``n`` far below ``a``) the Legendre continued fraction
    ``Gamma(s, x) = e^(-x) x^s CF(s, x)`` gives ``1 / B = a * CF(n + 1, a)`` directly.
    """
    n = np.asarray(n, dtype=float)
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = gammaincc(n + 1.0, a)
        out = a - xlogy(n, a) + gammaln(n + 1.0) + np.log(q)
        out = np.where(a == 0, np.where(n == 0, 0.0, np.inf), out)
    bad = (q < _TINY) & (a > 0)
    if np.any(bad):
        out = np.array(out, dtype=float, copy=True)
        out[bad] = np.log(a[bad] * _upper_gamma_cf(n[bad] + 1.0, a[bad]))
    return out


def _upper_gamma_cf(s: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``Gamma(s, x) * e^x * x^(-s)`` by the modified Lentz continued fraction (``x > s + 1``).

    References: W. H. Press et al., Numerical Recipes, 3rd ed., section 6.2 (``gcf``).
    """
    b = x + 1.0 - s
    c = np.full_like(x, 1.0 / 1e-300)
    d = 1.0 / b
    h = d.copy()
    active = np.ones(x.shape, dtype=bool)
    for i in range(1, 100_000):
        an = -i * (i - s)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < 1e-300, 1e-300, d)
        c = b + an / c
        c = np.where(np.abs(c) < 1e-300, 1e-300, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(active, h * delta, h)
        active &= np.abs(delta - 1.0) > _EPS
        if not active.any():
            break
    return h


def _log_m(s: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``log M(s, z)`` with ``M(s, z) = e^z z^(-s) gamma(s, z) = sum_k z^k / (s (s+1) ... (s+k))``.

    ``gamma`` is the lower incomplete gamma function; ``s > 0``, ``z >= 0``. Where the
    regularized ``P(s, z)`` underflows (``s`` far above ``z``) the series is summed directly
    (it converges geometrically there).
    """
    s = np.asarray(s, dtype=float)
    z = np.asarray(z, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = gammainc(s, z)
        out = z - xlogy(s, z) + gammaln(s) + np.log(p)
    bad = (p < _TINY) | (z == 0)
    if np.any(bad):
        out = np.array(out, dtype=float, copy=True)
        out[bad] = np.log(_lower_series(s[bad], z[bad]))
    return out


def _lower_series(s: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``sum_k z^k / (s (s+1) ... (s+k))`` (Numerical Recipes ``gser`` without the prefactor)."""
    term = 1.0 / s
    total = term.copy()
    ap = s.copy()
    active = np.ones(s.shape, dtype=bool)
    for _ in range(1_000_000):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ap[idx] += 1.0
        term[idx] *= z[idx] / ap[idx]
        total[idx] += term[idx]
        active[idx] = term[idx] > total[idx] * _EPS
    return total


# --- Erlang B and C ---------------------------------------------------------------------------
def offered_load(volume, interval_s, aht_s) -> np.ndarray:
    """Offered load ``a = volume * aht_s / interval_s``.

    Parameters
    ----------
    volume : array_like
        Items arriving in the interval [items].
    interval_s : array_like
        Interval length [s].
    aht_s : array_like
        Average handle time [s].

    Returns
    -------
    numpy.ndarray
        Offered load [Erlang].
    """
    return np.asarray(volume, dtype=float) * np.asarray(aht_s, dtype=float) / np.asarray(interval_s, dtype=float)


def erlang_b(n, a) -> np.ndarray:
    """Erlang B blocking probability of ``n`` servers offered ``a`` Erlangs.

    Integer ``n`` gives the classic value; real ``n`` the continuous extension [2]. Computed as
    ``B = Q(n + 1, a)^-1 * Poisson(n; a)`` in log space, so loads of many thousands of Erlangs
    neither overflow nor underflow (the factorial form overflows near ``n = 170``).

    Parameters
    ----------
    n : array_like
        Servers (moderators), ``>= 0``.
    a : array_like
        Offered load [Erlang], ``>= 0``.

    Returns
    -------
    numpy.ndarray
        Probability an arrival finds every server busy in the loss system [0-1].

    References
    ----------
    .. [1] D. L. Jagerman (1974), Bell System Technical Journal 53(3), 525-551.
    """
    n, a = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(a, dtype=float))
    return np.exp(-_log_inv_erlang_b(n, a))


def erlang_b_recursive(n: int, a: float) -> float:
    """Erlang B by the forward recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, ``B(0) = 1``.

    Scalar, integer ``n``; numerically stable for any load [2]. Used as a cross-check.
    """
    b = 1.0
    for k in range(1, int(n) + 1):
        b = a * b / (k + a * b)
    return b


def _erlang_c_from_b(n, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a * (1.0 - b))
    return np.where(n > a, np.clip(c, 0.0, 1.0), np.where(a > 0, 1.0, 0.0))


def erlang_c(n, a) -> np.ndarray:
    """Erlang C probability that an arrival waits, ``C = n B / (n - a (1 - B))``.

    Parameters
    ----------
    n : array_like
        Moderators, ``>= 0``.
    a : array_like
        Offered load [Erlang].

    Returns
    -------
    numpy.ndarray
        P(wait > 0) [0-1]; 1 when ``n <= a`` (unstable) and ``a > 0``; 0 when ``a = 0``.

    References
    ----------
    .. [1] N. Gans, G. Koole, A. Mandelbaum (2003), M&SOM 5(2), 79-141, eq. (2).
    """
    n, a = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(a, dtype=float))
    return _erlang_c_from_b(n, a, erlang_b(n, a))


@dataclass(frozen=True)
class QueueMetrics:
    """Performance of a queue at a given staffing (arrays of one shape).

    Attributes
    ----------
    p_wait : P(an arrival waits) [0-1]
    service_level : share of all arrivals answered within the threshold [0-1]
    asa_s : mean wait in queue over all arrivals [s]
    occupancy : carried load / moderators [0-1]
    abandon_rate : share of arrivals that abandon [0-1] (0 in Erlang C)
    """

    p_wait: np.ndarray
    service_level: np.ndarray
    asa_s: np.ndarray
    occupancy: np.ndarray
    abandon_rate: np.ndarray


def _c_metrics(n, a, aht_s, within_s, b):
    """Erlang C metrics from a precomputed Erlang B value (all arrays of one shape)."""
    c = _erlang_c_from_b(n, a, b)
    stable = n > a
    gap = np.where(stable, n - a, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        sl = np.where(stable, 1.0 - c * np.exp(-gap * within_s / aht_s), 0.0)
        asa = np.where(stable, c * aht_s / gap, np.inf)
    occ = np.where(n > 0, np.minimum(a / np.where(n > 0, n, 1.0), 1.0), 0.0)
    zero = a == 0
    return QueueMetrics(
        p_wait=c,
        service_level=np.where(zero, 1.0, np.clip(sl, 0.0, 1.0)),
        asa_s=np.where(zero, 0.0, asa),
        occupancy=np.where(zero, 0.0, occ),
        abandon_rate=np.zeros_like(c),
    )


def erlang_c_metrics(n, a, aht_s, within_s) -> QueueMetrics:
    """Erlang C (M/M/n) performance: P(wait), service level, ASA, occupancy.

    ``SL(T) = 1 - C exp(-(n - a) T / AHT)``, ``ASA = C AHT / (n - a)``, occupancy ``a / n``.

    Parameters
    ----------
    n : array_like
        Moderators (real values allowed).
    a : array_like
        Offered load [Erlang].
    aht_s : array_like
        Average handle time [s].
    within_s : array_like
        Service-level threshold T [s].

    Returns
    -------
    QueueMetrics

    References
    ----------
    .. [1] N. Gans, G. Koole, A. Mandelbaum (2003), M&SOM 5(2), 79-141, section 4.1.
    """
    n, a, aht_s, within_s = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, a, aht_s, within_s)))
    return _c_metrics(n, a, aht_s, within_s, erlang_b(n, a))


def occupancy(n, a) -> np.ndarray:
    """Erlang C occupancy ``a / n`` [0-1]: 1 when ``n <= a`` (unstable), 0 when ``n = 0`` or ``a = 0``."""
    n, a = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(a, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((n > 0) & (a > 0), np.minimum(a / np.where(n > 0, n, 1.0), 1.0), 0.0)


def erlang_c_service_level(n, a, aht_s, within_s) -> np.ndarray:
    """Erlang C service level ``1 - C exp(-(n - a) T / AHT)`` [0-1] (see :func:`erlang_c_metrics`)."""
    return erlang_c_metrics(n, a, aht_s, within_s).service_level


def erlang_c_asa(n, a, aht_s) -> np.ndarray:
    """Erlang C average speed of answer ``C AHT / (n - a)`` over all arrivals [s]."""
    return erlang_c_metrics(n, a, aht_s, 0.0).asa_s


def erlang_a_metrics(n, a, aht_s, patience_s, within_s) -> QueueMetrics:
    """Erlang A (M/M/n+M, exponential patience) performance.

    With ``mu = 1/AHT``, ``theta = 1/patience``, ``x = n mu / theta``, ``y = lambda / theta``,
    ``E = B(n, a)`` (Erlang B) and ``A(x, y) = x e^y y^-x gamma(x, y)`` [4]::

        P(wait)    = A E / (1 + (A - 1) E)
        P(abandon) = P(wait) (1 - 1/rho + 1/(rho A)),          rho = a / n
        SL(T)      = 1 - P(wait) + P(wait) [R(y) - R(y e^(-theta T))]
        R(z)       = gamma(x + 1, z) / (y gamma(x, y))
        ASA        = P(abandon) / theta                        (mean wait of all arrivals)
        occupancy  = a (1 - P(abandon)) / n

    The offered wait ``V`` (the wait an infinitely patient arrival would have) has
    ``P(V > t) = P(wait) gamma(x, y e^(-theta t)) / gamma(x, y)`` [4]; an arrival is answered
    within ``T`` when ``V <= T`` and its patience exceeds ``V``, whose probability
    ``E[1{V <= T} e^(-theta V)]`` integrates to the ``R`` terms above. So the service level is
    answered-within-T over all arrivals; abandoned items are misses. ``R(y) = (1 - 1/A) / rho``
    is the share of waiting arrivals eventually answered. Everything is evaluated in log space
    (``log M`` below), which keeps loads of thousands of Erlangs finite.

    Parameters
    ----------
    n : array_like
        Moderators (real values allowed), ``>= 0``.
    a : array_like
        Offered load [Erlang].
    aht_s : array_like
        Average handle time [s].
    patience_s : array_like
        Mean patience before abandoning [s]; ``inf`` gives Erlang C.
    within_s : array_like
        Service-level threshold T [s].

    Returns
    -------
    QueueMetrics

    References
    ----------
    .. [1] A. Mandelbaum, S. Zeltyn (2007), "Service engineering in action: the Palm/Erlang-A
       queue", Advances in Services Innovations, Springer, 17-45.
    .. [2] O. Garnett, A. Mandelbaum, M. Reiman (2002), M&SOM 4(3), 208-227.
    """
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, a, aht_s, patience_s, within_s)))
    n, a, aht_s, patience_s, within_s = (np.ravel(v) for v in arrays)
    shape = arrays[0].shape
    no_abandon = ~np.isfinite(patience_s)
    out = {k: np.zeros(n.shape) for k in ("p_wait", "service_level", "asa_s", "occupancy", "abandon_rate")}
    if no_abandon.any():
        idx = no_abandon
        m = erlang_c_metrics(n[idx], a[idx], aht_s[idx], within_s[idx])
        for k in out:
            out[k][idx] = getattr(m, k)
    zero_load = (a == 0) & ~no_abandon
    out["service_level"][zero_load] = 1.0
    nobody = (n == 0) & (a > 0) & ~no_abandon
    out["p_wait"][nobody] = 1.0
    out["abandon_rate"][nobody] = 1.0
    out["asa_s"][nobody] = patience_s[nobody]
    idx = (n > 0) & (a > 0) & ~no_abandon
    if idx.any():
        m = _a_metrics(n[idx], a[idx], aht_s[idx], patience_s[idx], within_s[idx], _log_inv_erlang_b(n[idx], a[idx]))
        for k in out:
            out[k][idx] = getattr(m, k)
    return QueueMetrics(**{k: v.reshape(shape) for k, v in out.items()})


def _a_metrics(n, a, aht_s, patience_s, within_s, log_inv_b) -> QueueMetrics:
    """Erlang A metrics for ``n > 0``, ``a > 0``, finite patience (1-d arrays)."""
    ratio = patience_s / aht_s  # mu / theta
    x = n * ratio
    y = a * ratio
    log_mxy = _log_m(x, y)
    log_big_a = np.log(x) + log_mxy
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_e = -log_inv_b
        log_1me = np.log(-np.expm1(log_e))  # log(1 - E)
        p_wait = 1.0 / (1.0 + np.exp(log_1me - log_big_a - log_e))
        answered_given_wait = (n / a) * (-np.expm1(-log_big_a))  # R(y) = (1 - 1/A) / rho
        p_ab = p_wait * (1.0 - answered_given_wait)
        theta_t = within_s / patience_s
        decay = np.exp(-theta_t)
        log_r_t = -(x + 1.0) * theta_t + y * (-np.expm1(-theta_t)) + _log_m(x + 1.0, y * decay) - log_mxy
        r_t = np.exp(log_r_t)
    sl = 1.0 - p_wait + p_wait * (answered_given_wait - r_t)
    p_ab = np.clip(p_ab, 0.0, 1.0)
    return QueueMetrics(
        p_wait=np.clip(p_wait, 0.0, 1.0),
        service_level=np.clip(sl, 0.0, 1.0),
        asa_s=p_ab * patience_s,
        occupancy=np.clip(a * (1.0 - p_ab) / n, 0.0, 1.0),
        abandon_rate=p_ab,
    )


def queue_metrics(n, a, aht_s, within_s, patience_s=np.inf) -> QueueMetrics:
    """Erlang A where ``patience_s`` is finite, Erlang C where it is ``inf`` or NaN (no abandonment)."""
    patience = np.asarray(patience_s, dtype=float)
    patience = np.where(np.isnan(patience), np.inf, patience)
    return erlang_a_metrics(n, a, aht_s, patience, within_s)


# --- minimal staffing -------------------------------------------------------------------------
@dataclass(frozen=True)
class StaffingResult:
    """Minimal moderators per cell and the performance they give.

    Attributes
    ----------
    agents : moderators [productive heads]; whole numbers unless ``fractional=True``
    agents_int : the smallest whole number meeting every target
    offered_load : [Erlang]
    metrics : :class:`QueueMetrics` at ``agents``
    """

    agents: np.ndarray
    agents_int: np.ndarray
    offered_load: np.ndarray
    metrics: QueueMetrics

    @property
    def service_level(self) -> np.ndarray:
        return self.metrics.service_level

    @property
    def asa_s(self) -> np.ndarray:
        return self.metrics.asa_s

    @property
    def occupancy(self) -> np.ndarray:
        return self.metrics.occupancy

    @property
    def abandon_rate(self) -> np.ndarray:
        return self.metrics.abandon_rate

    @property
    def p_wait(self) -> np.ndarray:
        return self.metrics.p_wait


def _meets(m: QueueMetrics, target, max_occ, max_asa) -> np.ndarray:
    return (
        (m.service_level >= target - _SL_TOL)
        & (m.occupancy <= max_occ + _SL_TOL)
        & (m.asa_s <= max_asa * (1 + _SL_TOL))
    )


def required_agents(
    volume,
    interval_s,
    aht_s,
    target,
    within_s,
    *,
    patience_s=np.inf,
    max_occupancy=1.0,
    max_asa_s=np.inf,
    fractional: bool = False,
) -> StaffingResult:
    """Fewest moderators meeting a service-level target (and optional occupancy cap, ASA target).

    Erlang C where ``patience_s`` is ``inf``/NaN, Erlang A where it is finite; every argument
    broadcasts. The integer answer ``N`` is the exact minimum: ``N`` meets every target and
    ``N - 1`` misses one (Erlang C is searched upwards from ``floor(a) + 1`` with the stable
    forward recursion of Erlang B; Erlang A is bisected from 0, since with abandonment the answer
    can be below the offered load). Zero load needs zero moderators.

    With ``fractional=True`` the answer is interpolated between ``N - 1`` (or the offered load
    ``a`` in Erlang C, where the service level falls to 0) and ``N``: for each target the point
    where the straight line between the two metric values crosses it; the occupancy cap of
    Erlang C is exact (``a / max_occupancy``). The answer is the largest of these, so rounding
    can happen once, at the end; its ceiling is ``N``. Because the Erlang C service level is
    concave in ``n`` above ``a`` (and ASA convex), the interpolated staffing still meets the
    targets when evaluated with the continuous formulas. Erlang A is not concave everywhere (near
    ``n = 0`` and under overload): cells whose interpolated staffing misses a target are finished by
    bisection on the continuous formulas, so fractional staffing always meets every target.
    Metrics are reported at ``agents``.

    Parameters
    ----------
    volume : array_like
        Items per interval [items].
    interval_s : array_like
        Interval length [s].
    aht_s : array_like
        Average handle time [s], ``> 0``.
    target : array_like
        Service-level target: share of all arrivals answered within ``within_s`` [0-1).
    within_s : array_like
        Threshold [s].
    patience_s : array_like, optional
        Mean patience [s] (Erlang A); ``inf`` or NaN = no abandonment (Erlang C).
    max_occupancy : array_like, optional
        Occupancy cap (0-1].
    max_asa_s : array_like, optional
        ASA target [s] (mean wait over all arrivals).
    fractional : bool
        Return interpolated real-valued moderators instead of whole numbers.

    Returns
    -------
    StaffingResult

    Raises
    ------
    ValueError
        Negative volume, non-positive AHT or interval, a target of 1 or more (never met at a
        positive load), a non-positive occupancy cap or ASA target.

    References
    ----------
    .. [1] N. Gans, G. Koole, A. Mandelbaum (2003), M&SOM 5(2), 79-141.
    .. [2] A. Mandelbaum, S. Zeltyn (2007), the Palm/Erlang-A queue.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (volume, interval_s, aht_s, target, within_s, patience_s, max_occupancy, max_asa_s))
    )
    shape = arrays[0].shape
    volume, interval_s, aht_s, target, within_s, patience_s, max_occ, max_asa = (np.ravel(v).copy() for v in arrays)
    patience_s = np.where(np.isnan(patience_s), np.inf, patience_s)
    _check_arguments(volume, interval_s, aht_s, target, within_s, patience_s, max_occ, max_asa)
    a = offered_load(volume, interval_s, aht_s)
    # a positive load below MIN_LOAD_ERLANG (e.g. a subnormal volume) is staffed like MIN_LOAD_ERLANG:
    # the answer is the same, and the Erlang A formulas lose all precision far below it
    a = np.where(a > 0, np.maximum(a, MIN_LOAD_ERLANG), 0.0)
    agents_int = np.zeros(a.shape)
    c_cells = (a > 0) & ~np.isfinite(patience_s)
    a_cells = (a > 0) & np.isfinite(patience_s)
    if c_cells.any():
        i = np.flatnonzero(c_cells)
        agents_int[i] = _search_erlang_c(a[i], aht_s[i], target[i], within_s[i], max_occ[i], max_asa[i])
    if a_cells.any():
        i = np.flatnonzero(a_cells)
        agents_int[i] = _bisect_erlang_a(a[i], aht_s[i], patience_s[i], target[i], within_s[i], max_occ[i], max_asa[i])
    agents = agents_int
    if fractional:
        agents = _interpolate(agents_int, a, aht_s, patience_s, target, within_s, max_occ, max_asa)
    m = queue_metrics(agents, a, aht_s, within_s, patience_s)
    if fractional:
        short = np.flatnonzero(~_meets(m, target, max_occ, max_asa))
        if short.size:  # Erlang A is not always concave: finish those cells by bisection on real n
            agents[short] = _bisect_real(agents[short], agents_int[short], lambda k, i: _meets(
                queue_metrics(k, a[short][i], aht_s[short][i], within_s[short][i], patience_s[short][i]),
                target[short][i], max_occ[short][i], max_asa[short][i]))
            m = queue_metrics(agents, a, aht_s, within_s, patience_s)
    metrics = QueueMetrics(**{k: getattr(m, k).reshape(shape) for k in QueueMetrics.__dataclass_fields__})
    return StaffingResult(agents.reshape(shape), agents_int.reshape(shape), a.reshape(shape), metrics)


class ArgumentError(ValueError):
    """A bad staffing argument; ``parameter`` names it (``volume``, ``aht_s``...) so a caller can say which option."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _check_arguments(volume, interval_s, aht_s, target, within_s, patience_s, max_occ, max_asa) -> None:
    def bad(parameter, mask, text):
        if np.any(mask):
            first = np.flatnonzero(mask)[0]
            raise ArgumentError(parameter, text.format(first=first))

    bad("volume", ~((volume >= 0) & np.isfinite(volume)), "volume must be a finite number >= 0 [items] (cell {first})")
    bad("interval_s", ~(interval_s > 0), "interval must be > 0 seconds (cell {first})")
    bad("aht_s", ~(aht_s > 0), "AHT must be > 0 seconds (cell {first})")
    bad("within_s", ~(within_s >= 0), "the service-level threshold must be >= 0 seconds (cell {first})")
    bad("patience_s", ~(patience_s > 0), "patience must be > 0 seconds, or empty for no abandonment (cell {first})")
    bad("max_occupancy", ~((max_occ > 0) & (max_occ <= 1)), "max occupancy must be in (0, 1], e.g. 0.85 (cell {first})")
    bad("max_asa_s", ~(max_asa > 0), "the ASA target must be > 0 seconds (cell {first})")
    percent = (target > 1) & (target <= 100) & (volume > 0)
    if np.any(percent):
        value = float(np.broadcast_to(target, percent.shape)[percent][0])
        raise ArgumentError("target", f"the service-level target must be a share in [0, 1), e.g. 0.8 for 80 %: "
                                      f"for {value:g} % write {value / 100:g}")
    bad("target", ~((target >= 0) & (target < 1)) & (volume > 0),
        "the service-level target must be a share in [0, 1), e.g. 0.8 for 80 %: a target of 1 or more is never met "
        "with queueing (cell {first})")


def _search_erlang_c(a, aht_s, target, within_s, max_occ, max_asa) -> np.ndarray:
    """Minimal integer n (> a) for Erlang C: forward recursion upwards, bisection for long tails."""
    n = np.maximum(np.floor(a) + 1.0, np.ceil(a / max_occ - 1e-12))
    b = erlang_b(n, a)
    result = np.zeros(a.shape)
    idx = np.arange(a.size)
    for _ in range(_STEP_LIMIT):
        ok = _meets(_c_metrics(n, a[idx], aht_s[idx], within_s[idx], b), target[idx], max_occ[idx], max_asa[idx])
        result[idx[ok]] = n[ok]
        keep = ~ok
        if not keep.any():
            return result
        idx, n, b = idx[keep], n[keep] + 1.0, b[keep]
        ai = a[idx]
        b = ai * b / (n + ai * b)  # B(n) from B(n - 1)
    # long tails (very high loads or strict targets): bisect between n - 1 (fails) and an upper bound
    result[idx] = _bisect(
        lambda k, i: _meets(erlang_c_metrics(k, a[idx][i], aht_s[idx][i], within_s[idx][i]), target[idx][i], max_occ[idx][i], max_asa[idx][i]),
        lo=n - 1.0, hi0=n + np.ceil(np.sqrt(a[idx])) + 1.0,
    )
    return result


MIN_LOAD_ERLANG = 1e-9


def _bisect_erlang_a(a, aht_s, patience_s, target, within_s, max_occ, max_asa) -> np.ndarray:
    def meets(k, i):
        m = erlang_a_metrics(k, a[i], aht_s[i], patience_s[i], within_s[i])
        return _meets(m, target[i], max_occ[i], max_asa[i])

    return _bisect(meets, lo=np.full(a.shape, -1.0), hi0=np.maximum(np.ceil(a), 1.0))


def _bisect(meets, lo: np.ndarray, hi0: np.ndarray) -> np.ndarray:
    """Smallest integer in (lo, inf) where ``meets`` holds; ``meets`` is monotone in n.

    ``meets(n, i)`` evaluates staffing ``n`` for the cells ``i`` (indices into ``lo``). The upper
    bound starts at ``hi0`` and doubles its distance from ``lo`` until met.
    """
    lo = lo.astype(float).copy()
    hi = np.maximum(hi0.astype(float), lo + 1.0)
    step = hi - lo
    i = np.arange(lo.size)
    for _ in range(200):  # find a passing upper bound, doubling the step
        ok = meets(hi[i], i)
        if ok.all():
            break
        fail = i[~ok]
        lo[fail] = hi[fail]
        step[fail] *= 2.0
        hi[fail] = lo[fail] + step[fail]
        i = fail
    else:  # pragma: no cover - a target < 1 is always met eventually
        raise ArithmeticError("staffing search did not find an upper bound")
    i = np.flatnonzero(hi - lo > 1.0)
    while i.size:
        mid = np.floor((lo[i] + hi[i]) / 2.0)
        ok = meets(mid, i)
        hi[i[ok]] = mid[ok]
        lo[i[~ok]] = mid[~ok]
        i = i[hi[i] - lo[i] > 1.0]
    return hi


def _bisect_real(lo: np.ndarray, hi: np.ndarray, meets, tol: float = 1e-6) -> np.ndarray:
    """Smallest real n in (lo, hi] meeting the targets, to within ``tol`` moderators; ``hi`` meets them.

    Misses after interpolation are usually tiny, so a probe at ``lo + 1e-3`` first shrinks most
    brackets a thousandfold before bisecting.
    """
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    probe = np.minimum(lo + 1e-3, hi)
    ok = meets(probe, np.arange(lo.size))
    hi = np.where(ok, probe, hi)
    lo = np.where(ok, lo, probe)
    i = np.flatnonzero(hi - lo > tol)
    while i.size:
        mid = 0.5 * (lo[i] + hi[i])
        ok = meets(mid, i)
        hi[i[ok]] = mid[ok]
        lo[i[~ok]] = mid[~ok]
        i = i[hi[i] - lo[i] > tol]
    return hi


def _interpolate(agents_int, a, aht_s, patience_s, target, within_s, max_occ, max_asa) -> np.ndarray:
    """Real-valued staffing between N - 1 (or a) and N; see :func:`required_agents`."""
    out = agents_int.copy()
    idx = np.flatnonzero(agents_int > 0)
    if idx.size == 0:
        return out
    big_n = agents_int[idx]
    ai, aht, pat, tgt, win, occ, asa = (v[idx] for v in (a, aht_s, patience_s, target, within_s, max_occ, max_asa))
    erlang_c_cells = ~np.isfinite(pat)
    lo = np.where(erlang_c_cells, np.maximum(big_n - 1.0, ai), big_n - 1.0)
    m_lo = queue_metrics(lo, ai, aht, win, pat)
    m_hi = queue_metrics(big_n, ai, aht, win, pat)
    with np.errstate(divide="ignore", invalid="ignore"):
        w_sl = np.where(m_lo.service_level >= tgt, 0.0,
                        (tgt - m_lo.service_level) / (m_hi.service_level - m_lo.service_level))
        w_asa = np.where(m_lo.asa_s <= asa, 0.0,
                         np.where(np.isfinite(m_lo.asa_s), (m_lo.asa_s - asa) / (m_lo.asa_s - m_hi.asa_s), 1.0))
        w_occ = np.where(m_lo.occupancy <= occ, 0.0, (m_lo.occupancy - occ) / (m_lo.occupancy - m_hi.occupancy))
    w = np.clip(np.nan_to_num(np.maximum(np.maximum(w_sl, w_asa), np.where(erlang_c_cells, 0.0, w_occ)), nan=1.0), 0.0, 1.0)
    frac = lo + w * (big_n - lo)
    frac = np.where(erlang_c_cells, np.maximum(frac, ai / occ), frac)
    out[idx] = np.minimum(frac, big_n)
    return out


def staffing_summary(
    volume: float,
    interval_s: float,
    aht_s: float,
    target: float,
    within_s: float,
    *,
    patience_s: float | None = None,
    max_occupancy: float | None = None,
    max_asa_s: float | None = None,
) -> dict:
    """One queue's staffing as a plain dict (what ``capplan erlang`` prints).

    Keys: ``agents`` (int), ``agents_fractional``, ``service_level``, ``asa_s`` [s], ``occupancy``,
    ``abandon_rate``, ``p_wait``, ``offered_load`` [Erlang], ``method`` (``erlang_c`` or
    ``erlang_a``), and the inputs (``volume``, ``interval_s``, ``aht_s``, ``target``,
    ``within_s``, ``patience_s``, ``max_occupancy``, ``max_asa_s``). Metrics are at ``agents``.
    Raises ValueError on bad arguments (see :func:`required_agents`).
    """
    patience = np.inf if patience_s is None else float(patience_s)
    kwargs = dict(
        patience_s=patience,
        max_occupancy=1.0 if max_occupancy is None else float(max_occupancy),
        max_asa_s=np.inf if max_asa_s is None else float(max_asa_s),
    )
    whole = required_agents(volume, interval_s, aht_s, target, within_s, **kwargs)
    frac = required_agents(volume, interval_s, aht_s, target, within_s, fractional=True, **kwargs)
    return {
        "agents": int(whole.agents),
        "agents_fractional": float(frac.agents),
        "service_level": float(whole.service_level),
        "asa_s": float(whole.asa_s),
        "occupancy": float(whole.occupancy),
        "abandon_rate": float(whole.abandon_rate),
        "p_wait": float(whole.p_wait),
        "offered_load": float(whole.offered_load),
        "method": "erlang_a" if np.isfinite(patience) else "erlang_c",
        "volume": float(volume),
        "interval_s": float(interval_s),
        "aht_s": float(aht_s),
        "target": float(target),
        "within_s": float(within_s),
        "patience_s": None if patience_s is None else float(patience_s),
        "max_occupancy": None if max_occupancy is None else float(max_occupancy),
        "max_asa_s": None if max_asa_s is None else float(max_asa_s),
    }


def agents_for_abandonment(a, aht_s, patience_s, max_abandon, *, fractional: bool = True) -> np.ndarray:
    """Fewest moderators whose Erlang A abandonment share is at most ``max_abandon``.

    The abandonment share of Erlang A falls as staffing rises, so the answer is found by bisection: on whole
    numbers (``fractional=False``) or on real-valued staffing to within 1e-6 moderators, with the continuous
    formulas of :func:`erlang_a_metrics` (as :func:`required_agents` finishes its fractional answers). Zero load, an
    infinite patience (nobody abandons) or a cap of 1 need no moderators for this criterion.

    Parameters
    ----------
    a : array_like
        Offered load [Erlang].
    aht_s, patience_s : array_like
        Average handle time and mean patience [s].
    max_abandon : array_like
        Largest share of arrivals that may abandon, in (0, 1].

    Returns
    -------
    numpy.ndarray
        Moderators [productive heads].

    References
    ----------
    .. [1] A. Mandelbaum, S. Zeltyn (2007), "Service engineering in action: the Palm/Erlang-A queue, with
       applications to call centers", in Advances in Services Innovations, Springer, 17-45.
    """
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, aht_s, patience_s, max_abandon)))
    shape = arrays[0].shape
    a, aht, pat, cap = (np.ravel(v).copy() for v in arrays)
    pat = np.where(np.isnan(pat), np.inf, pat)
    if np.any(~((cap > 0) & (cap <= 1))):
        raise ArgumentError("max_abandon", "the abandonment cap must be a share in (0, 1], e.g. 0.05")
    out = np.zeros(a.shape)
    idx = np.flatnonzero((a > 0) & np.isfinite(pat) & (cap < 1))
    if idx.size == 0:
        return out.reshape(shape)
    ai = np.maximum(a[idx], MIN_LOAD_ERLANG)

    def meets(k, i):
        m = erlang_a_metrics(k, ai[i], aht[idx][i], pat[idx][i], np.zeros(i.size))
        return m.abandon_rate <= cap[idx][i] * (1 + _SL_TOL)

    whole = _bisect(meets, lo=np.full(idx.size, -1.0), hi0=np.maximum(np.ceil(ai), 1.0))
    if fractional:
        whole = _bisect_real(np.maximum(whole - 1.0, 0.0), whole, meets)
    out[idx] = whole
    return out.reshape(shape)
