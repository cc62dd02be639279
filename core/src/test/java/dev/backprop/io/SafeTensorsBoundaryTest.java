package dev.backprop.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static dev.backprop.testing.FileBytes.B;
import static dev.backprop.testing.FileBytes.W;
import static dev.backprop.testing.FileBytes.file;
import static dev.backprop.testing.FileBytes.header;
import static dev.backprop.testing.FileBytes.withLength;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The size checks of the safetensors header at their boundaries, in both directions: a tensor's byte count one
 * more and one less than its shape needs (and twice as many), a dtype label that does not fit the data's width,
 * and the header length and offsets off by one. The base file is {@code 0.weight} F32 [3, 2] then {@code 0.bias}
 * F32 [3].
 */
class SafeTensorsBoundaryTest {
    @TempDir
    Path dir;

    private SafeTensorsHeader read(byte[] bytes) throws IOException {
        Path p = dir.resolve("t.safetensors");
        Files.write(p, bytes);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return SafeTensorsHeader.read(ch, p.toString());
        }
    }

    private void rejected(byte[] bytes, String... parts) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> read(bytes));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }

    /** The weight holding {@code weightBytes} bytes, the bias right after it, the data exactly that long. */
    private static byte[] weightOf(int weightBytes) {
        String w = W.replace("[0,24]", "[0," + weightBytes + "]");
        String b = B.replace("[24,36]", "[" + weightBytes + "," + (weightBytes + 12) + "]");
        return file(header(w, b), new byte[weightBytes + 12]);
    }

    @Test
    void exactByteCountIsTheOnlyOneAccepted() throws IOException {
        SafeTensorsHeader h = read(weightOf(24));
        assertEquals(24, h.entries().get("0.weight").end());
        rejected(weightOf(23), "'0.weight'", "hold 23 bytes, but F32 [3,2] needs 24");
        rejected(weightOf(25), "'0.weight'", "hold 25 bytes, but F32 [3,2] needs 24");
        rejected(weightOf(48), "'0.weight'", "hold 48 bytes, but F32 [3,2] needs 24");
        rejected(weightOf(12), "'0.weight'", "hold 12 bytes, but F32 [3,2] needs 24");
        rejected(weightOf(0), "'0.weight'", "hold 0 bytes, but F32 [3,2] needs 24");
    }

    @Test
    void dtypeLabelMustMatchTheDataWidth() {
        // F64 [3] data (24 bytes) labelled F32, and F32 [3, 2] data (24 bytes) labelled F64.
        String b64 = B.replace("[24,36]", "[24,48]");
        rejected(file(header(W, b64), new byte[48]), "'0.bias'", "hold 24 bytes, but F32 [3] needs 12");
        rejected(file(header(W.replace("F32", "F64"), B), new byte[36]), "'0.weight'",
                "hold 24 bytes, but F64 [3,2] needs 48");
        rejected(file(header(W, B.replace("F32", "I32").replace("[24,36]", "[24,48]")), new byte[48]),
                "hold 24 bytes, but I32 [3] needs 12");
    }

    @Test
    void headerLengthOffByOne() throws IOException {
        String h = header(W, B);
        int n = h.getBytes(StandardCharsets.UTF_8).length;
        read(withLength(n, h, new byte[36]));
        // One short: the closing brace is left out of the header.
        rejected(withLength(n - 1, h, new byte[36]), "not valid JSON");
        // One long: the first data byte becomes part of the header (a zero byte is no JSON).
        rejected(withLength(n + 1, h, new byte[36]), "not valid JSON");
        // One long onto a space, which the format allows as padding: the data is then a byte short.
        byte[] spaced = withLength(n + 1, h, new byte[36]);
        spaced[8 + n] = ' ';
        rejected(spaced, "'0.bias'", "run past the 35 data bytes");
        // The data a byte too long or short for the header.
        rejected(file(h, new byte[37]), "1 bytes after the last tensor's data");
        rejected(file(h, new byte[35]), "'0.bias'", "run past the 35 data bytes");
    }

    @Test
    void offsetsOffByOne() {
        rejected(file(header(W, B.replace("[24,36]", "[25,36]")), new byte[36]), "'0.bias'", "hold 11 bytes");
        rejected(file(header(W, B.replace("[24,36]", "[23,36]")), new byte[36]), "'0.bias'", "hold 13 bytes");
        rejected(file(header(W, B.replace("[24,36]", "[25,37]")), new byte[37]), "[24, 25) belong to no tensor");
        rejected(file(header(W, B.replace("[24,36]", "[23,35]")), new byte[35]), "overlap");
        rejected(file(header(W, B.replace("[24,36]", "[24,37]")), new byte[36]), "'0.bias'", "run past");
        rejected(file(header(W.replace("[0,24]", "[1,25]"), B.replace("[24,36]", "[25,37]")), new byte[37]),
                "[0, 1) belong to no tensor");
    }

    @Test
    void countsMustBeIntegerLiterals() {
        // 802816e0 is 802816 exactly, but the reference reader (and so PyTorch's safetensors) refuses it.
        rejected(file(header(W.replace("[0,24]", "[0,24e0]"), B), new byte[36]), "data_offsets[1]",
                "digits only");
        rejected(file(header(W.replace("[0,24]", "[0,2.4e1]"), B), new byte[36]), "data_offsets[1]");
        rejected(file(header(W.replace("[3,2]", "[3,2.0]"), B), new byte[36]), "shape[1]", "digits only");
        rejected(file(header(W.replace("[3,2]", "[3e0,2]"), B), new byte[36]), "shape[0]", "digits only");
        rejected(file(header(W.replace("[3,2]", "[3,-0]"), B), new byte[36]), "'0.weight'");
        rejected(file(header(W.replace("[0,24]", "[0," + "0".repeat(70) + "24]"), B), new byte[36]), "not valid JSON");
        rejected(file(header(W.replace("[0,24]", "[0,1" + "0".repeat(70) + "]"), B), new byte[36]),
                "a number of 71 characters");
    }
}
