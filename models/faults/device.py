"""Device-level write errors of resistive cells: each device's resistance comes from the fault
hash, the stored bit is what the sense circuit reads from it (docs/fault-model.md, "Resistive
cells").

Device d of a weight (d = 0 on the bit line BL, d = 1 on BLb for 2T2R) hashes the weight's
logical coordinates with seed ^ DEVICE_KEY[d] (device 0: the seed itself, the ST-MRAM hash).
The hash h becomes a standard-normal quantile z(h) (integer, units of 1/1024) through one table
(`models.faults.ztable.Z`, generated once and shared with the hardware):

    g = h            if h < 2**31, else 2**32 - 1 - h      (the upper half mirrors the lower)
    n = bit_length(g)                                       (0..31)
    m = ((g << 4) >> (n - 1)) & 15  if n >= 1, else 0       (the 4 bits after g's leading one)
    z = Z[16 n + m]  if h < 2**31, else -Z[16 n + m]

and the device's log-resistance code (units of 1/256 neper, ln(R / 1 Ohm) * 256) is

    lnR = mu + ((sigma * z) >> 10)                          (>> is an arithmetic shift: floor)

with (mu, sigma) of the state it is programmed to: SET (LRS) for the device that holds a 1,
RESET (HRS) for the one that holds a 0. A 1 is stored as BL device in LRS (1T1R: the one
device in LRS; 2T2R: BL in LRS, BLb in HRS). The sense circuit reads

    1T1R:  bit = lnR_0 < ref                                (a reference resistance)
    2T2R:  bit = lnR_0 < lnR_1                              (the PCSA compares the pair)

and a write fails when that read differs from the bit written. Ties read 0.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..arx import MASK32
from ..errors import BnnMramError
from .coordinates import layer_hash
from .ztable import MANTISSA_BITS, Z, Z_SCALE_BITS

DEVICE_KEY = (0x00000000, 0x6A09E667)   # seed ^ key per device: BL, BLb (sqrt(2)'s fraction)
LNR_SCALE = 256        # log-resistance codes: units of 1/256 neper
MU_BITS = 16           # unsigned, ln(R / 1 Ohm) * 256: R up to e**256
SIGMA_BITS = 12        # unsigned, sigma_ln * 256: spreads up to 16 nepers
CELLS = ("1t1r", "2t2r")
Z_TABLE = np.asarray(Z, np.int64)


@dataclass(frozen=True)
class DeviceFaults:
    """The run-time parameters of a resistive cell's write errors, as integer codes (the
    hardware's fault ports): log-resistance median and spread of each programmed state, and for
    1T1R the reference."""

    cell: str               # "1t1r" or "2t2r"
    set_mu: int             # LRS median, ln(R / 1 Ohm) * 256
    set_sigma: int          # LRS spread of ln R, * 256
    reset_mu: int           # HRS median
    reset_sigma: int        # HRS spread
    ref: int = 0            # 1T1R reference, ln(R_ref / 1 Ohm) * 256 (2T2R: unused, 0)

    def __post_init__(self):
        if self.cell not in CELLS:
            raise BnnMramError(f"resistive cell must be one of {', '.join(CELLS)}, not {self.cell!r}")
        for name, bits in (("set_mu", MU_BITS), ("set_sigma", SIGMA_BITS), ("reset_mu", MU_BITS),
                           ("reset_sigma", SIGMA_BITS), ("ref", MU_BITS)):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and 0 <= int(v) < 1 << bits):
                raise BnnMramError(f"device parameter {name} must be an integer in [0, 2**{bits}), not {v!r}")

    def ports(self) -> dict:
        """Fault-port values of the hardware macro (without the seed)."""
        out = {"set_mu": self.set_mu, "set_sigma": self.set_sigma, "reset_mu": self.reset_mu,
               "reset_sigma": self.reset_sigma}
        if self.cell == "1t1r":
            out["ref"] = self.ref
        return out


def error_free(cell: str) -> DeviceFaults:
    """Codes that read every write back correctly (LRS at 0, HRS at the largest code, no
    spread): what the fault ports hold for error-free writing (--ber 0)."""
    return DeviceFaults(cell, 0, 0, (1 << MU_BITS) - 1, 0, 1 << (MU_BITS - 1) if cell == "1t1r" else 0)


def z_index(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(table index 16 n + m, negate) of 32-bit hashes (arrays)."""
    h = np.asarray(h, np.uint64)
    upper = h >= np.uint64(1 << 31)
    g = np.where(upper, np.uint64(MASK32) - h, h)
    n = np.frexp(g.astype(np.float64))[1].astype(np.int64)       # bit_length, exact below 2**53
    shift = np.maximum(n - 1, 0).astype(np.uint64)
    m = ((g << np.uint64(MANTISSA_BITS)) >> shift) & np.uint64((1 << MANTISSA_BITS) - 1)
    m = np.where(n == 0, 0, m.astype(np.int64))
    return (n << MANTISSA_BITS) + m, upper


