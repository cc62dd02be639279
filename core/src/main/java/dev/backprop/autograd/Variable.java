package dev.backprop.autograd;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * A tensor taking part in differentiation: a value plus, for a leaf that requires a gradient, the tensor its
 * gradients accumulate into. Three kinds exist:
 * <ul>
 *   <li><b>constants</b> ({@link #constant}): data that needs no gradient (inputs, targets);</li>
 *   <li><b>leaves</b> ({@link #leaf}, {@link #parameter}): values whose gradient is wanted; {@link #grad()} is
 *       allocated (zeros) when the leaf is made and every {@code backward} adds to it, so a leaf used twice gets
 *       the sum of both gradients, until {@link #zeroGrad()};</li>
 *   <li><b>op outputs</b>: made by the differentiable ops ({@link Ops}); while a {@link Tape} records they hold
 *       the node that computed them, so {@link #backward()} can walk the graph back to the leaves.</li>
 * </ul>
 * A variable owns its gradient tensor; it owns its value when made by {@link #parameter} or by an op (the value
 * is then closed with it), not when made by {@link #constant} or {@link #leaf} (the caller keeps the value).
 * Like tensors, variables made while a {@link dev.backprop.tensor.Scope} (or a tape) is open are freed with it.
 */
public final class Variable implements AutoCloseable {
    private final Tensor value;
    private final Tensor grad;
    private final boolean requiresGrad;
    private final boolean ownsValue;
    private final Node node;
    /**
     * Set by {@link #zeroGrad()}: the gradient is zero but its tensor still holds the old values. The first
     * contribution of the next backward pass overwrites the tensor instead of adding to it (PyTorch's
     * {@code zero_grad(set_to_none=True)}), which saves a pass over every gradient per step; {@link #grad()}
     * writes the zeros first when nothing has overwritten them yet.
     */
    private boolean gradStale;

    Variable(Tensor value, Tensor grad, boolean requiresGrad, boolean ownsValue, Node node) {
        this.value = value;
        this.grad = grad;
        this.requiresGrad = requiresGrad;
        this.ownsValue = ownsValue;
        this.node = node;
    }

    /**
     * A variable that needs no gradient, wrapping {@code value} without taking ownership of it.
     *
     * @param value the value (an input batch, say)
     * @return the variable
     */
    public static Variable constant(Tensor value) {
        value.checkOpen();
        return new Variable(value, null, false, false, null);
    }

    /**
     * A leaf whose gradient is wanted (a network input for a Jacobian, say), wrapping {@code value} without taking
     * ownership. Its gradient tensor (zeros, same shape and dtype) is allocated now.
     *
     * @param value a floating tensor
     * @return the leaf
     * @throws dev.backprop.tensor.DTypeMismatchException when {@code value} is not floating
     */
    public static Variable leaf(Tensor value) {
        return newLeaf(value, false);
    }

    /**
     * A trainable leaf that owns {@code value}: closing the variable closes the value and its gradient.
     *
     * @param value a floating tensor, the parameter's initial value
     * @return the parameter
     */
    public static Variable parameter(Tensor value) {
        return newLeaf(value, true);
    }

    private static Variable newLeaf(Tensor value, boolean owns) {
        value.checkOpen();
        if (!value.dtype().isFloating()) {
            throw new dev.backprop.tensor.DTypeMismatchException("a variable that requires a gradient must be "
                    + "FLOAT32 or FLOAT64, got " + value.dtype() + " tensor " + value.shape());
        }
        Tensor g = Tensor.zeros(value.backend(), value.dtype(), value.shape().dims());
        return new Variable(value, g, true, owns, null);
    }

    /** {@return the value} */
    public Tensor value() {
        return value;
    }

    /**
     * The accumulated gradient of a leaf that requires one.
     *
     * @return the gradient, same shape and dtype as the value
     * @throws IllegalStateException for constants and op outputs, which keep no gradient
     */
    public Tensor grad() {
        if (grad == null) {
            throw new IllegalStateException(isLeaf()
                    ? "this variable " + value.shape() + " is a constant and has no gradient (use Variable.leaf)"
                    : "this variable " + value.shape() + " is an op output and keeps no gradient; make the quantity a "
                    + "leaf or read gradients of leaves");
        }
        if (gradStale) {
            Elementwise.fill(grad, 0.0);
            gradStale = false;
        }
        return grad;
    }

    /**
     * The gradient tensor for a backward rule about to add to it, without writing deferred zeros: the rule asks
     * {@link #takeStale()} first and overwrites the whole tensor instead of adding when it says so.
     */
    Tensor gradForUpdate() {
        return grad;
    }

    /** Whether the gradient tensor holds stale values that the next contribution must overwrite; clears the
     *  mark, since the caller is about to write the whole tensor. */
    boolean takeStale() {
        boolean s = gradStale;
        gradStale = false;
        return s;
    }

    /**
     * {@return whether gradients flow into this variable} They do into leaves made by {@link #leaf} and
     * {@link #parameter}, and into op outputs recorded on a tape from such inputs.
     */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** {@return whether this variable was made directly (not computed by a recorded op)} */
    public boolean isLeaf() {
        return node == null;
    }

    /** {@return the shape of the value} */
    public Shape shape() {
        return value.shape();
    }

    /** {@return the dtype of the value} */
    public DType dtype() {
        return value.dtype();
    }

    /** {@return the backend of the value} */
    public Backend backend() {
        return value.backend();
    }

    Node node() {
        return node;
    }

    boolean hasGradTensor() {
        return grad != null;
    }

    /**
     * Back-propagates from this one-element output with upstream gradient 1 (see {@link #backward(Tensor)}).
     *
     * @throws IllegalStateException when the value has more than one element
     */
    public void backward() {
        if (value.size() != 1) {
            throw new IllegalStateException("backward() without an upstream gradient needs a one-element output, "
                    + "this one is " + value.shape() + "; pass the upstream gradient (same shape)");
        }
        try (Tensor one = Tensor.full(value.backend(), value.dtype(), 1.0, value.shape().dims())) {
            backward(one);
        }
    }

    /**
     * Back-propagates {@code upstream} (∂L/∂this, same shape and dtype as the value; not modified) through the
     * recorded graph, adding to the gradient of every leaf that requires one. May be called several times on
     * one tape (one row of a Jacobian per call), as PyTorch's {@code retain_graph=True}: the tape keeps its graph
     * and saved values until it closes; gradients keep accumulating until {@link #zeroGrad()}.
     *
     * @param upstream ∂L/∂this
     * @throws IllegalStateException when this variable does not require a gradient, its tape was closed, a
     *                               value that an op on the way read or made was written in place after the op
     *                               ran ({@link Tensor#version()}), or an op on the way has an input computed on
     *                               another tape (checked before any gradient is written)
     * @throws dev.backprop.tensor.ClosedTensorException    when a value that an op on the way read or made was
     *                                                      closed after the op ran (checked before any gradient is
     *                                                      written)
     * @throws dev.backprop.tensor.ShapeMismatchException   when {@code upstream}'s shape differs from the value's
     * @throws dev.backprop.tensor.DTypeMismatchException   when {@code upstream}'s dtype differs from the value's
     * @throws dev.backprop.tensor.BackendMismatchException when {@code upstream} lives on another backend
     */
    public void backward(Tensor upstream) {
        if (!requiresGrad) {
            throw new IllegalStateException("backward(): this variable " + value.shape() + " does not require a "
                    + "gradient (it was not computed on an open Tape from a leaf or parameter)");
        }
        Gradients.checkUpstream(this, upstream);
        if (node == null) {
            Elementwise.axpy(1.0, upstream.reshape(value.shape().dims()), grad());
            return;
        }
        node.tape().backward(this, upstream);
    }

    /**
     * Sets a leaf's gradient to zero; does nothing for other variables. The zeros may be written lazily: the
     * next backward pass overwrites the gradient tensor rather than adding to it, and {@link #grad()} returns
     * zeros if nothing has been added since. So read and write the gradient through {@link #grad()}, not
     * through a tensor reference kept from before this call.
     */
    public void zeroGrad() {
        if (grad != null) {
            grad.checkOpen();
            gradStale = true;
        }
    }

    /** Closes the gradient, and the value when this variable owns it. Idempotent. */
    @Override
    public void close() {
        if (grad != null) {
            grad.close();
        }
        if (ownsValue) {
            value.close();
        }
    }

    @Override
    public String toString() {
        return "Variable" + value.shape() + " " + value.dtype() + (requiresGrad ? " (requires grad)" : "")
                + (node != null ? " from " + node.name() : "");
    }
}
