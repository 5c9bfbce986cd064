"""3x demo at 8 h: relax-round-fix's steps one by one, timed, with cost breakdowns (a diagnostic probe).

Usage: ``PYTHONPATH=src python3 bench/slivers_probe.py large 1e-5,1e-4 0.5,0.5plain,0.4``: the relaxation, the re-solve
with the lifts and closures at HiGHS's default interior-point tolerances and at each given one, then the fixed LP (and
its closing pass) of each rounding of the re-solved staffing (``0.5``: threshold with every fraction of a lifted pool up,
as relax-round-fix; ``0.5plain``: threshold only). Logs to /tmp/s3x/probe_<size>.log and pickles the staffings for
``slivers_probe_roundings.py``; the figures of 2026-12-01 are in ``bench/results/plan_slivers_rounding_probe.json``.
"""
import sys, time, pickle, json, tempfile
from types import SimpleNamespace
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent))
Path("/tmp/s3x").mkdir(exist_ok=True)
from plan import make_requirements
from capplan.demo import build_demo_workspace
from capplan.inputs import load_workspace
from capplan.optimize.data import prepare
from capplan.optimize.model import build, mathopt
from capplan.optimize import solve as S
from capplan.optimize.rounding import round_staff, trim_staff

SIZE = sys.argv[1] if len(sys.argv) > 1 else "large"
LOG = open(f"/tmp/s3x/probe_{SIZE}.log", "a")
def log(*a):
    s = " ".join(str(x) for x in a); print(s, flush=True); LOG.write(s + "\n"); LOG.flush()

class T:
    def __enter__(self): self.w, self.c = time.perf_counter(), time.process_time(); return self
    def __exit__(self, *a): self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c

tmp = tempfile.mkdtemp()
build_demo_workspace(Path(tmp) / SIZE, size=SIZE)
ws = load_workspace(Path(tmp) / SIZE)
ws.config.contracts.min_pair_weekly_hours = 8
req, _ = make_requirements(ws)
d = prepare(ws, req); b = build(d)
mo = mathopt()
log("built", b.model.get_num_variables(), "vars; pairs", len(b.pair_open))
h = b.scale.hours
keep = set(b.staff.values()) | set(b.short.values()) | set(b.pair_open.values())

def breakdown(values):
    raw = {v: (x if v in keep else x / h) for v, x in values.items()}
    out = {}
    for fam, terms in b.terms.items():
        out[fam] = sum(float(mo.evaluate_expression(t, raw)) for t in terms) * b.scale.money if terms else 0.0
    out["unmet_rt_h"] = sum(values[v] for v in b.unmet.values())
    out["backlog_h"] = sum(values[v] for dd in b.backlog.values() for v in dd.values())
    out["late_h"] = sum(values[v] for dd in b.late.values() for v in dd.values())
    return {k: round(v, 1) for k, v in out.items()}

staff_vars = b.staff_vars
for v in staff_vars + list(b.pair_open.values()):
    v.integer = False
with T() as t:
    relaxed = S._lp(b, mo.SolverType.HIGHS, time.perf_counter() + 3000, "highs", crossover=False, duals=True)
bound = relaxed.objective
log(f"relaxation obj {bound:.0f} wall {t.wall:.1f} cpu {t.cpu:.1f}")
x0 = np.array([relaxed.values[v] for v in staff_vars])
lifted, preclosed = S._lift_or_close(b, relaxed.values)
log("lifted", len(lifted), "preclosed", len(preclosed))
from ortools.math_opt.solvers import highs_pb2
orig = S._lp_params
res = {}
variants = [("default", None)] + [(f"ipm_tol_{tol:g}", tol) for tol in (float(a) for a in (sys.argv[2].split(",") if len(sys.argv) > 2 else ["1e-5"]))]
for name, tol in variants:
    def params(mo_, rung, tl, cross, tol=tol):
        p = orig(mo_, rung, tl, cross)
        if tol is not None and rung != "dual_simplex":
            p.highs.double_options["ipm_optimality_tolerance"] = tol
            p.highs.double_options["primal_feasibility_tolerance"] = max(tol, 1e-7)
            p.highs.double_options["dual_feasibility_tolerance"] = max(tol, 1e-7)
        return p
    S._lp_params = params
    with T() as t:
        again = S._lp(b, mo.SolverType.HIGHS, time.perf_counter() + 3000, "highs")
    S._lp_params = orig
    x = np.array([again.values[v] for v in staff_vars])
    met = sum(1 for key in lifted if S._pair_hours(b, again.values, key) >= b.pair_min[key] - 1e-6)
    new = S._slivers(b, again.values)
    res[name] = (again, x, new)
    log(f"resolve {name}: obj {again.objective:.0f} ({again.objective/bound-1:.4%}) wall {t.wall:.1f} cpu {t.cpu:.1f} staff {x.sum():.2f} "
        f"lifted met {met} new slivers {len(new)}; |dx| {np.abs(x - res['default'][1]).sum():.2f}")
pickle.dump({"bound": bound, "x0": x0, "lifted": lifted, "preclosed": preclosed,
             "res": {k: (v[1], v[2], v[0].objective) for k, v in res.items()}}, open(f"/tmp/s3x/probe_{SIZE}.pkl", "wb"))
again, x, new = res["default"]
log("breakdown relaxed", breakdown(relaxed.values))
log("breakdown resolve", breakdown(again.values))
for key in new:
    b.pair_open[key].upper_bound = 0.0

def fixed(n, label):
    for v, k in zip(staff_vars, n):
        v.lower_bound = v.upper_bound = float(k)
    with T() as t:
        f0 = S._lp(b, mo.SolverType.HIGHS, time.perf_counter() + 3000, "highs")
    log(f"{label}: n {n.sum()} fixed LP obj {f0.objective:.0f} ({f0.objective/bound-1:.3%}) wall {t.wall:.1f} cpu {t.cpu:.1f} slivers {len(S._slivers(b, f0.values))}")
    log("  breakdown fixed", breakdown(f0.values))
    with T() as t:
        f1 = S.close_slivers(b, SimpleNamespace(backend="highs"), time.perf_counter() + 3000, f0)
    ntrim, saved = trim_staff(b, f1.values, n)
    log(f"  closed {b.slivers_closed} left {b.slivers_left}: obj {f1.objective:.0f} ({f1.objective/bound-1:.3%}), trimmed {n.sum()-ntrim.sum()} saves {saved:.0f} -> {(f1.objective-saved)/bound-1:.3%}; wall {t.wall:.1f} cpu {t.cpu:.1f}")
    log("  breakdown closed", breakdown(f1.values))
    return f0, f1

modes = sys.argv[3].split(",") if len(sys.argv) > 3 else ["0.5", "0.5plain", "0.4"]
for m in modes:
    if m.endswith("plain"):
        n = round_staff(d, x, float(m[:-5]))
    else:
        n = round_staff(d, x, S._thresholds(d, float(m), lifted))
    fixed(n, f"round {m}")
