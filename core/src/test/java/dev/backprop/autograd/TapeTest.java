package dev.backprop.autograd;

import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A {@link Tape} ends with a {@link Scope} that was open when it opened, as the tape's tensors do. */
class TapeTest {
    @Test
    void closingAnEnclosingScopeClosesTheTape() {
        try (ReferenceBackend be = new ReferenceBackend();
             Variable x = Variable.parameter(Tensor.of(be, new float[] {1, -2, 3}, 3))) {
            try (Tape warm = Tape.open()) {
                Ops.sum(Ops.relu(x)).backward(); // makes x's gradient, which lives on
            }
            long live = be.memoryStats().liveBuffers();
            Scope outer = Scope.open();
            Tape tape = Tape.open();
            Variable y = Ops.relu(x);
            outer.close();
            assertTrue(y.value().isClosed(), "the tape's tensors close with the enclosing scope");
            assertFalse(Tape.isRecording(), "a tape whose tensors are gone records nothing more");
            Tensor z;
            try (Scope inner = Scope.open()) {
                Variable after = Ops.relu(x);
                assertFalse(after.requiresGrad());
                z = after.value();
                assertEquals(1, inner.size(), "the op's value belongs to the scope open now");
            }
            assertTrue(z.isClosed());
            String closed = "this Tape is closed (by closing a Scope it was opened in); its graph and saved tensors "
                    + "are gone";
            try (Tensor up = Tensor.of(be, new float[] {1, 1, 1}, 3)) {
                assertEquals(closed, assertThrows(IllegalStateException.class, () -> y.backward(up)).getMessage());
            }
            assertEquals(closed, assertThrows(IllegalStateException.class, () -> tape.keep(x.value())).getMessage());
            tape.close();
            try (Tape next = Tape.open()) {
                assertTrue(Tape.isRecording(), "a tape opens after the one the scope ended");
                Ops.sum(Ops.relu(x)).backward();
            }
            assertEquals(live, be.memoryStats().liveBuffers(), "nothing left behind");
            assertEquals(2f, x.grad().toFloatArray()[0], "two passes of relu'(1)·1");
        }
    }
}
