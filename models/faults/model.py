"""ST-MRAM write-error model: a counter-based hash of a weight's logical coordinates.

Whether a written bit ends up wrong depends only on (seed, layer, neuron, input index, write
count), never on memory addresses or timing, so every hardware folding flips the same weights
as this model. The hash is 8 rounds of a Speck-like add-rotate-xor (ARX) mix on two 32-bit
words: cheap in logic (adders, xors, wires), good enough statistically (see tests).

    v0 = layer << 24 | (write & 0xFFFFFF)        v1 = neuron << 16 | index  (models.faults.coordinates)
    round r: v0 = (rotr(v0, 8) + v1) ^ (seed + r * 0x9E3779B9);  v1 = rotl(v1, 3) ^ v0
    hash = v0 ^ v1                                (32 bits, uniform)

A write of bit d fails iff hash < T_d, T_d = round(rate * 2**32) in [0, 2**32] (33 bits):
rate 0 never fails, rate 1 always fails. Mode "ber": every written bit fails with its rate
(the papers' abstraction). Mode "switch" (failure to switch): a write that does not change
the cell never fails; a 0->1 write fails at rate_01, a 1->0 write at rate_10; the array
starts in `init_state`. A failed write leaves the cell at the opposite value of d.
"""
from dataclasses import dataclass

import numpy as np

from ..arx import MASK32
from ..errors import BnnMramError
from ..net.netfile import MAX_LAYERS as NET_MAX_LAYERS, MAX_WIDTH
from .coordinates import WRITE_BITS, fault_hash, layer_hash  # noqa: F401 (the model's names)
from .device import DeviceFaults, device_failures, error_rates

ONE = 1 << 32  # threshold scale: T = round(rate * 2**32)
MAX_NEURONS = MAX_INPUTS = MAX_WIDTH  # 16-bit neuron and index fields of the hash
MAX_LAYERS = NET_MAX_LAYERS  # 7 bits; layers 128..255 of the hash name thresholds


def rate_threshold(rate: float) -> int:
    """Quantise a rate in [0, 1] to the 33-bit threshold T = round(rate * 2**32)."""
    rate = float(rate)
    if not (0.0 <= rate <= 1.0):  # also rejects NaN
        raise BnnMramError(f"bit error rate must be in [0, 1], not {rate!r}")
    return int(round(rate * ONE))


@dataclass(frozen=True)
class FaultConfig:
    """Write-error parameters. `ber` sets both directions unless rate_01/rate_10 are given."""

    seed: int = 0
    ber: float = 0.0
    mode: str = "ber"            # "ber" or "switch"
    rate_01: float | None = None  # failure rate of writing a 1 (0->1 switch in "switch" mode)
    rate_10: float | None = None  # failure rate of writing a 0 (1->0 switch)
    init_state: int = 0          # "switch" mode: every cell's value before the first write
    device: DeviceFaults | None = None  # resistive cells: device-level errors (models.faults.device)

    def __post_init__(self):
        if self.device is not None and (self.mode != "ber" or self.ber or self.rate_01 is not None
                                        or self.rate_10 is not None):
            raise BnnMramError("a resistive cell's write errors come from its devices: no --ber, "
                               "--rate01/--rate10 or switch mode beside a programming condition")
        if self.mode not in ("ber", "switch"):
            raise BnnMramError(f"fault mode must be 'ber' or 'switch', not {self.mode!r}")
        if self.init_state not in (0, 1):
            raise BnnMramError(f"initial MRAM state must be 0 or 1, not {self.init_state!r}")
        if not (0 <= int(self.seed) <= MASK32):
            raise BnnMramError(f"fault seed must be a 32-bit unsigned integer, not {self.seed!r}")
        for r in (self.ber, self.rate_01, self.rate_10):
            if r is not None:
                rate_threshold(r)

    @property
    def t01(self) -> int:
        """33-bit threshold for writes of a 1."""
        return rate_threshold(self.ber if self.rate_01 is None else self.rate_01)

    @property
    def t10(self) -> int:
        """33-bit threshold for writes of a 0."""
        return rate_threshold(self.ber if self.rate_10 is None else self.rate_10)

    @property
    def switch_only(self) -> bool:
        return self.mode == "switch"

    @property
    def realised_rates(self) -> tuple[float, float]:
        """The rates the quantised thresholds (or device model) really give (write-1, write-0)."""
        if self.device is not None:
            return error_rates(self.device)
        return self.t01 / ONE, self.t10 / ONE

    def ports(self) -> dict:
        """The hardware macro's run-time fault port values (name -> int), docs/fault-model.md."""
        if self.device is not None:
            return {"seed": int(self.seed), **self.device.ports()}
        return {"seed": int(self.seed), "t01": self.t01, "t10": self.t10, "switch_only": int(self.switch_only)}

    @property
    def is_zero(self) -> bool:
        return self.device is None and self.t01 == 0 and self.t10 == 0