def z_code(h: np.ndarray) -> np.ndarray:
    """The quantised standard-normal quantile of each hash, int64 in units of 2**-10."""
    idx, neg = z_index(h)
    z = Z_TABLE[idx]
    return np.where(neg, -z, z)


def log_resistance(z: np.ndarray, mu: int, sigma: int) -> np.ndarray:
    """lnR = mu + ((sigma * z) >> 10): the device's log-resistance code (int64)."""
    return int(mu) + ((int(sigma) * np.asarray(z, np.int64)) >> Z_SCALE_BITS)


def sensed(bits: np.ndarray, z0: np.ndarray, z1: np.ndarray | None, dev: DeviceFaults) -> np.ndarray:
    """What the sense circuit reads from cells written with `bits` (1 = BL device in LRS)
    whose devices drew quantiles z0 (BL) and z1 (BLb, 2T2R only)."""
    bits = np.asarray(bits, bool)
    lnr0 = np.where(bits, log_resistance(z0, dev.set_mu, dev.set_sigma),
                    log_resistance(z0, dev.reset_mu, dev.reset_sigma))
    if dev.cell == "1t1r":
        return lnr0 < dev.ref
    lnr1 = np.where(bits, log_resistance(z1, dev.reset_mu, dev.reset_sigma),
                    log_resistance(z1, dev.set_mu, dev.set_sigma))
    return lnr0 < lnr1


def device_failures(bits: np.ndarray, layer: int, seed: int, dev: DeviceFaults, write: int = 0,
                    hashes: np.ndarray | None = None) -> np.ndarray:
    """Bool mask [n_out, n_in] of the writes of `bits` to `layer` whose read differs from the
    bit written. `hashes`: device 0's layer hash at this seed and write, if computed before."""
    bits = np.asarray(bits, np.uint8)
    h0 = layer_hash(bits.shape, layer, seed, write) if hashes is None else hashes
    z0 = z_code(h0)
    z1 = z_code(layer_hash(bits.shape, layer, int(seed) ^ DEVICE_KEY[1], write)) if dev.cell == "2t2r" else None
    return sensed(bits, z0, z1, dev) != bits.astype(bool)


@lru_cache(maxsize=1)
def bin_masses() -> tuple[np.ndarray, np.ndarray]:
    """(z codes, hash counts) of every bin of z(h): how many of the 2**32 hashes give each
    quantile (both halves), for exact error probabilities."""
    zs, counts = [], []
    for n in range(32):
        for m in range(1 << MANTISSA_BITS):
            lo, hi = ztable_bin(n, m)
            if hi > lo:
                zs += [Z[(n << MANTISSA_BITS) + m], -Z[(n << MANTISSA_BITS) + m]]
                counts += [hi - lo, hi - lo]
    return np.asarray(zs, np.int64), np.asarray(counts, np.int64)


def ztable_bin(n: int, m: int) -> tuple[int, int]:
    """The range [lo, hi) of mirrored hashes g (lower half) that map to table entry (n, m);
    empty (lo == hi) where no g does."""
    if n == 0:
        return (0, 1) if m == 0 else (0, 0)
    top = n - 1                              # the leading one's position
    if top >= MANTISSA_BITS:
        step = 1 << (top - MANTISSA_BITS)
        lo = (1 << top) + m * step
        return lo, lo + step
    low = MANTISSA_BITS - top                # fewer bits below the leading one than mantissa bits
    if m & ((1 << low) - 1):
        return 0, 0
    g = (1 << top) + (m >> low)
    return g, g + 1


def error_rates(dev: DeviceFaults) -> tuple[float, float]:
    """Exact failure probabilities (writing a 1, writing a 0) of the quantised model over all
    2**32 hashes per device."""
    z, c = bin_masses()
    total = float(1 << 32)
    l_set = log_resistance(z, dev.set_mu, dev.set_sigma)
    l_reset = log_resistance(z, dev.reset_mu, dev.reset_sigma)
    if dev.cell == "1t1r":
        return float(c[l_set >= dev.ref].sum() / total), float(c[l_reset < dev.ref].sum() / total)
    # 2T2R: a 1 fails iff lnR_BL(set) >= lnR_BLb(reset); a 0 iff lnR_BL(reset) < lnR_BLb(set)
    order = np.argsort(l_reset, kind="stable")
    sr, cr = l_reset[order], np.cumsum(c[order].astype(np.float64))
    below_eq = np.searchsorted(sr, l_set, side="right")           # resets <= each set value
    p1 = float((c * np.where(below_eq > 0, cr[below_eq - 1], 0.0)).sum() / total ** 2)
    below = np.searchsorted(sr, l_set, side="left")                # resets < each set value
    p0 = float((c * np.where(below > 0, cr[below - 1], 0.0)).sum() / total ** 2)
    return p1, p0
