"""The BNN: PyTorch training and export, the net file, the integer golden model."""
