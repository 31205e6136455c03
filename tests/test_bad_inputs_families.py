"""The hostile corpus, second part: conv (v2) net files with every field corrupted and
re-signed, sc sections, conv --arch strings, CIFAR-10 batches (missing, empty, truncated,
garbage, code-executing pickles), regress matrix files, options and output paths, and the
sweep's sharding options. Each case through the CLI: exactly one line `bnnmram SUB: error:
...` naming the problem, exit code 2, no traceback, nothing created or changed."""
import gzip
import json
import os
import pickle

import numpy as np
import pytest

from bnnmram.models.data import cifar10
from bnnmram.models.net import netfile
from cli_helpers import assert_one_line_error, snapshot
from cli_helpers import run_cli_err as run_cli
from nets import bayesian, random_conv_net, save_random_net


def _check(capsys, tmp_path, argv, sub, expect):
    before = snapshot(tmp_path)
    code, err = run_cli(capsys, argv)
    assert_one_line_error(code, err, sub, expect)
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, "a file was changed"
    assert not [k for k in after if k not in before], [k for k in after if k not in before]


# ---------------------------------------------------------------- conv (v2) and sc net files

def _layer(i, **kv):
    return lambda d: d["layers"][i].update(**kv)


def _drop(i, key):
    return lambda d: d["layers"][i].pop(key)


def _top(**kv):
    return lambda d: d.update(**kv)


def _sc(**kv):
    return lambda d: d["sc"].update(**kv)


def _row(i, k, f):
    return lambda d: d["layers"][i][k].__setitem__(0, f(d["layers"][i][k][0]))


POOL = {"kind": "maxpool", "pool": 2, "input": "bits", "output": "bits"}

