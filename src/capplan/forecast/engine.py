"""Where statsforecast runs: in this process / a local process pool, or on Dask through fugue.

Both return plain pandas frames sorted by ``unique_id`` then ``cutoff`` (cross-validation) and
``ds``, with float64 forecasts, so callers never see which engine ran. Dask results are computed
by statsforecast in float32 (fugue's schema), so they match local results to float32 tolerance.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterator

import pandas as pd

from capplan.errors import ConfigError


class Engine:
    """Runs statsforecast ``forecast`` / ``cross_validation`` calls.

    Parameters
    ----------
    kind : {"local", "dask"}
    n_jobs : int
        Local worker processes (``local`` only).
    client : dask.distributed.Client, optional
        Dask client (``dask`` only).
    """

    def __init__(self, kind: str = "local", n_jobs: int = 1, client=None):
        self.kind = kind
        self.n_jobs = n_jobs
        self.client = client

    def _partitions(self, df: pd.DataFrame):
        import dask.dataframe as dd

        n_ids = df["unique_id"].nunique()
        workers = max(1, len(self.client.scheduler_info().get("workers", {}))) if self.client else 2
        nparts = max(1, min(n_ids, 2 * workers))
        # statsforecast's fugue backend regroups rows by unique_id itself
        return dd.from_pandas(df, npartitions=nparts, sort=False)

    def _sf(self, models, freq):
        from statsforecast import StatsForecast

        return StatsForecast(models=models, freq=freq, n_jobs=self.n_jobs if self.kind == "local" else 1)

    def forecast(self, models, freq: str, df: pd.DataFrame, h: int) -> pd.DataFrame:
        sf = self._sf(models, freq)
        with warnings.catch_warnings():  # numeric warnings of degenerate fits; results are checked
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.kind == "dask":
                out = sf.forecast(df=self._partitions(df), h=h).compute()
            else:
                out = sf.forecast(df=df, h=h)
        return _tidy(out, ["unique_id", "ds"])

    def cross_validation(self, models, freq: str, df: pd.DataFrame, h: int, step_size: int, n_windows: int,
                         input_size: int | None, refit: bool = True) -> pd.DataFrame:
        sf = self._sf(models, freq)
        kw = dict(h=h, step_size=step_size, n_windows=n_windows, input_size=input_size, refit=refit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.kind == "dask":
                out = sf.cross_validation(df=self._partitions(df), **kw).compute()
            else:
                out = sf.cross_validation(df=df, **kw)
        return _tidy(out, ["unique_id", "cutoff", "ds"])


def _tidy(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = out.reset_index() if "unique_id" not in out.columns else out
    out = pd.DataFrame({c: out[c] for c in out.columns})
    out["unique_id"] = out["unique_id"].astype(str)
    for c in out.columns:
        if c not in ("unique_id", "ds", "cutoff"):
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        else:
            if c != "unique_id":
                out[c] = pd.to_datetime(out[c])
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


@contextmanager
def open_engine(kind: str, n_jobs: int, dask_address: str | None = None) -> Iterator[Engine]:
    """An :class:`Engine`; for ``dask`` connect to ``dask_address`` or start a small LocalCluster.

    The cluster (if started here) is closed on exit.
    """
    if kind != "dask":
        yield Engine("local", n_jobs)
        return
    try:
        import fugue  # noqa: F401  (statsforecast runs on Dask through fugue)
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(f"--engine dask needs Dask and fugue ({exc.name} is not installed). "
                          "Fix: pip install 'capplan[dask]' (or -e '.[dask]' in a checkout), or use --engine local") from None

    if dask_address:
        client = Client(dask_address)
        try:
            yield Engine("dask", 1, client)
        finally:
            client.close()
        return
    workers = n_jobs if n_jobs and n_jobs > 0 else 2
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        yield Engine("dask", 1, client)
    finally:
        client.close()
        cluster.close()
