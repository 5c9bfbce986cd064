"""Capability estimates from production records: AHT multiplier and accuracy per pool x cell, learning
curves per site, policy-change bumps (see docs/capability.md).

Steps (vectorised over rows; the per-pair model works on one summary per pool x cell):

1. Each row's log AHT ratio ``z = log(handle_time_s / items) - log(reference aht_s)`` (the cell's
   ``handle_times`` value: a proficiency-1.0 moderator). Rows without tenure (the tenured workforce) make the
   multipliers; moderator rows with a tenure make the learning curves.
2. Row variance ``v(n) = a + b / n`` (day-to-day conditions plus the mean of ``n`` item times), fitted by
   least squares of squared deviations from the pair means on ``1 / n`` (method of moments).
3. Policy changes (:mod:`.policy`): the daily mean residual per queue; a bump from each configured date (or a
   detected one) is fitted and taken out of ``z`` before the final means.
4. Pair summaries ``y = sum(z / v) / sum(1 / v)`` with variance ``1 / sum(1 / v)``, partially pooled toward
   pool + cell effects (:func:`.pooling.partial_pool`); multiplier ``exp(m)`` with interval
   ``exp(m +- z_level sd)``. Pairs a pool is skilled for but has no records for get the pool + cell value.
5. Accuracy: QA pass rate and appeal overturn rate per pair, on the logit scale
   ``logit((k + 0.5) / (n + 1))`` with variance ``1 / (k + 0.5) + 1 / (n - k + 0.5)`` (the binomial
   approximation of a beta-binomial), pooled the same way. ``quality = qa_pass x (1 - appeal share x
   overturn rate)``: the share of decisions that stand.
6. Learning curves: each tenure row's ``z`` minus its pair's multiplier, averaged per site and tenure week
   (weights ``1 / v``), made non-increasing with tenure by weighted isotonic regression (PAVA).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from capplan.capability import policy as policy_mod
from capplan.capability.pooling import isotonic_decreasing, partial_pool
from capplan.schema import (AHT_S, APPEALS, CAPABILITY_ESTIMATE_COLUMNS, HANDLE_TIME_S, ITEMS, LANGUAGE, LEARNING_CURVE_COLUMNS,
                            MODERATOR, OVERTURNED, POOL, PROD_DATE, QA_PASSED, QA_SAMPLED, QUEUE, SITE, TENURE_WEEKS)

PLATEAU = 1.02  # a learning curve is "at full speed" from the first week within 2 % of a tenured moderator
POLICY_COLUMNS = ["queue", "date", "source", "bump", "bump_pct", "bump_lo_pct", "bump_hi_pct", "half_life_days", "half_life_lo",
                  "half_life_hi", "days_used"]


@dataclass
class Estimates:
    """What ``capplan capability`` finds: the tidy tables and a few summary figures."""

    estimates: pd.DataFrame  # CAPABILITY_ESTIMATE_COLUMNS, one row per pool x cell
    learning: pd.DataFrame  # LEARNING_CURVE_COLUMNS, one row per site x tenure week
    policy: pd.DataFrame  # POLICY_COLUMNS, one row per fitted change
    summary: dict = field(default_factory=dict)


def _rows(frame: pd.DataFrame, handle_times: pd.DataFrame) -> pd.DataFrame:
    """Rows with items and a reference AHT: keys, day number, log AHT ratio ``z`` and the tenure flag."""
    ref = handle_times.set_index([QUEUE, LANGUAGE])[AHT_S].astype(float)
    rows = frame[frame[ITEMS].to_numpy(float) > 0]
    ref_aht = pd.MultiIndex.from_arrays([rows[QUEUE], rows[LANGUAGE]]).map(ref.to_dict()).to_numpy(float) \
        if len(rows) else np.zeros(0)
    keep = np.isfinite(ref_aht)
    rows = rows[keep].copy()
    rows["ref_aht_s"] = ref_aht[keep]
    rows["day"] = (rows[PROD_DATE].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64))
    rows["z"] = np.log(rows[HANDLE_TIME_S].to_numpy(float) / rows[ITEMS].to_numpy(float)) - np.log(rows["ref_aht_s"].to_numpy())
    rows["tenured"] = ~np.isfinite(rows[TENURE_WEEKS].to_numpy(float))
    rows["pair"] = rows[POOL].astype(str) + "\x1f" + rows[QUEUE].astype(str) + "\x1f" + rows[LANGUAGE].astype(str)
    return rows.reset_index(drop=True)


def _variance_model(z: np.ndarray, n: np.ndarray, pair: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of the row variance ``a + b / n``: weighted least squares of squared deviations from pair means."""
    codes, _ = pd.factorize(pair)
    count = np.bincount(codes)
    mean = np.bincount(codes, weights=z) / count
    dev2 = (z - mean[codes]) ** 2 * (count / np.maximum(count - 1, 1))[codes]
    use = count[codes] >= 3
    if use.sum() < 3:
        return 0.01, 0.25
    x = np.column_stack([np.ones(use.sum()), 1.0 / n[use]])
    a, b = float(np.mean(dev2[use])), 0.0
    for _ in range(4):  # iterated weighted least squares: a squared deviation's variance grows with v(n)^2
        sw = 1.0 / (max(a, 1e-6) + max(b, 0.0) / n[use])
        (a, b), *_ = np.linalg.lstsq(x * sw[:, None], dev2[use] * sw, rcond=None)
    return max(float(a), 1e-6), max(float(b), 1e-6)


