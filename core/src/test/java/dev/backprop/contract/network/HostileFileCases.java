package dev.backprop.contract.network;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFile;
import dev.backprop.io.ModelFileException;
import dev.backprop.nn.Sequential;
import org.junit.jupiter.api.DynamicTest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.backprop.testing.FileBytes.concat;
import static dev.backprop.testing.FileBytes.file;
import static dev.backprop.testing.FileBytes.lengthPrefix;
import static dev.backprop.testing.FileBytes.quote;
import static dev.backprop.testing.FileBytes.withLength;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corrupt, truncated, hostile and mismatched model files, each rejected with a {@link ModelFileException} whose
 * message names the problem (and the tensor, where there is one), with nothing allocated on the backend and, for
 * {@code loadInto}, the model unchanged. The valid base file holds a dense layer 2 → 3: {@code 0.weight} F32
 * {@code [3, 2]} (24 bytes) then {@code 0.bias} F32 {@code [3]} (12 bytes).
 */
final class HostileFileCases {
    private static final String ARCH = "{\"type\":\"sequential\",\"layers\":[{\"type\":\"dense\",\"in\":2,\"out\":3,"
            + "\"bias\":1}]}";
    private static final String META = "\"__metadata__\":{\"format\":\"pt\",\"backprop.architecture\":"
            + quote(ARCH) + "}";
    private static final String W = "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}";
    private static final String B = "\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}";

    private HostileFileCases() {
    }

    private record Bad(String name, byte[] bytes, String... messageParts) {
    }

