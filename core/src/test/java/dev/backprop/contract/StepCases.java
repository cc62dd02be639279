package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The contract of {@link Backend#runStep} and {@link Backend#replaysSteps}: whether a backend runs a step's work or
 * replays a recording of it, the buffers end as if the work had run every time, temporaries included; a backend
 * that does not replay steps runs the work every time.
 */
final class StepCases {
    private StepCases() {
    }

    /** Four steps of one key, each adding {@code x} to {@code y} through a temporary allocated inside the step. */
    static void runOrReplay(Backend backend) {
        float[] xs = {1, 2, 3, 4};
        Buffer x = backend.allocate(DType.FLOAT32, 4);
        Buffer y = backend.allocate(DType.FLOAT32, 4);
        backend.upload(xs, 0, x, 0, 4);
        backend.fill(y, 0, 4, 0);
        List<Boolean> ran = new ArrayList<>();
        for (int step = 1; step <= 4; step++) {
            ran.add(backend.runStep(List.of("step contract", x, y), List.of(x, y), () -> {
                Buffer t = backend.allocate(DType.FLOAT32, 4);
                backend.copy(x, 0, t, 0, 4);
                backend.axpby(4, 1, t, 0, 1, y, 0);
                backend.release(t);
            }));
            float[] got = new float[4];
            backend.download(y, 0, got, 0, 4);
            float[] want = new float[4];
            for (int i = 0; i < 4; i++) {
                want[i] = step * xs[i];
            }
            assertArrayEquals(want, got, "y after step " + step + " (runStep said " + ran + ")");
        }
        if (!backend.replaysSteps()) {
            assertEquals(List.of(true, true, true, true), ran, "a backend that does not replay runs every step");
        }
        backend.release(x);
        backend.release(y);
    }
}