def write_failures(bits: np.ndarray, layer: int, cfg: FaultConfig, old: np.ndarray | None = None,
                   write: int = 0, hashes: np.ndarray | None = None) -> np.ndarray:
    """Bool mask [n_out, n_in] of the writes of `bits` (1 = +1) to `layer` that fail.

    `old` is the array's content before this write (defaults to `cfg.init_state`);
    `hashes` may pass layer_hash(bits.shape, layer, cfg.seed, write) computed before."""
    bits = np.asarray(bits, np.uint8)
    n_out, n_in = bits.shape
    if n_out > MAX_NEURONS or n_in > MAX_INPUTS or not (0 <= layer < THRESHOLD_LAYER_OFFSET + MAX_LAYERS):
        raise BnnMramError(f"layer {layer} ({n_in}x{n_out}) exceeds the fault model's "
                           f"coordinate ranges (65536 neurons/inputs, 128 layers)")
    if cfg.is_zero:
        return np.zeros(bits.shape, bool)
    if cfg.device is not None:
        return device_failures(bits, layer, cfg.seed, cfg.device, write, hashes)
    h = layer_hash(bits.shape, layer, cfg.seed, write) if hashes is None else hashes

    def below(t):  # h < T with T in [0, 2**32], on uint32 without widening
        return np.ones(h.shape, bool) if t >= ONE else h < np.uint32(t)
    t01, t10 = cfg.t01, cfg.t10
    fail = below(t01) if t01 == t10 else np.where(bits == 1, below(t01), below(t10))
    if cfg.switch_only:
        if old is None:
            old = np.full_like(bits, cfg.init_state)
        fail &= (old != bits)
    return fail


def uniform_threshold(cfg: FaultConfig) -> int | None:
    """T where every write fails alike (mode 'ber', one rate): a write fails <=> hash < T, as
    write_failures decides it. None where failures depend on the bit written, the old content or
    the devices of a resistive cell."""
    if cfg.device is not None:
        return None
    return cfg.t01 if not cfg.switch_only and cfg.t01 == cfg.t10 else None


def stored_bits(bits: np.ndarray, layer: int, cfg: FaultConfig, old: np.ndarray | None = None,
                write: int = 0, hashes: np.ndarray | None = None) -> np.ndarray:
    """What the MRAM holds after writing `bits` [n_out, n_in] (1 = +1) of `layer`: a failed
    write leaves the cell at the opposite value."""
    bits = np.asarray(bits, np.uint8)
    return bits ^ write_failures(bits, layer, cfg, old, write, hashes).astype(np.uint8)


THRESHOLD_LAYER_OFFSET = 128  # hash "layer" of layer l's thresholds: a namespace apart from weights


def threshold_width(layer) -> int:
    """Bits of a stored threshold: two's complement of the dot-product range, plus 2."""
    return (layer.dot_peak + 2).bit_length() + 1


def stored_thresholds(layer, index: int, cfg: FaultConfig):
    """(thresholds, flip) as a memory holding them would after one write: the threshold as a
    `threshold_width`-bit two's complement word, the comparison direction as one more bit;
    each bit fails like a weight bit, hashed at (128 + layer, neuron, bit position)."""
    w = threshold_width(layer)
    t = np.asarray(layer.thresholds, np.int64)
    words = (t & ((1 << w) - 1)) | (np.asarray(layer.flip, np.int64) << w)
    bits = ((words[:, None] >> np.arange(w + 1)[None, :]) & 1).astype(np.uint8)
    bits = stored_bits(bits, THRESHOLD_LAYER_OFFSET + index, cfg)
    words = (bits.astype(np.int64) << np.arange(w + 1)[None, :]).sum(1)
    t_new = words & ((1 << w) - 1)
    t_new = np.where(t_new >> (w - 1), t_new - (1 << w), t_new)
    return t_new, (words >> w).astype(bool)


def faulty_net(net, cfg: FaultConfig, thresholds: bool = False):
    """The net as a freshly programmed MRAM would hold it (first write of every weight);
    with `thresholds`, the thresholds are stored with write errors too."""
    out = net.with_weights([stored_bits(l.weights, i, cfg) for i, l in enumerate(net.layers)])
    if thresholds:
        for i, l in enumerate(out.layers):
            if l.has_weights and not l.is_output:   # a maxpool has no thresholds
                l.thresholds, l.flip = stored_thresholds(l, i, cfg)
    return out
