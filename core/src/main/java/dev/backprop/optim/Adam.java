package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam and AdamW as PyTorch's {@code torch.optim.Adam} / {@code AdamW}: {@code m ← β1·m + (1-β1)·g},
 * {@code v ← β2·v + (1-β2)·g²}, {@code θ ← θ - α·(m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + ε)}. Adam's weight decay
 * adds {@code λ·θ} to the gradient; AdamW's is decoupled: {@code θ ← θ - α·λ·θ} before the update.
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private final Map<String, Tensor> moments = new LinkedHashMap<>();

    /**
     * @param decoupled AdamW's decoupled weight decay when true, Adam's L2 penalty when false
     * @throws IllegalArgumentException for betas outside [0, 1), negative ε or λ
     */
    public Adam(Map<String, Variable> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                boolean decoupled) {
        super(params, lr);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("adam: betas must lie in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps >= 0) || !Double.isFinite(eps) || !(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("adam: eps and weight decay must be finite and >= 0, got eps=" + eps
                    + ", weight_decay=" + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        try {
            for (Map.Entry<String, Variable> e : params.entrySet()) {
                Tensor p = e.getValue().value();
                moments.put(e.getKey() + ".exp_avg", Tensor.zeros(p.backend(), p.dtype(), p.shape().dims()));
                moments.put(e.getKey() + ".exp_avg_sq", Tensor.zeros(p.backend(), p.dtype(), p.shape().dims()));
            }
        } catch (RuntimeException ex) {
            moments.values().forEach(Tensor::close);
            throw ex;
        }
    }

    /** Adam with PyTorch's defaults (betas 0.9, 0.999; ε 1e-8; no weight decay). */
    public static Adam adam(Map<String, Variable> params, double lr) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, 0, false);
    }

    /** AdamW with PyTorch's defaults (betas 0.9, 0.999; ε 1e-8) and decoupled weight decay λ (PyTorch: 0.01). */
    public static Adam adamW(Map<String, Variable> params, double lr, double weightDecay) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, weightDecay, true);
    }

    @Override
    protected void update(String name, Variable param, long step) {
        Updates.adamUpdate(param.value(), param.grad(), moments.get(name + ".exp_avg"), moments.get(name + ".exp_avg_sq"),
                learningRate(), beta1, beta2, eps, weightDecay, decoupled, step);
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
