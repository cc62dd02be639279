package dev.backprop.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.logging.StreamHandler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the command line says besides results: usage errors as one line with a pointer to the help, Spark master URLs
 * checked before Spark starts, help texts that fit the command, and no log lines where nothing is selected.
 */
class CliMessagesTest {
    @TempDir
    Path dir;

    /** Fails unless {@code r} failed with {@code code} and one line on stderr that starts with backprop: and holds
     *  every one of {@code parts}. */
    private static void oneLine(CliRun r, int code, String... parts) {
        assertEquals(code, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("backprop: "), r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in " + r.err());
        }
    }

    @Test
    void everyUsageErrorIsOneLinePointingToTheHelp() {
        for (String command : List.of("backends", "train", "eval", "predict", "export")) {
            oneLine(CliRun.of(command, "--model", "m.safetensors", "--onnx", "m.onnx", "--no-such-option"), 2,
                    "Unknown option", "see 'backprop " + command + " --help'");
        }
        oneLine(CliRun.of("train", "--epoch", "2"), 2, "did you mean --epochs?", "see 'backprop train --help'");
        oneLine(CliRun.of("train", "--epochs", "x"), 2, "Invalid value for option '--epochs'");
        oneLine(CliRun.of("eval"), 2, "Missing required option: '--model=FILE'", "see 'backprop eval --help'");
        oneLine(CliRun.of("frobnicate"), 2, "frobnicate", "see 'backprop --help'");
        oneLine(CliRun.of(), 2, "missing command");
    }

    @Test
    void aSparkMasterSparkCannotParseIsRefusedBeforeSparkStarts() {
        oneLine(CliRun.of("train", "--spark", "bogus://x", "--epochs", "1"), 2,
                "--spark bogus://x: not a Spark master URL; use local, local[N]", "see 'backprop train --help'");
        oneLine(CliRun.of("train", "--spark", "mesos://m:5050"), 2, "--spark mesos://m:5050: Spark 4 has no Mesos");
        oneLine(CliRun.of("train", "--spark", "spark://host"), 2, "--spark spark://host: a standalone master is "
                + "spark://HOST:PORT");
        oneLine(CliRun.of("train", "--spark", "local[2]", "--resume", "ck.safetensors"), 2,
                "--spark runs do not take --resume: it applies to training on this machine");
        oneLine(CliRun.of("train", "--spark", "yarn", "--epochs", "1"), Main.EXIT_ERROR,
                "--spark yarn needs Spark's spark-yarn_2.13 on the class path");
        for (String ok : List.of("local", "local[4]", "local[*]", "local[4,2]", "local[*, 3]",
                "local-cluster[2,1,1024]", "spark://host:7077", "spark://h1:7077,h2:7077", "yarn",
                "k8s://https://host:443")) {
            assertNull(SparkMaster.problem(ok), ok);
        }
        for (String bad : List.of("", "locall", "local[]", "local[x]", "local[2", "spark://", "spark://host:",
                "yarn-client", "k8s://")) {
            assertTrue(SparkMaster.problem(bad) != null, bad);
        }
    }

    @Test
    void evalAndPredictDescribeCsvAsTheirTestData() {
        String train = CliRun.of("train", "--help").ok().out();
        assertTrue(train.contains("Train on a numeric CSV"), train);
        for (String command : List.of("eval", "predict")) {
            String help = CliRun.of(command, "--help").ok().out();
            assertFalse(help.contains("Train on"), help);
            assertTrue(help.contains("Score on a numeric CSV instead") && help.contains("the rows train held out")
                    && help.replaceAll("\\s+", " ").contains("Score on a folder of images instead (one subfolder per "
                    + "class): the images train held out") && help.replaceAll("\\s+", " ").contains("Default: the "
                    + "model's."), help);
            assertTrue(help.replaceAll("\\s+", " ").contains("Score on every row of this numeric CSV") && !help
                    .contains("Test examples for --csv"), help);
        }
    }

    @Test
    void helpAndExportLogNothingTheSelectionLineBelongsToCommandsThatRun() throws IOException {
        Path csv = dir.resolve("xor.csv");
        Files.writeString(csv, "0,0,0\n0,1,1\n1,0,1\n1,1,0\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0,0,0\n0,1,1\n");
        Path model = dir.resolve("xor.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", csv.toString(), "--layers", "2-4-2", "--epochs", "1",
                "--out", model.toString()).ok();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        StreamHandler capture = new StreamHandler(log, new SimpleFormatter());
        capture.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        try {
            CliRun.of("--help").ok();
            CliRun.of("help", "train").ok();
            for (String command : List.of("backends", "train", "eval", "predict", "export")) {
                CliRun.of(command, "--help").ok();
            }
            CliRun.of("train", "--no-such-option");
            CliRun export = CliRun.of("export", "--model", model.toString(), "--onnx",
                    dir.resolve("xor.onnx").toString()).ok();
            assertTrue(export.out().startsWith("wrote "), export.out());
        } finally {
            capture.flush();
            root.removeHandler(capture);
        }
        assertEquals("", log.toString(StandardCharsets.UTF_8));
    }
}
