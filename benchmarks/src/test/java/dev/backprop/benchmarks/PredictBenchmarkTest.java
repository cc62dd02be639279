package dev.backprop.benchmarks;

import dev.backprop.nn.Cnn;
import dev.backprop.nn.Mlp;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The models and the request PredictBenchmark times: what predict_torch.py must mirror. */
class PredictBenchmarkTest {
    @Test
    void modelsAreTheReferenceDefinitions() {
        Mlp mlp = assertInstanceOf(Mlp.class, PredictBenchmark.architecture("mlp"));
        assertArrayEquals(new int[] {784, 256, 128, 10}, mlp.sizes());
        assertEquals("784-256-128-10 relu", mlp.describe());
        Cnn cnn = assertInstanceOf(Cnn.class, PredictBenchmark.architecture("cnn"));
        assertArrayEquals(new int[] {1, 28, 28}, cnn.inputShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PredictBenchmark.architecture("resnet"));
        assertEquals("model must be mlp or cnn, got 'resnet'", e.getMessage());
    }

    @Test
    void oneRequestGivesTenProbabilitiesPerRow() {
        for (String model : new String[] {"mlp", "cnn"}) {
            PredictBenchmark b = new PredictBenchmark();
            b.target = "cpu";
            b.threads = 1;
            b.model = model;
            b.batch = 3;
            b.setUp();
            try {
                float[] p = b.predict();
                assertEquals(30, p.length, model);
                for (int r = 0; r < 3; r++) {
                    double sum = 0;
                    for (int c = 0; c < 10; c++) {
                        sum += p[r * 10 + c];
                    }
                    assertEquals(1.0, sum, 1e-5, model + " row " + r);
                }
            } finally {
                b.tearDown();
            }
        }
    }
}
