/**
 * Losses with PyTorch's definitions and default reductions: softmax cross-entropy on logits with INT32 labels
 * (the SPI's fused kernels), binary cross-entropy on logits (stable) and on probabilities (clamped), and squared
 * error; {@link dev.backprop.loss.Reduction#MEAN} or {@link dev.backprop.loss.Reduction#SUM}.
 */
package dev.backprop.loss;
