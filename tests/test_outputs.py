"""Outputs never lose work: checked up front, written atomically, replaced as one set; and
results a user can trace (flipped weights, net path and checksum, distinct labels)."""
import csv
import errno
import json
import os
import signal

import pytest

from bnnmram.gen.cli import main
from bnnmram.models.net import netfile


def _run(argv):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    return e.value.code


def _files(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    assert _run(["train", "--dataset", "digits", "--arch", "64-16-10", "--epochs", "2", "--out", out]) == 0
    return out


def _copy(src, dst):
    dst.mkdir()
    for name, data in _files(src).items():
        (dst / name).write_bytes(data)
    return dst


@pytest.mark.parametrize("failure", ["interrupt", "disk full"])
def test_train_force_that_fails_keeps_the_old_set(trained, tmp_path, monkeypatch, capsys, failure):
    import torch
    out = _copy(trained, tmp_path / "t")
    before = _files(out)

    def broken_save(*a, **k):
        if failure == "interrupt":
            raise KeyboardInterrupt
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(torch, "save", broken_save)
    code = _run(["train", "--dataset", "digits", "--arch", "64-16-10", "--epochs", "1", "--seed", "7",
                 "--force", "--out", out])
    err = capsys.readouterr().err
    assert code == (130 if failure == "interrupt" else 2)
    assert "Traceback" not in err
    if failure == "disk full":
        assert "No space left on device" in err and "previous outputs are unchanged" in err
    assert _files(out) == before                       # same three files, same bytes, no leftovers


def test_interrupt_during_the_commit_still_gives_one_set(trained, tmp_path, monkeypatch, capsys):
    """Ctrl-C arriving between the renames is held until all of them are done; the line says
    the new set is complete."""
    out = _copy(trained, tmp_path / "t")
    real_replace = os.replace
    fired = []

    def replace_and_interrupt(a, b):
        if not fired:
            fired.append(1)
            os.kill(os.getpid(), signal.SIGINT)
        return real_replace(a, b)
    monkeypatch.setattr(os, "replace", replace_and_interrupt)
    code = _run(["train", "--dataset", "digits", "--arch", "64-16-10", "--epochs", "1", "--seed", "7",
                 "--force", "--out", out])
    assert code == 130 and fired
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"bnnmram train: interrupted; the complete new outputs are in {out} (any other outputs are unchanged)"
    rep = json.loads((out / "train.json").read_text())
    assert rep["seed"] == 7                                     # the new set, all of it
    assert rep["net_sha256"] == netfile.digest(netfile.load(out / "net.json"))


def test_sweep_that_fails_keeps_the_old_set(trained, tmp_path, monkeypatch, capsys):
    from bnnmram.models.faults import sweep as sw
    out = tmp_path / "s"
    argv = ["sweep", "--net", trained / "net.json", "--dataset", "digits", "--ber", "1e-3,1e-2",
            "--trials", "2", "--out", out]
    assert _run(argv) == 0
    before = _files(out)

    def broken_plot(doc, path):
        raise KeyboardInterrupt
    monkeypatch.setattr(sw, "plot", broken_plot)
    capsys.readouterr()
    assert _run(argv[:-4] + ["--trials", "3", "--out", out]) == 130
    assert _files(out) == before
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "bnnmram sweep: interrupted; no outputs were replaced (the previous set stays)"
    assert "Traceback" not in err


def _console(code: str, timeout=300):
    """Run Python code as the console script would (argv from sys.argv), in a fresh process."""
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)})


def test_interrupt_at_shutdown_gives_one_line_and_130(trained, tmp_path):
    """Ctrl-C while the interpreter shuts down (an atexit callback, like torch's or tqdm's)
    after the outputs were committed: one line naming the complete set, exit 130."""
    out = tmp_path / "s"
    p = _console(f"""
import atexit, os, signal, sys, time
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(30)))
sys.argv = ["bnnmram", "sweep", "--net", {str(trained / "net.json")!r}, "--dataset", "digits",
            "--ber", "1e-2", "--trials", "1", "--out", {str(out)!r}]
from bnnmram.gen.cli import main
main()
""")
    assert p.returncode == 130, p.stderr
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    assert p.stderr.splitlines()[-1] == (f"bnnmram sweep: interrupted; the complete new outputs are in {out} "
                                         "(any other outputs are unchanged)")
    assert (out / "sweep.json").is_file()


