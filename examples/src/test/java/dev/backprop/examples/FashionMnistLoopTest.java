package dev.backprop.examples;

import dev.backprop.testing.FashionMnistData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FashionMnistLoop}, the hand-written loop, for one epoch on 3,000 images. */
class FashionMnistLoopTest {
    @Test
    void learnsFromASubset() throws Exception {
        FashionMnistData.assume();
        String out = ExampleRun.run(FashionMnistLoop::main, "1", "3000");
        assertTrue(out.startsWith("epoch 1: "), out);
        double accuracy = ExampleRun.number(out, "test accuracy");
        assertTrue(accuracy > 0.6, "test accuracy " + accuracy + " after one epoch on 3,000 images (chance: 0.1)");
        assertTrue(ExampleRun.number(out, "train loss") < 1.5, out);
    }
}