# (name, edit of the random conv net's document [conv k3, maxpool 2, conv k2, dense, dense], words)
CONV_EDITS = [
    ("kind missing", _drop(0, "kind"), "layer 0: unknown layer kind None"),
    ("kind null", _layer(0, kind=None), "layer 0: unknown layer kind None"),
    ("kind number", _layer(0, kind=5), "layer 0: unknown layer kind 5"),
    ("kind capitalised", _layer(2, kind="Conv"), "layer 2: unknown layer kind 'Conv'"),
    ("shape zero rows", _layer(0, input_shape=[0, 8, 2]), "input_shape must be [H, W, C]"),
    ("shape zero channels", _layer(0, input_shape=[8, 8, 0]), "input_shape must be [H, W, C]"),
    ("shape string entry", _layer(0, input_shape=[8, "8", 2]), "input_shape must be [H, W, C]"),
    ("shape four entries", _layer(0, input_shape=[8, 8, 2, 1]), "input_shape must be [H, W, C]"),
    ("shape null", _layer(0, input_shape=None), "input_shape must be [H, W, C]"),
    ("shape huge", _layer(0, input_shape=[10**9, 8, 2]), "not [1000000000, 8, 2]"),
    ("shape bool", _layer(0, input_shape=[True, 8, 2]), "input_shape must be [H, W, C]"),
    ("shape float", _layer(0, input_shape=[8.0, 8, 2]), "input_shape must be [H, W, C]"),
    ("shape smaller than kernel", _layer(0, input_shape=[2, 2, 2]), "kernel must be an integer in [1, 2] for its 2 x 2 input, not 3"),
    ("kernel 0", _layer(0, kernel=0), "layer 0: kernel must be an integer in [1, 8]"),
    ("kernel true", _layer(0, kernel=True), "not True"),
    ("kernel float", _layer(2, kernel=2.0), "layer 2: kernel must be an integer in [1, 3] for its 3 x 3 input, not 2.0"),
    ("kernel string", _layer(2, kernel="2"), "not '2'"),
    ("kernel missing", _drop(2, "kernel"), "layer 2: kernel must be an integer"),
    ("conv n_out 0", _layer(2, n_out=0), "layer 2: n_out=0 is outside [1, 65536]"),
    ("conv n_out beyond the hash", _layer(2, n_out=70000), "n_out=70000 is outside [1, 65536]"),
    ("pool 0", _layer(1, pool=0), "layer 1: pool must be an integer >= 2, not 0"),
    ("pool true", _layer(1, pool=True), "pool must be an integer >= 2, not True"),
    ("pool string", _layer(1, pool="2"), "pool must be an integer >= 2, not '2'"),
    ("pool missing", _drop(1, "pool"), "pool must be an integer >= 2, not None"),
    ("pool float", _layer(1, pool=2.5), "not 2.5"),
    ("pool with thresholds", _layer(1, thresholds=[0]), "unknown field 'thresholds' for a maxpool layer"),
    ("pool with kernel", _layer(1, kernel=2), "unknown field 'kernel' for a maxpool layer"),
    ("pool with n_out", _layer(1, n_out=4), "unknown field 'n_out' for a maxpool layer"),
    ("pool of pixels", _layer(1, input="pixel"), "layer 1: input kind 'pixel' is wrong"),
    ("pool gives scores", _layer(1, output="scores"), "layer 1: output kind 'scores' is wrong"),
    ("conv gives scores", _layer(2, output="scores"), "layer 2: output kind 'scores' is wrong"),
    ("conv of pixels later", _layer(2, input="pixel"), "layer 2: input kind 'pixel' is wrong"),
    ("first conv of bits", _layer(0, input="bits"), "layer 0: input kind 'bits' is wrong"),
    ("conv row long", _row(2, "weights", lambda h: "0" + h), "layer 2: weights[0] must be exactly 4 hex digits"),
    ("conv row not hex", _row(2, "weights", lambda h: "zzzz"), "weights[0] holds a character that is not a hex digit"),
    ("conv threshold float", _row(2, "thresholds", lambda t: 0.5), "layer 2: thresholds[0] = 0.5 is not an integer"),
    ("conv threshold beyond peak", _row(2, "thresholds", lambda t: 10**6), "thresholds[0] = 1000000 is outside [-17, 17]"),
    ("conv pixel threshold beyond peak", _row(0, "thresholds", lambda t: 10**7), "layer 0: thresholds[0] = 10000000 is outside"),
    ("conv flip short", lambda d: d["layers"][2]["flip"].pop(), "flip must be a list of n_out=3 booleans"),
    ("conv flip int", _row(2, "flip", lambda f: 1), "flip[0] = 1 is not true or false"),
    ("pool after the scores", lambda d: d["layers"].append(dict(POOL)), "layer 4: output kind 'scores' is wrong"),
    ("ends in a conv layer", lambda d: d.update(layers=d["layers"][:3]), "layer 2: output kind 'bits' is wrong"),
    ("pool not dividing", lambda d: d["layers"].insert(2, dict(POOL)), "layer 2: pool 2 does not divide its 3 x 3 input"),
    ("dense n_in after conv", _layer(3, n_in=13), "n_in=13 does not match layer 2's output (12 values)"),
    ("binarize on a pixel net", _top(binarize_threshold=300), "binarize_threshold must be null"),
    ("binarize negative", _top(binarize_threshold=-1), "binarize_threshold must be null"),
    ("sc section on a pixel net", _top(sc={"samples": 4, "seed": 1}), "sc belongs to nets whose layer 0 input is sc"),
    ("layers null", _top(layers=None), "layers must be a non-empty list"),
    ("a layer as a list", lambda d: d["layers"].__setitem__(1, []), "layer 1: not a JSON object"),
    ("arch null", _top(arch=None), "arch None does not match its layers"),
    ("format null", _top(format=None), "is not a bnnmram-net file"),
    ("version 2.0", _top(version=2.0), "has version 2.0"),
]

