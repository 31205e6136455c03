"""Checks of net-file fields, shared by the reader (models.net.netfile) and the layer kinds
(models.net.kinds): each problem is one BnnMramError line naming the field."""
import re

import numpy as np

from ..errors import BnnMramError

MAX_WIDTH = 1 << 16  # neurons or inputs of a layer (the fault hash's coordinate fields)


def need(cond, msg):
    """Raise `msg` as the one-line error unless `cond`."""
    if not cond:
        raise BnnMramError(msg)


def is_int(v) -> bool:
    """A JSON integer (not a bool, not a float)."""
    return isinstance(v, int) and not isinstance(v, bool)


def int_list(v, n: int, lo: int, hi: int, where: str, name: str) -> np.ndarray:
    """A list of n integers in [lo, hi] as int64."""
    need(isinstance(v, list) and len(v) == n, f"{where}: {name} must be a list of n_out={n} integers")
    for j, t in enumerate(v):
        need(is_int(t), f"{where}: {name}[{j}] = {t!r} is not an integer")
        need(lo <= t <= hi, f"{where}: {name}[{j}] = {t} is outside [{lo}, {hi}]")
    return np.asarray(v, np.int64)


def shape3(v, where: str, name: str) -> tuple:
    """An [H, W, C] shape of positive integers within the fault hash's fields."""
    need(isinstance(v, list) and len(v) == 3 and all(is_int(a) and 1 <= a <= MAX_WIDTH for a in v),
          f"{where}: {name} must be [H, W, C], three integers in [1, {MAX_WIDTH}], not {v!r}")
    return tuple(v)


def row_hex(bits: np.ndarray) -> list[str]:
    """Weight rows uint8 [n_out, n_in] as hex numbers (bit i = input i), zero-padded."""
    packed = np.packbits(bits.astype(np.uint8), axis=1, bitorder="little")
    digits = (bits.shape[1] + 3) // 4
    return [format(int.from_bytes(row.tobytes(), "little"), f"0{digits}x") for row in packed]


def hex_rows(rows, n_in: int, where: str) -> np.ndarray:
    """The inverse of row_hex, every row checked: uint8 [len(rows), n_in]."""
    digits = (n_in + 3) // 4
    pattern = re.compile(f"[0-9a-fA-F]{{{digits}}}")
    out = np.zeros((len(rows), n_in), np.uint8)
    for j, h in enumerate(rows):
        need(isinstance(h, str), f"{where}: weights[{j}] is not a hex string")
        need(pattern.fullmatch(h) is not None, f"{where}: weights[{j}] must be exactly {digits} hex "
              f"digits for n_in={n_in}, not {len(h)} characters" if len(h) != digits else
              f"{where}: weights[{j}] holds a character that is not a hex digit")
        v = int(h, 16)
        need(not v >> n_in, f"{where}: weights[{j}] has bits beyond n_in={n_in}")
        b = np.frombuffer(v.to_bytes((n_in + 7) // 8, "little"), np.uint8)
        out[j] = np.unpackbits(b, bitorder="little")[:n_in]
    return out


def level_rows(rows, n_in: int, n_out: int, where: str) -> np.ndarray:
    """Level rows of a Bayesian layer (net file version 3): n_out strings of n_in hex digits,
    character i = the level of input i. Returns uint8 [n_out, n_in]."""
    need(isinstance(rows, list) and len(rows) == n_out, f"{where}: levels must be a list of n_out={n_out} strings")
    pattern = re.compile(f"[0-9a-fA-F]{{{n_in}}}")
    out = np.zeros((n_out, n_in), np.uint8)
    for j, h in enumerate(rows):
        need(isinstance(h, str) and pattern.fullmatch(h) is not None,
             f"{where}: levels[{j}] must be exactly n_in={n_in} hex digits (one level per input)")
        out[j] = np.frombuffer(bytes.fromhex("".join("0" + c for c in h)), np.uint8)
    return out


def level_hex(levels: np.ndarray) -> list[str]:
    """The inverse of level_rows: one hex digit per level."""
    return ["".join("0123456789abcdef"[q] for q in row) for row in np.asarray(levels, np.uint8)]
