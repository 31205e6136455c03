"""Net file: round trip, and clear errors for corrupt or inconsistent files."""
import json

import numpy as np
import pytest

from bnnmram.models.net import netfile
from bnnmram.models.errors import BnnMramError


def test_round_trip(small_net, tmp_path):
    _, net, path = small_net
    back = netfile.load(path)
    assert back.arch == net.arch == [64, 64, 32, 10]
    for a, b in zip(net.layers, back.layers):
        assert np.array_equal(a.weights, b.weights) and a.input == b.input
        if not a.is_output:
            assert np.array_equal(a.thresholds, b.thresholds) and np.array_equal(a.flip, b.flip)


def _edit(path, tmp_path, fn, fix_checksum=True):
    doc = json.loads(path.read_text())
    fn(doc)
    if fix_checksum:
        doc["sha256"] = netfile._checksum(doc)
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize("edit,fix,message", [
    (lambda d: d["layers"][0]["thresholds"].__setitem__(0, 5), False, "checksum mismatch"),
    (lambda d: d.__setitem__("version", 99), True, "version 99"),
    (lambda d: d["layers"][1].__setitem__("n_in", 63), True, "does not match"),
    (lambda d: d["layers"][0]["weights"].pop(), True, "weights must be a list of n_out=64"),
    (lambda d: d["layers"][0]["thresholds"].pop(), True, "thresholds must be a list of n_out=64"),
    (lambda d: d["layers"][0]["weights"].__setitem__(0, "zz"), True, "must be exactly 16 hex digits"),
    (lambda d: d["layers"][0].pop("flip"), True, "flip must be a list"),
])
def test_corrupt_or_inconsistent_files_fail_clearly(small_net, tmp_path, edit, fix, message):
    bad = _edit(small_net[2], tmp_path, edit, fix)
    with pytest.raises(BnnMramError, match=message):
        netfile.load(bad)


def test_truncated_file(small_net, tmp_path):
    bad = tmp_path / "cut.json"
    bad.write_text(small_net[2].read_text()[:500])
    with pytest.raises(BnnMramError, match="not valid JSON"):
        netfile.load(bad)
