"""T stochastic passes per image of a Bayesian net (models.bayes.sampling) and the predictive
distribution they give.

Each pass gives integer class scores s_t (the golden model on that pass's weight sample). The
predictive class is the argmax of the summed scores sum_t s_t (first maximum wins: what an
accelerator that accumulates the T passes computes). Probabilities: pass t gives
softmax(score_scale * s_t) (score_scale: the net file's `bayes.score_scale`, the scale training
learned for its loss); the predictive distribution is their mean p. Per image:
entropy H[p] (nats) and mutual information H[p] - mean_t H[softmax(score_scale * s_t)]
(the epistemic part, BALD)."""
from dataclasses import dataclass

import numpy as np
import torch

from ..net import golden
from ..net.netfile import Net
from .sampling import Sampler, check_samples, read_index

PASS_BATCH = 256   # (image, pass) pairs evaluated at once


@dataclass
class Predictive:
    scores: np.ndarray              # int64 [N, T, classes]: every pass's scores
    pred: np.ndarray                # int64 [N]: argmax of the summed scores
    probs: np.ndarray               # float64 [N, classes]: mean of the passes' softmax
    entropy: np.ndarray             # float64 [N], nats
    mutual_information: np.ndarray  # float64 [N], nats

    def first(self, t: int, scale: float) -> "Predictive":
        """The predictive of the first t passes of each image (the same draws, fewer of them)."""
        return summarise(self.scores[:, :t], scale)


def entropy(p: np.ndarray) -> np.ndarray:
    """Entropy (nats) along the last axis; 0 log 0 = 0."""
    p = np.asarray(p, np.float64)
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


def summarise(scores: np.ndarray, scale: float) -> Predictive:
    """The predictive distribution of scores int64 [N, T, classes]."""
    scores = np.asarray(scores, np.int64)
    per_pass = torch.softmax(torch.from_numpy(scores).double() * float(scale), dim=-1).numpy()
    probs = per_pass.mean(axis=1)
    h = entropy(probs)
    return Predictive(scores, scores.sum(axis=1).argmax(axis=1), probs, h, h - entropy(per_pass).mean(axis=1))


def sample_scores(net: Net, images: np.ndarray, samples: int, seed: int, first_image: int = 0,
                  progress=None) -> np.ndarray:
    """int64 [N, T, classes]: the scores of pass t of image n, read index (first_image + n) * T + t.
    `progress(done_pairs, total_pairs)` is called after each batch."""
    samples = check_samples(samples)
    images = np.asarray(images, np.uint8)
    samplers = [None if l.levels is None else Sampler(l.levels, seed, i) for i, l in enumerate(net.layers)]
    n_img = len(images)
    image = np.repeat(np.arange(n_img), samples)
    t = np.tile(np.arange(samples), n_img)
    r = read_index(first_image + image, t, samples)
    out = np.empty((n_img * samples, net.layers[-1].n_out), np.int64)
    for lo in range(0, len(r), PASS_BATCH):
        hi = min(lo + PASS_BATCH, len(r))
        weights = [None if s is None else s.draw(r[lo:hi]) for s in samplers]
        out[lo:hi] = golden.run(net, images[image[lo:hi]], weights).scores
        if progress:
            progress(hi, len(r))
    return out.reshape(n_img, samples, -1)


def run(net: Net, images: np.ndarray, samples: int, seed: int, scale: float, first_image: int = 0,
        progress=None) -> Predictive:
    """T = `samples` passes of every image and their predictive distribution."""
    return summarise(sample_scores(net, images, samples, seed, first_image, progress), scale)
