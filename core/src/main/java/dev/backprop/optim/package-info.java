/**
 * Optimizers with PyTorch's update formulas through the SPI's fused update kernels (SGD with momentum and
 * Nesterov, Adam, AdamW), gradient clipping by global norm, and learning-rate schedules in closed form.
 */
package dev.backprop.optim;
