"""Monte Carlo fault campaigns at speed: exact accuracies of a net under MRAM write errors.

The engine keeps the error-free network's integer dot products for every test image and,
per fault pattern, recomputes only what the flipped weights change:

- the fault hash of every weight is computed once per seed and reused for every BER (a
  flip is `hash < threshold`), so a sweep over rates costs one hash pass per trial;
- a layer's flipped weights change only their neurons' dot products: a sparse
  (flips x images) product on the error-free inputs;
- images whose activations changed are tracked as a column set; only those columns of the
  next layer are recomputed (a dense product on the faulty weights), every other image
  keeps its error-free values;
- all arithmetic is on integers held exactly in float32 (|values| < 2**24), images x
  features, so selecting images gathers contiguous rows.

Its predictions equal the golden model's on the same faulty weights, image for image
(tests/test_campaign.py); `models.bench_sweep` compares its speed with a plain baseline.
"""
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .faults import FaultConfig, layer_hash, stored_bits, stored_thresholds
from .netfile import Net

DENSE_FRACTION = 0.15  # above this share of changed inputs, recompute densely (BLAS)
DENSE_NET = 0.002      # above this share of flipped weights, a plain dense pass is cheaper
ALL_IMAGES = 0.25     # above this share of changed images, work on whole matrices
SPARSE_FLIPS = 0.2   # above this share of flipped weights, recompute their rows densely

warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")


@dataclass
class _Layer:
    w_pm: torch.Tensor          # float32 [n_out, n_in], +-1
    t: torch.Tensor | None      # float32 [1, n_out]
    flip: torch.Tensor | None   # bool [1, n_out]
    bits: np.ndarray            # uint8 [n_out, n_in], error-free weights


