package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFile;
import dev.backprop.nn.Sequential;

import java.nio.file.Path;

/** Fuzzes the safetensors reader and model loading: {@code ModelFile.load} and {@code loadInto} on any bytes. */
class SafeTensorsFuzzTest {
    @FuzzTest
    void modelFile(byte[] data) throws Exception {
        Path p = FuzzSupport.write("model.safetensors", data);
        FuzzSupport.read(() -> ModelFile.load(p, FuzzSupport.BACKEND).close());
        try (Sequential into = Sequential.builder(FuzzSupport.BACKEND, DType.FLOAT32).seed(1).dense(2, 3).build()) {
            FuzzSupport.read(() -> ModelFile.loadInto(p, into));
        }
    }
}
