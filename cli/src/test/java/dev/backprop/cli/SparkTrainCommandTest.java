package dev.backprop.cli;

import com.google.gson.Gson;
import dev.backprop.runtime.Backends;
import dev.backprop.spark.SparkTrainMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code backprop train --spark MASTER}: a real two-rank run on {@code local[2]} (Spark is on this module's test
 * class path, as bin/backprop puts it beside backprop.jar), the model it saves read back by {@code eval} and
 * {@code predict}, the Spark trainer's own flags and refusals, and the error when Spark is missing.
 */
class SparkTrainCommandTest {
    @TempDir
    Path dir;

    @Test
    void trainsOnLocalSparkWithTwoRanksAndSavesAModelEvalAndPredictRead() {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("spark.safetensors");
        CliRun train = CliRun.of("train", "--spark", "local[2]", "--train-limit", "4096", "--layers", "784-64-10",
                "--batch-size", "64", "--optimizer", "adam", "--epochs", "1", "--out", model.toString()).ok();
        String out = train.out();
        assertTrue(out.startsWith("spark:   local[2], 2 ranks, task classification, batch 64 per rank, 1 epochs"), out);
        assertTrue(out.contains("\nepoch   1  loss "), "one line per epoch:\n" + out);
        // 4096 examples over two ranks, 64 each per step: 32 steps, every rank reporting the backend it ran.
        for (int r = 0; r < 2; r++) {
            assertTrue(out.contains("rank " + r + "/2 (attempt 0) on "), out);
        }
        assertTrue(out.contains("]: cpu (1 threads) on "), "each rank runs cpu with spark.task.cpus threads:\n" + out);
        assertTrue(out.contains("shard 2048, steps 0-32 of 32"), out);
        assertEquals(32, train.field("result:", "steps"));
        double acc = train.field("result:", "test_accuracy");
        assertTrue(acc > 0.5, "32 Adam steps on 4096 images score well above chance (0.1), got " + acc);
        assertTrue(out.contains("saved:   " + model), out);

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString()).ok();
        assertEquals(String.format(Locale.ROOT, "%.4f", acc),
                String.format(Locale.ROOT, "%.4f", eval.field("eval:", "test_acc")), "eval repeats the driver's score");
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--index", "0").ok();
        assertTrue(predict.out().contains("test example 0 (label: Ankle boot)"), "class names saved:\n"
                + predict.out());
    }

    @Test
    void theSparkTrainersFlagsAreListedAndTrainOnlyFlagsRefusedByName() {
        assertTrue(CliRun.of("train", "--help").ok().out().contains("--spark=MASTER"), "train --help shows --spark");
        CliRun help = CliRun.of("train", "--spark", "local", "--help").ok();
        assertTrue(help.out().contains("--ranks=N") && help.out().contains("--sync=MODE"), help.out());

        CliRun plot = CliRun.of("train", "--spark=local[2]", "--plot", "loss.png");
        assertEquals(2, plot.code(), plot.err());
        assertTrue(plot.err().contains("Unknown options: '--plot', 'loss.png'"), plot.err());

        CliRun noMaster = CliRun.of("train", "--epochs", "1", "--spark");
        assertEquals(2, noMaster.code(), noMaster.err());
        assertTrue(noMaster.err().contains("--spark needs a Spark master, e.g. --spark local[2]"), noMaster.err());
    }

    @Test
    void trainParsedDirectlyHandsSparkRunsOverToo() {
        // Main.execute hands --spark runs over before parsing; a caller of commandLine() reaches TrainCommand,
        // which passes the same arguments on: the Spark trainer, not train, then refuses train's --no-progress.
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("train", "--spark", "local[2]", "--no-progress");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("Unknown option: '--no-progress'"), err.toString());
    }

    @Test
    void onlyTrainWithSparkGoesToSpark() {
        assertTrue(SparkTraining.requested("train", "--epochs", "1", "--spark", "local[2]"));
        assertTrue(SparkTraining.requested("train", "--spark=yarn"));
        assertFalse(SparkTraining.requested("train", "--epochs", "1"));
        assertFalse(SparkTraining.requested("eval", "--spark", "local[2]"));
        assertFalse(SparkTraining.requested());
    }

    /**
     * backprop.jar without Spark's jars: a JVM whose class path holds only what the command line needs up to the
     * check (the cli, core and the Spark trainer, picocli, Gson) fails with the explanation, not a
     * NoClassDefFoundError.
     */
    @Test
    void withoutSparkOnTheClassPathTheErrorSaysHowToGetIt() throws Exception {
        List<String> cp = new ArrayList<>();
        for (Class<?> c : List.of(Main.class, Backends.class, SparkTrainMain.class, CommandLine.class, Gson.class)) {
            cp.add(codeSource(c));
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", String.join(File.pathSeparator, cp),
                Main.class.getName(), "train", "--spark", "local[2]", "--epochs", "1")
                .redirectOutput(dir.resolve("stdout.txt").toFile()).redirectError(dir.resolve("stderr.txt").toFile())
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM without Spark finishes");
        String err = Files.readString(dir.resolve("stderr.txt"), StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_ERROR, p.exitValue(), err);
        assertTrue(err.startsWith("backprop: --spark needs Apache Spark (spark-core_2.13, Spark 4) on the class path"),
                err);
        assertTrue(err.contains("bin/backprop") && err.contains("spark-submit"), err);
        assertFalse(err.contains("Exception"), "no stack trace:\n" + err);
        assertEquals("", Files.readString(dir.resolve("stdout.txt"), StandardCharsets.UTF_8));
    }

    private static String codeSource(Class<?> c) throws URISyntaxException, IOException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toRealPath().toString();
    }
}
