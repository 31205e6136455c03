"""The plain C++ Verilator harness (cosim/harness/harness.cpp): same RTL and vectors as the
cocotb regression, no cocotb and no VPI, to measure the simulator's own speed limit. It also
checks every result against the golden model, so its speed is counted on a correct run."""
import hashlib
import subprocess
import time
from pathlib import Path

import numpy as np

from bnnmram.hdl.generate import load_manifest
from bnnmram.hdl.generate import memory_of
from bnnmram.models.errors import BnnMramError
from . import tools
from .payloads import decode_result, input_words, prog_words, weight_folds
from .runner import VERILATOR_ARGS
from .ports import port_width

HARNESS = Path(__file__).resolve().parent / "harness" / "harness.cpp"
MAGIC = 0x484E4E42


def _words32(value: int, n: int) -> list[int]:
    return [(value >> (32 * i)) & 0xFFFFFFFF for i in range(n)]


def _w32(bits: int) -> int:
    return max(1, -(-bits // 32))


def build(rtl_dir) -> Path:
    """Compile the harness with the RTL once per Verilog; return the executable."""
    tools.prepare("verilator")
    rtl_dir = Path(rtl_dir).resolve()
    man = load_manifest(rtl_dir)
    src = rtl_dir / man["verilog"]
    key = hashlib.sha256(src.read_bytes() + HARNESS.read_bytes() + str(VERILATOR_ARGS).encode()).hexdigest()[:16]
    d = rtl_dir / "sim_build" / f"plain-{key}"
    exe = d / "harness"
    if exe.exists():
        return exe
    d.mkdir(parents=True, exist_ok=True)
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", "--top-module", man["top"], "-Mdir", str(d),
           "-o", "harness", *VERILATOR_ARGS, str(src), str(HARNESS),
           "-MAKEFLAGS", "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O2"]
    print(f"plain: building the C++ harness in {d}", flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode or not exe.exists():
        raise BnnMramError(f"verilator failed to build the plain harness: {(r.stderr or r.stdout).strip()[-300:]}")
    return exe


def run(rtl_dir, vectors_path, workdir) -> dict:
    """Program, stream every image of the vectors file, compare with the golden model."""
    rtl_dir, workdir = Path(rtl_dir).resolve(), Path(workdir)
    man = load_manifest(rtl_dir)
    exe = build(rtl_dir)
    vec = np.load(vectors_path)
    prog_w, inp_w, out_w = (_w32(port_width(man, man["streams"][s]["payload"])) for s in ("prog", "input", "output"))
    weights = {i: vec[f"weights{i}"] for i in weight_folds(man)}
    prog = [w for payload in prog_words(man, weights) for w in _words32(payload, prog_w)]
    images = vec["images"]
    wpi = man["input"]["words_per_image"]
    inp = [w for img in images for row in input_words(man, img)
           for w in _words32(int.from_bytes(row.tobytes(), "little"), inp_w)]
    fault = dict(zip((str(n) for n in vec["fault_names"]), (int(v) for v in vec["fault"])))
    if set(fault) != {"seed", "t01", "t10", "switch_only"}:
        raise BnnMramError("the plain C++ harness drives ST-MRAM write-error ports only; this RTL's memory is "
                           f"{memory_of(man)}" + (" with read errors (fault__t_read)" if "t_read" in fault else ""))
    seed, t01, t10, so = (fault[k] for k in ("seed", "t01", "t10", "switch_only"))
    header = [MAGIC, len(prog) // prog_w, prog_w, len(images), wpi, inp_w, out_w, seed,
              t01 & 0xFFFFFFFF, t01 >> 32, t10 & 0xFFFFFFFF, t10 >> 32, so]
    workdir.mkdir(parents=True, exist_ok=True)
    stim, res = workdir / "harness_stimulus.bin", workdir / "harness_results.bin"
    stim.write_bytes(np.array(header + prog + inp, np.uint32).tobytes())
    t0 = time.time()
    r = subprocess.run([str(exe), str(stim), str(res)], capture_output=True, text=True)
    wall = time.time() - t0
    if r.returncode:
        raise BnnMramError(f"plain harness failed: {(r.stderr or r.stdout).strip()[-300:]}")
    raw = np.frombuffer(res.read_bytes(), np.uint32)
    per = raw[:len(images) * (out_w + 2)].reshape(len(images), out_w + 2)
    cycles_lo, cycles_hi, ns_lo, ns_hi, prog_error = (int(v) for v in raw[-5:])
    mismatches = 0
    for k, row in enumerate(per):
        cls, scores = decode_result(man, sum(int(v) << (32 * i) for i, v in enumerate(row[:out_w])))
        mismatches += cls != int(vec["pred"][k]) or scores != [int(v) for v in vec["scores"][k]]
    cycles = cycles_lo | cycles_hi << 32
    seconds = (ns_lo | ns_hi << 32) / 1e9
    done = per[:, out_w].astype(np.int64) | per[:, out_w + 1].astype(np.int64) << 32
    return {"simulator": "verilator-plain-c++", "images": len(images), "mismatches": mismatches,
            "prog_error": prog_error, "stream_cycles": cycles, "stream_seconds": round(seconds, 3),
            "images_per_second": round(len(images) / seconds, 2), "cycles_per_second": round(cycles / seconds),
            "cycles_per_image": float(np.diff(done[2:]).mean()) if len(done) > 3 else None,
            "wall_seconds": round(wall, 3)}