SC_EDITS = [
    ("sc missing", lambda d: d.pop("sc"), 'an sc net needs sc = {"samples": N, "seed": S}'),
    ("sc null", _top(sc=None), "an sc net needs sc ="),
    ("sc a list", _top(sc=[4, 1]), "an sc net needs sc ="),
    ("sc unknown key", _sc(rate=1), "an sc net needs sc ="),
    ("samples missing", lambda d: d["sc"].pop("samples"), "an sc net needs sc ="),
    ("samples 3", _sc(samples=3), "sc samples must be a power of two in 1..64, not 3"),
    ("samples 128", _sc(samples=128), "not 128"),
    ("samples true", _sc(samples=True), "not True"),
    ("samples float", _sc(samples=4.0), "not 4.0"),
    ("samples string", _sc(samples="4"), "not '4'"),
    ("seed missing", lambda d: d["sc"].pop("seed"), "an sc net needs sc ="),
    ("seed negative", _sc(seed=-1), "sc seed must be an integer in [0, 2**32 - 1], not -1"),
    ("seed 2**32", _sc(seed=2**32), "not 4294967296"),
    ("seed string", _sc(seed="1"), "not '1'"),
    ("seed float", _sc(seed=1.0), "not 1.0"),
    ("threshold beyond the sc peak", _row(0, "thresholds", lambda t: 10**4), "thresholds[0] = 10000 is outside [-73, 73]"),
    ("pixel input with an sc section", _layer(0, input="pixel"), "sc belongs to nets whose layer 0 input is sc"),
    ("binarize with sc", _top(binarize_threshold=128), "binarize_threshold must be null"),
]


def _bayes(**kv):
    return lambda d: d["bayes"].update(**kv)


# (name, edit of a Bayesian (v3) random conv net's document, words)
BAYES_EDITS = [
    ("bayes missing", lambda d: d.pop("bayes"), 'a version 3 net needs bayes = {"levels": 16'),
    ("bayes null", _top(bayes=None), "a version 3 net needs bayes"),
    ("bayes a list", _top(bayes=[16]), "a version 3 net needs bayes"),
    ("levels 8", _bayes(levels=8), "a version 3 net needs bayes"),
    ("levels 16.0", _bayes(levels=16.0), "a version 3 net needs bayes"),
    ("levels true", _bayes(levels=True), "a version 3 net needs bayes"),
    ("score scale 0", _bayes(score_scale=0.0), "a version 3 net needs bayes"),
    ("score scale negative", _bayes(score_scale=-1.0), "a version 3 net needs bayes"),
    ("score scale string", _bayes(score_scale="1"), "a version 3 net needs bayes"),
    ("score scale true", _bayes(score_scale=True), "a version 3 net needs bayes"),
    ("score scale missing", lambda d: d["bayes"].pop("score_scale"), "a version 3 net needs bayes"),
    ("bayes unknown key", _bayes(prior=0.5), "a version 3 net needs bayes"),
    ("layer levels missing", _drop(0, "levels"), "layer 0: levels must be a list of n_out=4 strings"),
    ("layer levels null", _layer(3, levels=None), "layer 3: levels must be a list of n_out=5 strings"),
    ("levels row short", _row(0, "levels", lambda r: r[:-1]), "layer 0: levels[0] must be exactly n_in=18 hex digits"),
    ("levels row long", _row(0, "levels", lambda r: r + "0"), "levels[0] must be exactly n_in=18 hex digits"),
    ("levels row not hex", _row(2, "levels", lambda r: "g" + r[1:]), "layer 2: levels[0] must be exactly"),
    ("levels row a number", _row(4, "levels", lambda r: 5), "layer 4: levels[0] must be exactly n_in=5"),
    ("levels one row missing", lambda d: d["layers"][0]["levels"].pop(), "levels must be a list of n_out=4"),
    ("level disagrees with its weight", _row(0, "levels", lambda r: ("f" if r[0] < "8" else "0") + r[1:]),
     "layer 0: weights[0] bit 0 is not the most probable value of its level"),
    ("levels on a maxpool", _layer(1, levels=["00"]), "layer 1: unknown field 'levels' for a maxpool layer"),
    ("version 2 with levels", lambda d: (d.update(version=2), d.pop("bayes")), "layer 0: levels is a version 3 field"),
    ("version 2 with bayes", _top(version=2), "bayes is a version 3 field"),
    ("version 3 without levels anywhere", lambda d: [l.pop("levels", None) for l in d["layers"]],
     "layer 0: levels must be a list"),
]

V2_WITH_BAYES = ("bayes in a version 2 file", _top(bayes={"levels": 16, "score_scale": 1.0}), "bayes is a version 3 field")


