"""Fault campaigns of any net through the integer golden model: exact by construction (each
pattern's faulty weights, then a full golden evaluation) and slow; the reference the two
engines (models.faults.campaign for MLPs, models.faults.conv_campaign for conv nets) are
tested against. `campaign_for` picks the engine for a net."""
import numpy as np
import torch

from ..errors import BnnMramError
from ..net import golden
from ..net.netfile import Net
from .model import FaultConfig, stored_bits, stored_thresholds


class ReferenceCampaign:
    """The Campaign interface (predict, accuracy, clean_pred) on the golden model."""

    def __init__(self, net: Net, images: np.ndarray, labels: np.ndarray, layers=None,
                 thresholds: bool = False, read_errors: bool = False):
        if read_errors:
            raise BnnMramError("read errors at each inference are modelled for MLPs only "
                               "(conv nets: write errors)")
        self.net, self.images = net, np.asarray(images)
        self.labels = torch.from_numpy(np.array(labels, np.int64))
        self.threshold_errors = thresholds
        self.fault_layers = set(range(len(net.layers)) if layers is None else layers)
        self.clean_pred = torch.from_numpy(golden.run(net, self.images).pred)

    def faulty_net(self, cfg: FaultConfig) -> Net:
        """The net as the MRAM holds it: errors in the chosen layers' weights (and thresholds)."""
        weights = [stored_bits(l.weights, i, cfg) if i in self.fault_layers else l.weights
                   for i, l in enumerate(self.net.layers)]
        out = self.net.with_weights(weights)
        if self.threshold_errors and not cfg.is_zero:
            for i, l in enumerate(out.layers):
                if i in self.fault_layers and l.has_weights and not l.is_output:
                    l.thresholds, l.flip = stored_thresholds(l, i, cfg)
        return out

    def predict(self, cfg: FaultConfig) -> torch.Tensor:
        if cfg.is_zero:
            return self.clean_pred
        return torch.from_numpy(golden.run(self.faulty_net(cfg), self.images).pred)

    def accuracy(self, cfg: FaultConfig) -> float:
        return float((self.predict(cfg) == self.labels).to(torch.float64).mean())


def campaign_for(net: Net, images, labels, layers=None, thresholds=False, read_errors=False):
    """The fastest exact campaign for this net: the MLP engine (models.faults.campaign) or
    the conv engine (models.faults.conv_campaign)."""
    if net.is_dense:
        from .campaign import Campaign
        return Campaign(net, images, labels, layers, thresholds=thresholds, read_errors=read_errors)
    from .conv_campaign import ConvCampaign
    return ConvCampaign(net, images, labels, layers, thresholds=thresholds, read_errors=read_errors)
