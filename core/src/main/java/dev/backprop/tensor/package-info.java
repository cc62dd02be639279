/**
 * Tensors on a backend and the operations on them, without gradients. A {@link dev.backprop.tensor.Tensor} belongs
 * to the backend that made it and must be closed; a {@link dev.backprop.tensor.Scope} closes every tensor made while
 * it is open except those it is told to keep, and {@link dev.backprop.backend.Backend#memoryStats()} counts what is
 * still live. The operations come in families, each a class of static methods that checks its arguments before the
 * backend sees them: {@link dev.backprop.tensor.Elementwise}, {@link dev.backprop.tensor.MatMul},
 * {@link dev.backprop.tensor.Reductions}, {@link dev.backprop.tensor.Softmax}, {@link dev.backprop.tensor.Layout},
 * {@link dev.backprop.tensor.Convolution}, {@link dev.backprop.tensor.Pooling},
 * {@link dev.backprop.tensor.Normalization}, {@link dev.backprop.tensor.Regularization} (dropout),
 * {@link dev.backprop.tensor.Fused} and {@link dev.backprop.tensor.Updates} (optimizer steps). The differentiable
 * forms are in {@link dev.backprop.autograd}.
 */
package dev.backprop.tensor;
