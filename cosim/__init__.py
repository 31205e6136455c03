"""cocotb co-simulation of generated accelerators under Icarus and Verilator."""
