"""HfO2 RRAM, two transistors two resistors (2T2R): a bit is a complementary pair (BL device
LRS and BLb device HRS for a 1), read by a precharge sense amplifier (PCSA) that compares the
two devices (models/faults/device.py); an error only when the pair is inverted. Hirtzlin et
al., Front. Neurosci. 13, 1383 (2020); Bocquet et al., IEDM 2018. Macro hdl/memory/rram2t2r.py."""
from . import rram_physics as rp
from .resistive import Resistive


class Rram2T2R(Resistive):
    name, title, cell, devices_per_bit, sense = "rram2t2r", "RRAM 2T2R", "2T2R", 2, "2t2r"

    def program_energy_pj(self, cond):   # every bit: one SET and one RESET
        return rp.set_energy_pj(cond) + rp.reset_energy_pj(cond)

    def read_energy_pj(self, cond):      # both devices and the PCSA
        r_l, _ = rp.lrs(cond)
        r_h, _ = rp.hrs(cond)
        return rp.device_read_energy_pj(r_l) + rp.device_read_energy_pj(r_h) + rp.sense_energy_pj()

    def cell_area(self, cond):
        f2, um2 = rp.cell_1t1r(cond)
        return 2 * f2, 2 * um2
