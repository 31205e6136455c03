"""MRAM error models (write and read), fault campaigns at speed, accuracy-vs-BER sweeps."""
