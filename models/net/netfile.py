"""The exported net: integer thresholds and binary weights, in a versioned JSON file.

Every field is described in docs/netfile.md so a third party can read it without our code.
Version 1 holds fully connected layers; version 2 adds convolutional (`conv`, K x K, stride 1,
no padding) and bit max-pool (`maxpool`, P x P, stride P) layers on channel-last activations.
Nets of dense layers only are written as version 1, others as version 2; both are read.
"""
import hashlib
import json
import re
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BnnMramError
from . import stochastic

FORMAT = "bnnmram-net"
VERSION = 1          # nets of dense layers only
VERSION_CONV = 2     # nets with conv / maxpool layers
VERSIONS = (VERSION, VERSION_CONV)
KINDS = ("dense", "conv", "maxpool")
INPUT_KINDS = ("pixel", "binarized", "sc", "bits")
PIXEL_MAX = 255
MAX_WIDTH = 1 << 16  # neurons or inputs of a layer (the fault hash's coordinate fields)
MAX_LAYERS = 128     # layers of a net (the fault hash's layer field)


def dot_peak(n_in: int, input_kind: str, samples: int = 0) -> int:
    """Largest |dot product| of a layer: n_in * 255 for 8-bit pixel inputs, n_in * N for N
    stochastic samples per pixel, else n_in."""
    return n_in * {"pixel": PIXEL_MAX, "sc": samples}.get(input_kind, 1)


