package dev.backprop.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/** PyTorch's {@code StepLR}: the rate is {@code base·γ^⌊epoch/stepSize⌋}. */
public final class StepLR extends ClosedFormSchedule {
    private final int stepSize;
    private final double gamma;

    /**
     * A schedule that multiplies the optimizer's current rate by {@code gamma} every {@code stepSize} epochs.
     *
     * @param optimizer the optimizer whose rate it sets; its current rate is the base rate
     * @param stepSize  epochs between decays (&gt; 0)
     * @param gamma     the factor per decay (finite, ≥ 0)
     * @throws IllegalArgumentException for a step size below 1 or a bad factor
     */
    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize <= 0 || !(gamma >= 0) || !Double.isFinite(gamma)) {
            throw new IllegalArgumentException("StepLR: needs stepSize > 0 and a finite gamma >= 0, got stepSize="
                    + stepSize + ", gamma=" + gamma);
        }
        this.stepSize = stepSize;
        this.gamma = gamma;
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
