"""3x demo at 8 h: more roundings by the first fixed LP, on the staffings ``slivers_probe.py`` pickled (a diagnostic probe).

Usage: ``PYTHONPATH=src python3 bench/slivers_probe_roundings.py poolceil t0.3 reopen nomin poolceil_x0``: ``poolceil``
each pool to the ceiling of its relaxed headcount (``rounding.pool_thresholds``), ``tX`` threshold X with lifted pools up,
``reopen`` round 0.5 with the closed pairs open again, ``nomin`` the first relaxation rounded at 0.5 with every pair open
and no lift prices, ``poolceil_x0`` the pool rounding of the first relaxation's staffing (no re-solve). Logs to
/tmp/s3x/probe2.log; the figures of 2026-12-01 are in ``bench/results/plan_slivers_rounding_probe.json``.
"""
import sys, time, pickle, tempfile
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan import make_requirements
from capplan.demo import build_demo_workspace
from capplan.inputs import load_workspace
from capplan.optimize.data import prepare
from capplan.optimize.model import build, mathopt
from capplan.optimize import solve as S
from capplan.optimize.rounding import round_staff, repair_groups
LOG = open("/tmp/s3x/probe2.log", "a")
def log(*a):
    s = " ".join(str(x) for x in a); print(s, flush=True); LOG.write(s + "\n"); LOG.flush()
P = pickle.load(open("/tmp/s3x/probe_large.pkl", "rb"))
tmp = tempfile.mkdtemp(); SIZE = "large"
build_demo_workspace(Path(tmp) / SIZE, size=SIZE)
ws = load_workspace(Path(tmp) / SIZE)
ws.config.contracts.min_pair_weekly_hours = 8
req, _ = make_requirements(ws)
d = prepare(ws, req); b = build(d); mo = mathopt()
staff_vars = b.staff_vars
for v in staff_vars + list(b.pair_open.values()):
    v.integer = False
x, new, _ = P["res"]["default"]; lifted = P["lifted"]; bound = P["bound"]
pools = np.array([pat.pool for pat in d.patterns])
log("pools", len(set(pools)), "lifted pools", len({p for p, _ in lifted}), "patterns", len(pools))
for key in lifted: S._price_lift(b, key)
closed = list(P["preclosed"]) + list(new)
def setclosed(on):
    for key in closed: b.pair_open[key].upper_bound = 0.0 if on else 1.0
def fixed(n, label):
    for v, k in zip(staff_vars, n): v.lower_bound = v.upper_bound = float(k)
    t, c = time.perf_counter(), time.process_time()
    f0 = S._lp(b, mo.SolverType.HIGHS, time.perf_counter() + 3000, "highs")
    log(f"{label}: n {n.sum()} obj {f0.objective:.0f} ({f0.objective/bound-1:.3%}) wall {time.perf_counter()-t:.1f} cpu {time.process_time()-c:.1f} slivers {len(S._slivers(b, f0.values))}")
    return f0
def pool_ceil(x, extra=0.0):
    floor = np.floor(x + 1e-6); frac = np.where(x - floor > 1e-6, x - floor, 0.0); n = floor.astype(int)
    th = np.full(len(x), 2.0)
    for p in set(pools):
        ks = np.where(pools == p)[0]
        target = int(np.ceil(x[ks].sum() - 1e-6 + extra))
        for k in sorted(ks, key=lambda k: -frac[k]):
            if n[ks].sum() >= target: break
            if frac[k] > 0: n[k] += 1; th[k] = 1e-6
    return th
mode = sys.argv[1:]
setclosed(True)
for m in mode:
    if m == "poolceil_x0":
        for key in new: b.pair_open[key].upper_bound = 1.0
        fixed(round_staff(d, P["x0"], pool_ceil(P["x0"])), m)
        for key in new: b.pair_open[key].upper_bound = 0.0
    if m == "poolceil": fixed(round_staff(d, x, pool_ceil(x)), m)
    elif m.startswith("t"): fixed(round_staff(d, x, S._thresholds(d, float(m[1:]), lifted)), m)
    elif m == "reopen":
        setclosed(False); fixed(round_staff(d, x, S._thresholds(d, 0.5, lifted)), m); setclosed(True)
    elif m == "nomin":
        setclosed(False)
        for key in lifted: b.model.objective.set_linear_coefficient(b.pair_open[key], 0.0)
        saved = dict(b.lift_price); b.lift_price.clear()
        x0 = P["x0"]
        fixed(round_staff(d, x0, 0.5), "nomin-x0 r0.5 (pairs open, no prices)")
        b.lift_price.update(saved)
        for key, pr in saved.items(): b.model.objective.set_linear_coefficient(b.pair_open[key], -pr / b.scale.money)
        setclosed(True)
