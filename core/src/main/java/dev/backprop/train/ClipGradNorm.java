package dev.backprop.train;

import dev.backprop.autograd.Variable;
import dev.backprop.optim.GradientClipping;

import java.util.Collection;

/**
 * Clips the global gradient norm before each update ({@link Trainer.Builder#clipGradNorm}). A non-finite norm
 * scales the gradients by 0 (or NaN), as PyTorch's {@code clip_grad_norm_} does by default, rather than throwing:
 * the step's loss check then says why, once, instead of a second message from here.
 */
final class ClipGradNorm implements StepHook {
    private final Collection<Variable> parameters;
    private final double maxNorm;

    ClipGradNorm(Collection<Variable> parameters, double maxNorm) {
        this.parameters = parameters;
        this.maxNorm = maxNorm;
    }

    @Override
    public void beforeUpdate(StepPosition step) {
        GradientClipping.clipByGlobalNorm(parameters, maxNorm, false);
    }
}
