"""Resistive cells' write errors in logic, the device model of models/faults/device.py: each
device hashes the weight's coordinates (seed ^ its DEVICE_KEY), the hash picks a quantised
normal quantile z from the shared table (a ROM), the device's log-resistance code is
mu + ((sigma * z) >> 10) for the state it is programmed to, and the sense circuit compares:
1T1R against the `ref` port, 2T2R (PCSA) the BL device against the BLb device."""
from amaranth.hdl import C, Cat, Mux, Signal, signed

from bnnmram.models.faults.device import DEVICE_KEY, MU_BITS, SIGMA_BITS
from bnnmram.models.faults.ztable import MANTISSA_BITS, Z, Z_BITS, Z_SCALE_BITS

from ..fault_hash import fault_hash

LNR = signed(MU_BITS + SIGMA_BITS + Z_BITS - Z_SCALE_BITS + 2)   # lnR code with headroom


def z_table_init() -> list[int]:
    return list(Z)


def quantile(m, prefix, h, rom_port):
    """The device's z code (signed, units of 2**-10) from its 32-bit hash `h`."""
    upper = h[31]
    g = Signal(31, name=f"{prefix}_g")
    m.d.comb += g.eq(Mux(upper, ~h[:31], h[:31]))
    n = Signal(5, name=f"{prefix}_n")          # bit length of g
    for k in range(31):
        with m.If(g[k]):
            m.d.comb += n.eq(k + 1)
    ext = Cat(C(0, MANTISSA_BITS), g)
    mant = Signal(MANTISSA_BITS, name=f"{prefix}_m")
    shift = Signal(5, name=f"{prefix}_shift")
    m.d.comb += [shift.eq(Mux(n == 0, 0, n - 1)), mant.eq((ext >> shift)[:MANTISSA_BITS])]
    m.d.comb += rom_port.addr.eq(Cat(mant, n))
    z = Signal(signed(Z_BITS + 1), name=f"{prefix}_z")
    m.d.comb += z.eq(Mux(upper, -rom_port.data, rom_port.data))
    return z


def log_resistance(m, prefix, z, mu, sigma):
    lnr = Signal(LNR, name=f"{prefix}_lnr")
    m.d.comb += lnr.eq(mu + ((sigma * z) >> Z_SCALE_BITS))
    return lnr


class _Resistive:
    roms = 0  # ROM read ports per hash lane (set by the cells)
    xnor_sense = False  # the sense amplifier can compute XNOR(weight, input)
    base_ports = {"seed": 32, "set_mu": MU_BITS, "set_sigma": SIGMA_BITS, "reset_mu": MU_BITS,
                  "reset_sigma": SIGMA_BITS}

    def device(self, m, prefix, fault, layer, neuron, index, write, state_set, rom_port, dev, stages):
        seed = fault.seed ^ C(DEVICE_KEY[dev], 32)
        h = fault_hash(m, f"{prefix}_d{dev}", seed, C(layer, 8), neuron, index, write, stages)
        z = quantile(m, f"{prefix}_d{dev}", h, rom_port)
        return log_resistance(m, f"{prefix}_d{dev}", z, Mux(state_set, fault.set_mu, fault.reset_mu),
                              Mux(state_set, fault.set_sigma, fault.reset_sigma))


class Rram1T1RCell(_Resistive):
    """One device per bit; a 1 is stored as LRS (SET); read: lnR < ref."""

    name = "rram"
    ports = {**_Resistive.base_ports, "ref": MU_BITS}
    roms = 1

    def fails(self, m, prefix, fault, layer, neuron, index, write, d, o, rom_ports, stages=0):
        lnr = self.device(m, prefix, fault, layer, neuron, index, write, d, rom_ports[0], 0, stages)
        return (lnr < fault.ref) != d


class Rram2T2RCell(_Resistive):
    """Two devices per bit, a 1 as (BL LRS, BLb HRS); the PCSA reads lnR_BL < lnR_BLb."""

    name = "rram2t2r"
    ports = dict(_Resistive.base_ports)
    roms = 2
    xnor_sense = True   # the input bit swaps which device drives which PCSA branch

    def fails(self, m, prefix, fault, layer, neuron, index, write, d, o, rom_ports, stages=0):
        bl = self.device(m, prefix, fault, layer, neuron, index, write, d, rom_ports[0], 0, stages)
        blb = self.device(m, prefix, fault, layer, neuron, index, write, ~d, rom_ports[1], 1, stages)
        return (bl < blb) != d
