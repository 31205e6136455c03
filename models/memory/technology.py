"""What a memory technology is to bnnmram: one interface that ST-MRAM, 1T1R RRAM and 2T2R RRAM
each implement (models/memory/stmram.py, rram.py, rram2t2r.py); a fourth technology is one
module here and one in hdl/memory/.

A technology bundles its programming physics (the bit error rate at a programming condition),
its device-level fault model (a FaultConfig, models/faults), the name of its behavioural macro
in hdl/memory/, and its energy, area and endurance model.
"""
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

from ..errors import BnnMramError
from ..faults.model import FaultConfig


@dataclass(frozen=True)
class ConditionOption:
    """One knob of a programming condition as the command line offers it."""

    flag: str        # e.g. "--compliance-ua"
    field: str       # the condition dataclass field
    unit: str
    help: str
    low: float       # accepted range
    high: float


class Technology(ABC):
    name: str            # the --memory value
    title: str           # for tables and figures
    cell: str            # e.g. "1T-1MTJ"
    devices_per_bit: int
    options: tuple[ConditionOption, ...]

    @abstractmethod
    def condition(self, **values):
        """A programming condition from option values (defaults for those not given)."""

    @abstractmethod
    def condition_for_ber(self, ber: float):
        """The condition the abstract --ber knob stands for (0 < ber < 1)."""

    @abstractmethod
    def fault_config(self, cond, seed: int) -> FaultConfig:
        """The write-error model of one fault pattern programmed at `cond`."""

    def error_free(self, seed: int) -> FaultConfig:
        """Writing without errors, as this technology's macro takes it (--ber 0)."""
        return FaultConfig(seed=seed)

    def faults_at_ber(self, ber: float, seed: int) -> FaultConfig:
        """--ber B: B = 0 is error_free; else the model at condition_for_ber(B)."""
        if ber == 0:
            return self.error_free(seed)
        return self.fault_config(self.condition_for_ber(ber), seed)

    @abstractmethod
    def short_text(self, cond) -> str:
        """The condition in a table cell, e.g. '110 uA x 10.0 ns'."""

    @abstractmethod
    def write_current_ua(self, cond) -> float:
        """The programming current of `cond`, uA."""

    @abstractmethod
    def read_time_ns(self, cond) -> float:
        """Time of one read (a write-verify step), ns."""

    def ber(self, cond) -> float:
        """Mean of the two directions' modelled error rates at `cond`."""
        r1, r0 = self.fault_config(cond, 0).realised_rates
        return (r1 + r0) / 2

    @abstractmethod
    def program_energy_pj(self, cond) -> float:
        """Expected supply energy to store one weight bit (half ones, half zeros), pJ."""

    @abstractmethod
    def read_energy_pj(self, cond) -> float:
        """Energy of reading one weight bit, pJ (sense circuit included)."""

    @abstractmethod
    def cell_area(self, cond) -> tuple[float, float]:
        """(area of one weight bit's cell(s) in F^2, in um^2)."""

    @abstractmethod
    def endurance_cycles(self, cond) -> float:
        """Programming cycles a word survives at `cond`."""

    def check(self, cond):
        for o in self.options:
            v = getattr(cond, o.field)
            if not (o.low <= v <= o.high):
                raise BnnMramError(f"{o.flag} {v:g} is outside the {self.title} model's range "
                                   f"[{o.low:g}, {o.high:g}] {o.unit}")
        return cond

    def describe(self, cond) -> dict:
        """The condition and what it gives, for JSON reports and the manifest."""
        r1, r0 = self.fault_config(cond, 0).realised_rates
        return {"memory": self.name, "condition": asdict(cond), "ber_write1": r1, "ber_write0": r0,
                "program_energy_pj_per_bit": self.program_energy_pj(cond),
                "read_energy_pj_per_bit": self.read_energy_pj(cond),
                "cell_area_f2": self.cell_area(cond)[0], "endurance_cycles": self.endurance_cycles(cond)}

    def condition_text(self, cond) -> str:
        return ", ".join(f"{o.flag[2:]} {getattr(cond, o.field):g}" for o in self.options)