def _weighted_pair_means(rows: pd.DataFrame, z: np.ndarray, w: np.ndarray) -> pd.Series:
    sums = pd.DataFrame({"pair": rows["pair"].to_numpy(), "wz": w * z, "w": w}).groupby("pair", sort=False).sum()
    return sums["wz"] / sums["w"]


def _policy(rows: pd.DataFrame, w: np.ndarray, config) -> tuple[pd.DataFrame, np.ndarray]:
    """Fitted changes per queue and the bump of every row (log AHT, 0 where none)."""
    tenured = rows["tenured"].to_numpy()
    means = _weighted_pair_means(rows[tenured], rows["z"].to_numpy()[tenured], w[tenured])
    resid = rows["z"].to_numpy() - rows["pair"].map(means).to_numpy(float)
    ok = tenured & np.isfinite(resid)
    daily = pd.DataFrame({"queue": rows[QUEUE].to_numpy()[ok], "day": rows["day"].to_numpy()[ok], "wr": (w * resid)[ok], "w": w[ok]})
    daily = daily.groupby(["queue", "day"], sort=True).sum()
    daily = (daily["wr"] / daily["w"]).rename("r").reset_index()
    configured = [int(np.datetime64(d, "D").astype(np.int64)) for d in config.policy_changes]
    zq = stats.norm.ppf(0.5 + config.level / 2)
    found, bump = [], np.zeros(len(rows))
    for queue, g in daily.groupby("queue", sort=True):
        series = policy_mod.daily_series(g["day"].to_numpy(), g["r"].to_numpy())
        if configured:
            starts = [(d, "configured") for d in configured if series.index.min() < d <= series.index.max()]
        elif config.detect_policy_changes:
            hit = policy_mod.detect_change(series)
            starts = [] if hit is None else [(hit[0], "detected")]
        else:
            starts = []
        for d0, source in starts:
            fit = policy_mod.fit_bump(series, d0, config.level)
            if fit is None:
                continue
            sel = (rows[QUEUE] == queue).to_numpy()
            bump[sel] += policy_mod.bump_at(rows["day"].to_numpy()[sel], fit)
            found.append({"queue": queue, "date": pd.Timestamp(d0, unit="D").date(), "source": source, "bump": fit["bump"],
                          "bump_pct": np.expm1(fit["bump"]) * 100, "bump_lo_pct": np.expm1(fit["bump"] - zq * fit["bump_se"]) * 100,
                          "bump_hi_pct": np.expm1(fit["bump"] + zq * fit["bump_se"]) * 100, "half_life_days": fit["half_life_days"],
                          "half_life_lo": fit["half_life_lo"], "half_life_hi": fit["half_life_hi"], "days_used": fit["days_used"]})
    return pd.DataFrame(found, columns=POLICY_COLUMNS), bump


