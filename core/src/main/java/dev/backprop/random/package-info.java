/**
 * Seeded random numbers that match PyTorch's: {@link dev.backprop.random.TorchGenerator} reproduces PyTorch's CPU
 * generator (initial weights and shuffles), {@link dev.backprop.random.Philox} the counter-based Philox4x32-10 that
 * dropout draws its masks from, the same bits on every backend.
 */
package dev.backprop.random;
