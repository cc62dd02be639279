package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.backend.DType;
import dev.backprop.io.ModelFile;
import dev.backprop.nn.Sequential;

import java.nio.file.Path;

/**
 * Fuzzes the safetensors reader and model loading: {@code ModelFile.load} and {@code loadInto} (a dense 2 → 3 layer,
 * and one followed by a batch norm: buffers and an I64 counter) on any bytes.
 */
class SafeTensorsFuzzTest {
    /** The dense layer, followed by BatchNorm1d(3) when {@code stateful}. */
    static Sequential model(boolean stateful) {
        Sequential.Builder b = Sequential.builder(FuzzSupport.BACKEND, DType.FLOAT32).seed(1).dense(2, 3);
        return stateful ? b.batchNorm1d(3).build() : b.build();
    }

    @FuzzTest
    void modelFile(byte[] data) throws Exception {
        Path p = FuzzSupport.write("model.safetensors", data);
        FuzzSupport.read(() -> ModelFile.load(p, FuzzSupport.BACKEND).close());
        for (boolean stateful : new boolean[] {false, true}) {
            try (Sequential into = model(stateful)) {
                FuzzSupport.read(() -> ModelFile.loadInto(p, into));
            }
        }
    }
}
