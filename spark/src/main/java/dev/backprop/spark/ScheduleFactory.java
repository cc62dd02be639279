package dev.backprop.spark;

import dev.backprop.optim.CosineAnnealingLR;
import dev.backprop.optim.LearningRateSchedule;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;

import java.io.Serializable;

/**
 * Builds the per-epoch learning-rate schedule on a rank; every rank steps it at the same epoch boundaries, so
 * the learning rate is the same everywhere.
 */
@FunctionalInterface
public interface ScheduleFactory extends Serializable {
    /** A new schedule driving {@code optimizer} over a run of {@code epochs} epochs. */
    LearningRateSchedule create(Optimizer optimizer, int epochs);

    /** Multiplies the rate by {@code gamma} every {@code stepSize} epochs (PyTorch's {@code StepLR}). */
    static ScheduleFactory step(int stepSize, double gamma) {
        return (o, epochs) -> new StepLR(o, stepSize, gamma);
    }

    /** Cosine annealing to 0 over the run (PyTorch's {@code CosineAnnealingLR} with {@code T_max = epochs}). */
    static ScheduleFactory cosine() {
        return (o, epochs) -> new CosineAnnealingLR(o, Math.max(1, epochs), 0);
    }
}
