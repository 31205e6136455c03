"""HfO2 RRAM programming physics: the log-normal LRS/HRS distributions at a programming
condition (SET compliance current, RESET voltage, pulse width), programming and read energy,
endurance and cell area. Every parameter lives in RRAM_PARAMS with its source.

LRS (after a SET with compliance current I_C): the filament's resistance follows the universal
R_LRS = V_C / I_C (Ielmini, IEEE TED 58(12), 4309, 2011; Ambrogio et al., IEEE TED 61(8), 2912,
2014, part I); its spread comes from the number of defects in the filament, N ~ I_C, so the
relative spread of R grows as 1/sqrt(I_C): sigma_ln(LRS) = s_lrs0 * sqrt(I_0 / I_C)
(Ambrogio 2014, Fig. 6: sigma_R/R ~ R^0.5).

HRS (after a RESET to V_reset with pulse t): the depleted gap grows linearly with the RESET
stop voltage, so ln(R_HRS / R_LRS) grows linearly with it above the RESET onset, and a decade
longer pulse acts like k_t more volts (voltage-time equivalence of the RESET; Ielmini, Semicond.
Sci. Technol. 31, 063002, 2016, sec. 4): window = (V_reset + k_t log10(t / t_ref) - V_onset) /
v_per_neper nepers. The HRS spread is wider and grows with the window (Ambrogio 2014; Grossi et
al., IEDM 2016, "Fundamental variability limits of filament-based RRAM"):
sigma_ln(HRS) = s_hrs0 + s_hrs_k * window.

Energy: SET draws V_set * I_C for the pulse, RESET V_reset * I_reset with I_reset ~ I_C (the
universal RESET current, Ielmini 2011). Endurance: fewer cycles at stronger programming; the
log-linear fit below passes through ~1e6 cycles at (200 uA, 1.5 V) (Grossi et al., IEEE TED
66(3), 1281, 2019) and ~1e10 at (20 uA, 0.9 V), where low-voltage programming reaches billions
of cycles (Hirtzlin et al., Front. Neurosci. 13, 1383, 2020). Area: 1T1R with its access
transistor sized for I_C, like the MTJ cell (models/mram/physics.py).
"""
import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RramParams:
    v_c: float = 0.4             # V: R_LRS = v_c / I_C [Ielmini 2011; Ambrogio 2014]
    s_lrs0: float = 0.10         # sigma of ln R_LRS at I_0 [Ambrogio 2014, Fig. 6]
    i_0_ua: float = 100.0        # uA, reference compliance of s_lrs0
    v_onset: float = 0.55        # V, RESET onset: no window below it [Ielmini 2016]
    v_per_neper: float = 0.16    # V of RESET stop voltage per neper of HRS/LRS window [Ielmini 2016]
    k_t: float = 0.06            # V per decade of RESET pulse (voltage-time equivalence) [Ielmini 2016]
    t_ref_ns: float = 100.0      # ns, reference pulse of the window law
    s_hrs0: float = 0.25         # sigma of ln R_HRS at zero window [Ambrogio 2014; Grossi 2016]
    s_hrs_k: float = 0.08        # growth of the HRS sigma per neper of window [Grossi 2016]
    v_set: float = 1.2           # V across the cell during a SET (bit line, 130 nm 1T1R) [Grossi 2019]
    v_read: float = 0.1          # V, read bias (no read disturb) [Hirtzlin 2020]
    t_read_ns: float = 10.0      # ns, read sensing time
    c_bl_ff: float = 20.0        # fF, bit-line capacitance a PCSA discharges per read [Hirtzlin 2020]
    v_dd: float = 1.2            # V, sense-amplifier supply
    endurance_ref: float = 1e6   # cycles at (endurance_i_ua, endurance_v) [Grossi 2019]
    endurance_i_ua: float = 200.0
    endurance_v: float = 1.5
    endurance_i_exp: float = 2.0     # decades of endurance per decade less compliance (fit, see above)
    endurance_v_decades: float = 2.0 / 0.6   # decades per volt less RESET voltage (fit, see above)
    ion_ua_per_um: float = 500.0 # access NMOS on-current per um at V_set (130 nm) [Grossi 2019]
    feature_nm: float = 130.0    # F of the HfO2 test arrays [Grossi 2019; Hirtzlin 2020]
    i_min_ua: float = 5.0        # weakest SET compliance considered
    i_max_ua: float = 300.0      # strongest
    v_min: float = 0.6           # weakest RESET voltage considered
    v_max: float = 2.0           # strongest
    t_min_ns: float = 10.0       # shortest pulse
    t_max_ns: float = 10000.0    # longest pulse


