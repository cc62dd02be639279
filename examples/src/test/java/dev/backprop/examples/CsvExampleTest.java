package dev.backprop.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CsvExample} on the blobs it writes, and on a CSV of its caller's: it learns, and the loaded model and the
 * ONNX import predict what the trained model did, with nothing left live on the backend.
 */
class CsvExampleTest {
    @Test
    void learnsTheBlobsItWritesAndRoundTripsTheModel(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("blobs.csv");
        String out = ExampleRun.run(CsvExample::main, csv.toString(), "3", "10");
        assertEquals(601, Files.readAllLines(csv).size(), "a header and 600 rows");
        assertEquals(10, out.lines().filter(l -> l.startsWith("epoch ")).count(), out);
        double accuracy = ExampleRun.number(out.substring(out.lastIndexOf("epoch 10:")), "test accuracy");
        assertTrue(accuracy >= 0.85, "test accuracy " + accuracy + " after 10 epochs:\n" + out);
        assertTrue(out.contains("the loaded model predicts the same: true"), out);
        assertTrue(out.contains("the ONNX import predicts the same: true"), out);
        assertTrue(out.contains("live buffers at the end: 0 (0 B)"), out);
        assertTrue(Files.size(dir.resolve("csv-model.safetensors")) > 0);
        assertTrue(Files.size(dir.resolve("csv-model.onnx")) > 0);
    }

    @Test
    void readsACallersFileOfTwoClasses(@TempDir Path dir) throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            int label = i % 2;
            rows.append(label * 3 + (i % 7) * 0.1).append(',').append(-(i % 5) * 0.2).append(',').append(label)
                    .append('\n');
        }
        Path csv = Files.writeString(dir.resolve("two.csv"), rows);
        String out = ExampleRun.run(CsvExample::main, csv.toString(), "2", "10");
        assertTrue(ExampleRun.number(out.substring(out.lastIndexOf("epoch 10:")), "test accuracy") >= 0.9, out);
        assertTrue(out.contains("the ONNX import predicts the same: true"), out);
    }
}
