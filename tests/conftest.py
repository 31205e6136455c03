"""Shared fixtures: small nets trained on real data (sklearn 8x8 digits) in seconds."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bnnmram.models.data import datasets
from bnnmram.models.net import netfile, training  # noqa: E402


def _train(tmp_path_factory, name, arch, **kw):
    ds = datasets.load("digits")
    model = training.train(arch, ds.train_x, ds.train_y, epochs=kw.pop("epochs", 15), seed=1, **kw)
    net = training.export(model, {"dataset": "digits"})
    path = tmp_path_factory.mktemp(name) / "net.json"
    netfile.save(net, path)
    return model, net, path


@pytest.fixture(scope="session", autouse=True)
def lint_every_generated_rtl():
    """Every `bnnmram gen` a test runs is followed by `verilator --lint-only -Wall` with the
    shipped waivers: any warning fails that test."""
    import bnnmram.gen.steps.gen as gen_step
    from bnnmram.cosim.lint import lint
    real = gen_step.run

    def gen_and_lint(args):
        rc = real(args)
        problems = lint(args.out)
        assert not problems, f"lint of {args.out}: " + " | ".join(problems[:5])
        return rc
    gen_step.run = gen_and_lint
    yield
    gen_step.run = real


@pytest.fixture(scope="session")
def digits():
    return datasets.load("digits")


@pytest.fixture(scope="session")
def small_net(tmp_path_factory):
    """(model, net, path) of a 64-64-32-10 BNN with 8-bit pixel inputs."""
    return _train(tmp_path_factory, "small", [64, 64, 32, 10])


@pytest.fixture(scope="session")
def binarized_net(tmp_path_factory):
    """(model, net, path) of a 64-32-10 BNN with binarized inputs."""
    return _train(tmp_path_factory, "binarized", [64, 32, 10], binarize_input=True)
