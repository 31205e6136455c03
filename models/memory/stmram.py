"""ST-MRAM (1T-1MTJ): the technology bnnmram started with. Programming condition = write
current and pulse; its physics is models/mram/physics.py (Butler 2012), its fault model the
hash-against-threshold of models/faults/model.py (modes ber and switch), its macro
hdl/memory/stmram.py."""
from dataclasses import dataclass

from ..faults.model import FaultConfig
from ..mram import physics as phy
from .technology import ConditionOption, Technology

P = phy.MTJ_PARAMS


@dataclass(frozen=True)
class MtjCondition:
    write_ua: float
    pulse_ns: float


class StMram(Technology):
    name, title, cell, devices_per_bit = "stmram", "ST-MRAM", "1T-1MTJ", 1
    options = (ConditionOption("--write-ua", "write_ua", "uA", "MTJ write current", P.ic0_ua, P.i_max_ua),
               ConditionOption("--pulse-ns", "pulse_ns", "ns", "programming pulse", P.t_min_ns, P.t_max_ns))

    def condition(self, write_ua=None, pulse_ns=None, **_):
        c = phy.least_energy(1e-6)
        return self.check(MtjCondition(c.i_ua if write_ua is None else write_ua,
                                       c.t_ns if pulse_ns is None else pulse_ns))

    def condition_for_ber(self, ber):
        c = phy.least_energy(ber)
        return MtjCondition(c.i_ua, c.t_ns)

    def fault_config(self, cond, seed):
        return FaultConfig(seed=seed, ber=phy.wer(cond.write_ua, cond.pulse_ns))

    def faults_at_ber(self, ber, seed):   # the abstract knob is the model's own rate (unchanged)
        return FaultConfig(seed=seed, ber=ber)

    def program_energy_pj(self, cond):
        return phy.write_energy_pj(cond.write_ua, cond.pulse_ns)

    def read_energy_pj(self, cond):
        return phy.read_energy_pj()

    def cell_area(self, cond):
        _, f2, um2 = phy.cell(cond.write_ua)
        return f2, um2

    def endurance_cycles(self, cond):
        return 1e12  # MgO barrier breakdown beyond 1e12 cycles at ns pulses [Kan et al., IEDM 2016]

    def short_text(self, cond):
        return f"{cond.write_ua:.0f} uA x {cond.pulse_ns:.1f} ns"

    def write_current_ua(self, cond):
        return cond.write_ua

    def read_time_ns(self, cond):
        return P.t_read_ns
