package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.io.ModelFile;
import dev.backprop.nn.Layer;
import dev.backprop.spark.engine.ThreadedRanks;
import dev.backprop.spark.engine.TrainingFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spark-submit main class, run in-process on local[2] with a CSV read by the executors. */
class SparkTrainMainTest {
    @Test
    void trainsFromACsvAndWritesALoadableModel(@TempDir Path dir) throws Exception {
        Dataset d = TrainingFixtures.clusters(120, 6, 3, 9);
        List<String> lines = new ArrayList<>(List.of("a,b,c,d,e,f,label"));
        for (int i = 0; i < d.size(); i++) {
            StringBuilder sb = new StringBuilder();
            for (float v : d.features(i)) {
                sb.append(v).append(',');
            }
            lines.add(sb.append(d.label(i)).toString());
        }
        Path csv = dir.resolve("train.csv");
        Files.write(csv, lines);
        Path out = dir.resolve("model.safetensors");
        int code = SparkTrainMain.run("--master", "local[2]", "--csv", csv.toString(), "--ranks", "2",
                "--layers", "6-8-3", "--epochs", "2", "--batch-size", "20", "--optimizer", "adam",
                "--checkpoint-dir", dir.resolve("ckpt").toString(), "--out", out.toString());
        assertEquals(0, code);
        try (Backend b = ThreadedRanks.cpu(1); Layer m = ModelFile.load(out, b)) {
            assertEquals(6 * 8 + 8 + 8 * 3 + 3, m.parameterCount());
        }
        try (var files = Files.list(dir.resolve("ckpt"))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().matches("checkpoint-\\d{12}\\.safetensors")),
                    "rank 0 wrote checkpoints");
        }
    }

    @Test
    void trainArgumentsWithSparkBecomeMainArguments() {
        assertArrayEquals(new String[] {"--epochs", "2", "--master", "local[2]", "--lr", "0.1"},
                SparkTrainMain.toMainArguments("--epochs", "2", "--spark", "local[2]", "--lr", "0.1"));
        assertArrayEquals(new String[] {"--master", "yarn"}, SparkTrainMain.toMainArguments("--spark=yarn"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SparkTrainMain.toMainArguments("--spark"))
                .getMessage().contains("--spark needs a Spark master"));
    }

    @Test
    void badFlagsFailWithAMessageNotAStackTrace() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            assertEquals(2, SparkTrainMain.run("--epochs", "x"));
            assertEquals(2, SparkTrainMain.runTrainArguments("--spark", "local[2]", "--plot", "loss.png"));
        } finally {
            System.setErr(err);
        }
        assertTrue(captured.toString().contains("Invalid value for option '--epochs'"), captured.toString());
        assertTrue(captured.toString().contains("Unknown options: '--plot', 'loss.png'"), captured.toString());
    }
}
