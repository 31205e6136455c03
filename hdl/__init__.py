"""Amaranth gateware: XNOR-popcount layer units, stream joins, the behavioural ST-MRAM macro."""
