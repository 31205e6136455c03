"""Bad input gets one clear line, never a traceback; nothing is overwritten unasked."""
import json

import pytest

from bnnmram.gen.cli import main


def _fails(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code != 0
    assert "Traceback" not in "\n".join(err)
    assert any(message in line for line in err), err
    return err


def test_train_and_infer_agree_with_float(tmp_path, capsys):
    out = tmp_path / "t"
    with pytest.raises(SystemExit) as e:
        main(["train", "--dataset", "digits", "--arch", "64-32-10", "--epochs", "5", "--out", str(out)])
    assert e.value.code == 0
    rep = json.loads((out / "train.json").read_text())
    assert rep["golden_float_disagreements"] == 0
    assert rep["test_accuracy"] == rep["float_test_accuracy"] and rep["train_seconds"] > 0
    _fails(capsys, ["train", "--dataset", "digits", "--arch", "64-32-10", "--out", str(out)],
           "pass --force")
    with pytest.raises(SystemExit) as e:
        main(["infer", "--net", str(out / "net.json"), "--dataset", "digits", "--out", str(tmp_path / "i.npz")])
    assert e.value.code == 0
    import numpy as np
    d = np.load(tmp_path / "i.npz")
    assert abs((d["pred"] == d["labels"]).mean() - rep["test_accuracy"]) < 1e-12


def test_bad_arguments(capsys, small_net, tmp_path):
    net = str(small_net[2])
    _fails(capsys, ["infer", "--net", net, "--dataset", "digits", "--ber", "1.5", "--out", "x.npz"],
           "bit error rate must be in [0, 1]")
    _fails(capsys, ["infer", "--net", str(tmp_path / "nope.json"), "--out", "x.npz"], "does not exist")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    _fails(capsys, ["infer", "--net", str(bad), "--out", "x.npz"], "corrupt")
    _fails(capsys, ["infer", "--net", net, "--dataset", "cifar", "--out", "x.npz"], "unknown dataset")
    _fails(capsys, ["infer", "--net", net, "--dataset", "mnist", "--out", str(tmp_path / "x.npz")],
           "does not match dataset")
    _fails(capsys, ["gen", "--net", net, "--pe", "3", "--out", str(tmp_path / "r")],
           "layer 0 (64 inputs, 64 neurons): PE=3 does not divide")
    _fails(capsys, ["gen", "--net", net, "--fold", "1:x", "--out", str(tmp_path / "r")], "LAYER:PE:SIMD")
    _fails(capsys, ["train", "--arch", "64-10", "--dataset", "digits", "--epochs", "0", "--out", "x"],
           "must be a positive integer")
    _fails(capsys, ["train", "--arch", "100-10", "--dataset", "digits", "--out", str(tmp_path / "a")],
           "does not match the dataset")


def test_missing_tools_and_data(capsys, small_net, tmp_path, monkeypatch):
    import shutil
    import bnnmram.models.data.datasets as datasets
    monkeypatch.setattr(datasets, "FASHION_DIR", tmp_path / "none")
    _fails(capsys, ["infer", "--net", str(small_net[2]), "--dataset", "fashion-mnist", "--out", "x.npz"],
           "apt-get install dataset-fashion-mnist")
    rtl = tmp_path / "rtl"
    with pytest.raises(SystemExit):
        main(["gen", "--net", str(small_net[2]), "--out", str(rtl)])
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name in ("iverilog", "vvp") else real_which(name))
    _fails(capsys, ["sim", "--rtl", str(rtl), "--net", str(small_net[2]), "--dataset", "digits",
                    "--sim", "icarus", "--images", "2", "--out", str(tmp_path / "s")], "apt-get install iverilog")


def test_sim_refuses_rtl_of_another_net(capsys, small_net, binarized_net, tmp_path):
    rtl = tmp_path / "rtl"
    with pytest.raises(SystemExit):
        main(["gen", "--net", str(binarized_net[2]), "--out", str(rtl)])
    _fails(capsys, ["sim", "--rtl", str(rtl), "--net", str(small_net[2]), "--dataset", "digits",
                    "--out", str(tmp_path / "s")], "generated for arch")


def test_energy_takes_only_sweeps_of_write_errors(capsys, small_net, tmp_path):
    """A read-error or threshold sweep, or a corrupt file, must not silently set the tolerated BER."""
    net = str(small_net[2])
    for flag in ("--read-errors", "--thresholds"):
        out = tmp_path / flag.strip("-")
        with pytest.raises(SystemExit) as e:
            main(["sweep", "--net", net, "--dataset", "digits", "--ber", "1e-3,1e-2", "--trials", "2",
                  flag, "--out", str(out)])
        assert e.value.code == 0
        doc = json.loads((out / "sweep.json").read_text())
        caption = (out / "sweep.md").read_text().splitlines()[0]
        assert ("read errors" in caption) == (flag == "--read-errors")
        assert ("thresholds" in caption) == doc["thresholds"] == (flag == "--thresholds")
        _fails(capsys, ["energy", "--net", net, "--dataset", "digits", "--sweep", str(out / "sweep.json"),
                        "--out", str(tmp_path / "e")], "needs write errors in all weights only")
    bad = tmp_path / "bad.json"
    bad.write_text('{"nets": []}')
    _fails(capsys, ["energy", "--net", net, "--dataset", "digits", "--sweep", str(bad), "--out", str(tmp_path / "e")],
           "not a sweep.json")
