"""`bnnmram import`: a QONNX BNN (Brevitas's export, or its streamlined form) as a net file."""
import hashlib
import json
from fractions import Fraction
from pathlib import Path

from bnnmram.models.errors import BnnMramError
from bnnmram.models.net import netfile

from .. import outputs
from ..outputs import OutputDir
from ..args import _refuse

IMPORT_FILES = ["net.json", "import.json"]


def input_scale(text: str) -> float:
    try:
        v = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError, OverflowError):
        _refuse(f"--input-scale {text!r} must be a positive number (or a fraction like 1/255)")
    if not (v > 0 and v < float("inf")):
        _refuse(f"--input-scale {text!r} must be a positive number (or a fraction like 1/255)")
    return v


def add_parser(sub):
    p = sub.add_parser("import", help="a QONNX BNN (Brevitas export_qonnx, or FINN's streamlined form) as a net file")
    p.add_argument("model", help="the .onnx file")
    p.add_argument("--input-scale", type=input_scale, default=1.0,
                   help="the model's input is this times the 8-bit pixel value (default 1; 1/255 for a "
                        "model trained on pixels in [0, 1], as Brevitas's bnn_pynq nets are)")
    p.add_argument("--force", action="store_true", help="replace an existing net.json in --out")
    p.add_argument("--out", required=True, help="folder for net.json and import.json")
    p.set_defaults(step=__name__)


def run(args):
    from bnnmram.models.interop.qonnx_import import from_qonnx
    out = Path(args.out)
    od = OutputDir(out, "import", IMPORT_FILES, owners={"train"})
    if (out / "net.json").exists() and not args.force:
        raise BnnMramError(f"{out / 'net.json'} exists; pass --force to overwrite it or choose another --out")
    outputs.check_dir(out) if args.force else od.check()
    model = Path(args.model)
    if not model.is_file():
        raise BnnMramError(f"{model} does not exist")
    raw = model.read_bytes()
    meta = {"source": "qonnx", "model": model.name, "model_sha256": hashlib.sha256(raw).hexdigest(),
            "input_scale": args.input_scale}
    net = from_qonnx(model, args.input_scale, meta)
    report = {"model": str(model.resolve()), "model_sha256": meta["model_sha256"], "input_scale": args.input_scale,
              "arch": net.arch, "arch_spec": netfile.describe_arch(net), "input": net.layers[0].input,
              "binarize_threshold": net.binarize_threshold, "layers": [netfile.describe_layer(l) for l in net.layers],
              "net_sha256": netfile.digest(net)}
    with od:
        od.write("net.json", netfile.dumps(net))
        netfile.load(od.stage("net.json"))   # the file we wrote reads back valid
        od.write("import.json", json.dumps(report, indent=1) + "\n")
        od.commit()
    print(f"import: {model.name} -> {out / 'net.json'}: {netfile.describe_arch(net)}, input {net.layers[0].input}"
          + (f" (pixel >= {net.binarize_threshold})" if net.binarize_threshold is not None else "")
          + f", {len(net.layers)} layers")
