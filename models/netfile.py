"""The exported net: integer thresholds and binary weights, in a versioned JSON file.

Every field is described in docs/netfile.md so a third party can read it without our code.
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import BnnMramError

FORMAT = "bnnmram-net"
VERSION = 1
INPUT_KINDS = ("pixel", "binarized", "bits")
PIXEL_MAX = 255


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


def _hex_rows(rows: list, n_in: int, where: str) -> np.ndarray:
    out = np.zeros((len(rows), n_in), np.uint8)
    for j, h in enumerate(rows):
        try:
            v = int(h, 16)
        except (TypeError, ValueError):
            raise BnnMramError(f"{where}: weight row {j} is not a hex string") from None
        if v >> n_in:
            raise BnnMramError(f"{where}: weight row {j} has bits beyond n_in={n_in}")
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


def save(net: Net, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_dict(net), indent=1) + "\n")
    return path


def _need(cond, msg):
    if not cond:
        raise BnnMramError(msg)


def load(path) -> Net:
    """Read and fully validate a net file; any problem is one BnnMramError line."""
    path = Path(path)
    _need(path.is_file(), f"net file {path} does not exist")
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BnnMramError(f"net file {path} is corrupt: not valid JSON ({e})") from None
    _need(isinstance(doc, dict) and doc.get("format") == FORMAT,
          f"net file {path} is not a {FORMAT} file")
    _need(doc.get("version") == VERSION,
          f"net file {path} has version {doc.get('version')!r}; this bnnmram reads version {VERSION}")
    _need(doc.get("sha256") == _checksum(doc), f"net file {path} is corrupt: checksum mismatch")
    try:
        layers_doc = doc["layers"]
        _need(isinstance(layers_doc, list) and layers_doc, f"net file {path}: no layers")
        layers = []
        for i, d in enumerate(layers_doc):
            where = f"net file {path}, layer {i}"
            n_in, n_out = int(d["n_in"]), int(d["n_out"])
            _need(n_in > 0 and n_out > 0, f"{where}: sizes must be positive")
            if i > 0:
                prev = int(layers_doc[i - 1]["n_out"])
                _need(prev == n_in, f"{where}: n_in={n_in} does not match layer {i - 1} n_out={prev}")
            _need(d["input"] in INPUT_KINDS, f"{where}: unknown input kind {d['input']!r}")
            _need((d["input"] == "bits") == (i > 0), f"{where}: input kind {d['input']!r} "
                  "is wrong for this position")
            _need(len(d["weights"]) == n_out, f"{where}: {len(d['weights'])} weight rows, n_out={n_out}")
            w = _hex_rows(d["weights"], n_in, where)
            last = i == len(layers_doc) - 1
            _need(d["output"] == ("scores" if last else "bits"), f"{where}: output kind "
                  f"{d['output']!r} is wrong for this position")
            if last:
                layers.append(Layer(w, d["input"]))
            else:
                t = np.asarray(d["thresholds"], np.int64)
                f = np.asarray(d["flip"], bool)
                _need(t.shape == (n_out,) and f.shape == (n_out,),
                      f"{where}: thresholds/flip must have n_out={n_out} entries")
                layers.append(Layer(w, d["input"], t, f))
        bt = doc["binarize_threshold"]
        _need((bt is not None) == (layers[0].input == "binarized"),
              f"net file {path}: binarize_threshold must be set exactly for binarized input")
        _need(doc["arch"] == [layers[0].n_in] + [l.n_out for l in layers],
              f"net file {path}: arch {doc['arch']} does not match its layers")
    except (KeyError, TypeError, ValueError) as e:
        raise BnnMramError(f"net file {path} is inconsistent: bad or missing field {e}") from None
    return Net(layers, bt, doc.get("meta", {}))
