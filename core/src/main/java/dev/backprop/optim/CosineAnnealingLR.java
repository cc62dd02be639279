package dev.backprop.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code CosineAnnealingLR} in its closed form:
 * {@code η_min + (base - η_min)·(1 + cos(π·epoch/T_max))/2}, reaching {@code η_min} at {@code T_max}.
 */
public final class CosineAnnealingLR extends ClosedFormSchedule {
    private final int tMax;
    private final double etaMin;

    /**
     * A schedule from the optimizer's current rate down to {@code etaMin} over {@code tMax} epochs.
     *
     * @param optimizer the optimizer whose rate it sets; its current rate is the base rate
     * @param tMax      epochs of the half cosine (&gt; 0)
     * @param etaMin    the final rate (finite, ≥ 0)
     * @throws IllegalArgumentException for {@code tMax} below 1 or a bad final rate
     */
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax <= 0 || !(etaMin >= 0) || !Double.isFinite(etaMin)) {
            throw new IllegalArgumentException("CosineAnnealingLR: needs tMax > 0 and a finite etaMin >= 0, got tMax="
                    + tMax + ", etaMin=" + etaMin);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
    }

    @Override
    public double rateAt(int epoch) {
        return etaMin + (base - etaMin) * (1 + StrictMath.cos(StrictMath.PI * epoch / tMax)) / 2;
    }

    @Override
    public String type() {
        return "cosine";
    }

    @Override
    public Map<String, Double> settings() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("base_lr", base);
        m.put("t_max", (double) tMax);
        m.put("eta_min", etaMin);
        return m;
    }
}
