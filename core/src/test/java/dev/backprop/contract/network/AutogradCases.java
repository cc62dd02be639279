package dev.backprop.contract.network;

import dev.backprop.autograd.NoGrad;
import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Dense;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.GradientClipping;
import dev.backprop.optim.Sgd;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.BackendMismatchException;
import dev.backprop.tensor.ClosedTensorException;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the autodiff behaves, in FLOAT32 (every backend has it): accumulation across backward passes and
 * {@code zeroGrad}, no-grad mode, memory released when a tape closes, the zero-gradient warning of the hard
 * threshold, and clear errors for misuse.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
final class AutogradCases {
    private AutogradCases() {
    }

    static Stream<DynamicTest> cases(Backend be) {
        return Stream.of(
                DynamicTest.dynamicTest("gradients accumulate until zeroGrad", () -> accumulation(be)),
                DynamicTest.dynamicTest("NoGrad and no tape record nothing", () -> noGrad(be)),
                DynamicTest.dynamicTest("a tape frees its intermediates", () -> tapeFreesMemory(be)),
                DynamicTest.dynamicTest("training through a hard threshold warns once", () -> thresholdWarning(be)),
                DynamicTest.dynamicTest("a second backward pass adds the same gradient", () -> secondBackward(be)),
                DynamicTest.dynamicTest("a value written in place after the forward pass is refused",
                        () -> inPlaceWriteRefused(be)),
                DynamicTest.dynamicTest("a value closed after the forward pass is refused", () -> closedValue(be)),
                DynamicTest.dynamicTest("an input computed on another tape is refused", () -> otherTape(be)),
                DynamicTest.dynamicTest("the checks of a backward pass let legitimate patterns through",
                        () -> legitimatePatterns(be)),
                DynamicTest.dynamicTest("misuse gives clear errors", () -> misuse(be)),
                DynamicTest.dynamicTest("a tape is confined to its thread", () -> threadConfinement(be)));
    }