RRAM_PARAMS = RramParams()


@dataclass(frozen=True)
class RramCondition:
    """A programming condition: SET compliance current (uA), RESET voltage (V), pulse (ns)."""

    compliance_ua: float
    reset_v: float
    pulse_ns: float = 100.0


def lrs(c: RramCondition, p: RramParams = RRAM_PARAMS) -> tuple[float, float]:
    """(median R_LRS in Ohm, sigma of ln R)."""
    return p.v_c / (c.compliance_ua * 1e-6), p.s_lrs0 * math.sqrt(p.i_0_ua / c.compliance_ua)


def window(c: RramCondition, p: RramParams = RRAM_PARAMS) -> float:
    """ln(R_HRS / R_LRS) of the medians, nepers (0 below the RESET onset)."""
    v_eff = c.reset_v + p.k_t * math.log10(c.pulse_ns / p.t_ref_ns)
    return max(0.0, (v_eff - p.v_onset) / p.v_per_neper)


def hrs(c: RramCondition, p: RramParams = RRAM_PARAMS) -> tuple[float, float]:
    """(median R_HRS in Ohm, sigma of ln R)."""
    r_l, _ = lrs(c, p)
    w = window(c, p)
    return r_l * math.exp(w), p.s_hrs0 + p.s_hrs_k * w


def set_energy_pj(c: RramCondition, p: RramParams = RRAM_PARAMS) -> float:
    return p.v_set * c.compliance_ua * 1e-6 * c.pulse_ns * 1e-9 * 1e12


def reset_energy_pj(c: RramCondition, p: RramParams = RRAM_PARAMS) -> float:
    return c.reset_v * c.compliance_ua * 1e-6 * c.pulse_ns * 1e-9 * 1e12


def device_read_energy_pj(r_ohm: float, p: RramParams = RRAM_PARAMS) -> float:
    """Resistive read of one device at v_read for t_read: V^2 / R * t."""
    return p.v_read ** 2 / r_ohm * p.t_read_ns * 1e-9 * 1e12


def sense_energy_pj(p: RramParams = RRAM_PARAMS) -> float:
    """A precharge sense amplifier's read: its bit lines charged to V_dd and discharged."""
    return 2 * p.c_bl_ff * 1e-15 * p.v_dd ** 2 * 1e12


def endurance_cycles(c: RramCondition, p: RramParams = RRAM_PARAMS) -> float:
    """Programming cycles a device survives at this condition (log-linear fit, see module)."""
    decades = (p.endurance_i_exp * math.log10(p.endurance_i_ua / c.compliance_ua)
               + p.endurance_v_decades * (p.endurance_v - c.reset_v))
    return p.endurance_ref * 10 ** decades


def cell_1t1r(c: RramCondition, p: RramParams = RRAM_PARAMS) -> tuple[float, float]:
    """(cell area in F^2, in um^2) of one 1T1R cell whose transistor carries I_C:
    3F x (max(W, F) + 2F), as the MTJ cell (models/mram/physics.cell)."""
    w_nm = c.compliance_ua / p.ion_ua_per_um * 1e3
    f = p.feature_nm
    area_nm2 = 3 * f * (max(w_nm, f) + 2 * f)
    return area_nm2 / f ** 2, area_nm2 * 1e-6


def params_dict(p: RramParams = RRAM_PARAMS) -> dict:
    return asdict(p)
