/**
 * ONNX files in and out: {@link dev.backprop.onnx.OnnxExport} writes a Backprop model as an ONNX graph that ONNX
 * Runtime (and any other ONNX engine) runs, {@link dev.backprop.onnx.OnnxImport} reads the same operator subset back
 * into a {@link dev.backprop.nn.Sequential}, including the graphs PyTorch's {@code torch.onnx.export} writes, and
 * {@link dev.backprop.onnx.ModelFormats} opens either a safetensors model file or an ONNX file. Which ONNX operator
 * stands for which layer is written down once, in {@link dev.backprop.onnx.OperatorTable}.
 */
package dev.backprop.onnx;
