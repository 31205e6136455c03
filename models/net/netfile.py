"""The exported net: integer thresholds and binary weights, in a versioned JSON file.

Every field is described in docs/netfile.md so a third party can read it without our code.
"""
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BnnMramError

FORMAT = "bnnmram-net"
VERSION = 1
INPUT_KINDS = ("pixel", "binarized", "bits")
PIXEL_MAX = 255
MAX_WIDTH = 1 << 16  # neurons or inputs of a layer (the fault hash's coordinate fields)
MAX_LAYERS = 128     # layers of a net (the fault hash's layer field)


def dot_peak(n_in: int, input_kind: str) -> int:
    """Largest |dot product| of a layer: n_in * 255 for 8-bit pixel inputs, else n_in."""
    return n_in * (PIXEL_MAX if input_kind == "pixel" else 1)


@dataclass
class Layer:
    """One fully connected binary layer.

    weights: uint8 [n_out, n_in], 1 codes +1 and 0 codes -1.
    input: "pixel" (8-bit unsigned pixels times +-1 weights), "binarized" (pixels compared
    with the net's binarize_threshold, then XNOR-popcount) or "bits" (XNOR-popcount).
    thresholds/flip: hidden layers only; neuron j outputs 1 iff dot_j >= thresholds[j]
    (flip[j] false) or dot_j <= thresholds[j] (flip[j] true). Output layer: None, its integer
    dot products are the class scores.
    """

    weights: np.ndarray
    input: str
    thresholds: np.ndarray | None = None
    flip: np.ndarray | None = None

    @property
    def n_out(self) -> int:
        return self.weights.shape[0]

    @property
    def n_in(self) -> int:
        return self.weights.shape[1]

    @property
    def is_output(self) -> bool:
        return self.thresholds is None

    @property
    def dot_peak(self) -> int:
        return dot_peak(self.n_in, self.input)


@dataclass
class Net:
    layers: list[Layer]
    binarize_threshold: int | None = None
    meta: dict = field(default_factory=dict)

    @property
    def arch(self) -> list[int]:
        return [self.layers[0].n_in] + [l.n_out for l in self.layers]

    def with_weights(self, weights: list[np.ndarray]) -> "Net":
        """The same net with other binary weights (e.g. as stored by a faulty MRAM)."""
        layers = [Layer(w.astype(np.uint8), l.input, l.thresholds, l.flip)
                  for w, l in zip(weights, self.layers)]
        return Net(layers, self.binarize_threshold, dict(self.meta))


def _row_hex(bits: np.ndarray) -> list[str]:
    packed = np.packbits(bits.astype(np.uint8), axis=1, bitorder="little")
    digits = (bits.shape[1] + 3) // 4
    return [format(int.from_bytes(row.tobytes(), "little"), f"0{digits}x") for row in packed]


