package dev.backprop.loss;

import dev.backprop.data.Dataset;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The builder's host-side settings; the loss's values are in the network contract's cross-entropy cases. */
class SoftmaxCrossEntropyBuilderTest {
    private static Dataset labelled(int numClasses, List<String> names, int... labels) {
        return Dataset.classification(new float[labels.length], new int[] {1}, labels, numClasses, names);
    }

    @Test
    void balancedWeightsAreScikitLearns() {
        // sklearn.utils.class_weight.compute_class_weight("balanced", classes=[0, 1, 2], y=[0,0,0,0,0,0,1,1,2,0])
        // gives 10 / (3 * [7, 2, 1]).
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder()
                .balancedWeights(labelled(3, null, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0)).build();
        assertArrayEquals(new double[] {10.0 / 21, 10.0 / 6, 10.0 / 3}, loss.weights(), 1e-15);
    }

    @Test
    void balancedWeightsNameTheClassWithoutExamples() {
        MissingClassException e = assertThrows(MissingClassException.class, () -> SoftmaxCrossEntropy.builder()
                .balancedWeights(labelled(3, List.of("cat", "dog", "bird"), 0, 2, 0)));
        assertEquals("cross_entropy: balanced class weights: class 1 (dog) has no example among the 3 training "
                + "examples", e.getMessage());
        // The part a caller words after its own option (the command line's --class-weights balanced).
        assertEquals("class 1 (dog) has no example among the 3 training examples", e.reason());
    }

    @Test
    void defaultsAreThePlainLoss() {
        SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().build();
        assertNull(loss.weights());
        assertEquals(0, loss.labelSmoothing());
        assertEquals(Reduction.MEAN, loss.reduction());
        assertEquals(new SoftmaxCrossEntropy().toString(), loss.toString());
    }
}
