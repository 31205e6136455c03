"""Dask for the commands that fan out (`bnnmram regress`, `bnnmram sweep --workers/--scheduler`):
a `distributed.LocalCluster` of worker processes (one thread each) by default, or an existing
cluster at `--scheduler tcp://HOST:PORT` (its workers need bnnmram installed and the same paths
to nets, data and output folders: a shared file system).

Dask reschedules the tasks of a worker that dies (up to `distributed.scheduler.allowed-failures`
times, default 3); a task that raises is not retried: callers catch their own failures and
return them as results.
"""
import contextlib
import logging
import os

from tqdm import tqdm

from bnnmram.models.errors import BnnMramError


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None, what: str = "bnnmram"):
    """A dask.distributed Client: to `scheduler`, or to a new LocalCluster of `workers`
    processes (default: the machine's cores). Prints the dashboard address."""
    from dask.distributed import Client, LocalCluster
    import dask
    if scheduler and workers:
        raise BnnMramError("give --scheduler (an existing cluster) or --workers (a local one), not both")
    cluster = None
    with dask.config.set({"distributed.worker.daemon": False,   # workers may start simulators
                          "distributed.scheduler.worker-ttl": None}):
        try:
            if scheduler:
                c = Client(scheduler, timeout=30)
            else:
                n = workers or os.cpu_count() or 1
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
                c = Client(cluster)
        except (OSError, ValueError, TypeError) as e:   # refused, timed out, or an address Dask cannot parse
            raise BnnMramError(f"cannot reach the Dask scheduler {scheduler}: {e}") from None
        try:
            n = len(c.scheduler_info()["workers"])
            where = scheduler or f"a local cluster of {n} worker processes"
            print(f"{what}: Dask on {where}; dashboard {c.dashboard_link}", flush=True)
            yield c
        finally:
            c.close()
            if cluster is not None:
                cluster.close()


def gather(c, futures, desc: str, unit: str = "run"):
    """Results of `futures` in completion order (future, result), with a progress bar."""
    from dask.distributed import as_completed
    with tqdm(total=len(futures), desc=desc, unit=unit) as bar:
        for fut, result in as_completed(futures, with_results=True):
            bar.update(1)
            yield fut, result
