package dev.backprop.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/** PyTorch's {@code StepLR}: the rate is {@code base·γ^⌊epoch/stepSize⌋}. */
public final class StepLR implements LearningRateSchedule {
    private final Optimizer optimizer;
    private final double base;
    private final int stepSize;
    private final double gamma;
    private int epoch;

    /**
     * @param stepSize epochs between decays (&gt; 0)
     * @param gamma    the factor per decay (finite, ≥ 0)
     */
    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        if (stepSize <= 0 || !(gamma >= 0) || !Double.isFinite(gamma)) {
            throw new IllegalArgumentException("StepLR: needs stepSize > 0 and a finite gamma >= 0, got stepSize="
                    + stepSize + ", gamma=" + gamma);
        }
        this.optimizer = optimizer;
        this.base = optimizer.learningRate();
        this.stepSize = stepSize;
        this.gamma = gamma;
    }

    @Override
    public void step() {
        restore(epoch + 1);
    }

    @Override
    public int epoch() {
        return epoch;
    }

    @Override
    public void restore(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("StepLR: epoch must be >= 0, got " + epoch);
        }
        this.epoch = epoch;
        optimizer.setLearningRate(rateAt(epoch));
    }

    @Override
    public double rateAt(int epoch) {
        return base * StrictMath.pow(gamma, epoch / stepSize);
    }

    @Override
    public String type() {
        return "step";
    }

    @Override
    public Map<String, Double> settings() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("base_lr", base);
        m.put("step_size", (double) stepSize);
        m.put("gamma", gamma);
        return m;
    }
}
