package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.backend.DType;
import dev.backprop.io.Checkpoint;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.StepLR;

import java.nio.file.Path;

/**
 * Fuzzes checkpoint restoring with Adam and a step schedule into a dense 2 → 3 layer, and into that layer followed
 * by a batch norm and a dropout (buffers, an I64 counter and training state).
 */
class CheckpointFuzzTest {
    @FuzzTest
    void checkpoint(byte[] data) throws Exception {
        Path p = FuzzSupport.write("checkpoint.safetensors", data);
        for (boolean stateful : new boolean[] {false, true}) {
            try (Sequential model = model(stateful);
                 Optimizer adam = Adam.adam(model.parameters(), 0.01)) {
                StepLR schedule = new StepLR(adam, 2, 0.5);
                FuzzSupport.read(() -> Checkpoint.restore(p, model, adam, schedule));
            }
        }
    }

    /** The dense layer, followed by BatchNorm1d(3) and dropout when {@code stateful}. */
    static Sequential model(boolean stateful) {
        Sequential.Builder b = Sequential.builder(FuzzSupport.BACKEND, DType.FLOAT32).seed(1).dense(2, 3);
        return stateful ? b.batchNorm1d(3).dropout(0.5).build() : b.build();
    }
}
