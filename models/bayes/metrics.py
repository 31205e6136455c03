"""What ML people read off a predictive distribution: accuracy, negative log-likelihood,
expected calibration error with its reliability diagram, and out-of-distribution detection
as the AUROC of a per-image uncertainty."""
import numpy as np
from sklearn.metrics import roc_auc_score

ECE_BINS = 15       # equal-width confidence bins of the ECE and the reliability diagram
NLL_FLOOR = 1e-12   # probabilities are floored here before the log (a T = 1 pass may give 0)


def accuracy(pred: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(labels)))


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (nats) of the true labels."""
    p = np.asarray(probs, np.float64)[np.arange(len(labels)), np.asarray(labels)]
    return float(-np.mean(np.log(np.maximum(p, NLL_FLOOR))))


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS):
    """Per confidence bin [k/bins, (k+1)/bins): (mean confidence, accuracy, images), NaN where
    a bin is empty. Confidence is the largest predictive probability; its class the prediction."""
    p = np.asarray(probs, np.float64)
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    correct = pred == np.asarray(labels)
    k = np.minimum((conf * bins).astype(np.int64), bins - 1)
    count = np.bincount(k, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(k, conf, bins) / count
        acc = np.bincount(k, correct.astype(np.float64), bins) / count
    return mean_conf, acc, count


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error: sum over bins of (images in bin / N) * |accuracy - confidence|."""
    conf, acc, count = reliability(probs, labels, bins)
    used = count > 0
    return float(np.sum(count[used] / count.sum() * np.abs(acc[used] - conf[used])))


def ood_auroc(in_distribution: np.ndarray, out_of_distribution: np.ndarray) -> float:
    """AUROC of telling out-of-distribution images (positives) from in-distribution ones by an
    uncertainty score (higher = more likely out of distribution), e.g. predictive entropy."""
    y = np.r_[np.zeros(len(in_distribution)), np.ones(len(out_of_distribution))]
    return float(roc_auc_score(y, np.r_[in_distribution, out_of_distribution]))
