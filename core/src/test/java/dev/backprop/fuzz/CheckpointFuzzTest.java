package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.backend.DType;
import dev.backprop.io.Checkpoint;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;

import java.nio.file.Path;

/** Fuzzes checkpoint restoring into a dense 2 → 3 layer with Adam and a step schedule. */
class CheckpointFuzzTest {
    @FuzzTest
    void checkpoint(byte[] data) throws Exception {
        Path p = FuzzSupport.write("checkpoint.safetensors", data);
        try (Sequential model = Sequential.builder(FuzzSupport.BACKEND, DType.FLOAT32).seed(1).dense(2, 3).build();
             Optimizer adam = Adam.adam(model.parameters(), 0.01)) {
            StepLR schedule = new StepLR(adam, 2, 0.5);
            FuzzSupport.read(() -> Checkpoint.restore(p, model, adam, schedule));
        }
    }
}
