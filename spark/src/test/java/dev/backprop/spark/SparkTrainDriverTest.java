package dev.backprop.spark;

import dev.backprop.data.LabelColumn;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Init;
import dev.backprop.nn.Mlp;
import dev.backprop.optim.OptimizerChoice;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The driver's start lines: the optimizer, its schedule and warmup named as the one-machine train line names them. */
class SparkTrainDriverTest {
    private static TrainingSpec spec(OptimizerChoice optimizer) {
        return TrainingSpec.builder(ModelFactory.mlp(new Mlp(new int[] {4, 3}, Activation.Kind.RELU,
                Init.PYTORCH_DEFAULT, 1)), optimizer).epochs(3).build();
    }

    @Test
    void theStartLineNamesTheOptimizerScheduleAndWarmup() {
        SparkTrainDriver.Data data = new SparkTrainDriver.Data(Path.of("/d"), "rows.csv", 1, LabelColumn.LAST, null,
                null);
        String nl = System.lineSeparator();
        assertEquals("spark:   local[2], 2 ranks, sgd lr 0.1, task classification, batch 128 per rank, 3 epochs, "
                + "seed 0, sync gradients every step, backend auto, no checkpoints" + nl + "data:    CSV rows.csv",
                SparkTrainDriver.startLines("local[2]", 2, spec(OptimizerChoice.sgd(0.1)), data));
        OptimizerChoice scheduled = OptimizerChoice.adam(0.001, 0).withSchedule("cosine", 1, 0.1)
                .withWarmup(1, OptimizerChoice.DEFAULT_WARMUP_FACTOR, "linear");
        assertEquals("spark:   local[1], 1 rank, adam lr 0.001 schedule cosine warmup 1 linear from 0.01, task "
                + "classification, batch 128 per rank, 3 epochs, seed 0, sync gradients every step, backend auto, "
                + "no checkpoints" + nl + "data:    CSV rows.csv",
                SparkTrainDriver.startLines("local[1]", 1, spec(scheduled), data));
    }

    /** A null label column is refused when the data is described, not deep in a Spark job. */
    @Test
    void aNullLabelColumnIsRefusedAtOnce() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> new SparkTrainDriver.Data(Path.of("/d"), "rows.csv", 1, null, null, null));
        assertEquals("labelColumn: give LabelColumn.LAST for the last column", e.getMessage());
    }
}
