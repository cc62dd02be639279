package dev.backprop.spark;

import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.model.Task;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The spec's loss settings: what it builds and what it refuses. */
class TrainingSpecTest {
    private static TrainingSpec.Builder spec() {
        return TrainingSpec.builder(ModelFactory.mlp(new Mlp(new int[] {4, 3}, Activation.Kind.RELU,
                Init.PYTORCH_DEFAULT, 1)), OptimizerChoice.sgd(0.1));
    }

    @Test
    void theLossIsTheTasksWithoutSettingsAndTheWeightedCrossEntropyWithThem() {
        assertSame(Task.CLASSIFICATION.loss().getClass(), spec().build().loss().getClass());
        assertEquals("SoftmaxCrossEntropy(MEAN)", spec().build().loss().toString());
        SoftmaxCrossEntropy ce = (SoftmaxCrossEntropy) spec().classes(3).classWeights(0.5, 2, 1).labelSmoothing(0.1)
                .build().loss();
        assertArrayEquals(new double[] {0.5, 2, 1}, ce.weights());
        assertEquals(0.1, ce.labelSmoothing());
        TrainingSpec s = spec().classWeights(0.5, 2, 1).labelSmoothing(0.1).build();
        assertEquals("task classification, class weights 0.5000,2.000,1.000, label smoothing 0.1, batch 128 per "
                + "rank, 1 epoch, seed 0, sync gradients every step, backend auto, no checkpoints", s.describe());
        assertEquals(s.describe(), s.toBuilder().build().describe(), "toBuilder keeps the settings");
        assertEquals("task classification, balanced class weights, batch 128 per rank, 1 epoch, seed 0, sync "
                + "gradients every step, backend auto, no checkpoints", spec().balancedClassWeights().build()
                .describe());
    }

    @Test
    void balancedWeightsNeedTheDataCountedFirst() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> spec().balancedClassWeights().build().loss());
        assertEquals("balanced class weights are counted from the data by SparkTrainer.fit; this spec has not been "
                + "through it", e.getMessage());
    }

    @Test
    void badValuesAreRefusedInOneLineNamingThem() {
        assertEquals("cross_entropy: class weights must be positive and finite, got weight -1.0 for class 1",
                assertThrows(IllegalArgumentException.class, () -> spec().classWeights(1, -1)).getMessage());
        assertEquals("cross_entropy: class weights must be positive and finite, got weight NaN for class 0",
                assertThrows(IllegalArgumentException.class, () -> spec().classWeights(Double.NaN)).getMessage());
        assertEquals("cross_entropy: weights must name at least one class, got none",
                assertThrows(IllegalArgumentException.class, () -> spec().classWeights()).getMessage());
        assertEquals("cross_entropy: label smoothing must lie in [0, 1), got 1.0",
                assertThrows(IllegalArgumentException.class, () -> spec().labelSmoothing(1)).getMessage());
        assertEquals("cross_entropy: label smoothing must lie in [0, 1), got -0.1",
                assertThrows(IllegalArgumentException.class, () -> spec().labelSmoothing(-0.1)).getMessage());
        assertEquals("class weights apply to task classification (softmax cross-entropy), not to task regression",
                assertThrows(IllegalArgumentException.class, () -> spec().task(Task.REGRESSION).classWeights(1, 2)
                        .build()).getMessage());
        assertEquals("label smoothing applies to task classification (softmax cross-entropy), not to task binary",
                assertThrows(IllegalArgumentException.class, () -> spec().task(Task.BINARY).labelSmoothing(0.1)
                        .build()).getMessage());
        assertEquals("2 class weights, but the data has 3 classes",
                assertThrows(IllegalArgumentException.class, () -> spec().classWeights(1, 2).classes(3).build())
                        .getMessage());
    }

    @Test
    void aWarmupAsLongAsTheRunIsRefusedBeforeSparkStarts() {
        OptimizerChoice warm = OptimizerChoice.adam(0.01, 0).withWarmup(3, 0.01, "linear");
        TrainingSpec.Builder b = TrainingSpec.builder(
                ModelFactory.mlp(new Mlp(new int[] {4, 3}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 1)), warm);
        assertEquals("--warmup 3 must be less than --epochs 3: the warmup would take the whole run and never reach "
                + "--lr 0.01", assertThrows(IllegalArgumentException.class, () -> b.epochs(3).build()).getMessage());
        assertEquals(3, b.epochs(4).build().optimizer().warmupEpochs());
    }

    @Test
    void thePlateauScheduleIsRefusedBeforeSparkStarts() {
        OptimizerChoice plateau = OptimizerChoice.sgd(0.1).withSchedule("plateau", 1, 0.5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingSpec.builder(
                ModelFactory.mlp(new Mlp(new int[] {4, 3}, Activation.Kind.RELU, Init.PYTORCH_DEFAULT, 1)), plateau));
        assertEquals("optimizer sgd lr 0.1 schedule plateau: the plateau schedule follows a validation value, which "
                + "Spark training does not compute; choose none, step or cosine", e.getMessage());
    }
}
