"""The exported net: integer thresholds and binary weights, in a versioned JSON file.

Every field is described in docs/netfile.md so a third party can read it without our code.
Version 1 holds fully connected layers; version 2 adds convolutional (`conv`, K x K, stride 1,
no padding) and bit max-pool (`maxpool`, P x P, stride P) layers on channel-last activations.
Nets of dense layers only are written as version 1, others as version 2; both are read.
"""
import hashlib
import math
import json
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BnnMramError
from . import kinds, stochastic
from .fields import MAX_WIDTH, is_int, need, shape3
from .inputs import INPUTS, PIXEL_MAX, dot_peak
from .levels import LEVELS

FORMAT = "bnnmram-net"
VERSION = 1          # nets of dense layers only
VERSION_CONV = 2     # nets with conv / maxpool layers
VERSION_BAYES = kinds.base.BAYES_VERSION   # 3: Bayesian nets (per-weight levels), any layer kinds
VERSIONS = (VERSION, VERSION_CONV, VERSION_BAYES)
KINDS = tuple(kinds.KINDS)           # layer kinds, one module each (models.net.kinds)
INPUT_KINDS = tuple(INPUTS)          # what a layer reads (models.net.inputs)
MAX_LAYERS = 128     # layers of a net (the fault hash's layer field)
__all__ = ["Layer", "Net", "load", "save", "dumps", "to_dict", "digest", "describe_layer", "describe_arch",
           "dot_peak", "MAX_WIDTH", "PIXEL_MAX", "KINDS", "INPUT_KINDS"]


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
    levels: np.ndarray | None = None   # Bayesian nets: uint8 [n_out, n_in] levels (models.net.levels)

    @property
    def n_out(self) -> int:
        return self.weights.shape[0]

    @property
    def n_in(self) -> int:
        return self.weights.shape[1]

    @property
    def has_weights(self) -> bool:
        return kinds.of(self).has_weights

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
        return kinds.of(self).out_shape(self)

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
    score_scale: float | None = None   # Bayesian nets: softmax(score_scale * scores) (models.bayes)

    @property
    def sc(self) -> dict | None:
        """{"samples": N, "seed": seed} of an sc net (the file's `sc` field), else None."""
        if self.layers[0].input != "sc":
            return None
        return {"samples": self.layers[0].samples, "seed": self.sc_seed}

    @property
    def is_dense(self) -> bool:
        """Fully connected layers only (net file version 1)."""
        return all(l.kind == kinds.DENSE.name for l in self.layers)

    @property
    def is_bayesian(self) -> bool:
        """Weights with levels (net file version 3): read-time sampled, models.bayes."""
        return any(l.levels is not None for l in self.layers)

    @property
    def input_shape(self) -> tuple | None:
        return self.layers[0].in_shape

    @property
    def arch(self) -> list[int]:
        """Activation counts: the input's, then each layer's output (dense: its neurons)."""
        return [self.layers[0].in_size] + [l.out_size for l in self.layers]

    def with_weights(self, weights: list[np.ndarray]) -> "Net":
        """The same net with other binary weights (e.g. as stored by a faulty MRAM, or one sample
        of a Bayesian net's weights): a deterministic net, without levels."""
        layers = [dataclasses.replace(l, weights=np.asarray(w).astype(np.uint8), levels=None)
                  for w, l in zip(weights, self.layers)]
        return Net(layers, self.binarize_threshold, dict(self.meta), self.sc_seed)


def describe_layer(l: Layer) -> str:
    """One layer as its --arch token with its weight matrix: conv32k3 (32 x 9), dense10 (10 x 256)."""
    return kinds.of(l).describe(l)


def describe_arch(net: Net) -> str:
    """The net as an --arch spec: 784-256-10 for dense nets, conv32k3-pool2-dense10 otherwise."""
    if net.is_dense:
        return "-".join(map(str, net.arch))
    return "-".join(kinds.of(l).arch_token(l) for l in net.layers)


