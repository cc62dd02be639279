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
 * Adam and AdamW as PyTorch's {@code torch.optim.Adam} / {@code AdamW}: {@code m ← β1·m + (1-β1)·g},
 * {@code v ← β2·v + (1-β2)·g²}, {@code θ ← θ - α·(m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + ε)}. Adam's weight decay
 * adds {@code λ·θ} to the gradient; AdamW's is decoupled: {@code θ ← θ - α·λ·θ} before the update.
 *
 * <p>Made by {@link #builder}, whose defaults are PyTorch's, or by the shorthands {@link #adam} and
 * {@link #adamW}:
 * <pre>{@code
 * Adam adam = Adam.builder(model.parameters()).lr(1e-3).betas(0.9, 0.99).weightDecay(1e-4).build();
 * }</pre>
 */
public final class Adam extends Optimizer {
    /** The state name of a parameter's second moment, as PyTorch's {@code state[p]["exp_avg_sq"]}. */
    public static final String SECOND_MOMENT = "exp_avg_sq";
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private final Map<String, Tensor> moments = new LinkedHashMap<>();

    private Adam(Builder b) {
        super(b.params, b.lr);
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.decoupled = b.decoupled;
        try {
            for (Map.Entry<String, Variable> e : b.params.entrySet()) {
                Tensor p = e.getValue().value();
                moments.put(e.getKey() + ".exp_avg", Tensor.zeros(p.backend(), p.dtype(), p.shape().dims()));
                moments.put(e.getKey() + "." + SECOND_MOMENT,
                        Tensor.zeros(p.backend(), p.dtype(), p.shape().dims()));
            }
        } catch (RuntimeException ex) {
            moments.values().forEach(Tensor::close);
            throw ex;
        }
    }

    /**
     * Starts an Adam optimizer over {@code params} with PyTorch's defaults: learning rate 0.001, betas 0.9 and
     * 0.999, ε 1e-8, no weight decay, not decoupled (Adam, not AdamW).
     *
     * @param params the parameters by name, as {@link dev.backprop.nn.Layer#parameters()} gives them
     * @return a builder; {@link Builder#build()} allocates the moment tensors
     */
    public static Builder builder(Map<String, Variable> params) {
        return new Builder(params);
    }

    /**
     * Adam with PyTorch's defaults (betas 0.9, 0.999; ε 1e-8; no weight decay).
     *
     * @param params the parameters by name
     * @param lr     the learning rate (finite, ≥ 0)
     * @return the optimizer, its moments zero
     */
    public static Adam adam(Map<String, Variable> params, double lr) {
        return builder(params).lr(lr).build();
    }

    /**
     * AdamW with PyTorch's defaults (betas 0.9, 0.999; ε 1e-8) and decoupled weight decay λ (PyTorch: 0.01).
     *
     * @param params      the parameters by name
     * @param lr          the learning rate (finite, ≥ 0)
     * @param weightDecay λ (finite, ≥ 0)
     * @return the optimizer, its moments zero
     */
    public static Adam adamW(Map<String, Variable> params, double lr, double weightDecay) {
        return builder(params).lr(lr).weightDecay(weightDecay).decoupled(true).build();
    }

    /**
     * Settings for an {@link Adam}, by PyTorch's names; each setter checks its value at once and throws
     * {@link IllegalArgumentException} naming it.
     */
    public static final class Builder {
        private final Map<String, Variable> params;
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;
        private boolean decoupled;

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
            this.lr = Optimizer.checkedRate("Adam", lr);
            return this;
        }

        /**
         * The decay rates of the moment estimates (default 0.9 and 0.999).
         *
         * @param beta1 the first moment's, in [0, 1)
         * @param beta2 the second moment's, in [0, 1)
         * @return this builder
         */
        public Builder betas(double beta1, double beta2) {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("adam: betas must lie in [0, 1), got (" + beta1 + ", " + beta2
                        + ")");
            }
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        /**
         * The term ε added to the denominator (default 1e-8).
         *
         * @param eps finite, ≥ 0
         * @return this builder
         */
        public Builder eps(double eps) {
            this.eps = nonNegative("eps", eps);
            return this;
        }

        /**
         * The weight decay λ (default 0): an L2 penalty added to the gradient, or with {@link #decoupled} AdamW's
         * decay of the weights.
         *
         * @param weightDecay finite, ≥ 0
         * @return this builder
         */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = nonNegative("weight_decay", weightDecay);
            return this;
        }

        /**
         * Whether the weight decay is decoupled from the gradient, as in AdamW (default false: Adam).
         *
         * @param decoupled true for AdamW
         * @return this builder
         */
        public Builder decoupled(boolean decoupled) {
            this.decoupled = decoupled;
            return this;
        }

        /**
         * The optimizer, with its moment tensors allocated as zeros on the parameters' backend.
         *
         * @return the optimizer; close it to free its state
         * @throws IllegalArgumentException for no parameters, one that needs no gradient or one listed twice
         */
        public Adam build() {
            return new Adam(this);
        }

        private static double nonNegative(String what, double v) {
            if (!(v >= 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException("adam: " + what + " must be finite and >= 0, got " + v);
            }
            return v;
        }
    }

    @Override
    protected void updateAll(long step) {
        List<Updates.AdamTensors> tensors = new ArrayList<>(parameters().size());
        for (Map.Entry<String, Variable> e : parameters().entrySet()) {
            String name = e.getKey();
            tensors.add(new Updates.AdamTensors(e.getValue().value(), e.getValue().grad(),
                    moments.get(name + ".exp_avg"), moments.get(name + "." + SECOND_MOMENT)));
        }
        Updates.adamUpdateAll(tensors, learningRate(), beta1, beta2, eps, weightDecay, decoupled, step);
    }

    @Override
    public String type() {
        return decoupled ? "adamw" : "adam";
    }

    @Override
    public Map<String, Double> hyperparameters() {
        Map<String, Double> h = new LinkedHashMap<>();
        h.put("beta1", beta1);
        h.put("beta2", beta2);
        h.put("eps", eps);
        h.put("weight_decay", weightDecay);
        return h;
    }

    @Override
    public Map<String, Tensor> state() {
        return Collections.unmodifiableMap(moments);
    }
}
