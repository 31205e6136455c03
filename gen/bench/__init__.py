"""Benchmarks (apart from the product): each a script that prints numbers and writes a JSON,
run by `make bench` as `python -m bnnmram.gen.bench.NAME`."""
