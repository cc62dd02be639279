package dev.backprop.cli;

import dev.backprop.model.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

import static dev.backprop.cli.CliRun.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data options that depend on the model's task: {@code --positive-class}, which only binary Fashion-MNIST runs read,
 * and {@code --targets}, which only regression CSV runs read, are refused where they would be ignored, and
 * {@code eval} and {@code predict} take a regression model's target count from its outputs.
 */
class ModelTaskOptionsTest {
    @TempDir
    Path dir;

    /** 200 rows {@code x1,x2,y} with y = 1 when x1 > 0: a binary CSV, whose 0/1 targets are the file's own. */
    private Path binaryCsv() throws IOException {
        StringBuilder sb = new StringBuilder();
        Random r = new Random(5);
        for (int i = 0; i < 200; i++) {
            double a = r.nextGaussian();
            sb.append(String.format(Locale.ROOT, "%.5f,%.5f,%d%n", a, r.nextGaussian(), a > 0 ? 1 : 0));
        }
        return Files.writeString(dir.resolve("binary.csv"), sb);
    }

    @Test
    void positiveClassIsRefusedForModelsThatAreNotBinary() throws IOException {
        Path three = ThreeClassCsv.write(dir);
        Path classes = dir.resolve("three.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", three.toString(), "--layers", "4-8-3", "--epochs", "1",
                "--out", classes.toString()).ok();
        Path plane = dir.resolve("plane.csv");
        PlaneCsv.write(plane);
        Path regression = dir.resolve("plane.safetensors");
        CliRun.of("train", "--backend", "cpu", "--task", "regression", "--csv", plane.toString(), "--layers",
                "2-4-1", "--epochs", "1", "--out", regression.toString()).ok();
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", classes.toString(), "--csv",
                    three.toString(), "--positive-class", "1"), "--positive-class 1 applies to --task binary (the "
                    + "Fashion-MNIST class scored against the rest), not to " + classes + "'s task, classification; "
                    + "leave it out");
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", regression.toString(), "--csv",
                    plane.toString(), "--positive-class", "0"), "--positive-class 0 applies to --task binary (the "
                    + "Fashion-MNIST class scored against the rest), not to " + regression + "'s task, regression; "
                    + "leave it out");
            // an override of the model's task is named as the option it is
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", regression.toString(), "--task",
                    "classification", "--positive-class", "2"), "--positive-class 2 applies to --task binary (the "
                    + "Fashion-MNIST class scored against the rest), not to --task classification; leave it out");
            CliRun.of(command, "--backend", "cpu", "--model", classes.toString(), "--csv", three.toString()).ok();
        }
    }

    @Test
    void positiveClassIsRefusedWhereABinaryCsvGivesTheTargets() throws IOException {
        Path csv = binaryCsv();
        Path model = dir.resolve("binary.safetensors");
        String csvMessage = "--positive-class 1 picks a Fashion-MNIST class, and a CSV for --task binary gives its "
                + "0/1 targets itself; leave it out";
        assertRefused(CliRun.of("train", "--backend", "cpu", "--task", "binary", "--csv", csv.toString(),
                "--positive-class", "1", "--layers", "2-4-1", "--epochs", "1", "--out", model.toString()), csvMessage);
        assertEquals(false, Files.exists(model));
        CliRun.of("train", "--backend", "cpu", "--task", "binary", "--csv", csv.toString(), "--layers", "2-4-1",
                "--epochs", "1", "--out", model.toString()).ok();
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    csv.toString(), "--positive-class", "1"), csvMessage);
        }
    }

    @Test
    void targetsAreRefusedForTasksThatAreNotRegression() throws IOException {
        Path three = ThreeClassCsv.write(dir);
        Path model = dir.resolve("t.safetensors");
        // --targets counts a regression CSV's target columns; classification and binary read one label column
        assertRefused(CliRun.of("train", "--backend", "cpu", "--csv", three.toString(), "--task", "classification",
                "--targets", "3", "--out", model.toString()), "--targets 3 applies to --task regression (the CSV's "
                + "trailing target columns), not to --task classification; leave it out");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--csv", binaryCsv().toString(), "--task", "binary",
                "--targets", "3", "--out", model.toString()), "--targets 3 applies to --task regression (the CSV's "
                + "trailing target columns), not to --task binary; leave it out");
        // refused before the data is read: the Fashion-MNIST directory and the image folder need not exist
        assertRefused(CliRun.of("train", "--backend", "cpu", "--data", dir.resolve("none").toString(), "--targets",
                "2", "--out", model.toString()), "--targets 2 applies to --task regression (the CSV's trailing "
                + "target columns), not to --task classification; leave it out");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--images", dir.resolve("none").toString(), "--targets",
                "2", "--out", model.toString()), "--targets 2 applies to --task regression (the CSV's trailing "
                + "target columns), not to --task classification; leave it out");
        // regression needs a CSV's targets: Fashion-MNIST and image folders have none for --targets to count
        String none = dir.resolve("none").toString();
        assertRefused(CliRun.of("train", "--backend", "cpu", "--data", none, "--task", "regression", "--targets", "2",
                "--out", model.toString()), "--targets 2 counts the target columns of a CSV for --task regression, "
                + "and Fashion-MNIST has none (its examples have class labels); give them with --csv FILE");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--data", none, "--task", "regression", "--out",
                model.toString()), "--task regression needs real-valued targets, and Fashion-MNIST has none (its "
                + "examples have class labels); give them with --csv FILE");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--images", none, "--task", "regression", "--targets",
                "1", "--out", model.toString()), "--targets 1 counts the target columns of a CSV for --task "
                + "regression, and an image folder has none (its examples have a class per folder); give them with "
                + "--csv FILE");
        assertRefused(CliRun.of("train", "--spark", "local[1]", "--data", none, "--task", "regression", "--targets",
                "2", "--out", model.toString()), "--targets 2 counts the target columns of a CSV for --task "
                + "regression, and Fashion-MNIST has none (its examples have class labels); give them with --csv "
                + "FILE");
        assertEquals(false, Files.exists(model));
        Path regression = dir.resolve("r.safetensors");
        CliRun.of("train", "--backend", "cpu", "--task", "regression", "--csv", three.toString(), "--layers",
                "4-8-1", "--epochs", "1", "--out", regression.toString()).ok();
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", regression.toString(), "--data", none,
                    "--targets", "1"), "--targets 1 counts the target columns of a CSV for " + regression + "'s "
                    + "task, regression, and Fashion-MNIST has none (its examples have class labels); give them with "
                    + "--csv FILE");
        }
        CliRun.of("train", "--backend", "cpu", "--csv", three.toString(), "--layers", "4-8-3", "--epochs", "1",
                "--out", model.toString()).ok();
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    three.toString(), "--targets", "1"), "--targets 1 applies to --task regression (the CSV's "
                    + "trailing target columns), not to " + model + "'s task, classification; leave it out");
        }
    }

    @Test
    void evalAndPredictRefuseTrainLimitAndASeedThatPicksNothing() throws IOException {
        Path three = ThreeClassCsv.write(dir);
        Path model = dir.resolve("three.safetensors");
        CliRun.of("train", "--backend", "cpu", "--csv", three.toString(), "--layers", "4-8-3", "--epochs", "1",
                "--out", model.toString()).ok();
        Path none = dir.resolve("none");
        for (String command : new String[] {"eval", "predict"}) {
            // train holds its test rows out before --train-limit applies, so the limit never moves them
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    three.toString(), "--train-limit", "10"), "--train-limit 10 limits the training examples, which "
                    + "eval and predict do not read (train holds the test examples out before it limits the rest); "
                    + "leave it out");
            // refused before anything is read: the data need not exist
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--test-csv",
                    none.toString(), "--csv", none.toString(), "--seed", "3"), "--seed 3 picks the examples held "
                    + "out of a single --csv or --images, and --test-csv is taken whole; leave it out");
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--data",
                    none.toString(), "--seed", "3"), "--seed 3 picks the examples held out of a single --csv or "
                    + "--images, and Fashion-MNIST's test split is taken whole; leave it out");
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--test-images",
                    none.toString(), "--seed", "0"), "--seed 0 picks the examples held out of a single --csv or "
                    + "--images, and --test-images is taken whole; leave it out");
            // a single --csv is split by the seed: the same seed gives the same held-out rows as train's
            CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv", three.toString(), "--seed",
                    "0").ok();
        }
        CliRun seeded = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", three.toString(),
                "--seed", "0").ok();
        CliRun plain = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", three.toString())
                .ok();
        assertEquals(plain.field("eval:", "test_loss"), seeded.field("eval:", "test_loss"));
    }

    @Test
    void threadsAboveTheBackendsBoundAreRefusedBeforeAnythingIsRead() throws IOException {
        // the cpu backend's own check (CpuBackend.checkThreads), under the option's name: the data and the model
        // need not exist, as for any other option refused before anything is read
        int processors = Runtime.getRuntime().availableProcessors();
        long most = Math.max(64, 4L * processors);
        String bound = "--threads must be at most " + most + " (the larger of 64 and 4 per available processor, "
                + processors + " here), got 100000";
        Path none = dir.resolve("none");
        Path out = dir.resolve("out.safetensors");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--csv", none.toString(), "--threads", "100000", "--out",
                out.toString()), bound);
        assertFalse(Files.exists(out));
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", none.toString(), "--csv", none.toString(),
                    "--threads", "100000"), bound);
        }
        assertRefused(CliRun.of("train", "--backend", "cpu", "--csv", none.toString(), "--threads", "0", "--out",
                out.toString()), "--threads must be at least 1, got 0");
    }

    @Test
    void trainRefusesPositiveClassWithoutTaskBinary() {
        Path model = dir.resolve("m.safetensors");
        // refused before the data is read: the Fashion-MNIST directory need not exist
        assertRefused(CliRun.of("train", "--backend", "cpu", "--data", dir.resolve("none").toString(),
                "--positive-class", "1", "--out", model.toString()), "--positive-class 1 applies to --task binary "
                + "(the Fashion-MNIST class scored against the rest), not to --task classification; leave it out");
        assertEquals(false, Files.exists(model));
    }

    /** 200 rows {@code x1,x2} then the two targets {@code x1 + x2} and {@code x1 − 2·x2}. */
    private Path twoTargetCsv() throws IOException {
        StringBuilder sb = new StringBuilder();
        Random r = new Random(7);
        for (int i = 0; i < 200; i++) {
            double a = r.nextGaussian();
            double b = r.nextGaussian();
            sb.append(String.format(Locale.ROOT, "%.5f,%.5f,%.5f,%.5f%n", a, b, a + b, a - 2 * b));
        }
        return Files.writeString(dir.resolve("two-targets.csv"), sb);
    }

    @Test
    void aResumeWithoutItsTaskNamesTheCheckpointsTaskBeforeTheDataOptions() throws IOException {
        Path csv = twoTargetCsv();
        Path checkpoint = dir.resolve("reg.ckpt.safetensors");
        CliRun.of("train", "--backend", "cpu", "--task", "regression", "--csv", csv.toString(), "--targets", "2",
                "--layers", "2-8-2", "--epochs", "1", "--checkpoint", checkpoint.toString(), "--out",
                dir.resolve("reg.safetensors").toString()).ok();
        // --task left out is classification; the checkpoint's regression is what the user forgot, not --targets
        Path resumed = dir.resolve("resumed.safetensors");
        assertRefused(CliRun.of("train", "--backend", "cpu", "--resume", checkpoint.toString(), "--csv",
                csv.toString(), "--targets", "2", "--epochs", "2", "--out", resumed.toString()),
                checkpoint + " holds a regression model; this run trains for --task classification");
        assertEquals(false, Files.exists(resumed));
        CliRun.of("train", "--backend", "cpu", "--resume", checkpoint.toString(), "--task", "regression", "--csv",
                csv.toString(), "--targets", "2", "--epochs", "2", "--out", resumed.toString()).ok();
        assertEquals("regression", SavedModel.metadata(resumed).get(SavedModel.TASK_KEY));
    }

    @Test
    void evalAndPredictTakeTheTargetCountFromTheModel() throws IOException {
        Path csv = twoTargetCsv();
        Path model = dir.resolve("two.safetensors");
        CliRun train = CliRun.of("train", "--backend", "cpu", "--task", "regression", "--csv", csv.toString(),
                "--targets", "2", "--layers", "2-8-2", "--epochs", "2", "--out", model.toString()).ok();
        double rmse = train.field("summary:", "test_rmse");

        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString()).ok();
        assertEquals(rmse, eval.field("eval:", "test_rmse"), 5e-5, "the same 40 held-out rows, both targets scored");
        CliRun given = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString(),
                "--targets", "2").ok();
        assertEquals(eval.field("eval:", "test_rmse"), given.field("eval:", "test_rmse"));
        CliRun predict = CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--csv",
                csv.toString(), "--index", "0", "--json").ok();
        assertTrue(predict.out().matches("(?s)\\{.*\"values\":\\[[-0-9.eE]+,[-0-9.eE]+].*\"targets\":\\[[-0-9.eE]+,"
                + "[-0-9.eE]+].*\\}\\s*"), predict.out());
        for (String command : new String[] {"eval", "predict"}) {
            assertRefused(CliRun.of(command, "--backend", "cpu", "--model", model.toString(), "--csv",
                    csv.toString(), "--targets", "1"), "--targets 1 is not the number of targets " + model
                    + " was trained to predict, 2: leave it out or give 2");
        }
    }
}
