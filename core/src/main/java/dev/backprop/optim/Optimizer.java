package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Updates parameters in place from their accumulated gradients, with PyTorch's formulas, through the SPI's
 * fused update kernels. Parameters are named (the model's {@code state_dict} names) so the optimizer state can be
 * saved with them; per-parameter state tensors (momentum, Adam moments) are allocated, as zeros, when the
 * optimizer is made (build it outside any {@link dev.backprop.tensor.Scope} you close before training ends) and
 * freed by {@link #close()}.
 *
 * <p>A step is {@link #step()}: every parameter is updated with its current gradient and the step counter
 * advances; clear the gradients with {@link #zeroGrad()} before the next backward pass.
 */
public abstract class Optimizer implements AutoCloseable {
    private final Map<String, Variable> params;
    private double learningRate;
    private long steps;
    private boolean closed;

    /**
     * An optimizer over named parameters.
     *
     * @param params the parameters by name (leaves that require a gradient, each once)
     * @param lr     the learning rate (finite, ≥ 0)
     * @throws IllegalArgumentException for no parameters, a parameter that needs no gradient, one given twice,
     *                                  or a bad learning rate
     */
    protected Optimizer(Map<String, Variable> params, double lr) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimize");
        }
        Map<Variable, String> seen = new IdentityHashMap<>();
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            Variable v = e.getValue();
            if (!v.isLeaf() || !v.requiresGrad()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": '" + e.getKey()
                        + "' is not a trainable leaf (make it with Variable.parameter)");
            }
            String before = seen.put(v, e.getKey());
            if (before != null) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": the same parameter is listed as '"
                        + before + "' and '" + e.getKey() + "'");
            }
        }
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.learningRate = checkedRate(getClass().getSimpleName(), lr);
    }

    /**
     * Names {@code 0, 1, 2 ...} for parameters that have no names of their own (a hand-written model).
     *
     * @param params the parameters, in order
     * @return the parameters by name, in order
     */
    public static Map<String, Variable> named(Variable... params) {
        Map<String, Variable> m = new LinkedHashMap<>();
        for (int i = 0; i < params.length; i++) {
            m.put(Integer.toString(i), params[i]);
        }
        return m;
    }

    /**
     * One optimizer step on every parameter, as one multi-tensor update call (one launch where the backend fuses
     * it). A parameter that no backward pass reached since {@link #zeroGrad()} is updated with a zero gradient
     * (so weight decay and momentum still move it).
     */
    public final void step() {
        checkOpen();
        steps++;
        updateAll(steps);
    }

    /**
     * Updates every parameter of {@link #parameters()} in place with its {@link Variable#grad()}, in one
     * multi-tensor call.
     *
     * @param step the step number, from 1
     */
    protected abstract void updateAll(long step);

    /** Zeroes every parameter's gradient. */
    public void zeroGrad() {
        params.values().forEach(Variable::zeroGrad);
    }

    /** {@return the parameters by name, in order} */
    public Map<String, Variable> parameters() {
        return params;
    }

    /** {@return the learning rate of the next step} */
    public double learningRate() {
        return learningRate;
    }

    /**
     * Sets the learning rate for the following steps (schedules call this).
     *
     * @param lr the new rate (finite, ≥ 0)
     * @throws IllegalArgumentException for a negative or non-finite rate
     */
    public void setLearningRate(double lr) {
        this.learningRate = checkedRate(getClass().getSimpleName(), lr);
    }

    static double checkedRate(String who, double lr) {
        if (!(lr >= 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException(who + ": learning rate must be finite and >= 0, got " + lr);
        }
        return lr;
    }

    /** {@return steps taken so far} */
    public long stepCount() {
        return steps;
    }

    /** {@return the optimizer's type name in checkpoints ({@code sgd}, {@code adam}, {@code adamw})} */
    public abstract String type();

    /** {@return hyperparameters other than the learning rate, by PyTorch's names, for checkpoints and messages} */
    public abstract Map<String, Double> hyperparameters();

    /**
     * The live state tensors by name {@code <parameter>.<buffer>} (PyTorch's buffer names:
     * {@code momentum_buffer}, {@code exp_avg}, {@code exp_avg_sq}); empty for plain SGD. Restoring a checkpoint
     * copies into these.
     *
     * @return the state tensors by name, in parameter order (unmodifiable)
     */
    public abstract Map<String, Tensor> state();

    /**
     * Sets the step counter and learning rate, as when resuming from a checkpoint (the state tensors are
     * restored separately through {@link #state()}).
     *
     * @param stepCount the steps taken (≥ 0)
     * @param lr        the learning rate of the next step (finite, ≥ 0)
     * @throws IllegalArgumentException as {@link #checkCounters}
     */
    public void restoreCounters(long stepCount, double lr) {
        checkCounters(stepCount, lr);
        setLearningRate(lr);
        this.steps = stepCount;
    }

    /**
     * Checks counters for {@link #restoreCounters} without changing anything, so a caller can validate a whole
     * checkpoint before it touches the first weight.
     *
     * @param stepCount the steps taken
     * @param lr        the learning rate
     * @throws IllegalArgumentException for a negative step count or a learning rate that is not finite and
     *                                  {@code >= 0}
     */
    public void checkCounters(long stepCount, double lr) {
        if (stepCount < 0) {
            throw new IllegalArgumentException("step count must be >= 0, got " + stepCount);
        }
        checkedRate(getClass().getSimpleName(), lr);
    }

    /**
     * Checks that the optimizer is open.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    protected final void checkOpen() {
        if (closed) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    /** Frees the state tensors. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            state().values().forEach(Tensor::close);
        }
    }

    @Override
    public String toString() {
        return type() + "(lr=" + learningRate + ", " + hyperparameters() + ")";
    }
}
