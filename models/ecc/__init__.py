"""Error-correcting code maths (SECDED) for the ECC baseline of the energy model."""
