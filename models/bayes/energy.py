"""Energy of sampling: a Bayesian net's inference is T passes, each reading every weight once per
input vector (a conv weight at every output position) through a sampler (one hash and one
33-bit comparator per read bit); the deterministic net of the same shapes reads each weight bit
once per vector and has no samplers.

    E_pass  = weight reads per pass * E_read(RRAM, at its default condition)
              + sampler transistors * cycles per pass * ACTIVITY * C * VDD**2   (models.mram.inference)
    E_image = T * E_pass                 (deterministic: T = 1 and no sampler term)

Leakage, the rest of the logic (the same in both nets) and I/O are left out."""
from dataclasses import dataclass

from ..mram.inference import logic_energy_pj
from ..net.netfile import Net


def reads_per_pass(net: Net) -> int:
    """Weight reads of one pass: n_in * n_out per input vector, times a conv layer's positions."""
    total = 0
    for l in net.layers:
        if l.has_weights:
            positions = l.out_shape[0] * l.out_shape[1] if len(l.out_shape) == 3 else 1
            total += l.n_in * l.n_out * positions
    return total


@dataclass(frozen=True)
class SamplingEnergy:
    samples: int              # T, passes per image
    reads: int                # weight reads per image (all passes)
    read_pj: float            # their memory energy
    sampler_pj: float         # the samplers' logic energy (0 for the deterministic net)

    @property
    def total_pj(self) -> float:
        return self.read_pj + self.sampler_pj


def per_image(net: Net, samples: int, read_energy_pj: float, sampler_transistors: int,
              cycles_per_pass: int) -> SamplingEnergy:
    """Energy per image of T = `samples` passes (sampler_transistors: all samplers of the design)."""
    reads = reads_per_pass(net) * samples
    return SamplingEnergy(samples, reads, reads * read_energy_pj,
                          logic_energy_pj(sampler_transistors, cycles_per_pass * samples))
