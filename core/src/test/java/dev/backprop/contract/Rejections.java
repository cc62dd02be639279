package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.MemoryStats;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.Executable;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shape of every bad-input case: the call throws the named exception, its message contains the given
 * fragments (typically both shapes), the output tensor's contents are unchanged, and no buffer leaked.
 */
final class Rejections {
    private Rejections() {
    }

    /** A bad call and the tensor it must leave untouched (may be null). */
    record Call(Executable call, Tensor untouched) {
    }

    /**
     * A dynamic test: {@code setup} builds tensors (inside a scope) and returns the call; it must throw
     * {@code type} with every fragment in its message.
     */
    static DynamicTest rejects(String name, Backend be, Class<? extends Throwable> type, Function<Backend, Call> setup,
                               String... fragments) {
        return DynamicTest.dynamicTest(name, () -> {
            try (Scope scope = Scope.open()) {
                Call c = setup.apply(be);
                check(name, be, type, c.call(), c.untouched(), fragments);
            }
        });
    }

    static void check(String name, Backend be, Class<? extends Throwable> type, Executable call, Tensor untouched,
                      String... fragments) {
        double[] before = untouched == null ? null : untouched.toDoubles();
        MemoryStats stats = be.memoryStats();
        Throwable e = assertThrows(type, call, name + ": expected " + type.getSimpleName());
        String msg = String.valueOf(e.getMessage());
        for (String f : fragments) {
            assertTrue(msg.contains(f), name + ": the message should contain '" + f + "': " + msg);
        }
        if (untouched != null) {
            Tolerance.exact(name + ": a rejected call must not change its output", before, untouched.toDoubles());
        }
        assertEquals(stats.liveBuffers(), be.memoryStats().liveBuffers(), name + ": a rejected call leaked a buffer");
    }
}
