package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Stochastic gradient descent as PyTorch's {@code torch.optim.SGD} (dampening 0): {@code g' = g + λ·θ};
 * with momentum {@code v ← μ·v + g'} and the step {@code d = v} (or {@code g' + μ·v} with Nesterov), without
 * it {@code d = g'}; then {@code θ ← θ - α·d}.
 *
 * <p>Plain SGD is {@code new Sgd(params, lr)}; momentum, weight decay and Nesterov come from {@link #builder}:
 * <pre>{@code
 * Sgd sgd = Sgd.builder(model.parameters()).lr(0.01).momentum(0.9).weightDecay(5e-4).build();
 * }</pre>
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double weightDecay;
    private final boolean nesterov;
    private final Map<String, Tensor> velocity = new LinkedHashMap<>();

    /**
     * Plain SGD: no momentum, no weight decay.
     *
     * @param params the parameters by name, as {@link dev.backprop.nn.Layer#parameters()} gives them
     * @param lr     the learning rate (finite, ≥ 0)
     * @throws IllegalArgumentException for no parameters, one that needs no gradient or one listed twice, or a
     *                                  bad learning rate
     */
    public Sgd(Map<String, Variable> params, double lr) {
        this(builder(params).lr(lr));
    }

    private Sgd(Builder b) {
        super(b.params, b.lr);
        if (b.nesterov && b.momentum == 0) {
            throw new IllegalArgumentException("sgd: Nesterov momentum needs momentum > 0");
        }
        this.momentum = b.momentum;
        this.weightDecay = b.weightDecay;
        this.nesterov = b.nesterov;
        if (momentum != 0) {
            try {
                for (Map.Entry<String, Variable> e : b.params.entrySet()) {
                    Tensor p = e.getValue().value();
                    velocity.put(e.getKey() + ".momentum_buffer", Tensor.zeros(p.backend(), p.dtype(),
                            p.shape().dims()));
                }
            } catch (RuntimeException ex) {
                velocity.values().forEach(Tensor::close);
                throw ex;
            }
        }
    }

    /**
     * Starts an SGD optimizer over {@code params} with PyTorch's defaults: learning rate 0.001, no momentum, no
     * weight decay, no Nesterov.
     *
     * @param params the parameters by name, as {@link dev.backprop.nn.Layer#parameters()} gives them
     * @return a builder; {@link Builder#build()} allocates the momentum buffers
     */
    public static Builder builder(Map<String, Variable> params) {
        return new Builder(params);
    }

    /**
     * Settings for an {@link Sgd}, by PyTorch's names; each setter checks its value at once and throws
     * {@link IllegalArgumentException} naming it.
     */
    public static final class Builder {
        private final Map<String, Variable> params;
        private double lr = 1e-3;
        private double momentum;
        private double weightDecay;
        private boolean nesterov;

        private Builder(Map<String, Variable> params) {
            this.params = Objects.requireNonNull(params, "params");
        }

        /**
         * The learning rate α (default 0.001).
         *
         * @param lr finite, ≥ 0
         * @return this builder
         */
        public Builder lr(double lr) {
            this.lr = Optimizer.checkedRate("Sgd", lr);
            return this;
        }

        /**
         * The momentum μ (default 0: no momentum buffers).
         *
         * @param momentum finite, ≥ 0
         * @return this builder
         */
        public Builder momentum(double momentum) {
            if (!(momentum >= 0) || !Double.isFinite(momentum)) {
                throw new IllegalArgumentException("sgd: momentum must be finite and >= 0, got " + momentum);
            }
            this.momentum = momentum;
            return this;
        }

        /**
         * The weight decay λ, an L2 penalty added to the gradient (default 0).
         *
         * @param weightDecay finite, ≥ 0
         * @return this builder
         */
        public Builder weightDecay(double weightDecay) {
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                throw new IllegalArgumentException("sgd: weight decay must be finite and >= 0, got " + weightDecay);
            }
            this.weightDecay = weightDecay;
            return this;
        }

        /**
         * Whether to use Nesterov momentum (default false; needs a momentum above 0).
         *
         * @param nesterov true for Nesterov momentum
         * @return this builder
         */
        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        /**
         * The optimizer, with its momentum buffers (if any) allocated as zeros on the parameters' backend.
         *
         * @return the optimizer; close it to free its state
         * @throws IllegalArgumentException for Nesterov without momentum, no parameters, one that needs no
         *                                  gradient or one listed twice
         */
        public Sgd build() {
            return new Sgd(this);
        }
    }

    @Override
    protected void updateAll(long step) {
        List<Updates.SgdTensors> tensors = new ArrayList<>(parameters().size());
        for (Map.Entry<String, Variable> e : parameters().entrySet()) {
            Tensor v = momentum == 0 ? null : velocity.get(e.getKey() + ".momentum_buffer");
            tensors.add(new Updates.SgdTensors(e.getValue().value(), e.getValue().grad(), v));
        }
        Updates.sgdUpdateAll(tensors, learningRate(), momentum, weightDecay, nesterov);
    }

    @Override
    public String type() {
        return "sgd";
    }

    @Override
    public Map<String, Double> hyperparameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("momentum", momentum);
        h.put("weight_decay", weightDecay);
        h.put("nesterov", nesterov ? 1.0 : 0.0);
        return h;
    }

    @Override
    public Map<String, Tensor> state() {
        return Collections.unmodifiableMap(velocity);
    }
}
