"""HfO2 RRAM, one transistor one resistor (1T1R): one device per bit, read against a reference
resistance (models/faults/device.py); macro hdl/memory/rram.py."""
from . import rram_physics as rp
from .resistive import Resistive


class Rram1T1R(Resistive):
    name, title, cell, devices_per_bit, sense = "rram", "RRAM 1T1R", "1T1R", 1, "1t1r"

    def program_energy_pj(self, cond):   # a 1 is a SET, a 0 a RESET: half each
        return (rp.set_energy_pj(cond) + rp.reset_energy_pj(cond)) / 2

    def read_energy_pj(self, cond):      # one device (at the LRS/HRS mean) and a sense amplifier
        r_l, _ = rp.lrs(cond)
        r_h, _ = rp.hrs(cond)
        return (rp.device_read_energy_pj(r_l) + rp.device_read_energy_pj(r_h)) / 2 + rp.sense_energy_pj() / 2

    def cell_area(self, cond):
        return rp.cell_1t1r(cond)
