"""Perpendicular STT-MTJ programming physics: write error rate, energy, least-energy inverse,
access transistor and cell area. Every parameter lives in MTJ_PARAMS with its source.

Write error rate (precessional regime, macrospin; Butler et al., "Switching distributions
for perpendicular spin-torque devices within the macrospin approximation", IEEE Trans.
Magn. 48(12), 4684, 2012, eq. for the long-time switching probability):

    WER(i, t) = 1 - exp( -(pi^2 Delta / 4) (i - 1) / (i exp(2 (i - 1) alpha omega0 t) - 1) )

with i = I / Ic0 > 1 and omega0 = gamma mu0 Hk; at long times WER ~ exp(-2(i-1) alpha omega0 t).
For i <= 1 there is no deterministic switching within ns pulses: WER = 1.
"""
import math
from dataclasses import asdict, dataclass

from scipy.optimize import brentq

from ..errors import BnnMramError

GAMMA = 1.760859e11  # electron gyromagnetic ratio, rad / (s T)


@dataclass(frozen=True)
class MtjParams:
    delta: float = 60.0          # thermal stability factor E_b/kT: 10-year retention of Mb arrays [Khvalkovskiy 2013]
    alpha: float = 0.01          # Gilbert damping of CoFeB/MgO free layers, 0.005-0.02 [Khvalkovskiy 2013]
    mu0_hk_t: float = 0.2        # effective anisotropy field mu0*Hk, tesla (0.1-0.5 T for p-MTJs) [Khvalkovskiy 2013]
    ic0_ua: float = 50.0         # critical switching current, uA, ~40 nm p-MTJ [Khvalkovskiy 2013; Butler 2012 scaling]
    r_p_kohm: float = 3.0        # parallel resistance, kOhm (RA ~ 5 Ohm um^2 at 40 nm)
    tmr: float = 1.0             # tunnel magnetoresistance: R_AP = R_P (1 + TMR)
    v_write: float = 1.1         # write driver supply, V (energy drawn = V * I * t)
    v_read: float = 1.1          # read supply, V
    i_read_ua: float = 20.0      # read current, uA (well below Ic0: negligible read disturb)
    t_read_ns: float = 5.0       # read sensing time, ns
    t_min_ns: float = 10.0       # shortest programming pulse, ns: the array write cycle (driver slew, bit-line RC)
    t_max_ns: float = 100.0      # longest programming pulse, ns
    i_max_ua: float = 300.0      # largest write current, uA (barrier breakdown / driver limit)
    ion_ua_per_um: float = 600.0 # access NMOS on-current per um of width at V_write (40 nm LP)
    feature_nm: float = 40.0     # F, the technology's feature size

    @property
    def omega0(self) -> float:
        """Precession angular frequency gamma * mu0 * Hk, rad/s."""
        return GAMMA * self.mu0_hk_t


MTJ_PARAMS = MtjParams()


def wer(i_ua: float, t_ns: float, p: MtjParams = MTJ_PARAMS) -> float:
    """Write error rate of one write of current i_ua (uA) for t_ns (ns)."""
    i = i_ua / p.ic0_ua
    if i <= 1 or t_ns <= 0:
        return 1.0
    x = 2 * (i - 1) * p.alpha * p.omega0 * t_ns * 1e-9
    denom = i * math.exp(min(x, 700.0)) - 1
    return -math.expm1(-(math.pi ** 2 * p.delta / 4) * (i - 1) / denom)


def write_energy_pj(i_ua: float, t_ns: float, p: MtjParams = MTJ_PARAMS) -> float:
    """Supply energy of one write, pJ: V_write * I * t."""
    return p.v_write * i_ua * 1e-6 * t_ns * 1e-9 * 1e12


def read_energy_pj(p: MtjParams = MTJ_PARAMS) -> float:
    """Energy of reading one bit, pJ."""
    return p.v_read * p.i_read_ua * 1e-6 * p.t_read_ns * 1e-9 * 1e12


@dataclass(frozen=True)
class WriteCondition:
    i_ua: float
    t_ns: float
    wer: float
    energy_pj: float
    transistor_width_nm: float
    cell_area_f2: float
    cell_area_um2: float


def current_for(target: float, t_ns: float, p: MtjParams = MTJ_PARAMS) -> float | None:
    """Current (uA) giving WER == target at pulse t_ns, or None beyond i_max."""
    if wer(p.i_max_ua, t_ns, p) > target:
        return None
    return brentq(lambda i: math.log(wer(i, t_ns, p)) - math.log(target), p.ic0_ua * (1 + 1e-9),
                  p.i_max_ua, xtol=1e-9, rtol=1e-12)


def cell(i_ua: float, p: MtjParams = MTJ_PARAMS) -> tuple[float, float, float]:
    """Access transistor width (nm) for i_ua, and the 1T-1MTJ cell area in F^2 and um^2.

    Assumption: the cell is 3F tall (gate, contact, shared source line) and as wide as the
    transistor plus 2F of contact and isolation, at least F: area = 3F * (max(W, F) + 2F)."""
    w_nm = i_ua / p.ion_ua_per_um * 1e3
    f = p.feature_nm
    area_nm2 = 3 * f * (max(w_nm, f) + 2 * f)
    return w_nm, area_nm2 / f ** 2, area_nm2 * 1e-6


def least_energy(target: float, p: MtjParams = MTJ_PARAMS, steps: int = 400) -> WriteCondition:
    """Programming condition of least energy reaching WER == target within the limits."""
    if not 0 < target < 1:
        raise BnnMramError(f"target write error rate must be in (0, 1), not {target!r}")
    best = None
    for k in range(steps + 1):
        t = p.t_min_ns * (p.t_max_ns / p.t_min_ns) ** (k / steps)
        i = current_for(target, t, p)
        if i is None:
            continue
        e = write_energy_pj(i, t, p)
        if best is None or e < best[0]:
            best = (e, i, t)
    if best is None:
        raise BnnMramError(f"WER {target:g} is out of reach within I <= {p.i_max_ua} uA, t <= {p.t_max_ns} ns")
    e, i, t = best
    w, a_f2, a_um2 = cell(i, p)
    return WriteCondition(i, t, wer(i, t, p), e, w, a_f2, a_um2)


def params_dict(p: MtjParams = MTJ_PARAMS) -> dict:
    return asdict(p)