def _universe(rows: pd.DataFrame, skills: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Every pair to estimate: the pools' skills plus pairs seen in the records (pools of pools.csv only)."""
    seen = rows[[POOL, QUEUE, LANGUAGE]].drop_duplicates()
    pairs = pd.concat([skills[[POOL, QUEUE, LANGUAGE]], seen], ignore_index=True).drop_duplicates()
    pairs = pairs[pairs[POOL].isin(set(pools[POOL]))]
    pairs = pairs.sort_values([POOL, QUEUE, LANGUAGE], kind="stable").reset_index(drop=True)
    pairs["pair"] = pairs[POOL].astype(str) + "\x1f" + pairs[QUEUE].astype(str) + "\x1f" + pairs[LANGUAGE].astype(str)
    return pairs


def _pool(pairs: pd.DataFrame, y, s2) -> object:
    pool_idx, _ = pd.factorize(pairs[POOL], sort=True)
    cell_idx, cells = pd.factorize(pairs[QUEUE].astype(str) + "/" + pairs[LANGUAGE].astype(str), sort=True)
    return partial_pool(y, s2, pool_idx, cell_idx, int(pool_idx.max()) + 1, len(cells))


def _logit_summary(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.log((k + 0.5) / (n - k + 0.5))
    s2 = np.where(n > 0, 1.0 / (k + 0.5) + 1.0 / (n - k + 0.5), np.inf)
    return np.where(n > 0, y, np.nan), s2


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def estimate_capability(frame: pd.DataFrame, *, handle_times: pd.DataFrame, skills: pd.DataFrame, pools: pd.DataFrame,
                        config) -> Estimates:
    """Every estimate from typed production rows (:func:`capplan.inputs.production.read_production`).

    ``config`` is the ``[capability]`` section (:class:`capplan.config.CapabilityConfig`).
    """
    rows = _rows(frame, handle_times)
    n = rows[ITEMS].to_numpy(float)
    tenured = rows["tenured"].to_numpy()
    a, b = _variance_model(rows["z"].to_numpy()[tenured], n[tenured], rows["pair"].to_numpy()[tenured])
    w = 1.0 / (a + b / n)
    changes, bump = _policy(rows, w, config)
    z = rows["z"].to_numpy() - bump
    if len(changes):  # the bump inflated the first variance fit
        a, b = _variance_model(z[tenured], n[tenured], rows["pair"].to_numpy()[tenured])
        w = 1.0 / (a + b / n)
    pairs = _universe(rows, skills, pools)
    agg = pd.DataFrame({"pair": rows["pair"], "t": tenured, "wz": np.where(tenured, w * z, 0.0), "w": np.where(tenured, w, 0.0),
                        "items": np.where(tenured, n, 0.0), "handle": np.where(tenured, rows[HANDLE_TIME_S].to_numpy(float), 0.0),
                        "days": tenured.astype(float), "qs": rows[QA_SAMPLED].fillna(0).to_numpy(float),
                        "qp": rows[QA_PASSED].fillna(0).to_numpy(float), "ap": rows[APPEALS].fillna(0).to_numpy(float),
                        "ov": rows[OVERTURNED].fillna(0).to_numpy(float), "all_items": n})
    sums = agg.groupby("pair", sort=False).sum(numeric_only=True).reindex(pairs["pair"]).fillna(0.0)
    y = np.where(sums["w"] > 0, sums["wz"] / sums["w"].where(sums["w"] > 0, 1.0), np.nan)
    s2 = np.where(sums["w"] > 0, 1.0 / sums["w"].where(sums["w"] > 0, 1.0), np.inf)
    aht_fit = _pool(pairs, y, s2)
    zq = stats.norm.ppf(0.5 + config.level / 2)
    out = pairs[[POOL, QUEUE, LANGUAGE]].copy()
    out["items"] = sums["items"].to_numpy().astype(np.int64)
    out["days"] = sums["days"].to_numpy().astype(np.int64)
    ref = handle_times.set_index([QUEUE, LANGUAGE])[AHT_S].astype(float)
    out["reference_aht_s"] = [float(ref.get(k, np.nan)) for k in zip(out[QUEUE], out[LANGUAGE])]
    out["aht_s"] = np.where(sums["items"] > 0, sums["handle"] / sums["items"].where(sums["items"] > 0, 1.0), np.nan)
    sd = np.sqrt(aht_fit.variance)
    out["multiplier"] = np.exp(aht_fit.estimate)
    out["multiplier_lo"], out["multiplier_hi"] = np.exp(aht_fit.estimate - zq * sd), np.exp(aht_fit.estimate + zq * sd)
    out["shrinkage_weight"] = aht_fit.weight
    qa, ov, accuracy = _accuracy(pairs, sums, zq)
    out = pd.concat([out, qa, ov], axis=1)
    out["quality"] = accuracy
    out["source"] = np.where(out["days"] > 0, "records", "pool and cell effects (no records)")
    learning, plateau = _learning(rows[~tenured], z[~tenured], w[~tenured], pools,
                                  dict(zip(pairs["pair"], aht_fit.estimate)))
    summary = {"rows": int(len(frame)), "rows_used": int(len(rows)), "items": int(n.sum()), "pairs": int(len(out)),
               "pairs_with_records": int((out["days"] > 0).sum()), "tau_log_aht": float(np.sqrt(aht_fit.tau2)),
               "row_variance_a": a, "row_variance_b": b, "plateau_week_by_site": plateau, "level": float(config.level)}
    return Estimates(out[CAPABILITY_ESTIMATE_COLUMNS], learning, changes, summary)


def _accuracy(pairs: pd.DataFrame, sums: pd.DataFrame, zq: float) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """QA pass and overturn rates per pair (pooled on the logit scale) and the quality that follows."""
    cols = {}
    for name, k, n, key in (("qa_pass", "qp", "qs", QA_SAMPLED), ("overturn", "ov", "ap", APPEALS)):
        kk, nn = sums[k].to_numpy(), sums[n].to_numpy()
        if nn.sum() <= 0:
            cols[name] = (np.full(len(pairs), np.nan),) * 3
            cols[key] = nn
            continue
        y, s2 = _logit_summary(kk, nn)
        fit = _pool(pairs, y, s2)
        sd = np.sqrt(fit.variance)
        cols[name] = (_expit(fit.estimate), _expit(fit.estimate - zq * sd), _expit(fit.estimate + zq * sd))
        cols[key] = nn
    qa = pd.DataFrame({QA_SAMPLED: cols[QA_SAMPLED].astype(np.int64), "qa_pass_rate": cols["qa_pass"][0], "qa_pass_lo": cols["qa_pass"][1],
                       "qa_pass_hi": cols["qa_pass"][2]}, index=pairs.index)
    ov = pd.DataFrame({APPEALS: cols[APPEALS].astype(np.int64), "overturn_rate": cols["overturn"][0], "overturn_lo": cols["overturn"][1],
                       "overturn_hi": cols["overturn"][2]}, index=pairs.index)
    items = sums["all_items"].to_numpy()
    appeal_share = np.where(items > 0, sums["ap"].to_numpy() / np.maximum(items, 1), np.nan)
    overall = sums["ap"].sum() / max(items.sum(), 1)
    appeal_share = np.where(np.isfinite(appeal_share), appeal_share, overall)
    overturn = np.nan_to_num(ov["overturn_rate"].to_numpy(), nan=0.0)
    return qa, ov, qa["qa_pass_rate"].to_numpy() * (1.0 - appeal_share * overturn)


def _learning(rows: pd.DataFrame, z: np.ndarray, w: np.ndarray, pools: pd.DataFrame, pair_est: dict) -> tuple[pd.DataFrame, dict]:
    """Relative AHT multiplier by site and tenure week (non-increasing), and each site's full-speed week."""
    if not len(rows):
        return pd.DataFrame(columns=LEARNING_CURVE_COLUMNS), {}
    site = rows[POOL].map(dict(zip(pools[POOL], pools[SITE]))).to_numpy()
    rel = z - rows["pair"].map(pair_est).to_numpy(float)
    frame = pd.DataFrame({SITE: site, TENURE_WEEKS: np.floor(rows[TENURE_WEEKS].to_numpy(float)), "wr": w * rel, "w": w,
                          "items": rows[ITEMS].to_numpy(float), "moderator": rows[MODERATOR].to_numpy()})
    frame = frame[np.isfinite(rel)]
    g = frame.groupby([SITE, TENURE_WEEKS], sort=True)
    curve = g[["wr", "w", "items"]].sum()
    curve["moderators"] = g["moderator"].nunique()
    curve = curve.reset_index()
    curve["raw"] = curve["wr"] / curve["w"]
    fitted, plateau = np.empty(len(curve)), {}
    for s, idx in curve.groupby(SITE, sort=True).indices.items():
        fitted[idx] = isotonic_decreasing(curve["raw"].to_numpy()[idx], curve["w"].to_numpy()[idx])
        full = curve[TENURE_WEEKS].to_numpy()[idx][np.exp(fitted[idx]) <= PLATEAU]
        plateau[str(s)] = int(full.min()) if len(full) else None
    curve["raw_multiplier"] = np.exp(curve["raw"])
    curve["relative_multiplier"] = np.exp(fitted)
    curve["relative_speed"] = 1.0 / curve["relative_multiplier"]
    curve["items"] = curve["items"].astype(np.int64)
    return curve[LEARNING_CURVE_COLUMNS], plateau
