"""Sweep points of a memory technology: a programming condition (or the condition an abstract
BER stands for) that gives each trial's FaultConfig (models.faults.sweep.trial_config)."""
from dataclasses import dataclass

from ..faults.model import FaultConfig
from . import technology


@dataclass(frozen=True)
class ConditionPoint:
    memory: str
    condition: object          # the technology's condition dataclass; None: error-free (BER 0)
    nominal_ber: float | None = None   # the --ber it stands for, if any

    @property
    def ber(self) -> float:
        """The x value: the --ber given, else the condition's modelled BER."""
        if self.nominal_ber is not None:
            return self.nominal_ber
        return technology(self.memory).ber(self.condition)

    def config(self, seed: int) -> FaultConfig:
        if self.condition is None:
            return FaultConfig(seed=seed)
        return technology(self.memory).fault_config(self.condition, seed)

    def info(self) -> dict:
        tech = technology(self.memory)
        if self.condition is None:
            return {"memory": self.memory, "condition": "error-free", "modelled_ber": 0.0, "energy_pj_per_bit": 0.0}
        return {"memory": self.memory, "condition": tech.condition_text(self.condition),
                "modelled_ber": tech.ber(self.condition),
                "energy_pj_per_bit": tech.program_energy_pj(self.condition)}


def ber_points(memory: str, bers) -> list:
    """The points of a BER sweep: ST-MRAM keeps its rates (plain floats); a resistive
    technology the condition each BER stands for (condition_for_ber)."""
    if memory == "stmram":
        return list(bers)
    tech = technology(memory)
    return [ConditionPoint(memory, None if b == 0 else tech.condition_for_ber(b), b) for b in bers]


def condition_points(memory: str, grid: dict) -> list:
    """Every combination of the condition option lists in `grid` (field -> values; the others
    at their defaults), ordered by modelled BER (so 'tolerated' reads left to right)."""
    import itertools
    tech = technology(memory)
    fields = list(grid)
    pts = [ConditionPoint(memory, tech.condition(**dict(zip(fields, combo))))
           for combo in itertools.product(*(grid[f] for f in fields))]
    return sorted(pts, key=lambda p: p.ber)
