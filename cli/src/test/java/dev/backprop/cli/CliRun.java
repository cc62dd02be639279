package dev.backprop.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.DType;
import dev.backprop.data.FashionMnist;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the {@code backprop} command line in-process for the train/eval/predict tests, and reads figures out of its
 * output. The tests name {@code --backend cpu}: this module's test class path also registers fake providers (see
 * {@link FakeProviders}) that automatic selection would prefer.
 */
record CliRun(int code, String out, String err) {
    static CliRun of(String... args) {
        // The default --out is relative: a test that left it out would write into the module and make every later
        // run (the next JDK's included) meet an existing model.
        boolean before = Files.exists(DEFAULT_OUT);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        Assertions.assertTrue(before || !Files.exists(DEFAULT_OUT), () -> "this run wrote "
                + DEFAULT_OUT.toAbsolutePath() + " into the working directory; give the test its own --out: "
                + String.join(" ", args));
        return new CliRun(code, out.toString(), err.toString());
    }

    private static final Path DEFAULT_OUT = Path.of("model.safetensors");

    /** The file with metadata entry {@code key} set to {@code value} (the tensors unchanged). */
    static byte[] withMetadata(Path file, String key, String value) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(all, 8, n, StandardCharsets.UTF_8)).getAsJsonObject();
        h.getAsJsonObject("__metadata__").addProperty(key, value);
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + all.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(header.length).put(header).put(all, 8 + n, all.length - 8 - n).array();
    }

    /** The tensor bytes of a safetensors file (its metadata, which names the run's settings, left out). */
    static byte[] tensorBytes(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long header = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return Arrays.copyOfRange(all, Math.toIntExact(8 + header), all.length);
    }

    /** The parameters of {@code model} as PyTorch's {@code save_file(state_dict)} writes them: no Backprop metadata. */
    static void writePlain(Path model, Path plain) throws IOException {
        try (ReferenceBackend be = new ReferenceBackend(); SafeTensorsFile f = SafeTensorsFile.open(model)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : f.shapes().keySet()) {
                tensors.put(name, f.read(name, be, DType.FLOAT32));
            }
            SafeTensorsFile.write(plain, tensors, Map.of("format", "pt"));
            tensors.values().forEach(Tensor::close);
        }
    }

    /** {@code train}'s options without a value, which {@link #train} takes alone. */
    private static final java.util.Set<String> FLAGS = java.util.Set.of("--keep-best", "--overwrite", "--no-progress");

    /**
     * Runs {@code train} with {@code defaults} (option to value, in order) unless {@code more} gives others: pairs of
     * option and value, or a lone flag ({@code --keep-best}, {@code --overwrite}, {@code --no-progress}).
     */
    static CliRun train(java.util.Map<String, String> defaults, String... more) {
        java.util.Map<String, String> opts = new java.util.LinkedHashMap<>(defaults);
        java.util.List<String> flags = new java.util.ArrayList<>();
        for (int i = 0; i < more.length; i++) {
            if (FLAGS.contains(more[i])) {
                flags.add(more[i]);
            } else {
                opts.put(more[i], more[++i]);
            }
        }
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train"));
        opts.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        args.addAll(flags);
        return of(args.toArray(String[]::new));
    }

    /** Fails with the whole output unless the command exited with 0. */
    CliRun ok() {
        Assertions.assertEquals(0, code, () -> "exit " + code + "\nstdout:\n" + out + "\nstderr:\n" + err);
        return this;
    }

    /**
     * Fails unless {@code r} exited with {@link Main#EXIT_ERROR} and printed exactly one line on stderr,
     * {@code backprop: } and {@code message} (an empty value at its end leaves the line ending in a space, which the
     * comparison strips).
     */
    static void assertRefused(CliRun r, String message) {
        Assertions.assertEquals(Main.EXIT_ERROR, r.code, r.out + r.err);
        Assertions.assertEquals(("backprop: " + message).strip(), r.err.strip());
    }

    /** The number after {@code key=} on the line starting with {@code prefix}. */
    double field(String prefix, String key) {
        for (String line : out.split("\n")) {
            if (line.startsWith(prefix)) {
                Matcher m = Pattern.compile("(?:^| )" + Pattern.quote(key) + "=([-+0-9.eE]+|NaN)").matcher(line);
                if (m.find()) {
                    return Double.parseDouble(m.group(1));
                }
            }
        }
        throw new AssertionError("no '" + key + "=' on a line starting with '" + prefix + "' in:\n" + out);
    }

    /**
     * Skips (with the reason) when Fashion-MNIST is not installed, except under CI ({@code CI=true}), where the data
     * is part of the set-up and its absence must fail the build.
     */
    static void assumeFashionMnist() {
        boolean present = Files.isDirectory(FashionMnist.defaultDir());
        String why = "Fashion-MNIST is not installed at " + FashionMnist.defaultDir()
                + " (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.assertTrue(present, why);
        }
        Assumptions.assumeTrue(present, why);
    }
}
