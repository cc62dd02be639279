/**
 * Layers built on {@link dev.backprop.autograd.Ops}: {@link dev.backprop.nn.Dense} (PyTorch's {@code Linear}
 * layout, {@code W [out, in]}), {@link dev.backprop.nn.Flatten}, {@link dev.backprop.nn.Activation}s and
 * {@link dev.backprop.nn.Sequential} with PyTorch {@code state_dict} names; seeded host-side initializers
 * ({@link dev.backprop.nn.Init}); and {@link dev.backprop.nn.LayerSpec}s, the architecture without weights that
 * model files store.
 */
package dev.backprop.nn;
