package dev.backprop.autograd;

import dev.backprop.tensor.Tensor;

/**
 * The backward rule of one recorded op: given ∂L/∂output it hands ∂L/∂input to {@link Gradients} for each
 * input that {@linkplain Gradients#wants wants} one. Write a custom differentiable op by computing its value
 * with the tensor facades and passing such a rule to {@link Tape#record}.
 */
@FunctionalInterface
public interface BackwardFunction {
    /**
     * Hands the op's input gradients to {@code grads}.
     *
     * @param upstream ∂L/∂output, the output's shape and dtype; borrowed (do not close or modify it)
     * @param grads    where the input gradients go
     */
    void backward(Tensor upstream, Gradients grads);
}
