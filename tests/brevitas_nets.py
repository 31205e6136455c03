"""Small BNNs trained with Brevitas on the 8x8 digits (seconds) and exported with Brevitas's own
`export_qonnx`: the interop tests' third-party models (binary weights and activations)."""
import numpy as np
import torch
from torch import nn


def _binary(unit_scale=True):
    """(weight, activation) quantisers: +-1 weights (unit_scale) or Brevitas's default +-0.1."""
    from brevitas.quant import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst
    wq = SignedBinaryWeightPerTensorConst.let(scaling_const=1.0) if unit_scale else SignedBinaryWeightPerTensorConst
    return wq, SignedBinaryActPerTensorConst


class BrevitasMLP(nn.Module):
    """64-32-10 on float pixels 0..255 (`binarized`: 2 * pixel / 255 - 1 through a bipolar
    quantiser first, as Brevitas's TFC does)."""

    def __init__(self, binarized=False, hidden=32, unit_scale=True):
        super().__init__()
        import brevitas.nn as qnn
        wq, aq = _binary(unit_scale)
        self.binarized = binarized
        self.inp = qnn.QuantIdentity(act_quant=aq) if binarized else None
        self.fc1 = qnn.QuantLinear(64, hidden, bias=False, weight_quant=wq)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.act1 = qnn.QuantIdentity(act_quant=aq)
        self.fc2 = qnn.QuantLinear(hidden, 10, bias=False, weight_quant=wq)

    def forward(self, x):
        if self.binarized:
            x = self.inp(x * (2.0 / 255.0) - 1.0)
        return self.fc2(self.act1(self.bn1(self.fc1(x))))


class BrevitasCNV(nn.Module):
    """conv8k3 - pool2 - conv16k2 - dense10 on NCHW [B, 1, 8, 8] pixels; torch's NCHW flatten."""

    def __init__(self):
        super().__init__()
        import brevitas.nn as qnn
        wq, aq = _binary()
        self.c1 = qnn.QuantConv2d(1, 8, 3, bias=False, weight_quant=wq)
        self.b1 = nn.BatchNorm2d(8)
        self.a1 = qnn.QuantIdentity(act_quant=aq)
        self.pool = nn.MaxPool2d(2)
        self.c2 = qnn.QuantConv2d(8, 16, 2, bias=False, weight_quant=wq)
        self.b2 = nn.BatchNorm2d(16)
        self.a2 = qnn.QuantIdentity(act_quant=aq)
        self.fc = qnn.QuantLinear(64, 10, bias=False, weight_quant=wq)

    def forward(self, x):
        x = self.pool(self.a1(self.b1(self.c1(x))))
        x = self.a2(self.b2(self.c2(x)))
        return self.fc(torch.flatten(x, 1))


def train(model, images: np.ndarray, labels: np.ndarray, shape, epochs=30, seed=0):
    """Adam on cross-entropy, minibatches of 64; returns the model in eval mode."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.asarray(images, np.float32).reshape((-1,) + shape))
    y = torch.from_numpy(np.asarray(labels, np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def export(model, shape, path):
    """Brevitas's QONNX export of the model for one input of `shape` (without the batch)."""
    from brevitas.export import export_qonnx
    export_qonnx(model, torch.zeros((1,) + shape), export_path=str(path))
    return path
