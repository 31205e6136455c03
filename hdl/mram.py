"""The weight macro under its first name (ST-MRAM): see hdl/memory/macro.py."""
from .memory.macro import (DEFAULT_HASH_LANES, FaultConfigSignature, MramMacro, MramParams,  # noqa: F401
                           hash_lanes_for, prog_layout)
