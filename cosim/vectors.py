"""Test vectors for one co-simulation: images, the golden model's expected outputs on the
weights the fault model predicts, and the MRAM contents it predicts (parent-process side)."""
from pathlib import Path

import numpy as np

from bnnmram.models.net import golden, netfile
from bnnmram.models.errors import BnnMramError
from bnnmram.models.faults.model import FaultConfig, faulty_net, rate_threshold
from bnnmram.models.faults.read_errors import net_read_weights
from bnnmram.hdl.generate import memory_of


def check_rtl_matches(net, man: dict, rtl_dir, memory: str | None = None) -> str:
    """The RTL was generated for this net (and, if given, this memory technology); returns the
    RTL's memory technology."""
    built = memory_of(man)
    if memory is not None and memory != built:
        raise BnnMramError(f"RTL in {rtl_dir} was generated for --memory {built}, not {memory}: "
                           f"run 'bnnmram gen --memory {memory}'")
    if man.get("arch") != net.arch:
        raise BnnMramError(f"RTL in {rtl_dir} was generated for arch {man.get('arch')}, "
                           f"the net is {net.arch}: run 'bnnmram gen' for this net")
    if man.get("net_sha256") != netfile.digest(net):
        raise BnnMramError(f"RTL in {rtl_dir} was generated from another net (weights or "
                           "thresholds differ): run 'bnnmram gen' for this net")
    return built


def write(path, net, images, labels, cfg: FaultConfig, samples: int | None = None,
          read_ber: float | None = None) -> Path:
    """Write the vectors npz that the cocotb test reads. A Bayesian net (`samples` = T passes per
    image): every image is sent T times in a row, one expected result per pass (the golden model
    on that pass's weight sample, read index = pass number since reset); the macro is programmed
    with the levels; cfg.seed is the sampling seed. `read_ber` (RTL built with read errors): image
    n is evaluated on its own reads of the stored weights (models.faults.read_errors, image number
    n = its position here), and the fault port t_read is driven."""
    ports = cfg.ports()
    if read_ber is not None:
        ports["t_read"] = rate_threshold(read_ber)
    arrays = {"fault_names": np.array(list(ports)), "fault": np.array(list(ports.values()), np.int64)}
    if net.is_bayesian:
        from bnnmram.models.bayes import predictive
        scores = predictive.sample_scores(net, images, samples, cfg.seed).reshape(len(images) * samples, -1)
        arrays.update(images=np.repeat(np.asarray(images, np.uint8), samples, axis=0),
                      labels=np.repeat(np.asarray(labels, np.int64), samples), scores=scores,
                      pred=scores.argmax(1), samples=np.int64(samples))
        for i, l in enumerate(net.layers):
            arrays[f"weights{i}"] = arrays[f"stored{i}"] = l.weights if l.levels is None else l.levels
    else:
        fnet = faulty_net(net, cfg)
        reads = None if not read_ber else net_read_weights(fnet, cfg.seed, read_ber, range(len(images)))
        g = golden.run(fnet, images, reads)
        arrays.update(images=np.asarray(images, np.uint8), labels=np.asarray(labels, np.int64),
                      scores=g.scores, pred=g.pred)
        for i, (l, fl) in enumerate(zip(net.layers, fnet.layers)):
            arrays[f"weights{i}"] = l.weights
            arrays[f"stored{i}"] = fl.weights
    with open(path, "wb") as fh:  # exactly this path (savez would append .npz to others)
        np.savez_compressed(fh, **arrays)
    return Path(path)