    private static void accumulation(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {1, 2, 3}, 3));
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT32, new double[] {0.5, -1, 2}, 3));
            for (int pass = 1; pass <= 2; pass++) {
                try (Tape tape = Tape.open()) {
                    Ops.sum(Ops.mul(w, x)).backward();
                }
                double[] g = w.grad().toDoubles();
                assertEquals(List.of(0.5 * pass, -1.0 * pass, 2.0 * pass), List.of(g[0], g[1], g[2]),
                        "after " + pass + " backward pass(es) the gradient is the sum of the passes");
            }
            w.zeroGrad();
            assertEquals(0, w.grad().toDoubles()[0], "zeroGrad");
            try (Tape tape = Tape.open()) {
                Variable y = Ops.sum(Ops.mul(w, x));
                y.backward();
                y.backward();  // the graph stays until the tape closes
            }
            assertEquals(1.0, w.grad().toDoubles()[0], "two backward passes on one tape add up");
        }
    }

    private static void noGrad(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {1, 2}, 2));
            Variable outside = Ops.exp(w);
            assertFalse(outside.requiresGrad(), "without a tape nothing is recorded");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ops.sum(w).backward());
            assertTrue(e.getMessage().contains("does not require a gradient"), e.getMessage());
            try (Tape tape = Tape.open()) {
                try (NoGrad off = NoGrad.open()) {
                    assertFalse(Ops.exp(w).requiresGrad(), "NoGrad suspends recording");
                    assertFalse(Tape.isRecording());
                }
                assertTrue(Tape.isRecording(), "recording resumes after NoGrad");
                assertEquals(0, tape.size(), "nothing was recorded under NoGrad");
                Variable c = Variable.constant(w.value());
                assertFalse(Ops.exp(c).requiresGrad(), "ops on constants record nothing");
                assertEquals(0, tape.size());
                assertTrue(Ops.exp(w).requiresGrad());
                assertEquals(1, tape.size());
            }
        }
    }

    private static void tapeFreesMemory(Backend be) {
        try (Sequential model = Sequential.builder(be, DType.FLOAT32).seed(3).dense(8, 16).relu().dense(16, 4).build();
             Tensor x = Net.tensor(be, DType.FLOAT32, Net.uniform(5, 32, -1, 1), 4, 8)) {
            long before = be.memoryStats().liveBuffers();
            for (int i = 0; i < 3; i++) {
                try (Tape tape = Tape.open()) {
                    Variable y = Ops.mean(model.forward(Variable.constant(x)));
                    y.backward();
                    assertTrue(be.memoryStats().liveBuffers() > before, "the step allocated intermediates");
                }
                assertEquals(before, be.memoryStats().liveBuffers(), "closing the tape frees every intermediate");
            }
        }
    }

    private static void thresholdWarning(Backend be) {
        Logger log = Logger.getLogger(Tape.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try (Sequential model = Sequential.builder(be, DType.FLOAT32).seed(1).dense(2, 3).threshold().dense(3, 1)
                .build(); Scope s = Scope.open()) {
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT32, new double[] {0.3, -0.2, 1, 2}, 2, 2));
            try (Tape tape = Tape.open()) {
                Variable y = Ops.sum(model.forward(x));
                y.backward();
                y.backward();
            }
            long warnings = records.stream().filter(r -> r.getLevel() == Level.WARNING
                    && r.getMessage().contains("threshold")).count();
            assertEquals(1, warnings, "one warning per tape that back-propagates through a threshold");
            double[] g = model.parameters().get("0.weight").grad().toDoubles();
            for (double v : g) {
                assertEquals(0.0, v, "no gradient reaches the layer below a threshold");
            }
            assertTrue(model.parameters().get("2.weight").grad().toDoubles()[0] != 0, "the layer above trains");
        } finally {
            log.removeHandler(h);
        }
    }

    /**
     * PyTorch frees the graph after a backward pass unless {@code retain_graph=True} ("Trying to backward through
     * the graph a second time ... Specify retain_graph=True"); a tape keeps its graph and saved values until it
     * closes, so a second pass is PyTorch's retained one: it adds the same gradient again, bit for bit, also
     * through the fused rules that write into the pass's own gradients and the loss that saves probabilities.
     */
    private static void secondBackward(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, Net.uniform(7, 12, -1, 1), 4, 3));
            Variable b = Variable.leaf(Net.tensor(be, DType.FLOAT32, Net.uniform(8, 4, -1, 1), 4));
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT32, Net.uniform(9, 15, -2, 2), 5, 3));
            Tensor labels = Tensor.of(be, new int[] {0, 3, 1, 2, 3}, 5);
            for (UnaryOp act : new UnaryOp[] {UnaryOp.RELU, UnaryOp.SIGMOID}) {
                w.zeroGrad();
                b.zeroGrad();
                try (Tape tape = Tape.open()) {
                    Variable h = Ops.linear(x, w, b, act);
                    Variable loss = SoftmaxCrossEntropy.builder().build().compute(Ops.mul(h, h), labels);
                    loss.backward();
                    float[] once = w.grad().toFloatArray();
                    float[] bOnce = b.grad().toFloatArray();
                    loss.backward();
                    float[] twice = w.grad().toFloatArray();
                    float[] bTwice = b.grad().toFloatArray();
                    for (int i = 0; i < once.length; i++) {
                        assertEquals(2 * once[i], twice[i], act + ": weight gradient " + i + " doubles");
                        assertTrue(once[i] != 0, act + ": weight gradient " + i + " is not trivially 0");
                    }
                    for (int i = 0; i < bOnce.length; i++) {
                        assertEquals(2 * bOnce[i], bTwice[i], act + ": bias gradient " + i + " doubles");
                    }
                }
            }
        }
    }

    /**
     * PyTorch, after {@code y = (w*w).sum(); y.backward(retain_graph=True); opt.step()}, refuses
     * {@code y.backward()}: "one of the variables needed for gradient computation has been modified by an
     * inplace operation: [torch.FloatTensor [2]] is at version 1; expected version 0 instead". The tape refuses
     * it the same way, before writing any gradient, and only for the ops the pass reaches.
     */
    private static void inPlaceWriteRefused(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.parameter(Net.tensor(be, DType.FLOAT32, new double[] {1, 2}, 2));
            Variable u = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {3, 4}, 2));
            try (Sgd sgd = new Sgd(Map.of("w", w), 0.5); Tape tape = Tape.open()) {
                Variable y = Ops.sum(Ops.mul(w, w));
                Variable z = Ops.sum(Ops.exp(u));
                y.backward();
                assertEquals(List.of(2.0, 4.0), List.of(w.grad().toDoubles()[0], w.grad().toDoubles()[1]));
                sgd.step();  // w = [1, 2] - 0.5·[2, 4] = [0, 0]: the tape saved w = [1, 2]
                w.zeroGrad();
                long live = be.memoryStats().liveBuffers();
                IllegalStateException e = assertThrows(IllegalStateException.class, y::backward,
                        "the silent answer would be 2·[0, 0], the gradient at a point the forward pass never saw");
                assertTrue(e.getMessage().contains("'mul'") && e.getMessage().contains("written in place")
                        && e.getMessage().contains("[2]"), e.getMessage());
                assertEquals(live, be.memoryStats().liveBuffers(), "the refused pass allocated nothing");
                assertEquals(List.of(0.0, 0.0), List.of(w.grad().toDoubles()[0], w.grad().toDoubles()[1]),
                        "the refused pass wrote no gradient");
                z.backward();
                assertEquals(Math.exp(3), u.grad().toDoubles()[0], 1e-5, "a pass not reaching w still runs");
                Elementwise.axpy(1.0, u.value(), u.value());
                IllegalStateException manual = assertThrows(IllegalStateException.class, z::backward,
                        "a write through the tensor facades counts as an optimizer's does");
                assertTrue(manual.getMessage().contains("'exp'"), manual.getMessage());
            }
        }
    }

    /**
     * A value closed before the backward pass would fail the rule that reads it only after the rules replayed
     * before it had added their gradients ({@code ∂y/∂w2} here), leaving half a step's gradients behind; the pass
     * is refused before it writes any.
     */
    private static void closedValue(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w1 = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {0.5, -1}, 2));
            Variable w2 = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {3, 4}, 2));
            try (Tape tape = Tape.open()) {
                Variable h = Ops.exp(w1);
                Variable y = Ops.sum(Ops.mul(Ops.exp(h), w2));
                h.close();
                long live = be.memoryStats().liveBuffers();
                ClosedTensorException e = assertThrows(ClosedTensorException.class, y::backward);
                assertEquals(List.of(0.0, 0.0), List.of(w2.grad().toDoubles()[0], w2.grad().toDoubles()[1]),
                        "the refused pass wrote no gradient");
                assertEquals(live, be.memoryStats().liveBuffers(), "the refused pass allocated nothing");
                assertTrue(e.getMessage().contains("'exp'") && e.getMessage().contains("[2] FLOAT32"),
                        e.getMessage());
            }
        }
    }

    /**
     * PyTorch, backward through a graph whose first part was already back-propagated and freed, raises "Trying to
     * backward through the graph a second time"; a tape's graph ends when it closes, so a pass meeting an input
     * from a closed tape would stop there, leaving {@code w} without its gradient and no word of it: it is refused.
     */
    private static void otherTape(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {0.5, -1}, 2));
            Variable h;
            try (Tape first = Tape.open()) {
                h = Ops.exp(w);
                first.keep(h.value());
            }
            try (Tape second = Tape.open()) {
                Variable y = Ops.sum(Ops.mul(h, h));
                IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
                assertTrue(e.getMessage().contains("'exp'") && e.getMessage().contains("another Tape"),
                        e.getMessage());
                assertEquals(List.of(0.0, 0.0), List.of(w.grad().toDoubles()[0], w.grad().toDoubles()[1]));
                Variable cut = Variable.constant(h.value());
                Ops.sum(Ops.mul(cut, w)).backward();
                assertEquals(Math.exp(0.5), w.grad().toDoubles()[0], 1e-6, "a constant stops the gradient there");
            }
        }
    }

    /**
     * What the checks before a backward pass must let through, as PyTorch does: the gradients of two tapes added up
     * before one step; a second pass on one tape (retain_graph=True) whose forward pass wrote buffers no recorded
     * op reads (batch norm's running statistics, dropout's stream), with the gradients clipped between the passes
     * ({@code clip_grad_norm_} writes gradients, not values); a weight used twice (tied); a write, under
     * {@link NoGrad}, to a tensor the graph does not hold.
     */
    private static void legitimatePatterns(Backend be) {
        try (Scope s = Scope.open();
             Sequential model = Sequential.builder(be, DType.FLOAT32).seed(3).dense(3, 4).batchNorm1d(4).relu()
                     .dropout(0.25).dense(4, 4).build();
             Sgd sgd = new Sgd(model.parameters(), 0.1)) {
            Tensor x = Net.tensor(be, DType.FLOAT32, Net.uniform(10, 15, -2, 2), 5, 3);
            Tensor labels = Tensor.of(be, new int[] {0, 3, 1, 2, 3}, 5);
            SoftmaxCrossEntropy loss = SoftmaxCrossEntropy.builder().build();
            Variable w0 = model.parameters().values().iterator().next();
            sgd.zeroGrad();
            float[] first = null;
            for (int k = 0; k < 2; k++) {
                try (Tape tape = Tape.open()) {
                    loss.compute(model.forward(Variable.constant(x)), labels).backward();
                }
                first = first == null ? w0.grad().toFloatArray() : first;
            }
            assertFalse(java.util.Arrays.equals(first, w0.grad().toFloatArray()), "the second tape added its own");
            sgd.step();
            sgd.zeroGrad();
            Tensor unrelated = Tensor.zeros(be, DType.FLOAT32, 4);
            try (Tape tape = Tape.open()) {
                Variable l = loss.compute(model.forward(Variable.constant(x)), labels);
                l.backward();
                float[] once = w0.grad().toFloatArray();
                double norm = GradientClipping.clipByGlobalNorm(model.parameters().values(), 1e-3);
                assertTrue(norm > 1e-3, "the clip scaled the gradients: norm " + norm);
                float[] clipped = w0.grad().toFloatArray();
                try (NoGrad ng = NoGrad.open()) {
                    Elementwise.fill(unrelated, 1.0);
                }
                l.backward();
                float[] twice = w0.grad().toFloatArray();
                for (int i = 0; i < once.length; i++) {
                    assertEquals(clipped[i] + once[i], twice[i], 1e-6 * (1 + Math.abs(once[i])),
                            "clipped first pass + the same pass again, element " + i);
                }
            }
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {1, 2, 3, 4}, 2, 2));
            try (Tape tape = Tape.open()) {
                Variable y = Ops.sum(Ops.matmul(Ops.matmul(Variable.constant(x.block(0, 0, 2, 2).copy()), w), w));
                y.backward();
                float[] once = w.grad().toFloatArray();
                y.backward();
                float[] twice = w.grad().toFloatArray();
                for (int i = 0; i < once.length; i++) {
                    assertEquals(2 * once[i], twice[i], 1e-6 * Math.abs(once[i]),
                            "the tied weight's gradient doubles (its two uses add in another order), element " + i);
                }
            }
        }
    }

    private static void misuse(Backend be) {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
            Variable x = Variable.constant(Net.tensor(be, DType.FLOAT32, new double[] {1, 2}, 1, 2));
            ShapeMismatchException bad = assertThrows(ShapeMismatchException.class, () -> Ops.linear(x, w, null));
            assertTrue(bad.getMessage().contains("[1, 2]") && bad.getMessage().contains("[2, 3]"), bad.getMessage());
            assertThrows(IllegalStateException.class, x::grad, "constants have no gradient");
            Variable y;
            try (Tape tape = Tape.open()) {
                y = Ops.matmul(x, w);
                IllegalStateException nested = assertThrows(IllegalStateException.class, Tape::open);
                assertTrue(nested.getMessage().contains("already recording"), nested.getMessage());
                IllegalStateException vector = assertThrows(IllegalStateException.class, y::backward);
                assertTrue(vector.getMessage().contains("[1, 3]"), vector.getMessage());
                Tensor wrong = Net.tensor(be, DType.FLOAT32, new double[] {1, 1}, 1, 2);
                assertThrows(ShapeMismatchException.class, () -> y.backward(wrong));
                if (be.capabilities().float64()) {
                    Tensor wrongType = Net.tensor(be, DType.FLOAT64, new double[] {1, 1, 1}, 1, 3);
                    assertThrows(DTypeMismatchException.class, () -> y.backward(wrongType));
                }
            }
            try (ReferenceBackend other = new ReferenceBackend(); Tape tape = Tape.open()) {
                Variable z = Ops.exp(w);
                Tensor elsewhere = Tensor.full(other, DType.FLOAT32, 1.0, 2, 3);
                BackendMismatchException mixed = assertThrows(BackendMismatchException.class,
                        () -> z.backward(elsewhere));
                assertTrue(mixed.getMessage().contains("upstream"), mixed.getMessage());
            }
            Tensor up = Net.tensor(be, DType.FLOAT32, new double[] {1, 1, 1}, 1, 3);
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> y.backward(up));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            ShapeMismatchException badBias = assertThrows(ShapeMismatchException.class, () -> Dense.of(
                    Net.tensor(be, DType.FLOAT32, new double[6], 2, 3),
                    Net.tensor(be, DType.FLOAT32, new double[3], 3)));
            assertTrue(badBias.getMessage().contains("bias"), badBias.getMessage());
        }
    }

    private static void threadConfinement(Backend be) throws InterruptedException {
        try (Scope s = Scope.open()) {
            Variable w = Variable.leaf(Net.tensor(be, DType.FLOAT32, new double[] {1, 2}, 2));
            try (Tape tape = Tape.open()) {
                Variable y = Ops.sum(Ops.exp(w));
                CompletableFuture<Void> other = CompletableFuture.runAsync(y::backward);
                ExecutionException e = assertThrows(ExecutionException.class, other::get);
                assertInstanceOf(IllegalStateException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("thread"), e.getCause().getMessage());
            }
        }
    }
}
