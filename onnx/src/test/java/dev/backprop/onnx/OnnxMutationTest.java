package dev.backprop.onnx;

import dev.backprop.backend.DType;
import dev.backprop.io.ModelFileException;
import dev.backprop.model.SavedModel;
import dev.backprop.nn.Layer;
import dev.backprop.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random corruptions of a valid exported model (bit flips, overwritten and duplicated byte runs, cuts,
 * insertions): each one either loads (the damage hit only weights or names) or is refused with a one-line
 * {@link ModelFileException}; no other exception, no error, no stack trace, ever.
 */
class OnnxMutationTest extends CpuBackendTest {
    static final int CASES = 600;

    @TempDir
    Path dir;

    @Test
    void everyCorruptionLoadsOrIsRefusedWithOneLine() throws Exception {
        Path original = dir.resolve("original.onnx");
        try (Layer model = Sequential.builder(cpu, DType.FLOAT32).seed(5).flatten().dense(12, 8).sigmoid()
                .dense(8, 6, false).tanh().dense(6, 5).threshold().dense(5, 3).relu().build()) {
            OnnxExport.write(model, original, OnnxExport.Options.defaults().withSoftmax(true).withInputShape(3, 4));
        }
        int refused = survives(Files.readAllBytes(original), 2024, CASES, dir.resolve("mutant.onnx"));
        assertTrue(refused > CASES / 2, "most corruptions are caught: " + refused + " of " + CASES);
        System.out.println("ONNX mutations: " + CASES + " cases, " + refused + " refused, " + (CASES - refused)
                + " loaded");
    }

    /**
     * {@code cases} seeded corruptions of the file {@code good}, each written to {@code file}: every one loads (with
     * parameters) or is refused with a one-line {@link ModelFileException} naming the file, nothing else.
     *
     * @return how many were refused
     */
    static int survives(byte[] good, long seed, int cases, Path file) throws Exception {
        Random rng = new Random(seed);
        int loaded = 0, refused = 0;
        for (int i = 0; i < cases; i++) {
            byte[] bad = mutate(good, rng);
            Files.write(file, bad);
            try (SavedModel.Loaded m = OnnxImport.load(file, cpu)) {
                assertTrue(m.model().parameterCount() > 0);
                loaded++;
            } catch (ModelFileException e) {
                assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
                assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
                refused++;
            } catch (Throwable t) {
                fail("case " + i + " (" + bad.length + " bytes) threw " + t, t);
            }
        }
        assertEquals(cases, loaded + refused);
        return refused;
    }

    private static byte[] mutate(byte[] good, Random rng) {
        byte[] b = good.clone();
        int kind = rng.nextInt(6);
        int at = rng.nextInt(b.length);
        switch (kind) {
            case 0 -> {
                for (int k = 1 + rng.nextInt(4); k > 0; k--) {
                    int p = rng.nextInt(b.length);
                    b[p] ^= (byte) (1 << rng.nextInt(8));
                }
            }
            case 1 -> {
                int len = Math.min(b.length - at, 1 + rng.nextInt(16));
                for (int k = 0; k < len; k++) {
                    b[at + k] = (byte) rng.nextInt(256);
                }
            }
            case 2 -> b = Arrays.copyOf(b, at);
            case 3 -> {
                int len = Math.min(b.length - at, 1 + rng.nextInt(64));
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, at + len);
                System.arraycopy(b, at, out, at + len, b.length - at);
                b = out;
            }
            case 4 -> {
                byte[] out = new byte[b.length + 1];
                System.arraycopy(b, 0, out, 0, at);
                out[at] = (byte) rng.nextInt(256);
                System.arraycopy(b, at, out, at + 1, b.length - at);
                b = out;
            }
            default -> b[at] = (byte) new int[] {0x00, 0x7f, 0x80, 0xff, 0x08, 0x12, 0x3a}[rng.nextInt(7)];
        }
        return b;
    }
}
