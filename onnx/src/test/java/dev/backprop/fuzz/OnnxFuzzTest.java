package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.onnx.OnnxImport;

import java.nio.file.Path;

/**
 * Fuzzes the ONNX reader: {@code OnnxImport.load} on any bytes, under {@link FuzzSupport}'s rules (accepted, or
 * refused with a one-line {@link dev.backprop.io.ModelFileException}, nothing left allocated). In core's package,
 * beside the other targets, to share their support from core's test-jar.
 */
class OnnxFuzzTest {
    @FuzzTest
    void onnx(byte[] data) throws Exception {
        Path p = FuzzSupport.write("model.onnx", data);
        FuzzSupport.read(() -> OnnxImport.load(p, FuzzSupport.BACKEND).close());
    }
}