def test_interrupt_during_the_imports_gives_one_line_and_130():
    p = _console("""
import sys
class Interrupt:   # Ctrl-C while the CLI imports its flow steps
    def find_spec(self, name, path=None, target=None):
        if name == "bnnmram.gen.args":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["bnnmram", "sweep", "--help"]
from bnnmram.gen.cli import main
main()
""", timeout=120)
    assert p.returncode == 130, p.stderr
    assert p.stderr.strip() == "bnnmram: interrupted; no outputs were replaced (the previous set stays)", p.stderr


def test_full_disk_is_refused_before_any_work(trained, tmp_path, monkeypatch, capsys):
    import shutil
    from collections import namedtuple
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 4096, 4096))
    started = []
    import bnnmram.gen.steps.sweep as sweep_step
    monkeypatch.setattr(sweep_step.datasets, "load", lambda name: started.append(name))
    code = _run(["sweep", "--net", trained / "net.json", "--dataset", "digits", "--out", tmp_path / "s"])
    assert code == 2 and not started
    assert "no space left on its disk (4 KiB free)" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["/proc/bnnmram-out", "/sys/bnnmram/out"])
def test_unwritable_out_is_refused(trained, where, capsys):
    code = _run(["sweep", "--net", trained / "net.json", "--dataset", "digits", "--out", where])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and f"--out {where}" in err


def test_gen_reuses_only_its_own_folder(trained, tmp_path):
    rtl = tmp_path / "rtl"
    assert _run(["gen", "--net", trained / "net.json", "--out", rtl]) == 0
    assert _run(["gen", "--net", trained / "net.json", "--pe", "2", "--out", rtl]) == 0   # its own: fine
    man = json.loads((rtl / "manifest.json").read_text())
    assert man["layers"][0]["pe"] == 2 and sorted(man["files"]) == sorted(p.name for p in rtl.iterdir()
                                                                          if not p.name.startswith("."))
    (rtl / "mine.v").write_text("module mine; endmodule\n")
    assert _run(["gen", "--net", trained / "net.json", "--out", rtl]) == 2
    assert (rtl / "mine.v").read_text() == "module mine; endmodule\n"


def test_infer_prints_flipped_weights(trained, tmp_path, capsys):
    assert _run(["infer", "--net", trained / "net.json", "--dataset", "digits", "--ber", "0.01", "--seed", "3",
                 "--out", tmp_path / "i.npz"]) == 0
    line = capsys.readouterr().out
    net = netfile.load(trained / "net.json")
    from bnnmram.models.faults.model import FaultConfig, faulty_net
    f = faulty_net(net, FaultConfig(seed=3, ber=0.01))
    flipped = sum(int((a.weights != b.weights).sum()) for a, b in zip(net.layers, f.layers))
    assert flipped > 0 and f"{flipped} of {64 * 16 + 16 * 10} weights flipped" in line
    # an infer result may be replaced by the next infer
    assert _run(["infer", "--net", trained / "net.json", "--dataset", "digits", "--out", tmp_path / "i.npz"]) == 0


def test_sweep_records_nets_and_keeps_labels_apart(trained, tmp_path):
    second = _copy(trained, tmp_path / "b")
    out = tmp_path / "s"
    assert _run(["sweep", "--net", trained / "net.json", "--net", second / "net.json", "--dataset", "digits",
                 "--ber", "1e-2", "--trials", "1", "--out", out]) == 0
    doc = json.loads((out / "sweep.json").read_text())
    labels = [n["label"] for n in doc["nets"]]
    assert len(set(labels)) == 2
    sha = netfile.digest(netfile.load(trained / "net.json"))
    assert [n["net_sha256"] for n in doc["nets"]] == [sha, sha]
    assert [n["net_path"] for n in doc["nets"]] == [str(trained / "net.json"), str(second / "net.json")]
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert {r["net"] for r in rows} == set(labels) and {r["net_sha256"] for r in rows} == {sha}
