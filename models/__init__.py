"""Software half of bnnmram. Sub-packages, imports pointing down only:

    data/    datasets as 8-bit pixel images (Fashion-MNIST, MNIST subset, sklearn digits)
    net/     the BNN: training and export (PyTorch), net file, integer golden model, XNOR identity
    faults/  MRAM write/read error model, fault campaigns and their compiled kernels, sweeps
    mram/    ST-MRAM programming physics and the energy/area model of programming options
    ecc/     SECDED code maths (layout, reference coder, effective error rates)
    errors   the one user-facing exception

faults -> net -> errors; mram -> ecc; data -> errors.
"""
