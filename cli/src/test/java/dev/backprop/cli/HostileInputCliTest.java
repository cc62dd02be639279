package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.DType;
import dev.backprop.backend.Probe;
import dev.backprop.data.DataFormatException;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFile;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.runtime.Backends;
import dev.backprop.tensor.Tensor;
import dev.backprop.testing.FileBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.backprop.cli.BackendsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What eval, predict and train do with hostile input: non-finite weights refused (or loaded when asked), a negative
 * batch norm variance refused always, a {@code --row} under the strict number grammar, metadata values quoted in an
 * error printed as one line without their control characters, and an {@link OutOfMemoryError} reported as one line
 * with its own exit code.
 */
class HostileInputCliTest {
    @TempDir
    Path dir;

    private Path model(float... weightsThenBias) throws IOException {
        Path p = dir.resolve("m.safetensors");
        Files.write(p, FileBytes.file(FileBytes.header(FileBytes.W, FileBytes.B), FileBytes.floats(weightsThenBias)));
        return p;
    }

    private static void oneLineError(BackendsCommandTest.Run r, int code, String... parts) {
        assertEquals(code, r.code(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        for (String part : parts) {
            assertTrue(r.err().contains(part), "'" + part + "' in " + r.err());
        }
    }

    @Test
    void nonFiniteWeightsAreRefusedUnlessAllowed() throws IOException {
        Path m = model(1, 2, Float.NaN, 4, 5, 6, 7, 8, 9);
        oneLineError(run("predict", "--model", m.toString(), "--backend", "cpu", "--row", "1,2"),
                Main.EXIT_ERROR, "tensor '0.weight' holds 1 non-finite value (the first, NaN, at [1, 0])",
                "--allow-non-finite");
        oneLineError(run("eval", "--model", m.toString(), "--backend", "cpu"), Main.EXIT_ERROR,
                "tensor '0.weight' holds 1 non-finite value");
        BackendsCommandTest.Run r = run("predict", "--model", m.toString(), "--backend", "cpu", "--row", "1,2",
                "--allow-non-finite");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("NaN"), r.out());
    }

    @Test
    void aNegativeRunningVarianceIsRefusedByEveryCommandEvenWithNonFiniteAllowed() throws IOException {
        Path m = dir.resolve("bn.safetensors");
        try (ReferenceBackend be = new ReferenceBackend();
             Sequential net = Sequential.builder(be, DType.FLOAT32).seed(1).dense(4, 3).batchNorm1d(3).build()) {
            Tensor var = net.buffers().get("1.running_var");
            be.upload(new float[] {1, -0.25f, 1}, 0, var.buffer(), var.offset(), 3);
            ModelFile.save(m, net);
        }
        String csv = ThreeClassCsv.write(dir).toString();
        String why = m + ": 1.running_var[1] is -0.25: a variance cannot be negative";
        oneLineError(run("predict", "--model", m.toString(), "--backend", "cpu", "--row", "1,2,3,4",
                "--allow-non-finite"), Main.EXIT_ERROR, why);
        oneLineError(run("eval", "--model", m.toString(), "--backend", "cpu", "--csv", csv, "--allow-non-finite"),
                Main.EXIT_ERROR, why);
        oneLineError(run("train", "--init", m.toString(), "--backend", "cpu", "--csv", csv, "--epochs", "1",
                "--out", dir.resolve("out.safetensors").toString()), Main.EXIT_ERROR, why);
        assertFalse(Files.exists(dir.resolve("out.safetensors")));
    }

    @Test
    void rowValuesFollowTheStrictGrammar() throws IOException {
        Path m = model(1, 2, 3, 4, 5, 6, 7, 8, 9);
        for (String row : List.of("NaN,1", "1,Infinity", "1e39,1", "5d,1", "0x1p3,1", "1,\u00002")) {
            oneLineError(run("predict", "--model", m.toString(), "--backend", "cpu", "--row", row),
                    Main.EXIT_ERROR, "--row column ");
        }
        BackendsCommandTest.Run r = run("predict", "--model", m.toString(), "--backend", "cpu", "--row",
                " 0.5, -1e-1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertFalse(r.out().contains("NaN"), r.out());
    }

    /** Fails unless {@code r} was refused with one printable line that shows {@code shown}. */
    private static void refusedWithOnePrintableLine(BackendsCommandTest.Run r, String shown) {
        oneLineError(r, Main.EXIT_ERROR, shown);
        assertTrue(r.err().chars().noneMatch(c -> c < 0x20 && c != '\n' || c == 0x7f), r.err());
        assertTrue(r.err().length() < 2 * DataFormatException.MAX_MESSAGE_CHARS, r.err().length() + " chars");
    }

    @Test
    void aMetadataValueQuotedInAnErrorCannotWriteToTheTerminal() throws IOException {
        Path m = dir.resolve("binary.safetensors");
        String hostile = "\u001b]2;owned\u0007\u001b[2J\nbackprop: all tests passed\n" + "x".repeat(1 << 20);
        try (ReferenceBackend be = new ReferenceBackend();
             Sequential net = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 1).build()) {
            SavedModel.save(m, net, Task.BINARY, null, Map.of("backprop.positive_class", hostile));
        }
        refusedWithOnePrintableLine(run("eval", "--model", m.toString(), "--backend", "cpu", "--csv",
                ThreeClassCsv.write(dir).toString()), "written with digits only: \\u001B]2;owned\\u0007\\u001B[2J");
    }

    @Test
    void aCheckpointsOptimizerQuotedInAnErrorCannotWriteToTheTerminal() throws IOException {
        Path ck = dir.resolve("ck.safetensors");
        String optimizer = "{\"type\":\"adam\\r\\u001b[2J\",\"hyperparameters\":{}}";
        Files.write(ck, FileBytes.file("{" + FileBytes.meta(Checkpoint.OPTIMIZER_KEY, optimizer,
                Checkpoint.PROGRESS_KEY, "{}") + "," + FileBytes.W + "," + FileBytes.B + "}",
                FileBytes.floats(1, 2, 3, 4, 5, 6, 7, 8, 9)));
        Path out = dir.resolve("out.safetensors");
        refusedWithOnePrintableLine(run("train", "--resume", ck.toString(), "--optimizer", "sgd", "--backend", "cpu",
                "--csv", ThreeClassCsv.write(dir).toString(), "--epochs", "1", "--out", out.toString()),
                "was trained with --optimizer adam\\u000D\\u001B[2J;");
        assertFalse(Files.exists(out));
    }

    @Test
    void outOfMemoryIsOneLineWithItsOwnExitCode() {
        Failing failing = new Failing(() -> new OutOfMemoryError("Java heap space"));
        Main main = new Main(Backends.withProviders(List.of(failing)));
        oneLineError(run(main, "backends", "--backend", "failing"), Main.EXIT_OUT_OF_MEMORY,
                "backprop: out of memory (Java heap space) with a Java heap of at most ", "-Xmx");
        // A worker thread's error reaches the command wrapped; the handler finds it in the causes.
        OutOfMemoryError oom = new OutOfMemoryError("Java heap space");
        assertEquals(oom, Main.outOfMemory(new IllegalStateException("worker", new RuntimeException(oom))));
        assertEquals(null, Main.outOfMemory(new IllegalStateException("worker")));
    }

    /** Available, then throws what it is given when asked to create a backend. */
    private record Failing(Supplier<Throwable> failure) implements BackendProvider {
        @Override
        public String name() {
            return "failing";
        }

        @Override
        public Probe probe() {
            return Probe.available("fails on create", List.of(), Probe.RANK_EMULATED);
        }

        @Override
        public Backend create(BackendOptions options) {
            Throwable t = failure.get();
            if (t instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) t;
        }
    }

    @Test
    void aDirectoryOrMissingFileIsNamedByEveryCommandThatReadsOne() throws IOException {
        String d = dir.toString();
        String csv = ThreeClassCsv.write(dir).toString();
        String isDir = d + ": is a directory, not a file";
        oneLineError(run("eval", "--model", d, "--backend", "cpu"), Main.EXIT_ERROR, isDir);
        oneLineError(run("predict", "--model", d, "--backend", "cpu", "--row", "1,2"), Main.EXIT_ERROR, isDir);
        oneLineError(run("train", "--csv", d, "--backend", "cpu", "--epochs", "1", "--out",
                dir.resolve("a.safetensors").toString()), Main.EXIT_ERROR, isDir);
        oneLineError(run("train", "--init", d, "--csv", csv, "--backend", "cpu", "--epochs", "1", "--out",
                dir.resolve("b.safetensors").toString()), Main.EXIT_ERROR, isDir);
        oneLineError(run("train", "--resume", d, "--csv", csv, "--backend", "cpu", "--epochs", "1", "--out",
                dir.resolve("c.safetensors").toString()), Main.EXIT_ERROR, isDir);
        Path gone = dir.resolve("gone.onnx");
        // the file is checked before the backend is chosen: the unknown backend is not what is reported
        oneLineError(run("eval", "--model", gone.toString(), "--backend", "tpu"), Main.EXIT_ERROR,
                gone + ": no such file or directory");
        assertFalse(Files.exists(dir.resolve("a.safetensors")) || Files.exists(dir.resolve("b.safetensors"))
                || Files.exists(dir.resolve("c.safetensors")));
    }

    /** Writes a gray PNG of {@code h x w} pixels of value {@code v} at {@code file}, making its folders. */
    private static void png(Path file, int h, int w, int v) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, v);
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    @Test
    void trainingDataOfOneClassIsRefusedBeforeAnythingIsWritten() throws IOException {
        // PyTorch's cross_entropy over one logit is 0 whatever the weights (log_softmax of one value is 0): such a run
        // would save a model that learned nothing and report test_acc 1.0.
        StringBuilder named = new StringBuilder("a,b,label\n");
        StringBuilder zeros = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            named.append(i).append(',').append(-i).append(",only\n");
            zeros.append(i).append(',').append(-i).append(",0\n");
        }
        Path namedCsv = Files.writeString(dir.resolve("named.csv"), named);
        Path zerosCsv = Files.writeString(dir.resolve("zeros.csv"), zeros);
        Path images = dir.resolve("images");
        for (int i = 0; i < 10; i++) {
            png(images.resolve("cat").resolve(i + ".png"), 4, 4, 20 * i);
        }
        Path out = dir.resolve("out.safetensors");
        String why = "task classification needs at least 2 classes to train, but the data has 1";
        oneLineError(run("train", "--csv", namedCsv.toString(), "--backend", "cpu", "--epochs", "1", "--out",
                out.toString()), Main.EXIT_ERROR, why + " ('only'); give examples of another class");
        oneLineError(run("train", "--csv", zerosCsv.toString(), "--backend", "cpu", "--epochs", "1", "--out",
                out.toString()), Main.EXIT_ERROR, why + "; give examples of another class");
        oneLineError(run("train", "--images", images.toString(), "--backend", "cpu", "--epochs", "1", "--out",
                out.toString()), Main.EXIT_ERROR, why + " ('cat')");
        assertFalse(Files.exists(out));
        // labels 0 and 1 from a file whose rows all say 1 are two classes, as PyTorch counts max + 1: trained
        Path ones = Files.writeString(dir.resolve("ones.csv"), zeros.toString().replace(",0\n", ",1\n"));
        assertEquals(0, run("train", "--csv", ones.toString(), "--backend", "cpu", "--epochs", "1", "--out",
                out.toString(), "--no-progress").code());
        // scoring a two-class model on one class's examples is a fair question, not a training set of one class
        // (as --test-csv: the model's split of ones.csv is no split of zeros.csv's other labels)
        BackendsCommandTest.Run eval = run("eval", "--model", out.toString(), "--test-csv", zerosCsv.toString(),
                "--backend", "cpu");
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("task=classification examples=20 "), eval.out());
    }

    @Test
    void imagesOfTwoSizesAreRefusedNamingTheOptionThatResizesThem() throws IOException {
        Path images = dir.resolve("images");
        for (int i = 0; i < 4; i++) {
            png(images.resolve("cat").resolve(i + ".png"), 8, 8, 10 * i);
            png(images.resolve("dog").resolve(i + ".png"), 8, 8, 200 - 10 * i);
        }
        Path small = images.resolve("dog").resolve("9.png");
        png(small, 1, 1, 5);
        Path out = dir.resolve("out.safetensors");
        oneLineError(run("train", "--images", images.toString(), "--backend", "cpu", "--epochs", "1", "--out",
                out.toString()), Main.EXIT_ERROR, small + ": the image is 1x1 (height x width), but ", "--resize");
        assertFalse(Files.exists(out));
    }

    @Test
    void aBatchSizePastTheDataSetTrainsAsOneBatchOfItAll() throws IOException {
        // As a PyTorch DataLoader: batch_size past len(dataset) gives one batch of every example, so
        // --batch-size 2147483647 trains as --batch-size 240 (the 300 rows less the 20% held out), allocating no more.
        Path csv = ThreeClassCsv.write(dir);
        Path whole = dir.resolve("whole.safetensors");
        Path huge = dir.resolve("huge.safetensors");
        for (String[] run : List.of(new String[] {"240", whole.toString()},
                new String[] {String.valueOf(Integer.MAX_VALUE), huge.toString()})) {
            BackendsCommandTest.Run r = run("train", "--csv", csv.toString(), "--backend", "cpu", "--epochs", "2",
                    "--batch-size", run[0], "--out", run[1], "--no-progress");
            assertEquals(0, r.code(), r.out() + r.err());
        }
        assertArrayEquals(CliRun.tensorBytes(whole), CliRun.tensorBytes(huge));
    }

    /**
     * PyTorch's {@code SGD(params, lr)} is {@code SGD(params, lr, momentum=0)}: {@code --momentum 0} with sgd (named
     * or the default) is plain SGD, and writes the very file a run without it writes.
     */
    @Test
    void momentumZeroWithSgdIsPlainSgd() throws IOException {
        String csv = ThreeClassCsv.write(dir).toString();
        Path plain = dir.resolve("plain.safetensors");
        assertEquals(0, run("train", "--csv", csv, "--backend", "cpu", "--epochs", "2", "--out", plain.toString())
                .code());
        String[][] variants = {{"--optimizer", "sgd", "--momentum", "0"}, {"--momentum", "0"},
            {"--momentum", "0.0"}, {"--momentum", "-0"}};
        for (int i = 0; i < variants.length; i++) {
            Path out = dir.resolve("zero" + i + ".safetensors");
            List<String> args = new java.util.ArrayList<>(List.of("train", "--csv", csv, "--backend", "cpu",
                    "--epochs", "2", "--out", out.toString()));
            args.addAll(List.of(variants[i]));
            BackendsCommandTest.Run r = run(args.toArray(new String[0]));
            assertEquals(0, r.code(), r.out() + r.err());
            assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(out), String.join(" ", variants[i]));
        }
    }

    @Test
    void aMomentumThatNoOptimizerReadsIsRefusedWithItsValue() throws IOException {
        String csv = ThreeClassCsv.write(dir).toString();
        Path out = dir.resolve("out.safetensors");
        for (String[] c : new String[][] {{"-1", "sgd"}, {"NaN", "sgd"}, {"0.5", "sgd"}, {"0.5", "adam"},
            {"0.9", "adamw"}, {"0", "adam"}}) {
            oneLineError(run("train", "--csv", csv, "--backend", "cpu", "--epochs", "1", "--optimizer", c[1],
                    "--momentum", c[0], "--out", out.toString()), Main.EXIT_ERROR, "--momentum " + c[0]
                    + " applies only to --optimizer momentum, and the optimizer is " + c[1]);
        }
        // the optimizer that reads it refuses what PyTorch's SGD refuses (momentum < 0), and a non-finite value
        for (String mu : List.of("-1", "NaN", "Infinity")) {
            oneLineError(run("train", "--csv", csv, "--backend", "cpu", "--epochs", "1", "--optimizer", "momentum",
                    "--momentum", mu, "--out", out.toString()), Main.EXIT_ERROR, "momentum must be finite and >= 0");
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void theInitialWeightsAreNotReplacedByTheModelTrainedFromThem() throws IOException {
        String csv = ThreeClassCsv.write(dir).toString();
        Path init = dir.resolve("init.safetensors");
        assertEquals(0, run("train", "--csv", csv, "--backend", "cpu", "--epochs", "1", "--layers", "4-8-3",
                "--out", init.toString(), "--no-progress").code());
        byte[] before = Files.readAllBytes(init);
        oneLineError(run("train", "--csv", csv, "--backend", "cpu", "--epochs", "1", "--layers", "4-8-3", "--init",
                init.toString(), "--out", dir.resolve(".").resolve("init.safetensors").toString(), "--overwrite"),
                Main.EXIT_ERROR, "and --init " + init + " are the same file: the run reads it and would replace it");
        assertArrayEquals(before, Files.readAllBytes(init));
    }
}
