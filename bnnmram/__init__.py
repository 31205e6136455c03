"""bnnmram: XNOR-popcount BNN accelerators whose weights live in a fault-injecting memory macro,
proven bit-exact against an integer golden model.

The import names are `bnnmram.models`, `bnnmram.hdl`, `bnnmram.cosim` and `bnnmram.gen`; their
sources are the repository's top-level folders models/, hdl/, cosim/ and gen/ (pyproject.toml's
package_dir maps them), so nothing named `models` or `gen` lands at the top of site-packages.
Imports go one way: gen -> cosim -> hdl -> models.
"""
