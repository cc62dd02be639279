package dev.backprop.cli;

import dev.backprop.io.SafeTensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --dropout P}: PyTorch's {@code nn.Dropout(P)} after each hidden activation of the MLP, recorded in the
 * model file and the checkpoint (its Philox streams included), so eval, predict, export and {@code --resume} need
 * nothing more; a plain PyTorch {@code state_dict} of such a network needs {@code --dropout} for its shifted names.
 */
class DropoutCommandsTest {
    /** A small MLP on a Fashion-MNIST subset, quick enough for CI. */
    private static final Map<String, String> QUICK = quick();

    @TempDir
    Path dir;

    private static Map<String, String> quick() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String[] kv : new String[][] {{"--backend", "cpu"}, {"--layers", "784-32-16-10"}, {"--dropout", "0.3"},
                {"--train-limit", "512"}, {"--test-limit", "200"}, {"--batch-size", "64"}, {"--epochs", "2"}}) {
            m.put(kv[0], kv[1]);
        }
        return m;
    }

    @Test
    void aDropoutModelEvaluatesPredictsExportsAndResumesExactly() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("dropout.safetensors");
        CliRun run = CliRun.train(QUICK, "--out", model.toString(), "--no-progress").ok();
        assertTrue(run.out().contains("model:   dense(784->32) relu dropout(0.3) dense(32->16) relu dropout(0.3) "
                + "dense(16->10), 25818 parameters"), run.out());
        try (SafeTensorsFile f = SafeTensorsFile.open(model)) {
            assertEquals(List.of("0.bias", "0.weight", "3.bias", "3.weight", "6.bias", "6.weight"),
                    f.shapes().keySet().stream().sorted().toList(), "nn.Sequential's indices with Dropout at 2, 5");
        }
        Path plainModel = dir.resolve("plain.safetensors");
        CliRun.train(QUICK, "--dropout", "0", "--out", plainModel.toString(), "--no-progress").ok();
        assertFalse(java.util.Arrays.equals(CliRun.tensorBytes(plainModel), CliRun.tensorBytes(model)),
                "the masks change what is learned");
        Path noOption = dir.resolve("no-option.safetensors");
        Map<String, String> without = new LinkedHashMap<>(QUICK);
        without.remove("--dropout");
        CliRun.train(without, "--out", noOption.toString(), "--no-progress").ok();
        assertArrayEquals(Files.readAllBytes(plainModel), Files.readAllBytes(noOption), "--dropout 0 is the default");
        Path negativeZero = dir.resolve("negative-zero.safetensors");
        CliRun.train(QUICK, "--dropout", "-0", "--out", negativeZero.toString(), "--no-progress").ok();
        assertArrayEquals(Files.readAllBytes(noOption), Files.readAllBytes(negativeZero), "--dropout -0 is 0");

        servedAsTrained(run, model, "200");

        Path ck = dir.resolve("ck.safetensors");
        CliRun.train(QUICK, "--epochs", "1", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString(), "--no-progress").ok();
        Path resumed = dir.resolve("resumed.safetensors");
        Map<String, String> settled = new LinkedHashMap<>(QUICK);
        settled.remove("--dropout");
        settled.remove("--layers");
        CliRun.train(settled, "--resume", ck.toString(), "--out", resumed.toString(), "--no-progress").ok();
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(resumed), "a resumed run takes the "
                + "checkpoint's dropout and mask streams and ends in the uninterrupted run's bytes");
        Path named = dir.resolve("named.safetensors");
        CliRun.train(QUICK, "--resume", ck.toString(), "--out", named.toString(), "--no-progress").ok();
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(named), "--dropout naming the checkpoint's");
        CliRun other = CliRun.train(QUICK, "--dropout", "0.5", "--resume", ck.toString(), "--out",
                dir.resolve("other.safetensors").toString());
        assertEquals(Main.EXIT_ERROR, other.code());
        assertTrue(other.err().contains("--layers 784-32-16-10 --dropout 0.5 differs from the model in " + ck),
                other.err());
    }

    @Test
    void initFromADropoutModelDrawsTheMasksOfItsOwnSeed() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("dropout.safetensors");
        CliRun.train(QUICK, "--epochs", "1", "--out", model.toString(), "--no-progress").ok();
        // A fresh --seed 5 network and one from --init under --seed 5 draw from the same streams, as a PyTorch user
        // calling torch.manual_seed(5) after load_state_dict gets the masks of seed 5 whatever the file's history.
        Path fresh = dir.resolve("fresh-ck.safetensors");
        CliRun.train(QUICK, "--epochs", "1", "--seed", "5", "--checkpoint", fresh.toString(), "--out",
                dir.resolve("fresh.safetensors").toString(), "--no-progress").ok();
        Map<String, String> fromFile = new LinkedHashMap<>(QUICK);
        fromFile.remove("--dropout");
        fromFile.remove("--layers");
        Path init = dir.resolve("init-ck.safetensors");
        CliRun.train(fromFile, "--init", model.toString(), "--epochs", "1", "--seed", "5", "--checkpoint",
                init.toString(), "--out", dir.resolve("init.safetensors").toString(), "--no-progress").ok();
        String freshState = trainingState(fresh);
        assertTrue(freshState.contains("\"2.dropout_seed\"") && freshState.contains("\"5.dropout_seed\""),
                freshState);
        assertEquals(freshState, trainingState(init));
        Path other = dir.resolve("other-ck.safetensors");
        CliRun.train(fromFile, "--init", model.toString(), "--epochs", "1", "--seed", "6", "--checkpoint",
                other.toString(), "--out", dir.resolve("other.safetensors").toString(), "--no-progress").ok();
        assertFalse(freshState.equals(trainingState(other)), "another --seed, other streams");
    }

    /** The dropout streams a checkpoint records. */
    private static String trainingState(Path checkpoint) throws IOException {
        try (SafeTensorsFile f = SafeTensorsFile.open(checkpoint)) {
            return f.metadata().get(dev.backprop.io.Checkpoint.TRAINING_STATE_KEY);
        }
    }

    @Test
    void aPlainStateDictWithDropoutNeedsDropoutForItsNames() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("dropout.safetensors");
        CliRun.train(QUICK, "--epochs", "1", "--out", model.toString(), "--no-progress").ok();
        Path plain = dir.resolve("plain.safetensors");
        CliRun.writePlain(model, plain);
        CliRun fromFile = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", "200")
                .ok();
        // Any probability shifts the names alike; evaluation does not use it.
        CliRun named = CliRun.of("eval", "--backend", "cpu", "--model", plain.toString(), "--layers", "784-32-16-10",
                "--dropout", "0.5", "--test-limit", "200").ok();
        assertEquals(fromFile.field("eval:", "test_acc"), named.field("eval:", "test_acc"));
        CliRun unnamed = CliRun.of("eval", "--backend", "cpu", "--model", plain.toString(), "--layers",
                "784-32-16-10", "--test-limit", "200");
        assertEquals(Main.EXIT_ERROR, unnamed.code());
        assertTrue(unnamed.err().contains("'2.weight'"), unnamed.err());
        CliRun recorded = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--dropout", "0.5");
        assertEquals(Main.EXIT_ERROR, recorded.code());
        assertTrue(recorded.err().contains("records its network (dense(784->32) relu dropout(0.3)"), recorded.err());
        assertTrue(recorded.err().contains("leave --arch, --layers, --activation and --dropout out"), recorded.err());
    }

    @Test
    void probabilitiesOutsideZeroToOneAndTheCnnAreRefusedInOneLine() {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("1", "--dropout 1: dropout probability must be in [0, 1), got 1.0");
        refused.put("-0.1", "--dropout -0.1: dropout probability must be in [0, 1), got -0.1");
        refused.put("half", "--dropout: 'half' is not a probability, e.g. 0.2");
        refused.put("0.1234567", "--dropout 0.1234567: dropout probability 0.1234567 is not a whole number of "
                + "millionths");
        refused.forEach((p, message) -> {
            CliRun r = CliRun.of("train", "--backend", "cpu", "--dropout", p, "--out", "unused.safetensors");
            assertEquals(Main.EXIT_ERROR, r.code(), p);
            assertTrue(r.err().contains(message), r.err());
        });
        CliRun cnn = CliRun.of("train", "--backend", "cpu", "--arch", "cnn", "--dropout", "1", "--out",
                "unused.safetensors");
        assertEquals(Main.EXIT_ERROR, cnn.code());
        assertTrue(cnn.err().contains("--dropout 1: dropout probability must be in [0, 1), got 1.0"), cnn.err());
    }

    /**
     * {@code --arch cnn --dropout P}: {@code Dropout(P)} before the last layer, as {@code CnnExample} and PyTorch's
     * {@code nn.Sequential(..., Linear(3136, 128), ReLU(), Dropout(P), Linear(128, 10))} have it, so the last layer's
     * names are {@code 10.*}; P = 0 is the CNN without the option, byte for byte.
     */
    @Test
    void theCnnTakesDropoutBeforeItsLastLayer() throws IOException {
        CliRun.assumeFashionMnist();
        Map<String, String> cnn = new LinkedHashMap<>(QUICK);
        cnn.remove("--layers");
        cnn.put("--arch", "cnn");
        cnn.put("--dropout", "0.25");
        cnn.put("--train-limit", "128");
        cnn.put("--test-limit", "100");
        Path model = dir.resolve("cnn.safetensors");
        CliRun run = CliRun.train(cnn, "--out", model.toString(), "--no-progress").ok();
        assertTrue(run.out().contains("dense(3136->128) relu dropout(0.25) dense(128->10), 421642 parameters"),
                run.out());
        try (SafeTensorsFile f = SafeTensorsFile.open(model)) {
            assertEquals(List.of("0.bias", "0.weight", "10.bias", "10.weight", "3.bias", "3.weight", "7.bias",
                    "7.weight"), f.shapes().keySet().stream().sorted().toList());
        }
        Path zero = dir.resolve("zero.safetensors");
        CliRun.train(cnn, "--dropout", "0", "--out", zero.toString(), "--no-progress").ok();
        Map<String, String> without = new LinkedHashMap<>(cnn);
        without.remove("--dropout");
        Path noOption = dir.resolve("no-option.safetensors");
        CliRun.train(without, "--out", noOption.toString(), "--no-progress").ok();
        assertArrayEquals(Files.readAllBytes(noOption), Files.readAllBytes(zero), "--dropout 0 is today's CNN");
        assertFalse(java.util.Arrays.equals(CliRun.tensorBytes(zero), CliRun.tensorBytes(model)));

        CliRun eval = servedAsTrained(run, model, "100");
        Path plain = dir.resolve("plain.safetensors");
        CliRun.writePlain(model, plain);
        CliRun named = CliRun.of("eval", "--backend", "cpu", "--model", plain.toString(), "--arch", "cnn",
                "--dropout", "0.5", "--test-limit", "100").ok();
        assertEquals(eval.field("eval:", "test_loss"), named.field("eval:", "test_loss"));

        Path ck = dir.resolve("ck.safetensors");
        CliRun.train(cnn, "--epochs", "1", "--checkpoint", ck.toString(), "--out",
                dir.resolve("half.safetensors").toString(), "--no-progress").ok();
        Map<String, String> settled = new LinkedHashMap<>(cnn);
        settled.remove("--dropout");
        settled.remove("--arch");
        Path resumed = dir.resolve("resumed.safetensors");
        CliRun.train(settled, "--resume", ck.toString(), "--out", resumed.toString(), "--no-progress").ok();
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(resumed), "the checkpoint's mask stream");
    }

    /**
     * {@code --spark} takes {@code --dropout}: the engine keys every rank's streams by its rank
     * ({@code ImageRanksTest} checks the per-rank masks), the run repeats, and the model file records the dropout.
     */
    @Test
    void sparkRanksTrainWithDropoutReproducibly() throws IOException {
        CliRun.assumeFashionMnist();
        Path model = dir.resolve("spark-dropout.safetensors");
        String[] args = {"train", "--spark", "local[2]", "--train-limit", "512", "--layers", "784-32-10", "--dropout",
                "0.3", "--batch-size", "64", "--epochs", "1", "--out", model.toString(), "--overwrite"};
        CliRun.of(args).ok();
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", "200").ok();
        assertTrue(eval.out().contains("dense(784->32) relu dropout(0.3) dense(32->10)"), eval.out());
        byte[] once = CliRun.tensorBytes(model);
        CliRun.of(args).ok();
        assertArrayEquals(once, CliRun.tensorBytes(model), "the same run twice: the same masks");
        args[8] = "0";
        CliRun.of(args).ok();
        assertFalse(java.util.Arrays.equals(once, CliRun.tensorBytes(model)), "the masks change what is learned");
    }

    /**
     * A dropout model served with nothing named: in evaluation mode dropout is the identity, so eval repeats train's
     * test_acc, predict answers, and the exported ONNX file scores the same.
     *
     * @return the eval run of the model file
     */
    private CliRun servedAsTrained(CliRun run, Path model, String testLimit) {
        CliRun eval = CliRun.of("eval", "--backend", "cpu", "--model", model.toString(), "--test-limit", testLimit)
                .ok();
        assertEquals(run.field("summary:", "test_acc"), eval.field("eval:", "test_acc"), 5e-5, eval.out());
        assertTrue(CliRun.of("predict", "--backend", "cpu", "--model", model.toString(), "--index", "0").ok().out()
                .contains("test example 0 (label: Ankle boot)"));
        Path onnx = dir.resolve("exported.onnx");
        CliRun.of("export", "--backend", "cpu", "--model", model.toString(), "--onnx", onnx.toString()).ok();
        CliRun fromOnnx = CliRun.of("eval", "--backend", "cpu", "--model", onnx.toString(), "--test-limit",
                testLimit).ok();
        assertEquals(eval.field("eval:", "test_acc"), fromOnnx.field("eval:", "test_acc"));
        assertEquals(eval.field("eval:", "test_loss"), fromOnnx.field("eval:", "test_loss"));
        return eval;
    }
}
