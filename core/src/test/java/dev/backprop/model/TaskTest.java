package dev.backprop.model;

import dev.backprop.data.Dataset;
import dev.backprop.loss.BinaryCrossEntropyWithLogits;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.loss.SquaredError;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskTest {
    @Test
    void namesParseBothWays() {
        for (Task t : Task.values()) {
            assertEquals(t, Task.parse(t.id()));
            assertEquals(t, Task.parse(" " + t.id().toUpperCase() + " "));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Task.parse("ranking"));
        assertTrue(e.getMessage().contains("classification, binary, regression"), e.getMessage());
    }

    @Test
    void eachTaskHasItsLossOutputsAndMetric() {
        Dataset labels = ModelFixtures.classification(6, 2, 5, 1);
        Dataset targets = ModelFixtures.regression(6, 2, 3, 1);
        assertInstanceOf(SoftmaxCrossEntropy.class, Task.CLASSIFICATION.loss());
        assertInstanceOf(BinaryCrossEntropyWithLogits.class, Task.BINARY.loss());
        assertInstanceOf(SquaredError.class, Task.REGRESSION.loss());
        assertEquals(5, Task.CLASSIFICATION.outputs(labels));
        assertEquals(1, Task.BINARY.outputs(labels.oneVsRest(2)));
        assertEquals(3, Task.REGRESSION.outputs(targets));
        assertEquals("accuracy", Task.BINARY.metricName());
        assertEquals("rmse", Task.REGRESSION.metricName());
    }

    /**
     * A one-logit softmax trains nothing (its loss is 0 whatever the weights), so one class is refused for training
     * (outputs, and Spark's count through classesToTrain), while scoring a model on one class's examples (check) is
     * allowed.
     */
    @Test
    void oneClassIsRefusedForTrainingOnly() {
        Dataset one = Dataset.classification(new float[] {1, 2, 3, 4}, new int[] {2}, new int[] {0, 0}, 1,
                List.of("cat"));
        Task.CLASSIFICATION.check(one);
        assertEquals("task classification needs at least 2 classes to train, but the data has 1 ('cat'); give "
                + "examples of another class", assertThrows(IllegalArgumentException.class,
                        () -> Task.CLASSIFICATION.outputs(one)).getMessage());
        assertEquals(2, Task.classesToTrain(2, null));
        assertEquals("task classification needs at least 2 classes to train, but the data has 1; give examples of "
                + "another class", assertThrows(IllegalArgumentException.class,
                        () -> Task.classesToTrain(1, null)).getMessage());
    }

    @Test
    void dataOfTheWrongKindIsRejectedWithAHint() {
        Dataset labels = ModelFixtures.classification(6, 2, 5, 1);
        Dataset targets = ModelFixtures.regression(6, 2, 1, 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Task.CLASSIFICATION.check(targets))
                .getMessage().contains("--task regression"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Task.REGRESSION.check(labels))
                .getMessage().contains("--task classification"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Task.BINARY.check(labels))
                .getMessage().contains("positive class"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Task.BINARY.check(targets))
                .getMessage().contains("0/1 targets"));
    }
}
