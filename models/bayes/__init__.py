"""Bayesian BNNs sampled by the memory: read-time weight sampling (sampling), T stochastic
passes per image and the predictive distribution (predictive), and the measures ML people read:
NLL, calibration, out-of-distribution AUROC (metrics)."""