class Campaign:
    """Evaluate many fault patterns of one net on one image set."""

    def __init__(self, net: Net, images: np.ndarray, labels: np.ndarray, layers=None,
                 thresholds: bool = False):
        self.net = net
        self.threshold_errors = thresholds
        self.labels = torch.from_numpy(np.array(labels, np.int64))
        self.fault_layers = set(range(len(net.layers)) if layers is None else layers)
        self.layers = []
        for l in net.layers:
            t = f = None
            if not l.is_output:
                t = torch.from_numpy(np.asarray(l.thresholds, np.float32))[None, :]
                f = torch.from_numpy(np.asarray(l.flip, bool))[None, :]
            self.layers.append(_Layer(torch.from_numpy(2.0 * l.weights.astype(np.float32) - 1), t, f, l.weights))
        x = torch.from_numpy(np.array(images, np.float32))  # [N, pixels], images major
        if net.layers[0].input == "binarized":
            x = torch.where(x >= net.binarize_threshold, 1.0, -1.0)
        # error-free forward pass: inputs x_l (+-1 or pixels) and dot products d_l per layer
        self.xs, self.xts, self.ds = [], [], []
        for l in self.layers:
            self.xs.append(x)
            self.xts.append(x.T.contiguous())  # for sparse (flips x features) @ (features x images)
            d = x @ l.w_pm.T
            self.ds.append(d)
            if l.t is not None:
                x = self._sign(d, l.t, l.flip)
        self._hash_seed = None
        self._hashes = None

    @staticmethod
    def _sign(d, t, flip):
        return torch.where(flip, d <= t, d >= t).to(torch.float32) * 2 - 1

    def faulty_bits(self, cfg: FaultConfig) -> list[np.ndarray]:
        """Each layer's weights as the MRAM stores them (hashes cached per seed)."""
        if cfg.is_zero:
            return [l.bits for l in self.layers]
        if self._hash_seed != cfg.seed:
            self._hashes = [layer_hash(l.bits.shape, i, cfg.seed) if i in self.fault_layers else None
                            for i, l in enumerate(self.layers)]
            self._hash_seed = cfg.seed
        return [stored_bits(l.bits, i, cfg, hashes=h) if h is not None else l.bits
                for i, (l, h) in enumerate(zip(self.layers, self._hashes))]

    def predict(self, cfg: FaultConfig) -> torch.Tensor:
        """Predictions [N] under the fault pattern of `cfg` (first write of every weight)."""
        bits = self.faulty_bits(cfg)
        flipped = sum(int(np.count_nonzero(b != l.bits)) for b, l in zip(bits, self.layers))
        if self.threshold_errors and not cfg.is_zero:
            tf = [None if l.is_output or i not in self.fault_layers else stored_thresholds(l, i, cfg)
                  for i, l in enumerate(self.net.layers)]
            return self._predict_dense(bits, tf)
        if flipped > DENSE_NET * sum(l.bits.size for l in self.layers):
            return self._predict_dense(bits)
        return self._predict_incremental(bits)

    def _predict_dense(self, bits, thresholds=None) -> torch.Tensor:
        """Plain forward pass on the faulty weights (and thresholds): cheaper when errors are
        everywhere."""
        x = self.xs[0]
        for i, (l, b) in enumerate(zip(self.layers, bits)):
            d = x @ (torch.from_numpy(b.astype(np.float32)) * 2 - 1).T
            if l.t is None:
                return d.argmax(1)
            t, f = l.t, l.flip
            if thresholds and thresholds[i] is not None:
                t = torch.from_numpy(thresholds[i][0].astype(np.float32))[None, :]
                f = torch.from_numpy(thresholds[i][1])[None, :]
            x = self._sign(d, t, f)

    def _predict_incremental(self, faulty) -> torch.Tensor:
        imgs = torch.zeros(0, dtype=torch.int64)   # images whose layer input differs
        block = None                               # their inputs [len(imgs), n_in]
        full = None                                # or, once most images differ, all inputs
        for i, (l, bits) in enumerate(zip(self.layers, faulty)):
            j, k = (torch.from_numpy(a.astype(np.int64)) for a in np.nonzero(bits != l.bits))
            neurons = torch.unique(j)
            w = l.w_pm
            if len(j):
                w = l.w_pm.clone()
                w[j, k] = -w[j, k]
            # flipped neurons' dot products for every image, on error-free inputs
            if len(j) > SPARSE_FLIPS * l.w_pm.numel():
                d_j = self.xs[i] @ w[neurons].T
            elif len(j):
                r = torch.searchsorted(neurons, j)
                dw = torch.sparse_coo_tensor(torch.stack([r, k]), -2.0 * l.w_pm[j, k],
                                             (len(neurons), w.shape[1])).to_sparse_csr()
                d_j = self.ds[i][:, neurons] + torch.sparse.mm(dw, self.xts[i]).T
            if full is not None:  # most images changed: whole matrices, no bookkeeping
                dx = full - self.xs[i]
                if torch.count_nonzero(dx) > DENSE_FRACTION * dx.numel():
                    d = full @ w.T
                else:
                    d = self.ds[i].clone()
                    if len(j):
                        d[:, neurons] = d_j
                    d += torch.sparse.mm(dx.to_sparse_csr(), w.T)
                if l.t is None:
                    return d.argmax(1)
                full = self._sign(d, l.t, l.flip)
                continue
            # every dot product of the images whose inputs changed: error-free dots, the
            # flipped neurons' new dots, plus W' @ (change of input), sparse
            d_i = None
            if len(imgs):
                dx = block - self.xs[i][imgs]
                if torch.count_nonzero(dx) > DENSE_FRACTION * dx.numel():
                    d_i = block @ w.T
                else:
                    d_i = self.ds[i][imgs]
                    if len(j):
                        d_i[:, neurons] = d_j[imgs]
                    d_i = d_i + torch.sparse.mm(dx.to_sparse_csr(), w.T)
            if l.t is None:
                scores = self.ds[i]
                if len(j) or len(imgs):
                    scores = scores.clone()
                    if len(j):
                        scores[:, neurons] = d_j
                    if len(imgs):
                        scores[imgs] = d_i
                return scores.argmax(1)
            x_clean = self.xs[i + 1]
            new_imgs = imgs
            if len(j):
                b_j = self._sign(d_j, l.t[:, neurons], l.flip[:, neurons])
                moved = torch.nonzero(torch.any(b_j != x_clean[:, neurons], dim=1)).flatten()
                new_imgs = torch.unique(torch.cat([imgs, moved]))
            if not len(new_imgs):
                imgs, block = new_imgs, None
                continue
            if len(new_imgs) > ALL_IMAGES * len(x_clean):
                full = x_clean.clone()
                if len(j):
                    full[:, neurons] = b_j
                if len(imgs):
                    full[imgs] = self._sign(d_i, l.t, l.flip)
                continue
            nb = x_clean[new_imgs]
            if len(j):
                nb[:, neurons] = b_j[new_imgs]
            if len(imgs):
                nb[torch.searchsorted(new_imgs, imgs)] = self._sign(d_i, l.t, l.flip)
            keep = torch.any(nb != x_clean[new_imgs], dim=1)
            imgs, block = new_imgs[keep], nb[keep]
        raise AssertionError("unreachable: the last layer returns")

    def accuracy(self, cfg: FaultConfig) -> float:
        return float((self.predict(cfg) == self.labels).to(torch.float64).mean())
