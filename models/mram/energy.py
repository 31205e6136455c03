"""The paper's claim as numbers: programming energy and area of four ways to store a net's
weights in ST-MRAM at a usable accuracy, with every assumption in ASSUMPTIONS.

(a) strong programming to BER 1e-6, no ECC
(b) relaxed programming + SECDED (72,64) reaching the same effective BER 1e-6
(c) write-verify-retry (weak writes, each verified by a read, retried) reaching 1e-6
(d) weak programming at the largest BER the net tolerates (accuracy within 1 point), no ECC
"""
from dataclasses import dataclass

import numpy as np

from ..ecc import secded as ecc
from ..memory import technology

TARGET_BER = 1e-6
ECC_DATA_BITS = 64
MAX_RETRIES = 4

ASSUMPTIONS = [
    "Write error rate: Butler et al., IEEE Trans. Magn. 48, 4684 (2012), precessional regime; "
    "MTJ parameters in models/mram/physics.py (MtjParams), each with its source.",
    "Programming condition: least supply energy V*I*t reaching the BER with pulse in "
    "[t_min, t_max] and I <= i_max; the pulse is never shorter than the array write cycle t_min.",
    "Cell area: 1T-1MTJ, access transistor sized for the write current (I_on per um), "
    "area = 3F x (W + 2F); weaker programming needs less current, so smaller cells.",
    "Every weight is written once per load; reads: every weight bit is read once per inference.",
    "SECDED (72,64): 8 check bits per 64 data bits written and read; effective BER counts the "
    "errors left in words with >= 2 errors (models/ecc/secded.py); encoder/decoder energy not counted, "
    "their logic area is Yosys' transistor estimate of one encoder plus the decoders one read "
    "cycle of the accelerator needs.",
    "Write-verify: per bit, each write is followed by a verify read; retried up to R times; "
    "residual BER p^(R+1); the verify/retry control logic is not costed.",
    "System energy = one full weight load + N inferences' weight reads (N = inferences_per_load); "
    "periphery, leakage and compute energy are equal across options and left out.",
]


@dataclass
class Option:
    name: str
    raw_ber: float
    effective_ber: float
    energy_per_bit_pj: float          # programming energy per stored data bit (incl. overheads)
    load_energy_nj: float             # a full weight load
    memory_bits: int
    cell_area_um2: float              # total cell area
    cell_area_f2: float               # one cell
    ecc_logic_transistors: int
    read_energy_per_inference_nj: float
    accuracy: float | None
    write_current_ua: float
    pulse_ns: float
    write_time_ns: float              # expected time to store one bit (verify reads included)
    retries: int = 0
    condition: str = ""               # the programming condition, as the technology states it
    endurance_cycles: float = 0.0     # programming cycles a word survives at that condition
    memory: str = "stmram"

    def system_energy_nj(self, inferences: int) -> float:
        return self.load_energy_nj + inferences * self.read_energy_per_inference_nj


def _plain(tech, name, raw, bits, accuracy, overhead=1.0, ecc_transistors=0, eff=None):
    c = tech.condition_for_ber(raw)
    stored = int(round(bits * overhead))
    e_bit = tech.program_energy_pj(c)
    f2, um2 = tech.cell_area(c)
    return Option(name, raw, raw if eff is None else eff, e_bit * overhead,
                  e_bit * stored * 1e-3, stored, um2 * stored, f2,
                  ecc_transistors, stored * tech.read_energy_pj(c) * 1e-3, accuracy,
                  tech.write_current_ua(c), c.pulse_ns, c.pulse_ns, condition=tech.short_text(c), endurance_cycles=tech.endurance_cycles(c), memory=tech.name)


def write_verify(tech, bits, accuracy) -> Option:
    """Cheapest (raw BER, retries) whose residual p^(R+1) <= TARGET_BER."""
    best = None
    for raw in np.logspace(-6, -0.5, 120):
        c = tech.condition_for_ber(float(raw))
        e_read = tech.read_energy_pj(c)
        for r in range(MAX_RETRIES + 1):
            if raw ** (r + 1) > TARGET_BER * (1 + 1e-9):
                continue
            writes = (1 - raw ** (r + 1)) / (1 - raw)
            e = writes * (tech.program_energy_pj(c) + e_read)
            if best is None or e < best[0]:
                best = (e, float(raw), r, c)
            break
    e, raw, r, c = best
    writes = (1 - raw ** (r + 1)) / (1 - raw)
    f2, um2 = tech.cell_area(c)
    return Option("(c) write-verify", raw, raw ** (r + 1), e, e * bits * 1e-3, bits, um2 * bits,
                  f2, 0, bits * tech.read_energy_pj(c) * 1e-3, accuracy, tech.write_current_ua(c), c.pulse_ns,
                  writes * (c.pulse_ns + tech.read_time_ns(c)), retries=r, condition=tech.short_text(c),
                  endurance_cycles=tech.endurance_cycles(c) / writes, memory=tech.name)


def options(bits: int, tolerated_ber: float, acc_target: float | None, acc_tolerated: float | None,
            ecc_transistors: int, memory: str = "stmram") -> list[Option]:
    """The four ways to store the weights in `memory` (2T2R: its weak option is the 2T2R cell
    programmed weakly, with no ECC)."""
    tech = technology(memory)
    k = ECC_DATA_BITS
    n = ecc.layout(k)[0]
    raw_b = ecc.raw_ber_for(TARGET_BER, k)
    return [
        _plain(tech, "(a) strong, no ECC", TARGET_BER, bits, acc_target),
        _plain(tech, f"(b) relaxed + SECDED ({n},{k})", raw_b, bits, acc_target, overhead=n / k,
               ecc_transistors=ecc_transistors, eff=ecc.effective_ber(raw_b, k)),
        write_verify(tech, bits, acc_target),
        _plain(tech, "(d) weak, no ECC (tolerated BER)", tolerated_ber, bits, acc_tolerated),
    ]


def energy_curve(bers, memory: str = "stmram"):
    """Programming energy per bit (pJ) of the condition each BER stands for."""
    tech = technology(memory)
    return [tech.program_energy_pj(tech.condition_for_ber(float(b))) for b in bers]