def _hex_rows(rows, n_in: int, where: str) -> np.ndarray:
    digits = (n_in + 3) // 4
    pattern = re.compile(f"[0-9a-fA-F]{{{digits}}}")
    out = np.zeros((len(rows), n_in), np.uint8)
    for j, h in enumerate(rows):
        _need(isinstance(h, str), f"{where}: weights[{j}] is not a hex string")
        _need(pattern.fullmatch(h) is not None, f"{where}: weights[{j}] must be exactly {digits} hex "
              f"digits for n_in={n_in}, not {len(h)} characters" if len(h) != digits else
              f"{where}: weights[{j}] holds a character that is not a hex digit")
        v = int(h, 16)
        _need(not v >> n_in, f"{where}: weights[{j}] has bits beyond n_in={n_in}")
        b = np.frombuffer(v.to_bytes((n_in + 7) // 8, "little"), np.uint8)
        out[j] = np.unpackbits(b, bitorder="little")[:n_in]
    return out


def _checksum(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def to_dict(net: Net) -> dict:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "arch": net.arch,
        "binarize_threshold": net.binarize_threshold,
        "meta": net.meta,
        "layers": [],
    }
    for l in net.layers:
        d = {"n_in": l.n_in, "n_out": l.n_out, "input": l.input,
             "output": "scores" if l.is_output else "bits",
             "weights": _row_hex(l.weights)}
        if not l.is_output:
            d["thresholds"] = [int(t) for t in l.thresholds]
            d["flip"] = [bool(f) for f in l.flip]
        doc["layers"].append(d)
    doc["sha256"] = _checksum(doc)
    return doc


def digest(net: Net) -> str:
    """The net's identity: the SHA-256 its file carries."""
    return to_dict(net)["sha256"]


def dumps(net: Net) -> str:
    """The net file's text."""
    return json.dumps(to_dict(net), indent=1) + "\n"


def save(net: Net, path) -> Path:
    """Write the net file (via a temporary file and a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(dumps(net))
    tmp.replace(path)
    return path


def _need(cond, msg):
    if not cond:
        raise BnnMramError(msg)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_list(v, n: int, lo: int, hi: int, where: str, name: str) -> np.ndarray:
    _need(isinstance(v, list) and len(v) == n, f"{where}: {name} must be a list of n_out={n} integers")
    for j, t in enumerate(v):
        _need(_is_int(t), f"{where}: {name}[{j}] = {t!r} is not an integer")
        _need(lo <= t <= hi, f"{where}: {name}[{j}] = {t} is outside [{lo}, {hi}]")
    return np.asarray(v, np.int64)


def _layer(d, i: int, last: bool, prev_out: int | None, where: str) -> Layer:
    _need(isinstance(d, dict), f"{where}: not a JSON object")
    for k in ("n_in", "n_out"):
        _need(_is_int(d.get(k)), f"{where}: {k} missing or not an integer")
        _need(1 <= d[k] <= MAX_WIDTH, f"{where}: {k}={d[k]} is outside [1, {MAX_WIDTH}]")
    n_in, n_out = d["n_in"], d["n_out"]
    if prev_out is not None:
        _need(prev_out == n_in, f"{where}: n_in={n_in} does not match layer {i - 1} n_out={prev_out}")
    kind = d.get("input")
    _need(kind in INPUT_KINDS, f"{where}: unknown input kind {kind!r}")
    _need((kind == "bits") == (i > 0), f"{where}: input kind {kind!r} is wrong for this position")
    _need(d.get("output") == ("scores" if last else "bits"),
          f"{where}: output kind {d.get('output')!r} is wrong for this position")
    rows = d.get("weights")
    _need(isinstance(rows, list) and len(rows) == n_out, f"{where}: weights must be a list of n_out={n_out} "
          "hex strings")
    w = _hex_rows(rows, n_in, where)
    if last:
        extra = {"thresholds", "flip"} & set(d)
        if extra:
            raise BnnMramError(f"{where}: the output layer has no {sorted(extra)[0]}")
        return Layer(w, kind)
    peak = dot_peak(n_in, kind)
    t = _int_list(d.get("thresholds"), n_out, -peak - 1, peak + 1, where, "thresholds")
    f = d.get("flip")
    _need(isinstance(f, list) and len(f) == n_out, f"{where}: flip must be a list of n_out={n_out} booleans")
    for j, v in enumerate(f):
        _need(isinstance(v, bool), f"{where}: flip[{j}] = {v!r} is not true or false")
    return Layer(w, kind, t, np.asarray(f, bool))


def load(path) -> Net:
    """Read and fully validate a net file; any problem is one BnnMramError line."""
    path = Path(path)
    _need(path.is_file(), f"net file {path} does not exist")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).splitlines()[0][:100]
        raise BnnMramError(f"net file {path} is corrupt: not valid JSON ({reason})") from None
    _need(isinstance(doc, dict) and doc.get("format") == FORMAT, f"net file {path} is not a {FORMAT} file")
    v = doc.get("version")
    _need(_is_int(v) and v == VERSION,
          f"net file {path} has version {v!r}; this bnnmram reads version {VERSION} (an integer)")
    try:
        ok = doc.get("sha256") == _checksum(doc)
    except (TypeError, ValueError, RecursionError):
        ok = False
    _need(ok, f"net file {path} is corrupt: checksum mismatch")
    known = {"format", "version", "arch", "binarize_threshold", "meta", "layers", "sha256"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise BnnMramError(f"net file {path}: unknown field {unknown[0]!r}")
    _need(isinstance(doc.get("meta"), dict), f"net file {path}: meta must be a JSON object")
    layers_doc = doc.get("layers")
    _need(isinstance(layers_doc, list) and layers_doc, f"net file {path}: layers must be a non-empty list")
    _need(len(layers_doc) <= MAX_LAYERS, f"net file {path}: {len(layers_doc)} layers, at most {MAX_LAYERS}")
    layers = []
    for i, d in enumerate(layers_doc):
        layers.append(_layer(d, i, i == len(layers_doc) - 1, layers[-1].n_out if layers else None,
                             f"net file {path}, layer {i}"))
    bt = doc.get("binarize_threshold", "missing")
    if layers[0].input == "binarized":
        _need(_is_int(bt) and 0 <= bt <= PIXEL_MAX, f"net file {path}: binarize_threshold must be an "
              f"integer in [0, {PIXEL_MAX}] for binarized input, not {bt!r}")
    else:
        _need(bt is None, f"net file {path}: binarize_threshold must be null unless layer 0's input is binarized")
    arch = [layers[0].n_in] + [l.n_out for l in layers]
    _need(doc.get("arch") == arch and all(_is_int(a) for a in doc["arch"]),
          f"net file {path}: arch {doc.get('arch')!r} does not match its layers {arch}")
    return Net(layers, bt, doc["meta"])
