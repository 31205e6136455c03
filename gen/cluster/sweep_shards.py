"""`bnnmram sweep --workers N | --scheduler ADDR`: the sweep's (net, BER, trial) points as Dask
tasks. Each worker builds a net's campaign once (cached per worker process) and returns the
accuracy of its points; the results land in the same matrix the single-process sweep fills, so
sweep.csv is byte-identical (tests/test_regress.py)."""
from functools import lru_cache

import numpy as np

from bnnmram.models.faults.model import FaultConfig
from bnnmram.models.faults.sweep import NetSweep, sweep_of, trial_config
from . import client, gather


@lru_cache(maxsize=8)
def _campaign(net_path, sha, dataset, data_dir, limit, layers, thresholds, read_errors):
    """The campaign of one sweep run, built once per worker process (sha: the net's identity)."""
    from bnnmram.models.data import datasets
    from bnnmram.models.faults.reference import campaign_for
    from bnnmram.models.net import netfile
    x, y = datasets.load(dataset, data_dir).test_subset(limit)
    return campaign_for(netfile.load(net_path), x, y, None if layers is None else list(layers),
                        thresholds=thresholds, read_errors=read_errors)


def point_accuracy(run: tuple, cfg: FaultConfig) -> float:
    """Accuracy of one sweep point: `run` = the _campaign key."""
    return _campaign(*run).accuracy(cfg)


def sweep(runs: list[tuple], labels: list[str], bers: list, trials: int, seed: int,
          scheduler: str | None, workers: int | None) -> list[NetSweep]:
    """NetSweeps of `runs` (campaign keys) as the single-process sweep computes them
    (models.faults.sweep.trial_config)."""
    with client(scheduler, workers, "sweep") as c:
        futures, where = [], {}
        for r, run in enumerate(runs):
            f = c.submit(point_accuracy, run, FaultConfig(), pure=False)
            futures.append(f)
            where[f.key] = (r, None, None)
            for t in range(trials):
                for i, b in enumerate(bers):
                    f = c.submit(point_accuracy, run, trial_config(seed, t, b), pure=False)
                    futures.append(f)
                    where[f.key] = (r, i, t)
        acc = [np.zeros((len(bers), trials)) for _ in runs]
        clean = [None] * len(runs)
        for fut, a in gather(c, futures, "sweep", "point"):
            r, i, t = where[fut.key]
            if i is None:
                clean[r] = a
            else:
                acc[r][i, t] = a
    return [sweep_of(label, clean[r], bers, acc[r]) for r, label in enumerate(labels)]
