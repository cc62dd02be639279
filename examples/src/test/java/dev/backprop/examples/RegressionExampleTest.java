package dev.backprop.examples;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RegressionExample} for a few epochs: it learns the function and predicts near the exact value. */
class RegressionExampleTest {
    @Test
    void learnsThePlane() throws Exception {
        String out = ExampleRun.run(RegressionExample::main, "8");
        double rmse = ExampleRun.number(out, "test RMSE");
        assertTrue(rmse < 0.25, "test RMSE " + rmse + " (the targets spread about 1.45)");
        assertEquals(1.625, ExampleRun.number(out, "f(0.5, -0.5) ="), 0.25, out);
    }
}