    static Stream<DynamicTest> cases(Backend be) {
        List<Bad> bad = new ArrayList<>();
        byte[] data = new byte[36];
        bad.add(new Bad("empty file", new byte[0], "too short"));
        bad.add(new Bad("5 bytes", new byte[5], "too short"));
        bad.add(new Bad("header length past the end", withLength(1000, "{}", data), "runs past the end"));
        bad.add(new Bad("header length 2^64-1", withLength(-1, "{}", data), "exceeds the limit"));
        bad.add(new Bad("header length 200 MB", withLength(200_000_000, "{}", data), "exceeds the limit"));
        bad.add(new Bad("header length 0", withLength(0, "", data), "cannot hold"));
        bad.add(new Bad("binary garbage header", file("\u0001\u0002garbage", data), "must start with '{'"));
        bad.add(new Bad("header is a JSON array", file("[1,2]", data), "must start with '{'"));
        bad.add(new Bad("invalid UTF-8", concat(lengthPrefix(4), new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}),
                "not valid UTF-8"));
        bad.add(new Bad("truncated JSON", file("{" + META + "," + W, data), "not valid JSON"));
        bad.add(new Bad("content after the JSON", file("{" + META + "," + W + "," + B + "}x", data), "not valid JSON"));
        bad.add(new Bad("NaN literal", file("{\"a\":NaN}", data), "not valid JSON"));
        bad.add(new Bad("nesting bomb", file("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", data),
                "not valid JSON"));
        bad.add(new Bad("duplicate tensor name", file("{" + META + "," + W + "," + W.replace("[0,24]", "[24,48]")
                + "}", new byte[48]), "duplicate key '0.weight'"));
        bad.add(new Bad("truncated data", file(header(W, B), new byte[30]), "0.bias", "run past"));
        bad.add(new Bad("trailing bytes", file(header(W, B), new byte[40]), "4 bytes after the last tensor"));
        bad.add(new Bad("offsets out of range", file(header(W, B.replace("[24,36]", "[24,1036]")), data), "0.bias",
                "run past"));
        bad.add(new Bad("end before begin", file(header(W, B.replace("[24,36]", "[36,24]")), data), "0.bias",
                "end before they begin"));
        bad.add(new Bad("overlapping tensors", file(header(W, B.replace("[24,36]", "[20,32]")), new byte[32]),
                "overlap"));
        bad.add(new Bad("gap between tensors", file(header(W, B.replace("[24,36]", "[28,40]")), new byte[40]),
                "belong to no tensor"));
        bad.add(new Bad("byte count does not fit the shape", file(header(W.replace("[3,2]", "[3,3]"), B), data),
                "0.weight", "needs 36"));
        bad.add(new Bad("unsupported dtype F16", file(header(W.replace("F32", "F16"), B), data), "0.weight",
                "F16 is not supported"));
        bad.add(new Bad("unknown dtype", file(header(W.replace("F32", "Q7"), B), data), "unknown dtype 'Q7'"));
        bad.add(new Bad("negative dimension", file(header(W.replace("[3,2]", "[-3,2]"), B), data), "0.weight",
                "shape[0] = -3"));
        bad.add(new Bad("fractional dimension", file(header(W.replace("[3,2]", "[3,2.0]"), B), data), "0.weight",
                "whole number"));
        bad.add(new Bad("dimensions overflow", file(header(W.replace("[3,2]", "[2000000000,2000000000,4]"), B), data),
                "more elements than a tensor can hold"));
        bad.add(new Bad("missing data_offsets", file(header(W.replace(",\"data_offsets\":[0,24]", ""), B), data),
                "0.weight", "exactly the fields"));
        bad.add(new Bad("three data_offsets", file(header(W.replace("[0,24]", "[0,12,24]"), B), data),
                "[begin, end]"));
        bad.add(new Bad("tensor entry not an object", file("{" + META + ",\"0.weight\":5," + B + "}", data),
                "expected an object"));
        bad.add(new Bad("metadata value not a string", file("{\"__metadata__\":{\"x\":1}," + W + "," + B + "}", data),
                "metadata 'x' must be a string"));
        modelMismatches(bad, data);
        return bad.stream().map(b -> DynamicTest.dynamicTest(b.name(), () -> rejected(be, b)));
    }

    private static void modelMismatches(List<Bad> bad, byte[] data) {
        bad.add(new Bad("missing tensor", file("{" + META + "," + W + "}", new byte[24]), "missing tensor '0.bias'"));
        bad.add(new Bad("unexpected tensor", file(header(W, B, "\"extra\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[36,40]}"), new byte[40]), "unexpected tensor 'extra'"));
        bad.add(new Bad("wrong shape", file(header(W.replace("[3,2]", "[2,3]"), B), data), "'0.weight' has shape "
                + "[2, 3], expected [3, 2]"));
        bad.add(new Bad("wrong dtype (I32 weight)", file(header(W.replace("F32", "I32"), B), data), "'0.weight' is I32",
                "expected F32 or F64"));
        bad.add(new Bad("mixed dtypes", file(header(W, B.replace("F32", "F64").replace("[24,36]", "[24,48]")),
                new byte[48]), "one dtype per model"));
        bad.add(new Bad("architecture not JSON", file(header(W, B).replace(quote(ARCH), "\"{oops\""), data),
                "architecture metadata is not valid JSON"));
        bad.add(new Bad("unknown layer type", file(header(W, B).replace("\\\"dense\\\"", "\\\"conv9\\\""), data),
                "unknown layer type 'conv9'"));
        bad.add(new Bad("architecture does not match the tensors", file(header(W, B).replace("\\\"in\\\":2",
                "\\\"in\\\":5"), data), "'0.weight' has shape [3, 2], expected [3, 5]"));
        bad.add(new Bad("no architecture", file("{" + W + "," + B + "}", data), "no 'backprop.architecture'"));
    }

    private static void rejected(Backend be, Bad b) throws Exception {
        ModelFileCases.inDir(dir -> {
            Path file = dir.resolve("bad.safetensors");
            Files.write(file, b.bytes());
            long before = be.memoryStats().liveBuffers();
            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(file, be),
                    b.name() + " must be rejected");
            assertEquals(before, be.memoryStats().liveBuffers(), b.name() + ": nothing may be allocated");
            for (String part : b.messageParts()) {
                assertTrue(e.getMessage().contains(part), b.name() + ": message should contain '" + part + "': "
                        + e.getMessage());
            }
            assertTrue(e.getMessage().contains(file.toString()), "the message names the file: " + e.getMessage());
            if (!b.name().equals("no architecture")) {  // loadInto accepts that one: PyTorch writes such files
                try (Sequential model = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).build()) {
                    double[] w = model.parameters().get("0.weight").value().toDoubles();
                    assertThrows(ModelFileException.class, () -> ModelFile.loadInto(file, model), b.name());
                    Net.assertIdentical(b.name() + ": loadInto leaves the model unchanged", w,
                            model.parameters().get("0.weight").value().toDoubles());
                }
            }
        });
    }

    private static String header(String... entries) {
        return "{" + META + "," + String.join(",", entries) + "}";
    }
}
