"""`bnnmram export`: a net file as a QONNX model (docs/qonnx.md, "Export")."""
from pathlib import Path

from bnnmram.models.net import netfile

from .. import outputs

PRODUCER = "bnnmram"


def add_parser(sub):
    p = sub.add_parser("export", help="a net file as a QONNX model that qonnx (and FINN) read")
    p.add_argument("--net", required=True)
    p.add_argument("--format", choices=("qonnx",), default="qonnx")
    p.add_argument("--out", required=True, help="the .onnx file; an existing one is replaced only if "
                   "bnnmram export wrote it")
    p.set_defaults(step=__name__)


def _is_export_result(path: Path) -> bool:
    import onnx
    return onnx.load(str(path)).producer_name == PRODUCER


def run(args):
    from bnnmram.models.interop.qonnx_export import check_exportable, to_qonnx
    out = Path(args.out)
    outputs.check_owned_file(out, ".onnx", _is_export_result, "export")
    net = netfile.load(args.net)
    check_exportable(net)
    model = to_qonnx(net)
    outputs.write_file_atomic(out, model.SerializeToString())
    print(f"export: {netfile.describe_arch(net)} -> {out} (QONNX, {len(model.graph.node)} nodes; input "
          f"{[d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]} float pixel values 0..255)")
