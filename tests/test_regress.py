"""bnnmram regress and sharded sweeps on Dask local clusters: results independent of the
number of workers, a killed worker costs no row, failures reported with their reproduce
command, JUnit XML, matrix-file checks, and a sharded sweep byte-identical to one process."""
import json
import os
import re
import shutil
import signal
import threading
import time
from xml.etree import ElementTree as ET

import pytest

from cli_helpers import run_cli as _run



@pytest.fixture(scope="module")
def tiny_net(tmp_path_factory):
    out = tmp_path_factory.mktemp("regress_net")
    assert _run(["train", "--dataset", "digits", "--arch", "64-32-10", "--epochs", "3", "--out", str(out)]) == 0
    return out / "net.json"


def _matrix(tmp_path, net, **over):
    """A matrix file beside the net (nets given relative to it)."""
    keys = {"nets": [os.path.relpath(net, tmp_path)], "dataset": "digits", "simulators": ["icarus"],
            "bers": [0.0, 0.02], "seeds": [1, 2], "images": 12, "stalls": [False], **over}
    text = "\n".join(f"{k} = {json.dumps(v)}" for k, v in keys.items()) + "\n"
    path = tmp_path / "matrix.toml"
    path.write_text(text)
    return path


def _without_timing(doc):
    doc = dict(doc)
    doc.pop("timing")
    return doc


def test_one_and_two_workers_give_the_same_regress_json(tiny_net, tmp_path):
    m = _matrix(tmp_path, tiny_net, foldings=["default", "0:8:16"], bers=[0.02], seeds=[3], stalls=[True])
    docs = []
    out = tmp_path / "out"
    for workers in (1, 2):   # the same folder, as a user reruns a regression with more workers
        assert _run(["regress", "--matrix", str(m), "--workers", str(workers), "--out", str(out)]) == 0
        docs.append(json.loads((out / "regress.json").read_text()))
        assert docs[-1]["timing"]["workers"] == workers
        assert (out / "regress.md").read_text().startswith("# bnnmram regress: 2 passed")
        xml = ET.parse(out / "regress.xml").getroot()
        assert xml.get("tests") == "2" and xml.get("failures") == "0" and len(xml.findall(".//testcase")) == 2
    a, b = docs
    assert _without_timing(a) == _without_timing(b)
    runs = a["runs"]
    assert len(runs) == 2 and all(r["status"] == "pass" and r["mismatches"] == 0 for r in runs)
    assert any(r["weights_flipped"] > 0 for r in runs) and any(r["stalls"] for r in runs)
    assert {r["folding"] for r in runs} == {"default", "0:8:16"}
    # the cycles per image of the two foldings differ, each as analysed
    assert len({r["cycles_per_image_analytic"] for r in runs}) == 2
    assert all(r["reproduce"].startswith("bnnmram sim --rtl ") for r in runs)
    # the write counters read back from the hardware: one write per word
    assert all(r["writes_per_word_max"] == 1 for r in runs)


def test_a_killed_worker_costs_no_row(tiny_net, tmp_path):
    """Kill a worker process while it runs a co-simulation: Dask reruns it elsewhere and the
    regression completes with every row."""
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        m = _matrix(tmp_path, tiny_net, bers=[0.0, 0.03], seeds=[1, 2], images=40)
        codes = []
        t = threading.Thread(target=lambda: codes.append(
            _run(["regress", "--matrix", str(m), "--scheduler", cluster.scheduler_address,
                  "--out", str(tmp_path / "out")])))
        t.start()
        killed = None
        deadline = time.time() + 240
        while killed is None and time.time() < deadline:
            busy = {w: keys for w, keys in c.processing().items() if any(str(k).startswith("sim-") for k in keys)}
            if busy:
                victim = sorted(busy)[0]
                time.sleep(1.0)   # inside the run (a co-simulation takes seconds)
                if any(str(k).startswith("sim-") for k in c.processing().get(victim, ())):
                    pid = c.run(os.getpid, workers=[victim])[victim]
                    os.kill(pid, signal.SIGKILL)
                    killed = victim
            time.sleep(0.2)
        t.join(timeout=400)
        assert killed is not None, "no worker was caught running a co-simulation"
    assert codes == [0]
    doc = json.loads((tmp_path / "out" / "regress.json").read_text())
    assert len(doc["runs"]) == 2 * 2 and all(r["status"] == "pass" for r in doc["runs"])


def test_failing_runs_are_reported_with_their_command_not_retried(tiny_net, tmp_path, monkeypatch):
    """No simulator on the workers' PATH: every run is an error row naming `bnnmram sim`, the
    exit code is 1, and the JUnit XML carries the errors."""
    bin_dir = tmp_path / "bin"   # a PATH with perl (Verilator's lint in conftest) but no Icarus
    bin_dir.mkdir()
    (bin_dir / "perl").symlink_to(shutil.which("perl"))
    monkeypatch.setenv("PATH", str(bin_dir))
    m = _matrix(tmp_path, tiny_net, bers=[0.0], seeds=[1])
    out = tmp_path / "out"
    assert _run(["regress", "--matrix", str(m), "--workers", "1", "--out", str(out)]) == 1
    doc = json.loads((out / "regress.json").read_text())
    assert doc["summary"]["errors"] == 1 and doc["runs"][0]["status"] == "error"
    assert "icarus" in doc["runs"][0]["error"].lower() or "iverilog" in doc["runs"][0]["error"].lower()
    xml = ET.parse(out / "regress.xml").getroot()
    err = xml.find(".//testcase/error")
    assert err is not None and "bnnmram sim --rtl" in err.text
    assert "bnnmram sim --rtl" in (out / "regress.md").read_text()


@pytest.mark.parametrize("text,match", [
    ("nets = [\"missing.json\"]\n", "does not exist"),
    ("colour = 1\n", "unknown key 'colour'"),
    ("bers = [2.0]\n", r"not a number in \[0, 1\]"),
    ("simulators = [\"modelsim\"]\n", "unknown simulator"),
    ("foldings = [\"0:8\"]\n", "LAYER:PE:SIMD"),
    ("seeds = [1, 1]\n", "lists a value twice"),
    ("images = \"many\"\n", "images must be an integer, not .many."),
    ("nets = [\n", "not valid TOML"),
])
def test_bad_matrix_files_are_refused_in_one_line(tiny_net, tmp_path, capsys, text, match):
    m = tmp_path / "m.toml"
    body = text if text.startswith("nets") else f"nets = [{json.dumps(str(tiny_net))}]\n" + text
    m.write_text(body)
    assert _run(["regress", "--matrix", str(m), "--out", str(tmp_path / "o")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(match, err[0]), err


def test_sharded_sweep_is_byte_identical(tiny_net, tmp_path):
    args = ["sweep", "--net", str(tiny_net), "--dataset", "digits", "--ber", "0,1e-3,1e-2,1e-1", "--trials", "3",
            "--thresholds"]
    assert _run(args + ["--out", str(tmp_path / "one")]) == 0
    assert _run(args + ["--workers", "2", "--out", str(tmp_path / "dask")]) == 0
    assert (tmp_path / "one" / "sweep.csv").read_bytes() == (tmp_path / "dask" / "sweep.csv").read_bytes()
    assert (tmp_path / "one" / "sweep.json").read_bytes() == (tmp_path / "dask" / "sweep.json").read_bytes()