@dataclass
class Layer:
    """One binary layer.

    kind: "dense" (fully connected), "conv" (K x K kernel, stride 1, no padding, on a
    channel-last [H, W, C] input) or "maxpool" (P x P, stride P, on bits: OR of the window).
    weights: uint8 [n_out, n_in], 1 codes +1 and 0 codes -1; a dense row per neuron, a conv row
    per output channel over the K*K*C_in patch (bit (ky*K + kx)*C_in + c); maxpool: [0, 0].
    input: "pixel" (8-bit unsigned pixels times +-1 weights), "binarized" (pixels compared
    with the net's binarize_threshold, then XNOR-popcount), "sc" (each pixel as `samples` = N
    stochastic bits, models.net.stochastic; XNOR popcounts summed over the N binary images) or
    "bits" (XNOR-popcount).
    thresholds/flip: hidden layers (per neuron / output channel); neuron j outputs 1 iff
    dot_j >= thresholds[j] (flip[j] false) or dot_j <= thresholds[j] (flip[j] true). Output
    layer: None, its integer dot products are the class scores.
    in_shape: (H, W, C) of the input activations of a conv or maxpool layer.
    """

    weights: np.ndarray
    input: str
    thresholds: np.ndarray | None = None
    flip: np.ndarray | None = None
    kind: str = "dense"
    kernel: int = 0
    pool: int = 0
    in_shape: tuple | None = None
    samples: int = 0     # N of an "sc" first layer, 0 otherwise

    @property
    def n_out(self) -> int:
        return self.weights.shape[0]

    @property
    def n_in(self) -> int:
        return self.weights.shape[1]

    @property
    def has_weights(self) -> bool:
        return self.kind != "maxpool"

    @property
    def is_output(self) -> bool:
        return self.has_weights and self.thresholds is None

    @property
    def dot_peak(self) -> int:
        return dot_peak(self.n_in, self.input, self.samples)

    @property
    def xnor_terms(self) -> int:
        """XNOR terms a popcount of this layer sums: n_in, times N for an sc layer."""
        return self.n_in * (self.samples if self.input == "sc" else 1)

    @property
    def out_shape(self) -> tuple:
        """(H, W, C) of a conv or maxpool layer's output, (n_out,) of a dense layer's."""
        if self.kind == "conv":
            h, w, _ = self.in_shape
            return (h - self.kernel + 1, w - self.kernel + 1, self.n_out)
        if self.kind == "maxpool":
            h, w, c = self.in_shape
            return (h // self.pool, w // self.pool, c)
        return (self.n_out,)

    @property
    def in_size(self) -> int:
        """Input activations (pixels or bits) per image."""
        return int(np.prod(self.in_shape)) if self.in_shape else self.n_in

    @property
    def out_size(self) -> int:
        return int(np.prod(self.out_shape))


@dataclass
class Net:
    layers: list[Layer]
    binarize_threshold: int | None = None
    meta: dict = field(default_factory=dict)
    sc_seed: int | None = None   # seed of the stochastic input (layer 0 input "sc"), else None

    @property
    def sc(self) -> dict | None:
        """{"samples": N, "seed": seed} of an sc net (the file's `sc` field), else None."""
        if self.layers[0].input != "sc":
            return None
        return {"samples": self.layers[0].samples, "seed": self.sc_seed}

    @property
    def is_dense(self) -> bool:
        """Fully connected layers only (net file version 1)."""
        return all(l.kind == "dense" for l in self.layers)

    @property
    def input_shape(self) -> tuple | None:
        return self.layers[0].in_shape

    @property
    def arch(self) -> list[int]:
        """Activation counts: the input's, then each layer's output (dense: its neurons)."""
        return [self.layers[0].in_size] + [l.out_size for l in self.layers]

    def with_weights(self, weights: list[np.ndarray]) -> "Net":
        """The same net with other binary weights (e.g. as stored by a faulty MRAM)."""
        layers = [dataclasses.replace(l, weights=np.asarray(w).astype(np.uint8))
                  for w, l in zip(weights, self.layers)]
        return Net(layers, self.binarize_threshold, dict(self.meta), self.sc_seed)


def describe_layer(l: Layer) -> str:
    """One layer as its --arch token with its weight matrix: conv32k3 (32 x 9), dense10 (10 x 256)."""
    if l.kind == "maxpool":
        return f"pool{l.pool}"
    name = f"conv{l.n_out}k{l.kernel}" if l.kind == "conv" else f"dense{l.n_out}"
    return f"{name} ({l.n_out} x {l.n_in})"


def describe_arch(net: Net) -> str:
    """The net as an --arch spec: 784-256-10 for dense nets, conv32k3-pool2-dense10 otherwise."""
    if net.is_dense:
        return "-".join(map(str, net.arch))
    parts = []
    for l in net.layers:
        parts.append({"conv": f"conv{l.n_out}k{l.kernel}", "maxpool": f"pool{l.pool}",
                      "dense": f"dense{l.n_out}"}[l.kind])
    return "-".join(parts)


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
    v2 = not net.is_dense
    doc = {
        "format": FORMAT,
        "version": VERSION_CONV if v2 else VERSION,
        "arch": net.arch,
        "binarize_threshold": net.binarize_threshold,
        "meta": net.meta,
        **({"sc": net.sc} if net.sc else {}),
        "layers": [],
    }
    for i, l in enumerate(net.layers):
        d = {"kind": l.kind} if v2 else {}
        if v2 and i == 0:
            d["input_shape"] = list(l.in_shape)
        if l.kind == "maxpool":
            d.update({"pool": l.pool, "input": l.input, "output": "bits"})
            doc["layers"].append(d)
            continue
        if l.kind == "conv":
            d["kernel"] = l.kernel
        d.update({"n_in": l.n_in, "n_out": l.n_out, "input": l.input,
                  "output": "scores" if l.is_output else "bits",
                  "weights": _row_hex(l.weights)})
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


def _shape(v, where: str, name: str) -> tuple:
    _need(isinstance(v, list) and len(v) == 3 and all(_is_int(a) and 1 <= a <= MAX_WIDTH for a in v),
          f"{where}: {name} must be [H, W, C], three integers in [1, {MAX_WIDTH}], not {v!r}")
    return tuple(v)


LAYER_FIELDS = {
    "dense": {"kind", "n_in", "n_out", "input", "output", "weights", "thresholds", "flip", "input_shape"},
    "conv": {"kind", "kernel", "n_in", "n_out", "input", "output", "weights", "thresholds", "flip", "input_shape"},
    "maxpool": {"kind", "pool", "input", "output", "input_shape"},
}


def _layer(d, i: int, last: bool, shape, where: str, version: int, samples: int = 0) -> Layer:
    """Layer i of a file; `shape` is its input's shape ((H, W, C), or (n,) once flat)."""
    _need(isinstance(d, dict), f"{where}: not a JSON object")
    if version == VERSION:
        _need("kind" not in d and "input_shape" not in d, f"{where}: 'kind' and 'input_shape' are "
              "version 2 fields (this file says version 1)")
        kind = "dense"
    else:
        kind = d.get("kind")
        _need(kind in KINDS, f"{where}: unknown layer kind {kind!r} (dense, conv or maxpool)")
    unknown = sorted(set(d) - LAYER_FIELDS[kind])
    if unknown:
        raise BnnMramError(f"{where}: unknown field {unknown[0]!r} for a {kind} layer")
    if version == VERSION_CONV:
        _need(("input_shape" in d) == (i == 0), f"{where}: input_shape belongs to layer 0 only, and "
              "layer 0 must have it")
    flat = len(shape) == 1
    input_kind = d.get("input")
    _need(input_kind in INPUT_KINDS, f"{where}: unknown input kind {input_kind!r}")
    _need((input_kind == "bits") == (i > 0), f"{where}: input kind {input_kind!r} is wrong for this position")
    samples = samples if input_kind == "sc" else 0
    _need(d.get("output") == ("scores" if last else "bits"),
          f"{where}: output kind {d.get('output')!r} is wrong for this position")
    if kind == "maxpool":
        _need(not flat, f"{where}: a maxpool layer needs an [H, W, C] input, not a flat vector")
        _need(i > 0, f"{where}: the first layer cannot be a maxpool (it pools bits, not pixels)")
        _need(not last, f"{where}: the last layer must be dense (it gives the class scores)")
        p = d.get("pool")
        _need(_is_int(p) and p >= 2, f"{where}: pool must be an integer >= 2, not {p!r}")
        h, w, c = shape
        _need(h % p == 0 and w % p == 0, f"{where}: pool {p} does not divide its {h} x {w} input")
        return Layer(np.zeros((0, 0), np.uint8), input_kind, kind="maxpool", pool=p, in_shape=shape)
    for k in ("n_in", "n_out"):
        _need(_is_int(d.get(k)), f"{where}: {k} missing or not an integer")
        _need(1 <= d[k] <= MAX_WIDTH, f"{where}: {k}={d[k]} is outside [1, {MAX_WIDTH}]")
    n_in, n_out = d["n_in"], d["n_out"]
    kernel = 0
    if kind == "conv":
        _need(not flat, f"{where}: a conv layer needs an [H, W, C] input, not a flat vector (after a dense layer)")
        _need(not last, f"{where}: the last layer must be dense (it gives the class scores)")
        kernel = d.get("kernel")
        h, w, c = shape
        _need(_is_int(kernel) and 1 <= kernel <= min(h, w),
              f"{where}: kernel must be an integer in [1, {min(h, w)}] for its {h} x {w} input, not {kernel!r}")
        _need(n_in == kernel * kernel * c, f"{where}: n_in={n_in} is not kernel*kernel*channels = "
              f"{kernel * kernel * c}")
    else:
        size = int(np.prod(shape))
        prev = "the input" if i == 0 else f"layer {i - 1}'s output"
        _need(n_in == size, f"{where}: n_in={n_in} does not match {prev} ({size} values)"
              if i == 0 or version == VERSION_CONV else
              f"{where}: n_in={n_in} does not match layer {i - 1} n_out={size}")
    rows = d.get("weights")
    _need(isinstance(rows, list) and len(rows) == n_out, f"{where}: weights must be a list of n_out={n_out} "
          "hex strings")
    w = _hex_rows(rows, n_in, where)
    in_shape = shape if kind == "conv" else None
    if last:
        extra = {"thresholds", "flip"} & set(d)
        if extra:
            raise BnnMramError(f"{where}: the output layer has no {sorted(extra)[0]}")
        return Layer(w, input_kind, kind=kind, samples=samples)
    peak = dot_peak(n_in, input_kind, samples)
    t = _int_list(d.get("thresholds"), n_out, -peak - 1, peak + 1, where, "thresholds")
    f = d.get("flip")
    _need(isinstance(f, list) and len(f) == n_out, f"{where}: flip must be a list of n_out={n_out} booleans")
    for j, v in enumerate(f):
        _need(isinstance(v, bool), f"{where}: flip[{j}] = {v!r} is not true or false")
    return Layer(w, input_kind, t, np.asarray(f, bool), kind=kind, kernel=kernel, in_shape=in_shape,
                 samples=samples)


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
    _need(_is_int(v) and v in VERSIONS,
          f"net file {path} has version {v!r}; this bnnmram reads versions 1 and 2 (integers)")
    try:
        ok = doc.get("sha256") == _checksum(doc)
    except (TypeError, ValueError, RecursionError):
        ok = False
    _need(ok, f"net file {path} is corrupt: checksum mismatch")
    known = {"format", "version", "arch", "binarize_threshold", "meta", "layers", "sha256", "sc"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise BnnMramError(f"net file {path}: unknown field {unknown[0]!r}")
    _need(isinstance(doc.get("meta"), dict), f"net file {path}: meta must be a JSON object")
    layers_doc = doc.get("layers")
    _need(isinstance(layers_doc, list) and layers_doc, f"net file {path}: layers must be a non-empty list")
    _need(len(layers_doc) <= MAX_LAYERS, f"net file {path}: {len(layers_doc)} layers, at most {MAX_LAYERS}")
    layers = []
    if v == VERSION_CONV:
        first = layers_doc[0] if isinstance(layers_doc[0], dict) else {}
        shape = _shape(first.get("input_shape"), f"net file {path}, layer 0", "input_shape")
    else:
        first = layers_doc[0] if isinstance(layers_doc[0], dict) else {}
        shape = (first.get("n_in"),) if _is_int(first.get("n_in")) else (1,)
    is_sc = isinstance(layers_doc[0], dict) and layers_doc[0].get("input") == "sc"
    sc = doc.get("sc")
    if is_sc:
        _need(isinstance(sc, dict) and set(sc) == {"samples", "seed"}, f"net file {path}: an sc net "
              "needs sc = {\"samples\": N, \"seed\": S}")
        _need(_is_int(sc["samples"]) and sc["samples"] in stochastic.SAMPLES,
              f"net file {path}: sc samples must be a power of two in 1..64, not {sc['samples']!r}")
        _need(_is_int(sc["seed"]) and 0 <= sc["seed"] <= 0xFFFFFFFF,
              f"net file {path}: sc seed must be an integer in [0, 2**32 - 1], not {sc['seed']!r}")
    else:
        _need("sc" not in doc, f"net file {path}: sc belongs to nets whose layer 0 input is sc")
    for i, d in enumerate(layers_doc):
        layer = _layer(d, i, i == len(layers_doc) - 1, shape, f"net file {path}, layer {i}", v,
                       sc["samples"] if is_sc else 0)
        layers.append(layer)
        shape = layer.out_shape
    if v == VERSION_CONV:
        _need(not Net(layers).is_dense, f"net file {path}: version 2 with dense layers only; write it as version 1")
    bt = doc.get("binarize_threshold", "missing")
    if layers[0].input == "binarized":
        _need(_is_int(bt) and 0 <= bt <= PIXEL_MAX, f"net file {path}: binarize_threshold must be an "
              f"integer in [0, {PIXEL_MAX}] for binarized input, not {bt!r}")
    else:
        _need(bt is None, f"net file {path}: binarize_threshold must be null unless layer 0's input is binarized")
    net = Net(layers, bt, doc["meta"], sc["seed"] if is_sc else None)
    _need(doc.get("arch") == net.arch and all(_is_int(a) for a in doc["arch"]),
          f"net file {path}: arch {doc.get('arch')!r} does not match its layers {net.arch}")
    return net
