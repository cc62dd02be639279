package dev.backprop.examples;

import dev.backprop.testing.FashionMnistData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link CnnExample}, the convolutional network, for one epoch on 2,000 images. */
class CnnExampleTest {
    @Test
    void learnsFromASubset() throws Exception {
        FashionMnistData.assume();
        String out = ExampleRun.run(CnnExample::main, "1", "2000");
        assertTrue(out.contains("Conv2d(1->8, k=3, padding=1x1)"), out);
        double accuracy = ExampleRun.number(out, "test accuracy");
        assertTrue(accuracy > 0.6, "test accuracy " + accuracy + " after one epoch on 2,000 images (chance: 0.1)");
        assertTrue(ExampleRun.number(out, "train loss") < 1.5, out);
    }
}