def _checksum(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def to_dict(net: Net) -> dict:
    version = VERSION_BAYES if net.is_bayesian else VERSION if net.is_dense else VERSION_CONV
    v2 = version >= VERSION_CONV
    doc = {
        "format": FORMAT,
        "version": version,
        "arch": net.arch,
        "binarize_threshold": net.binarize_threshold,
        "meta": net.meta,
        **({"sc": net.sc} if net.sc else {}),
        **({"bayes": {"levels": LEVELS, "score_scale": net.score_scale}} if net.is_bayesian else {}),
        "layers": [],
    }
    for i, l in enumerate(net.layers):
        d = {"kind": l.kind} if v2 else {}
        if v2 and i == 0:
            d["input_shape"] = list(l.in_shape or (1, 1, l.n_in))   # an MLP's: [1, 1, n_in]
        doc["layers"].append({**d, **kinds.of(l).write(l)})
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


def _layer(d, i: int, last: bool, shape, where: str, version: int, samples: int = 0) -> Layer:
    """Layer i of a file; `shape` is its input's shape ((H, W, C), or (n,) once flat). The
    checks every layer shares are here; its kind checks the rest (models.net.kinds)."""
    need(isinstance(d, dict), f"{where}: not a JSON object")
    if version == VERSION:
        need("kind" not in d and "input_shape" not in d, f"{where}: 'kind' and 'input_shape' are "
             "version 2 fields (this file says version 1)")
        kind = kinds.DENSE
    else:
        name = d.get("kind")
        need(isinstance(name, str) and name in kinds.KINDS,
             f"{where}: unknown layer kind {name!r} ({', '.join(KINDS[:-1])} or {KINDS[-1]})")
        kind = kinds.KINDS[name]
    unknown = sorted(set(d) - kind.fields)
    if unknown:
        raise BnnMramError(f"{where}: unknown field {unknown[0]!r} for a {kind.name} layer")
    if version >= VERSION_CONV:
        need(("input_shape" in d) == (i == 0), f"{where}: input_shape belongs to layer 0 only, and "
             "layer 0 must have it")
    input_kind = d.get("input")
    need(isinstance(input_kind, str) and input_kind in INPUTS, f"{where}: unknown input kind {input_kind!r}")
    need(INPUTS[input_kind].first_layer == (i == 0), f"{where}: input kind {input_kind!r} is wrong for this position")
    samples = samples if input_kind == "sc" else 0
    need(d.get("output") == ("scores" if last else "bits"),
         f"{where}: output kind {d.get('output')!r} is wrong for this position")
    if kind.spatial_input:
        need(len(shape) == 3, f"{where}: a {kind.name} layer needs an [H, W, C] input, not a flat vector"
             + (" (after a dense layer)" if kind.has_weights else ""))
    if last and not kind.may_be_last:
        raise BnnMramError(f"{where}: the last layer must be dense (it gives the class scores)")
    ctx = kinds.ReadContext(where, i, last, tuple(shape), input_kind, samples, version)
    return Layer(input=input_kind, kind=kind.name, samples=samples, **kind.read(d, ctx))


def load(path) -> Net:
    """Read and fully validate a net file; any problem is one BnnMramError line."""
    path = Path(path)
    need(path.is_file(), f"net file {path} does not exist")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).splitlines()[0][:100]
        raise BnnMramError(f"net file {path} is corrupt: not valid JSON ({reason})") from None
    need(isinstance(doc, dict) and doc.get("format") == FORMAT, f"net file {path} is not a {FORMAT} file")
    v = doc.get("version")
    need(is_int(v) and v in VERSIONS,
          f"net file {path} has version {v!r}; this bnnmram reads versions 1, 2 and 3 (integers)")
    try:
        ok = doc.get("sha256") == _checksum(doc)
    except (TypeError, ValueError, RecursionError):
        ok = False
    need(ok, f"net file {path} is corrupt: checksum mismatch")
    known = {"format", "version", "arch", "binarize_threshold", "meta", "layers", "sha256", "sc", "bayes"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise BnnMramError(f"net file {path}: unknown field {unknown[0]!r}")
    need(isinstance(doc.get("meta"), dict), f"net file {path}: meta must be a JSON object")
    layers_doc = doc.get("layers")
    need(isinstance(layers_doc, list) and layers_doc, f"net file {path}: layers must be a non-empty list")
    need(len(layers_doc) <= MAX_LAYERS, f"net file {path}: {len(layers_doc)} layers, at most {MAX_LAYERS}")
    if v == VERSION_BAYES:
        b = doc.get("bayes")
        need(isinstance(b, dict) and set(b) == {"levels", "score_scale"} and is_int(b["levels"]) and b["levels"] == LEVELS
             and (isinstance(b["score_scale"], float) or is_int(b["score_scale"]))
             and math.isfinite(b["score_scale"]) and b["score_scale"] > 0, f"net file {path}: a version {VERSION_BAYES} net needs "
             f"bayes = {{\"levels\": {LEVELS}, \"score_scale\": a positive number}}, not {doc.get('bayes')!r}")
    else:
        need("bayes" not in doc, f"net file {path}: bayes is a version {VERSION_BAYES} field")
    layers = []
    if v >= VERSION_CONV:
        first = layers_doc[0] if isinstance(layers_doc[0], dict) else {}
        shape = shape3(first.get("input_shape"), f"net file {path}, layer 0", "input_shape")
    else:
        first = layers_doc[0] if isinstance(layers_doc[0], dict) else {}
        shape = (first.get("n_in"),) if is_int(first.get("n_in")) else (1,)
    is_sc = isinstance(layers_doc[0], dict) and layers_doc[0].get("input") == "sc"
    sc = doc.get("sc")
    if is_sc:
        need(isinstance(sc, dict) and set(sc) == {"samples", "seed"}, f"net file {path}: an sc net "
              "needs sc = {\"samples\": N, \"seed\": S}")
        need(is_int(sc["samples"]) and sc["samples"] in stochastic.SAMPLES,
              f"net file {path}: sc samples must be a power of two in 1..64, not {sc['samples']!r}")
        need(is_int(sc["seed"]) and 0 <= sc["seed"] <= 0xFFFFFFFF,
              f"net file {path}: sc seed must be an integer in [0, 2**32 - 1], not {sc['seed']!r}")
    else:
        need("sc" not in doc, f"net file {path}: sc belongs to nets whose layer 0 input is sc")
    for i, d in enumerate(layers_doc):
        layer = _layer(d, i, i == len(layers_doc) - 1, shape, f"net file {path}, layer {i}", v,
                       sc["samples"] if is_sc else 0)
        layers.append(layer)
        shape = layer.out_shape
    if v == VERSION_CONV:
        need(not Net(layers).is_dense, f"net file {path}: version 2 with dense layers only; write it as version 1")
    bt = doc.get("binarize_threshold", "missing")
    if layers[0].input == "binarized":
        need(is_int(bt) and 0 <= bt <= PIXEL_MAX, f"net file {path}: binarize_threshold must be an "
              f"integer in [0, {PIXEL_MAX}] for binarized input, not {bt!r}")
    else:
        need(bt is None, f"net file {path}: binarize_threshold must be null unless layer 0's input is binarized")
    net = Net(layers, bt, doc["meta"], sc["seed"] if is_sc else None,
              float(doc["bayes"]["score_scale"]) if v == VERSION_BAYES else None)
    need(doc.get("arch") == net.arch and all(is_int(a) for a in doc["arch"]),
          f"net file {path}: arch {doc.get('arch')!r} does not match its layers {net.arch}")
    return net
