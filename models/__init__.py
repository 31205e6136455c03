"""Software half of bnnmram: datasets, BNN training, net files, integer golden model, faults."""
