"""What 1T1R and 2T2R HfO2 RRAM share: the programming condition (SET compliance current,
RESET voltage, pulse), its physics (models/memory/rram_physics.py) turned into the device
model's integer codes (models/faults/device.py), and the standard programming path behind the
abstract --ber knob."""
import math
from functools import lru_cache

from ..errors import BnnMramError
from ..faults.device import LNR_SCALE, DeviceFaults, error_free, error_rates
from ..faults.model import FaultConfig
from . import rram_physics as rp
from .technology import ConditionOption, Technology

P = rp.RRAM_PARAMS
DEFAULT = rp.RramCondition(100.0, 1.2, 100.0)   # a strong condition (BER ~1e-9 on 1T1R)
BER_STEPS = 60   # bisection steps of condition_for_ber along the path


def path(s: float) -> rp.RramCondition:
    """The standard programming path, s in [0, 1]: compliance log-spaced from i_min to i_max,
    RESET voltage linear from v_min to v_max, pulse 100 ns."""
    return rp.RramCondition(P.i_min_ua * (P.i_max_ua / P.i_min_ua) ** s, P.v_min + (P.v_max - P.v_min) * s,
                            DEFAULT.pulse_ns)


def code(x: float) -> int:
    return int(round(LNR_SCALE * x))


class Resistive(Technology):
    options = (ConditionOption("--compliance-ua", "compliance_ua", "uA", "SET compliance current",
                               P.i_min_ua, P.i_max_ua),
               ConditionOption("--reset-v", "reset_v", "V", "RESET voltage", P.v_min, P.v_max),
               ConditionOption("--pulse-ns", "pulse_ns", "ns", "SET and RESET pulse", P.t_min_ns, P.t_max_ns))
    sense: str   # "1t1r" or "2t2r"

    def condition(self, compliance_ua=None, reset_v=None, pulse_ns=None, **_):
        return self.check(rp.RramCondition(DEFAULT.compliance_ua if compliance_ua is None else compliance_ua,
                                           DEFAULT.reset_v if reset_v is None else reset_v,
                                           DEFAULT.pulse_ns if pulse_ns is None else pulse_ns))

    def device(self, cond) -> DeviceFaults:
        """The device model's codes at `cond`; 1T1R: the reference trimmed to the point where
        both states are equally many sigmas away (equal error rates)."""
        r_l, s_l = rp.lrs(cond)
        r_h, s_h = rp.hrs(cond)
        mu_l, mu_h = math.log(r_l), math.log(r_h)
        ref = (mu_l * s_h + mu_h * s_l) / (s_l + s_h)
        return DeviceFaults(self.sense, code(mu_l), code(s_l), code(mu_h), code(s_h),
                            code(ref) if self.sense == "1t1r" else 0)

    def fault_config(self, cond, seed):
        return FaultConfig(seed=seed, device=self.device(cond))

    def error_free(self, seed):
        """Device codes that never fail (the macro's ports take codes, not rates)."""
        return FaultConfig(seed=seed, device=error_free(self.sense))

    def short_text(self, cond):
        return f"{cond.compliance_ua:.1f} uA, {cond.reset_v:.2f} V, {cond.pulse_ns:.0f} ns"

    def write_current_ua(self, cond):
        return cond.compliance_ua

    def read_time_ns(self, cond):
        return P.t_read_ns

    def ber(self, cond):
        return _mean_ber(self.device(cond))

    def condition_for_ber(self, ber):
        """The weakest condition on `path` whose modelled BER is at most `ber` (bisection)."""
        if not 0 < ber < 1:
            raise BnnMramError(f"bit error rate must be in (0, 1) for a programming condition, not {ber!r}")
        lo, hi = 0.0, 1.0
        if self.ber(path(hi)) > ber:
            raise BnnMramError(f"BER {ber:g} is out of reach of {self.title} within its strongest condition "
                               f"({self.condition_text(path(1.0))})")
        if self.ber(path(lo)) <= ber:
            return path(lo)
        for _ in range(BER_STEPS):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if self.ber(path(mid)) <= ber else (mid, hi)
        return path(hi)

    def endurance_cycles(self, cond):
        return rp.endurance_cycles(cond)


@lru_cache(maxsize=4096)
def _mean_ber(dev: DeviceFaults) -> float:
    r1, r0 = error_rates(dev)
    return (r1 + r0) / 2