def _resigned(tmp_path, kind, edit, bayes=False):
    net = random_conv_net(1, kind=kind)
    doc = netfile.to_dict(bayesian(net) if bayes else net)
    edit(doc)
    doc["sha256"] = netfile._checksum(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize("name,edit,expect", CONV_EDITS, ids=[e[0] for e in CONV_EDITS])
def test_bad_conv_net_file(capsys, tmp_path, name, edit, expect):
    bad = _resigned(tmp_path, "pixel", edit)
    _check(capsys, tmp_path, ["gen", "--net", bad, "--out", tmp_path / "rtl"], "gen", expect)


@pytest.mark.parametrize("name,edit,expect", SC_EDITS, ids=[e[0] for e in SC_EDITS])
def test_bad_sc_section(capsys, tmp_path, name, edit, expect):
    bad = _resigned(tmp_path, "sc", edit)
    _check(capsys, tmp_path, ["gen", "--net", bad, "--out", tmp_path / "rtl"], "gen", expect)


@pytest.mark.parametrize("name,edit,expect", BAYES_EDITS, ids=[e[0] for e in BAYES_EDITS])
def test_bad_bayesian_net_file(capsys, tmp_path, name, edit, expect):
    bad = _resigned(tmp_path, "pixel", edit, bayes=True)
    argv = ["infer", "--net", bad, "--dataset", "digits", "--samples", "2", "--out", tmp_path / "i.npz"]
    _check(capsys, tmp_path, argv, "infer", expect)


def test_bayes_section_in_a_version_2_file(capsys, tmp_path):
    bad = _resigned(tmp_path, "pixel", V2_WITH_BAYES[1])
    _check(capsys, tmp_path, ["gen", "--net", bad, "--out", tmp_path / "rtl"], "gen", V2_WITH_BAYES[2])


@pytest.mark.parametrize("command", ["infer", "sweep"])
def test_bad_conv_net_file_other_commands(capsys, tmp_path, command):
    bad = _resigned(tmp_path, "pixel", _layer(1, pool=0))
    out = tmp_path / "out"
    argv = {"infer": ["infer", "--net", bad, "--dataset", "digits", "--out", out / "i.npz"],
            "sweep": ["sweep", "--net", bad, "--dataset", "digits", "--ber", "1e-2", "--trials", "1", "--out", out]}
    _check(capsys, tmp_path, argv[command], command, "layer 1: pool must be an integer >= 2, not 0")


# ---------------------------------------------------------------- conv --arch strings (digits: 8 x 8 x 1)

CONV_ARCHS = [
    ("conv0k3-dense10", "'conv0k3' needs at least 1 channel"),
    ("conv8k0-dense10", "'conv8k0' needs a kernel of at least 1"),
    ("conv8k9-dense10", "layer 0 (conv): kernel 9 does not fit its 8 x 8 input"),
    ("conv8-dense10", "'conv8' is not convCkK, poolP or denseN"),
    ("conv8k3", "must end in a dense layer"),
    ("conv8k3-pool2", "must end in a dense layer"),
    ("conv8k3-pool2-dense10-pool2", "must end in a dense layer"),
    ("pool2-dense10", "layer 0 (pool): the first layer cannot pool"),
    ("conv8k3-pool1-dense10", "'pool1' needs a window of at least 2"),
    ("conv8k3-pool4-dense10", "layer 1 (pool): pool 4 does not divide its 6 x 6 input"),
    ("conv8k3-pool2-pool2-dense10", "layer 2 (pool): pool 2 does not divide its 3 x 3 input"),
    ("dense16-conv8k3-dense10", "layer 1 (conv): a conv layer cannot follow a dense layer"),
    ("conv8k3-dense10-", "'' is not convCkK"),
    ("conv8k3--dense10", "'' is not convCkK"),
    ("conv8k3-dense16-dense9", "output size 9 is smaller than the dataset's 10 classes"),
    ("CONV8K3-dense10", "'CONV8K3' is not convCkK"),
    ("conv8k3-dense0", "'dense0' needs at least 1 neuron"),
    ("conv99999k3-dense10", "99999 channels exceed the fault model's 65536"),
    ("conv8k3-conv8k3-conv8k3-conv8k3-dense10", "layer 3 (conv): kernel 3 does not fit its 2 x 2 input"),
    ("conv 8k3-dense10", "'conv 8k3' is not convCkK"),
    ("conv8k3-maxpool2-dense10", "'maxpool2' is not convCkK"),
    ("conv8k3s2-dense10", "'conv8k3s2' is not convCkK"),
    ("conv8k3p1-dense10", "'conv8k3p1' is not convCkK"),
    ("64-conv8k3-10", "'64' is not convCkK"),
]


@pytest.mark.parametrize("arch,expect", CONV_ARCHS, ids=[a for a, _ in CONV_ARCHS])
def test_bad_conv_arch(capsys, tmp_path, arch, expect):
    _check(capsys, tmp_path, ["train", "--dataset", "digits", "--arch", arch, "--epochs", "1",
                              "--out", tmp_path / "net"], "train", expect)


# ---------------------------------------------------------------- CIFAR-10 batches

class _Evil:
    """A pickle that runs a shell command when it is loaded by a trusting reader."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _cifar_set(d):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in cifar10.TRAIN + [cifar10.TEST]:
        cifar10.write_batch(d / name, rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, 4))


_BATCH = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})

# (name, what data_batch_2 holds, or how the folder is broken; words)
CIFAR = [
    ("folder missing", "missing", "CIFAR-10 not found in"),
    ("folder empty", "empty", "(data_batch_1 missing)"),
    ("folder is a file", "file", "is a file; give the folder holding data_batch_1"),
    ("batch is a folder", "folder batch", "(test_batch missing)"),
    ("batch empty", b"", "data_batch_2 is corrupt: not a python-version batch"),
    ("batch truncated", _BATCH[:len(_BATCH) // 2], "data_batch_2 is corrupt"),
    ("batch garbage", bytes(range(256)) * 2, "data_batch_2 is corrupt"),
    ("batch gzipped", gzip.compress(_BATCH), "data_batch_2 is corrupt"),
    ("batch executes code", "evil", "data_batch_2 is corrupt"),
    ("batch executes code inside", "evil inside", "data_batch_2 is corrupt"),
    ("batch a list", pickle.dumps([1]), "data_batch_2 is corrupt: not a dict"),
    ("data too narrow", pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}), "'data' is not uint8 [N, 3072]"),
    ("data int64", pickle.dumps({b"data": np.zeros((2, 3072), np.int64), b"labels": [0, 1]}), "'data' is not uint8"),
    ("label 10", pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), "'labels' are not 2 classes 0..9"),
    ("labels strings", pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}), "'labels' are not integers"),
    ("labels missing", pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "it has no 'labels'"),
]


@pytest.mark.parametrize("name,content,expect", CIFAR, ids=[c[0] for c in CIFAR])
def test_bad_cifar10_copy(capsys, tmp_path, name, content, expect):
    d, marker = tmp_path / "cifar", tmp_path.parent / f"{tmp_path.name}-owned"
    if content == "empty":
        d.mkdir()
    elif content == "file":
        d.write_text("not a folder\n")
    elif content == "folder batch":
        _cifar_set(d)
        (d / "test_batch").unlink()
        (d / "test_batch").mkdir()
    elif content != "missing":
        _cifar_set(d)
        content = {"evil": pickle.dumps(_Evil(marker)),
                   "evil inside": pickle.dumps({b"data": _Evil(marker), b"labels": []})}.get(content, content)
        (d / "data_batch_2").write_bytes(content)
    _check(capsys, tmp_path, ["train", "--dataset", "cifar10", "--data-dir", d, "--arch", "conv8k3-dense10",
                              "--epochs", "1", "--out", tmp_path / "net"], "train", expect)
    assert not marker.exists(), "the pickle ran code"


# ---------------------------------------------------------------- regress: options, matrix files, output paths

@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    p = tmp_path_factory.mktemp("families") / "mlp.json"
    save_random_net(p, [64, 32, 10])
    return p


REGRESS_OPTIONS = [
    (["--ber", "2"], "argument --ber: bit error rate must be in [0, 1], not 2"),
    (["--ber", "nan"], "must be in [0, 1], not nan"),
    (["--seeds", "-1"], "argument --seeds: seed must be a 32-bit unsigned integer, not -1"),
    (["--seeds", "a"], "seed 'a' is not an integer"),
    (["--seeds", "1,1"], "seeds lists a value twice"),
    (["--images", "0"], "argument --images: must be a positive integer, not 0"),
    (["--sims", "modelsim"], "--sims 'modelsim': choose from icarus, verilator"),
    (["--sims", ""], "--sims '': choose from icarus, verilator"),
    (["--stalls", "maybe"], "invalid choice: 'maybe'"),
    (["--fault-modes", "stuck"], "unknown fault mode 'stuck'"),
    (["--fault-modes", ""], "unknown fault mode ''"),
    (["--folding", "0:8"], "folding '0:8' must be 'default' or LAYER:PE:SIMD"),
    (["--folding", ""], "folding '' must be 'default'"),
    (["--folding", "0:3:64"], "layer 0 (64 inputs, 32 neurons): PE=3 does not divide the 32 neurons"),
    (["--folding", "9:1:1"], "folding override for layer 9, but the net has layers 0..1"),
    (["--workers", "0"], "argument --workers: must be a positive integer, not 0"),
    (["--workers", "100000"], "100000 local workers is more than 4 per core"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "argument --scheduler: not allowed with argument --workers"),
    (["--scheduler", "notaurl"], "'notaurl' is not a Dask scheduler address"),
    (["--scheduler", "http://h:80"], "'http://h:80' is not a Dask scheduler address"),
    (["--memory", "flash"], "unknown memory technology 'flash'"),
    (["--memory", "stmram,stmram"], "memories lists a value twice"),
    (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["--matrix", "{tmp}/missing.toml"], "missing.toml does not exist"),
    (["--matrix", "{tmp}"], "is a folder; give the TOML file"),
    (["--net", "{tmp}/missing.json"], "missing.json' does not exist"),
    (["--net", "{tmp}/notes.txt"], "notes.txt is corrupt: not valid JSON"),
]


@pytest.mark.parametrize("extra,expect", REGRESS_OPTIONS, ids=[" ".join(e) for e, _ in REGRESS_OPTIONS])
def test_bad_regress_options(capsys, tmp_path, mlp, extra, expect):
    (tmp_path / "notes.txt").write_text("my notes\n")
    extra = [a.format(tmp=tmp_path) for a in extra]
    _check(capsys, tmp_path, ["regress", "--net", mlp, "--dataset", "digits", *extra, "--out", tmp_path / "r"],
           "regress", expect)


# (matrix file text after `nets = [the net]`, or the whole text when it starts with '!'; words)
MATRICES = [
    ("!", "no nets (give --net or a --matrix file"),
    ("!\x00\x01garbage", "is not valid TOML"),
    ("!nets = \"a.json\"\n", "nets must be a list, not 'a.json'"),
    ("!nets = []\n", "no nets (give nets = [...] or --net)"),
    ("!nets = [\"{tmp}\"]\n", "is a folder"),
    ("!nets = [\"{tmp}/notes.txt\"]\n", "notes.txt is corrupt"),
    ("!nets = [3]\n", "nets entry 3 is not a path"),
    ("bers = []\n", "bers must be a non-empty list"),
    ("bers = [0.1, \"x\"]\n", "bit error rate 'x' is not a number in [0, 1]"),
    ("bers = [1e400]\n", "bit error rate inf is not a number in [0, 1]"),
    ("images = 0\n", "images must be an integer >= 2, not 0"),
    ("images = -1\n", "not -1"),
    ("images = true\n", "images must be an integer, not True"),
    ("images = 1.5\n", "images must be an integer, not 1.5"),
    ("stalls = [\"maybe\"]\n", "stalls entries must be true or false, not 'maybe'"),
    ("folding = [\"default\"]\n", "unknown key 'folding'"),
    ("workers = 2\n", "unknown key 'workers'"),
    ("[section]\nx = 1\n", "unknown key 'section'"),
    ("memories = [\"flash\"]\n", "unknown memory technology 'flash'"),
    ("seeds = [-1]\n", "seed -1 is not a 32-bit unsigned integer"),
    ("seeds = [4294967296]\n", "seed 4294967296 is not a 32-bit unsigned integer"),
    ("simulators = []\n", "simulators must be a non-empty list"),
    ("simulators = [\"modelsim\"]\n", "unknown simulator"),
    ("dataset = \"cifar\"\n", "unknown dataset 'cifar'"),
    ("dataset = 3\n", "dataset must be a string, not 3"),
    ("fault_modes = [\"stuck\"]\n", "unknown fault mode 'stuck'"),
    ("foldings = [\"0:3:64\"]\n", "PE=3 does not divide the 32 neurons"),
    ("foldings = [7]\n", "folding 7 must be a string"),
]


@pytest.mark.parametrize("text,expect", MATRICES, ids=[f"{t[:30]!r}" for t, _ in MATRICES])
def test_bad_regress_matrix_file(capsys, tmp_path, mlp, text, expect):
    (tmp_path / "notes.txt").write_text("my notes\n")
    body = text[1:] if text.startswith("!") else f"nets = [{json.dumps(str(mlp))}]\n" + text
    m = tmp_path / "m.toml"
    m.write_text(body.replace("{tmp}", str(tmp_path)))
    _check(capsys, tmp_path, ["regress", "--matrix", m, "--out", tmp_path / "r"], "regress", expect)


@pytest.mark.parametrize("where,expect", [
    ("file", "is a file; a folder is needed there"),
    ("file/sub", "is a file, so no folder can be made there"),
    ("user", "regress.json exists and was not written by `bnnmram regress`"),
    ("user-md", "regress.md exists and was not written by `bnnmram regress`"),
])
def test_bad_regress_output_path(capsys, tmp_path, mlp, where, expect):
    (tmp_path / "file").write_text("someone's file\n")
    for name in ("user", "user-md"):
        (tmp_path / name).mkdir()
    (tmp_path / "user" / "regress.json").write_text('{"mine": true}\n')
    (tmp_path / "user-md" / "regress.md").write_text("# my notes\n")
    _check(capsys, tmp_path, ["regress", "--net", mlp, "--dataset", "digits", "--out", tmp_path / where],
           "regress", expect)


# ---------------------------------------------------------------- sweep sharding options

SHARDING = [
    (["--workers", "0"], "argument --workers: must be a positive integer, not 0"),
    (["--workers", "-1"], "must be a positive integer, not -1"),
    (["--workers", "x"], "'x' is not an integer"),
    (["--workers", "1.5"], "'1.5' is not an integer"),
    (["--workers", "100000"], "100000 local workers is more than 4 per core"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "not allowed with argument --workers"),
    (["--scheduler", ""], "'' is not a Dask scheduler address SCHEME://HOST:PORT"),
    (["--scheduler", "http://h:1"], "'http://h:1' is not a Dask scheduler address"),
    (["--scheduler", "tcp://h"], "'tcp://h' is not a Dask scheduler address"),
    (["--scheduler", "tcp://h:70000"], "'tcp://h:70000' is not a Dask scheduler address"),
    (["--scheduler", "tcp://h:0"], "'tcp://h:0' is not a Dask scheduler address"),
]


@pytest.mark.parametrize("extra,expect", SHARDING, ids=[" ".join(e) for e, _ in SHARDING])
def test_bad_sweep_sharding_options(capsys, tmp_path, mlp, extra, expect):
    _check(capsys, tmp_path, ["sweep", "--net", mlp, "--dataset", "digits", "--ber", "1e-2", "--trials", "1",
                              *extra, "--out", tmp_path / "s"], "sweep", expect)


def test_family_sizes():
    """Every family above holds a real corpus, not a token case."""
    sizes = {"conv": len(CONV_EDITS), "sc": len(SC_EDITS), "bayes": len(BAYES_EDITS), "arch": len(CONV_ARCHS), "cifar10": len(CIFAR),
             "regress options": len(REGRESS_OPTIONS), "matrix": len(MATRICES), "sharding": len(SHARDING)}
    assert min(sizes.values()) >= 10 and sum(sizes.values()) >= 150, sizes
