"""CIFAR-10 from the user's own copy of the python batches (`cifar-10-batches-py`:
`data_batch_1` .. `data_batch_5`, `test_batch`), as users keep them on disk. No registry ships
CIFAR-10, so nothing here downloads it.

Each batch is a pickled dict: b"data" uint8 [10000, 3072] with the 1024 red pixels of an image
first, then green, then blue (row-major within a channel), and b"labels" (10,000 ints 0..9).
Images come out channel-last, row-major: pixel index (y*32 + x)*3 + c, the net file's order.

The batches are pickles; they are read with an unpickler that accepts only the few
NumPy and builtin types such a batch holds, so a hostile file cannot run code.
"""
import io
import os
import pickle
from pathlib import Path

import numpy as np

from ..errors import BnnMramError

ENV = "BNNMRAM_CIFAR10_DIR"
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
TEST = "test_batch"
SHAPE = (32, 32, 3)
PIXELS = 32 * 32 * 3

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("builtins", "list"), ("builtins", "dict"),
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch")


def folder(data_dir=None) -> Path:
    """The folder holding the batches: --data-dir, else $BNNMRAM_CIFAR10_DIR."""
    d = data_dir or os.environ.get(ENV)
    if not d:
        raise BnnMramError(f"CIFAR-10 needs your own copy: pass --data-dir DIR (or set {ENV}) with "
                           f"{', '.join(TRAIN)} and {TEST} from cifar-10-python.tar.gz in DIR")
    return Path(d)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 3072] channel-last, labels int64 [N]) of one batch file, checked."""
    try:
        raw = path.read_bytes()
        doc = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except OSError as e:
        raise BnnMramError(f"CIFAR-10 batch {path}: cannot read it ({e.strerror})") from None
    except Exception as e:  # any unpickling problem of a damaged or foreign file
        raise BnnMramError(f"CIFAR-10 batch {path} is corrupt: not a python-version batch "
                           f"({type(e).__name__})") from None
    if not isinstance(doc, dict):
        raise BnnMramError(f"CIFAR-10 batch {path} is corrupt: not a dict")
    data = doc.get(b"data", doc.get("data"))
    labels = doc.get(b"labels", doc.get("labels"))
    if labels is None:
        raise BnnMramError(f"CIFAR-10 batch {path} is corrupt: it has no 'labels'")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        raise BnnMramError(f"CIFAR-10 batch {path} is corrupt: 'data' is not uint8 [N, {PIXELS}]")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise BnnMramError(f"CIFAR-10 batch {path} is corrupt: 'labels' are not integers") from None
    if y.shape != (len(data),) or (len(y) and (y.min() < 0 or y.max() > 9)):
        raise BnnMramError(f"CIFAR-10 batch {path} is corrupt: 'labels' are not {len(data)} classes 0..9")
    x = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, PIXELS)
    return np.ascontiguousarray(x), y


def load(data_dir=None):
    """(train_x, train_y, test_x, test_y) from the folder's six batches."""
    d = folder(data_dir)
    if d.exists() and not d.is_dir():
        raise BnnMramError(f"CIFAR-10 folder {d} is a file; give the folder holding {', '.join(TRAIN)} and {TEST}")
    missing = [n for n in TRAIN + [TEST] if not (d / n).is_file()]
    if missing:
        raise BnnMramError(f"CIFAR-10 not found in {d} ({missing[0]} missing): put {', '.join(TRAIN)} and "
                           f"{TEST} (the python version, cifar-10-batches-py) there")
    parts = [read_batch(d / n) for n in TRAIN]
    test_x, test_y = read_batch(d / TEST)
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), test_x, test_y)


def write_batch(path, images_chw: np.ndarray, labels) -> None:
    """Write a batch in the real format (for tests and small synthetic sets): images uint8
    [N, 3, 32, 32] (channel-major, as the format stores them)."""
    doc = {b"batch_label": b"synthetic", b"labels": [int(v) for v in labels],
           b"data": np.asarray(images_chw, np.uint8).reshape(len(labels), PIXELS),
           b"filenames": [f"{i}.png".encode() for i in range(len(labels))]}
    Path(path).write_bytes(pickle.dumps(doc, protocol=2))
