package dev.backprop.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The files {@code train} and {@code export} write: checked before training (same file twice, a file that is not
 * theirs, an existing model without {@code --overwrite}, a missing directory), weights kept when a checkpoint
 * cannot be written or the final save never happened, and the modes they get.
 */
class OutputFilesTest {
    @TempDir
    Path dir;
    private Path csv;

    @BeforeEach
    void writeCsv() throws IOException {
        csv = ThreeClassCsv.write(dir);
    }

    private String[] args(String... more) {
        Map<String, String> opts = new LinkedHashMap<>(Map.of());
        opts.put("--backend", "cpu");
        opts.put("--csv", csv.toString());
        opts.put("--layers", "4-8-3");
        opts.put("--batch-size", "16");
        opts.put("--epochs", "3");
        opts.put("--out", dir.resolve("default.safetensors").toString());
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < more.length; i++) {
            if (more[i].equals("--overwrite")) {
                flags.add(more[i]);
            } else {
                opts.put(more[i], more[++i]);
            }
        }
        List<String> a = new ArrayList<>(List.of("train"));
        opts.forEach((k, v) -> a.addAll(List.of(k, v)));
        a.addAll(flags);
        return a.toArray(String[]::new);
    }

    private CliRun train(String... more) {
        return CliRun.of(args(more));
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    /** Fails unless the run was refused with exit 1, before any training, with {@code message} in its error. */
    private static void refusedBeforeTraining(CliRun r, String message) {
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals("backprop: " + message, r.err().strip());
        assertFalse(r.out().contains("epoch "), "refused before training:\n" + r.out());
    }

    @Test
    void theCheckpointAndTheModelCannotBeTheSameFileHoweverSpelled() throws IOException {
        Files.createDirectories(dir.resolve("sub"));
        Files.createSymbolicLink(dir.resolve("link"), dir.resolve("sub"));
        String ck = p("sub/ck.safetensors");
        for (String out : List.of(ck, p("sub/../sub/./ck.safetensors"), p("link/ck.safetensors"))) {
            refusedBeforeTraining(train("--checkpoint", ck, "--out", out), "--out " + out + " and --checkpoint "
                    + ck + " are the same file: both would be written there; give --checkpoint another name");
        }
        train("--epochs", "1", "--checkpoint", ck, "--out", p("a.safetensors")).ok();
        refusedBeforeTraining(train("--resume", ck, "--out", p("link/ck.safetensors")), "--out "
                + p("link/ck.safetensors") + " and --resume " + ck + " are the same file: the run reads it and would "
                + "replace it; give --out another name");
        train("--resume", ck, "--checkpoint", p("link/ck.safetensors"), "--out", p("b.safetensors")).ok();
    }

    @Test
    void aFileThatIsNotAModelIsNeverReplacedAndAModelOnlyWithOverwrite() throws IOException {
        Path notes = dir.resolve("notes.txt");
        Files.writeString(notes, "my notes");
        for (String option : List.of("--out", "--checkpoint")) {
            refusedBeforeTraining(train(option, notes.toString(), "--overwrite"), option + " " + notes
                    + " exists and is not a Backprop model or checkpoint: not replacing it; give another name");
        }
        Path jpeg = dir.resolve("photo.png");
        Files.write(jpeg, new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0});
        refusedBeforeTraining(train("--plot", jpeg.toString(), "--out", p("m.safetensors")), "--plot " + jpeg
                + " exists and is not a PNG image: not replacing it; give another name");
        assertEquals("my notes", Files.readString(notes));

        String model = p("m.safetensors");
        train("--epochs", "1", "--out", model, "--plot", p("m.png")).ok();
        byte[] first = Files.readAllBytes(dir.resolve("m.safetensors"));
        refusedBeforeTraining(train("--out", model), "--out " + model + " exists (a Backprop model or "
                + "checkpoint); give --overwrite to replace it, or another name");
        refusedBeforeTraining(train("--out", p("n.safetensors"), "--plot", p("m.png")), "--plot " + p("m.png")
                + " exists (a PNG image); give --overwrite to replace it, or another name");
        assertArrayEquals(first, Files.readAllBytes(dir.resolve("m.safetensors")));
        train("--out", model, "--plot", p("m.png"), "--overwrite").ok();
        assertFalse(java.util.Arrays.equals(first, Files.readAllBytes(dir.resolve("m.safetensors"))));
    }

    @Test
    void missingDirectoriesAreRefusedNotCreatedAndADirectoryIsNoFileAndAMissingInputIsNamed() {
        for (String option : List.of("--out", "--checkpoint", "--plot")) {
            String file = p("no/such/f.png");
            refusedBeforeTraining(train(option, file), option + " " + file + ": the directory " + p("no/such")
                    + " does not exist (it is not created: make it first)");
        }
        assertFalse(Files.exists(dir.resolve("no")));
        if (Files.isDirectory(Path.of("/proc/self"))) {
            refusedBeforeTraining(train("--out", "/proc/m.safetensors"), "--out /proc/m.safetensors: cannot create a "
                    + "file in /proc: no such file or directory");
        }
        refusedBeforeTraining(train("--out", dir.toString()), "--out " + dir + ": is a directory; give a file name");
        refusedBeforeTraining(train("--out", p("three.csv/m.safetensors")), "--out " + p("three.csv/m.safetensors")
                + ": " + csv + " is not a directory");
        CliRun missing = train("--init", p("nothere.safetensors"), "--out", p("m.safetensors"));
        assertEquals("backprop: " + p("nothere.safetensors") + ": no such file or directory", missing.err().strip());
        missing = CliRun.of("eval", "--backend", "cpu", "--model", p("nothere.safetensors"));
        assertEquals("backprop: " + p("nothere.safetensors") + ": no such file or directory", missing.err().strip());
    }

    @Test
    void writtenFilesGetTheUmasksModeAndAReplacedOneKeepsItsOwn() throws IOException {
        Path fresh = Files.createFile(dir.resolve("fresh"));
        train("--epochs", "1", "--out", p("m.safetensors"), "--checkpoint", p("ck.safetensors"), "--plot",
                p("m.png")).ok();
        for (String f : List.of("m.safetensors", "ck.safetensors", "m.png")) {
            assertEquals(Files.getPosixFilePermissions(fresh), Files.getPosixFilePermissions(dir.resolve(f)), f);
        }
        Files.setPosixFilePermissions(dir.resolve("m.safetensors"), PosixFilePermissions.fromString("rw-r-----"));
        train("--epochs", "1", "--out", p("m.safetensors"), "--overwrite").ok();
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dir.resolve("m.safetensors"))));
    }

    /** Runs train with a directory put in the way of each of {@code blocked} once epoch 1's line is printed. */
    private CliRun trainBlockingAfterEpoch1(List<Path> blocked, String... more) {
        StringWriter err = new StringWriter();
        Writer out = new Writer() {
            private final StringBuilder seen = new StringBuilder();
            private boolean done;

            @Override
            public void write(char[] c, int off, int len) {
                seen.append(c, off, len);
                if (!done && Pattern.compile("(?m)^    1 +\\d").matcher(seen).find()) {
                    done = true;
                    for (Path b : blocked) {
                        try {
                            Files.deleteIfExists(b);
                            Files.createDirectories(b.resolve("in-the-way"));
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }

            @Override
            public String toString() {
                return seen.toString();
            }
        };
        int code = Main.execute(new PrintWriter(out), new PrintWriter(err), args(more));
        return new CliRun(code, out.toString(), err.toString());
    }

    @Test
    void aCheckpointThatCannotBeWrittenStopsTrainingAndTheWeightsAreSaved() throws IOException {
        Path ck = dir.resolve("ck.safetensors");
        Path out = dir.resolve("m.safetensors");
        CliRun r = trainBlockingAfterEpoch1(List.of(ck), "--checkpoint", ck.toString(), "--out", out.toString());
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals("backprop: --checkpoint " + ck + ": cannot write it: is a directory; give a file name; training "
                + "stopped after epoch 1, and its weights were saved to " + out, r.err().strip());
        train("--epochs", "1", "--out", p("one.safetensors")).ok();
        assertEquals(eval(dir.resolve("one.safetensors")), eval(out), "the weights after epoch 1");

        Path ck2 = dir.resolve("ck2.safetensors");
        Path out2 = dir.resolve("m2.safetensors");
        CliRun both = trainBlockingAfterEpoch1(List.of(ck2, out2), "--checkpoint", ck2.toString(), "--out",
                out2.toString());
        Path rescued = Path.of(System.getProperty("java.io.tmpdir"), "backprop-weights-"
                + ProcessHandle.current().pid() + "-epoch-1.safetensors");
        try {
            assertEquals("backprop: --checkpoint " + ck2 + ": cannot write it: is a directory; give a file name; "
                    + "training stopped after epoch 1, and its weights could not be saved to --out either (" + out2
                    + ": cannot write it: is a directory; give a file name), so they were saved to " + rescued,
                    both.err().strip());
            assertEquals(eval(dir.resolve("one.safetensors")), eval(rescued));
        } finally {
            Files.deleteIfExists(rescued);
        }
    }

    @Test
    void aFinalSaveThatFailsPutsTheWeightsInTheTemporaryDirectory() throws IOException {
        Path out = dir.resolve("m.safetensors");
        CliRun r = trainBlockingAfterEpoch1(List.of(out), "--epochs", "1", "--out", out.toString());
        Path rescued = Path.of(System.getProperty("java.io.tmpdir"), "backprop-weights-"
                + ProcessHandle.current().pid() + "-epoch-1.safetensors");
        try {
            assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
            assertEquals("backprop: --out " + out + ": cannot write it: is a directory; give a file name; the weights "
                    + "after epoch 1 were saved to " + rescued, r.err().strip());
            train("--epochs", "1", "--out", p("one.safetensors")).ok();
            assertEquals(eval(dir.resolve("one.safetensors")), eval(rescued));
        } finally {
            Files.deleteIfExists(rescued);
        }
    }

    private String eval(Path model) {
        String out = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--csv", csv.toString()).ok()
                .out();
        return out.lines().filter(l -> l.startsWith("eval:")).findFirst().orElseThrow().replace(model.toString(), "M");
    }

    @Test
    void aCheckpointThatHasAllTheEpochsGivesItsModel() throws IOException {
        Path whole = dir.resolve("whole.safetensors");
        String ck = p("ck.safetensors");
        train("--checkpoint", ck, "--out", whole.toString()).ok();
        CliRun r = train("--resume", ck, "--out", p("from-ck.safetensors")).ok();
        assertTrue(r.out().contains("saved:   " + p("from-ck.safetensors") + " (the model of " + ck + ", which had "
                + "finished epoch 3 of 3: nothing was left to train)"), r.out());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(dir.resolve("from-ck.safetensors")),
                "what the killed run would have saved");
        refusedBeforeTrainingButAfterLoading(train("--resume", ck, "--epochs", "2", "--out", p("x.safetensors")),
                ck + ": the checkpoint already has 3 epochs, more than --epochs 2 (--epochs counts all epochs): ask "
                        + "for more than 3 to train on, or --epochs 3 to save its model to --out; eval, predict and "
                        + "export also read the checkpoint as it is");
        assertEquals(eval(whole), eval(Path.of(ck)));
    }

    private static void refusedBeforeTrainingButAfterLoading(CliRun r, String message) {
        assertEquals(Main.EXIT_ERROR, r.code(), r.out() + r.err());
        assertEquals("backprop: " + message, r.err().strip());
    }

    @Test
    void exportReplacesOnlyItsOwnOnnxFilesAndOnlyWithOverwrite() throws IOException {
        String model = p("m.safetensors");
        train("--epochs", "1", "--out", model).ok();
        Path notes = dir.resolve("notes.onnx");
        Files.writeString(notes, "not a model");
        CliRun r = CliRun.of("export", "--backend", "cpu", "--model", model, "--onnx", notes.toString(), "--overwrite");
        assertEquals("backprop: --onnx " + notes + " exists and is not an ONNX model exported by Backprop: not "
                + "replacing it; give another name", r.err().strip());
        String onnx = p("m.onnx");
        CliRun.of("export", "--backend", "cpu", "--model", model, "--onnx", onnx).ok();
        assertEquals("backprop: --onnx " + onnx + " exists (an ONNX model exported by Backprop); give --overwrite to "
                + "replace it, or another name", CliRun.of("export", "--backend", "cpu", "--model", model, "--onnx",
                onnx).err().strip());
        CliRun.of("export", "--backend", "cpu", "--model", model, "--onnx", onnx, "--overwrite").ok();
        assertEquals("backprop: --onnx " + model + " and --model " + model + " are the same file: the run reads it "
                + "and would replace it; give --onnx another name",
                CliRun.of("export", "--backend", "cpu", "--model", model, "--onnx", model, "--overwrite").err()
                        .strip());
    }

    @Test
    void sparkRunsCheckTheirModelAndCheckpointDirectoryBeforeSparkStarts() throws IOException {
        Path notes = dir.resolve("notes.txt");
        Files.writeString(notes, "my notes");
        CliRun r = CliRun.of("train", "--spark", "local[2]", "--csv", csv.toString(), "--out", notes.toString());
        assertEquals("backprop: --out " + notes + " exists and is not a Backprop model or checkpoint: not replacing "
                + "it; give another name", r.err().strip());
        String ckDir = p("no/such/checkpoints");
        r = CliRun.of("train", "--spark", "local[2]", "--csv", csv.toString(), "--out", p("m.safetensors"),
                "--checkpoint-dir", ckDir);
        assertEquals("backprop: --checkpoint-dir " + ckDir + ": the directory " + p("no/such") + " does not exist (it "
                + "is not created: make it first)", r.err().strip());
        r = CliRun.of("train", "--spark", "local[2]", "--csv", csv.toString(), "--out", p("m.safetensors"),
                "--checkpoint-dir", csv.toString());
        assertEquals("backprop: --checkpoint-dir " + csv + ": exists and is not a directory", r.err().strip());
        assertFalse(Files.exists(dir.resolve("no")));
    }
}
