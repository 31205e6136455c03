"""The CIFAR-10 reader on small synthetic batches written in the real python-batch format."""
import pickle

import numpy as np
import pytest

from bnnmram.models.data import cifar10, datasets
from bnnmram.models.errors import BnnMramError


def _write_set(d, n=4, seed=0):
    rng = np.random.default_rng(seed)
    d.mkdir(exist_ok=True)
    for name in cifar10.TRAIN + [cifar10.TEST]:
        cifar10.write_batch(d / name, rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n))


def test_reads_batches_channel_last(tmp_path):
    imgs = np.arange(2 * 3 * 32 * 32, dtype=np.uint32).reshape(2, 3, 32, 32) % 251
    _write_set(tmp_path)
    cifar10.write_batch(tmp_path / "test_batch", imgs.astype(np.uint8), [3, 7])
    ds = datasets.load("cifar10", data_dir=tmp_path)
    assert ds.shape == (32, 32, 3) and ds.train_x.shape == (20, 3072) and ds.test_x.dtype == np.uint8
    assert list(ds.test_y) == [3, 7]
    y, x, c = 5, 9, 2                      # pixel index (y*W + x)*C + c
    assert ds.test_x[1, (y * 32 + x) * 3 + c] == imgs[1, c, y, x] % 256


def test_folder_from_the_environment(tmp_path, monkeypatch):
    _write_set(tmp_path)
    monkeypatch.setenv(cifar10.ENV, str(tmp_path))
    assert datasets.load("cifar10").test_x.shape == (4, 3072)


def test_missing_folder_says_what_to_put_where(tmp_path, monkeypatch):
    monkeypatch.delenv(cifar10.ENV, raising=False)
    with pytest.raises(BnnMramError, match="pass --data-dir DIR"):
        datasets.load("cifar10")
    with pytest.raises(BnnMramError, match="data_batch_1 missing.*put data_batch_1"):
        datasets.load("cifar10", data_dir=tmp_path)


class _Evil:
    def __reduce__(self):
        return (print, ("owned",))


@pytest.mark.parametrize("content,expect", [
    (b"", "is corrupt"),
    (b"garbage bytes", "is corrupt"),
    (pickle.dumps([1, 2, 3]), "not a dict"),
    (pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}), "'data' is not uint8"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 11]}), "classes 0..9"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "classes 0..9"),
    (pickle.dumps({b"data": _Evil(), b"labels": []}), "is corrupt"),   # would run code if trusted
])
def test_corrupt_batches_are_refused(tmp_path, content, expect, capsys):
    _write_set(tmp_path)
    (tmp_path / "data_batch_3").write_bytes(content)
    with pytest.raises(BnnMramError, match=expect) as e:
        datasets.load("cifar10", data_dir=tmp_path)
    assert "data_batch_3" in str(e.value)
    assert "owned" not in capsys.readouterr().out
