package dev.backprop.optim;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stochastic gradient descent as PyTorch's {@code torch.optim.SGD} (dampening 0): {@code g' = g + λ·θ};
 * with momentum {@code v ← μ·v + g'} and the step {@code d = v} (or {@code g' + μ·v} with Nesterov), without
 * it {@code d = g'}; then {@code θ ← θ - α·d}.
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double weightDecay;
    private final boolean nesterov;
    private final Map<String, Tensor> velocity = new LinkedHashMap<>();

    /** Plain SGD. */
    public Sgd(Map<String, Variable> params, double lr) {
        this(params, lr, 0, 0, false);
    }

    /**
     * @param momentum    μ ≥ 0 (0: no momentum buffers)
     * @param weightDecay λ ≥ 0 (L2 penalty added to the gradient)
     * @param nesterov    Nesterov momentum (needs μ &gt; 0)
     */
    public Sgd(Map<String, Variable> params, double lr, double momentum, double weightDecay, boolean nesterov) {
        super(params, lr);
        if (!(momentum >= 0) || !Double.isFinite(momentum)) {
            throw new IllegalArgumentException("sgd: momentum must be finite and >= 0, got " + momentum);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("sgd: weight decay must be finite and >= 0, got " + weightDecay);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("sgd: Nesterov momentum needs momentum > 0");
        }
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        if (momentum != 0) {
            try {
                for (Map.Entry<String, Variable> e : params.entrySet()) {
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

    @Override
    protected void update(String name, Variable param, long step) {
        Tensor v = momentum == 0 ? null : velocity.get(name + ".momentum_buffer");
        Updates.sgdUpdate(param.value(), param.grad(), v, learningRate(), momentum, weightDecay, nesterov);
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
