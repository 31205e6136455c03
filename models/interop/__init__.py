"""Open doors: QONNX models in (`qonnx_import`: a Brevitas/QONNX BNN becomes a net file) and out
(`qonnx_export`: a net file becomes a QONNX model that qonnx executes with the golden model's
scores). docs/qonnx.md is the contract."""
