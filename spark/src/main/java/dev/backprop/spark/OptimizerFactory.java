package dev.backprop.spark;

import dev.backprop.autograd.Variable;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.Sgd;

import java.io.Serializable;
import java.util.Map;

/** Builds the optimizer over a rank's model parameters; serializable so that it can travel to the executors. */
@FunctionalInterface
public interface OptimizerFactory extends Serializable {
    /** A new optimizer over {@code params} (the model's parameters by name). */
    Optimizer create(Map<String, Variable> params);

    /** Plain SGD (PyTorch's {@code torch.optim.SGD} without momentum). */
    static OptimizerFactory sgd(double lr) {
        return p -> new Sgd(p, lr);
    }

    /** SGD with momentum {@code mu} and L2 weight decay {@code lambda}. */
    static OptimizerFactory momentum(double lr, double mu, double lambda) {
        return p -> new Sgd(p, lr, mu, lambda, false);
    }

    /** Adam with PyTorch's defaults (betas 0.9, 0.999; eps 1e-8) and L2 weight decay {@code lambda}. */
    static OptimizerFactory adam(double lr, double lambda) {
        return p -> new Adam(p, lr, 0.9, 0.999, 1e-8, lambda, false);
    }

    /** AdamW with PyTorch's defaults and decoupled weight decay {@code lambda}. */
    static OptimizerFactory adamW(double lr, double lambda) {
        return p -> Adam.adamW(p, lr, lambda);
    }
}
