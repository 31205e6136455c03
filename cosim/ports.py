"""The accelerator's port names as its manifest gives them (`clock_port`, `reset_port`,
`streams`, `prog`, `dump`, `fault_ports`), so the wrapper and the testbench name no port
themselves and another bus (an AXI4-Stream top) plugs into the same bench."""
from dataclasses import dataclass


def port_width(man: dict, port: str) -> int:
    """Width in bits of a top-level port of the accelerator, from the manifest."""
    return next(p["width"] for p in man["ports"] if p["name"] == port)


@dataclass(frozen=True)
class Stream:
    payload: str
    valid: str
    ready: str


@dataclass(frozen=True)
class Ports:
    clock: str
    reset: str
    input: Stream
    output: Stream
    prog: Stream
    prog_busy: str
    prog_error: str
    dump_layer: str
    dump_addr: str
    dump_data: str
    dump_writes: str
    fault: dict          # fault configuration name -> port

    @classmethod
    def of(cls, man: dict) -> "Ports":
        s = {k: Stream(**man["streams"][k]) for k in ("input", "output", "prog")}
        d = man["dump"]
        faults = {k: v for k, v in man["fault_ports"].items() if isinstance(v, str) and
                  any(p["name"] == v for p in man["ports"])}
        return cls(man["clock_port"], man["reset_port"], s["input"], s["output"], s["prog"],
                   man["prog"]["busy"], man["prog"]["error"], d["layer"], d["addr"], d["data"], d["writes"], faults)
