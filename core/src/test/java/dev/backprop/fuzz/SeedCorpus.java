package dev.backprop.fuzz;

import dev.backprop.backend.DType;
import dev.backprop.io.Checkpoint;
import dev.backprop.io.ModelFile;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;
import dev.backprop.testing.FileBytes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes the fuzzers' seed corpus: one valid file of each kind (named {@code valid-*}, which
 * {@link SeedCorpusTest} keeps valid) and a few near misses, under
 * {@code src/test/resources/dev/backprop/fuzz/<Target>Inputs/<method>/}, where Jazzer reads seeds and writes what
 * it finds. Run it from {@code core} after a format change:
 * {@code java -cp target/test-classes:target/classes:GSON_JAR dev.backprop.fuzz.SeedCorpus src/test/resources}.
 */
public final class SeedCorpus {
    private SeedCorpus() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0], "dev", "backprop", "fuzz");
        models(Files.createDirectories(root.resolve("SafeTensorsFuzzTestInputs/modelFile")));
        checkpoints(Files.createDirectories(root.resolve("CheckpointFuzzTestInputs/checkpoint")));
        idx(Files.createDirectories(root.resolve("IdxFuzzTestInputs/idx")));
        csv(Files.createDirectories(root.resolve("CsvFuzzTestInputs/csv")));
        metadata(Files.createDirectories(root.resolve("MetadataFuzzTestInputs/metadata")));
    }

    private static Sequential dense(DType dtype) {
        return Sequential.builder(FuzzSupport.BACKEND, dtype).seed(7).dense(2, 3).build();
    }

    private static void models(Path dir) throws IOException {
        try (Sequential m = dense(DType.FLOAT32); Sequential m64 = dense(DType.FLOAT64)) {
            ModelFile.save(dir.resolve("valid-f32"), m);
            ModelFile.save(dir.resolve("valid-f64"), m64);
            SavedModel.save(dir.resolve("valid-saved-model"), m, Task.CLASSIFICATION, List.of("a", "b", "c"),
                    Map.of());
        }
        try (Sequential bn = SafeTensorsFuzzTest.model(true)) {
            bn.counters().get("1.num_batches_tracked")[0] = 3;
            ModelFile.save(dir.resolve("valid-batchnorm"), bn);
        }
        Files.write(dir.resolve("near-counter-i32"), FileBytes.file("{" + FileBytes.W + "," + FileBytes.B
                + ",\"1.weight\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[36,48]}"
                + ",\"1.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[48,60]}"
                + ",\"1.running_mean\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[60,72]}"
                + ",\"1.running_var\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[72,84]}"
                + ",\"1.num_batches_tracked\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[84,88]}}",
                FileBytes.floats(1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0)));
        Files.write(dir.resolve("valid-pytorch-no-metadata"), FileBytes.file("{" + FileBytes.W + "," + FileBytes.B
                + "}", FileBytes.floats(1, 2, 3, 4, 5, 6, 7, 8, 9)));
        Files.write(dir.resolve("near-offset-exponent"), FileBytes.file(FileBytes.header(
                FileBytes.W.replace("[0,24]", "[0,24e0]"), FileBytes.B), new byte[36]));
        Files.write(dir.resolve("near-nan-weight"), FileBytes.file(FileBytes.header(FileBytes.W, FileBytes.B),
                FileBytes.floats(1, Float.NaN, 3, 4, 5, 6, 7, 8, 9)));
    }

    private static void checkpoints(Path dir) throws IOException {
        try (Sequential m = dense(DType.FLOAT32);
             Optimizer adam = Adam.adam(m.parameters(), 0.01)) {
            Checkpoint.save(dir.resolve("valid-adam-steplr"), m, adam, new StepLR(adam, 2, 0.5),
                    Map.of("epochs", 1L, "seed", 0L));
        }
        try (Sequential m = CheckpointFuzzTest.model(true);
             Optimizer adam = Adam.adam(m.parameters(), 0.01)) {
            m.counters().get("1.num_batches_tracked")[0] = 4;
            m.trainingState().get("2.dropout_offset")[0] = 96;
            Checkpoint.save(dir.resolve("valid-batchnorm-dropout"), m, adam, new StepLR(adam, 2, 0.5),
                    Map.of("epochs", 1L, "seed", 0L));
        }
    }

    private static void idx(Path dir) throws IOException {
        byte[] images = FileBytes.idx(new int[] {3, 2, 2}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255});
        Files.write(dir.resolve("valid-images"), images);
        Files.write(dir.resolve("valid-images-gz"), FileBytes.gzip(images));
        Files.write(dir.resolve("valid-labels"), FileBytes.idx(new int[] {4}, new byte[] {0, 1, 9, 3}));
        Files.write(dir.resolve("near-truncated"), FileBytes.idx(new int[] {3, 2, 2}, new byte[11]));
    }

    private static void csv(Path dir) throws IOException {
        text(dir.resolve("valid-header"), "x1,x2,label\n0.5,-1.25e-3,1\n.5,2.,0\n\n3,4,2\n");
        text(dir.resolve("valid-bom-crlf"), "\uFEFF1,2,0\r\n3,4,1\r\n");
        text(dir.resolve("near-java-forms"), "1,2,0\n5d,0x1p3,1\n");
        text(dir.resolve("near-overflow"), "1e39,2,0\n");
        text(dir.resolve("valid-quoted"),
                "\"x, one\",\"x \"\"two\"\"\",\"multi\nline\"\r\n1,\"2.5\",\"1\"\r\n3,4,0\r\n");
        text(dir.resolve("near-unclosed-quote"), "1,\"2,0\n3,4,1\n");
    }

    private static void metadata(Path dir) throws IOException {
        String arch = FileBytes.ARCH;
        text(dir.resolve("valid-all"), arch + "\n[\"a\",\"b\",\"c\"]\nclassification\n1");
        text(dir.resolve("valid-names-only"), arch + "\n[\"no\",\"yes\",\"maybe\"]");
        text(dir.resolve("near-lenient-names"), arch + "\n['a','b','c']\nclassification\n1");
        text(dir.resolve("near-version"), arch + "\n[\"a\",\"b\",\"c\"]\nregression\n1.0");
        text(dir.resolve("valid-no-ties"), arch + "\n[\"a\",\"b\",\"c\"]\nclassification\n1\n{}");
        text(dir.resolve("near-tie-shape"),
                arch + "\n[\"a\",\"b\",\"c\"]\nclassification\n1\n{\"0.bias\":\"0.weight\"}");
    }

    private static void text(Path p, String s) throws IOException {
        Files.write(p, s.getBytes(StandardCharsets.UTF_8));
    }
}
