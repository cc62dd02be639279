package dev.backprop.loss;

import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Loss#classify} as each loss decides a batch, on worked numbers: {@code torch.argmax(logits, 1)} (the first of
 * tied logits) for cross-entropy, {@code z >= 0} for BCE on logits and {@code p >= 0.5} on probabilities, with the
 * target's class at {@code y >= 0.5}; {@link Loss#countCorrect} counts where the two agree. A batch whose sizes
 * differ is refused naming the method that was called and both shapes.
 */
class ClassifyTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void crossEntropyTakesTheFirstLargestLogit() {
        try (Tensor logits = Tensor.of(backend, new float[] {0.5f, 2, 2, 3, -1, 0, 1, 1, 1}, 3, 3);
             Tensor labels = Tensor.of(backend, new int[] {2, 0, 0}, 3)) {
            SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
            Classified c = loss.classify(logits, labels).orElseThrow();
            assertEquals(3, c.classes());
            assertArrayEquals(new int[] {2, 0, 0}, c.truth());
            assertArrayEquals(new int[] {1, 0, 0}, c.predicted());
            assertEquals(2, c.correct());
            assertEquals(2, loss.countCorrect(logits, labels).orElseThrow());
        }
    }

    @Test
    void binaryLossesDecideAtTheirThreshold() {
        try (Tensor z = Tensor.of(backend, new float[] {0, -0.25f, 3, -2}, 4, 1);
             Tensor p = Tensor.of(backend, new float[] {0.5f, 0.49f, 0.9f, 0.1f}, 4, 1);
             Tensor y = Tensor.of(backend, new float[] {1, 1, 0.5f, 0.25f}, 4, 1)) {
            for (Loss loss : new Loss[] {new BinaryCrossEntropyWithLogits(), new BinaryCrossEntropy()}) {
                Classified c = loss.classify(loss instanceof BinaryCrossEntropy ? p : z, y).orElseThrow();
                assertEquals(2, c.classes(), loss.name());
                assertArrayEquals(new int[] {1, 1, 1, 0}, c.truth(), loss.name());
                assertArrayEquals(new int[] {1, 0, 1, 0}, c.predicted(), loss.name());
                assertEquals(3, loss.countCorrect(loss instanceof BinaryCrossEntropy ? p : z, y).orElseThrow());
            }
        }
    }

    @Test
    void regressionDoesNotClassify() {
        try (Tensor out = Tensor.of(backend, new float[] {1, 2}, 2, 1);
             Tensor y = Tensor.of(backend, new float[] {1, 2}, 2, 1)) {
            assertTrue(new SquaredError().classify(out, y).isEmpty());
            assertTrue(new SquaredError().countCorrect(out, y).isEmpty());
        }
    }

    @Test
    void mismatchedBatchesAreRefusedNamingClassify() {
        try (Tensor logits = Tensor.of(backend, new float[6], 2, 3);
             Tensor labels = Tensor.of(backend, new int[] {0, 1, 2}, 3);
             Tensor y = Tensor.of(backend, new float[3], 3, 1)) {
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> new SoftmaxCrossEntropy().countCorrect(logits, labels));
            assertEquals("classify: logits " + logits.shape() + " and labels " + labels.shape() + " differ in rows",
                    e.getMessage());
            e = assertThrows(ShapeMismatchException.class,
                    () -> new BinaryCrossEntropyWithLogits().classify(logits, y));
            assertEquals("classify: prediction " + logits.shape() + " and target " + y.shape() + " differ in size",
                    e.getMessage());
        }
    }
}
