package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.ClosedTensorException;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.backprop.contract.OpErrorCases.t;
import static dev.backprop.contract.Rejections.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Tensor lifetime and view errors: use after close (the tensor, a view after its owner closed, every tensor
 * after its backend closed), bad views and reshapes, data of the wrong length, and FLOAT64 on a backend
 * without it. Closed-tensor errors name the tensor's shape.
 */
final class LifetimeErrorCases {
    private LifetimeErrorCases() {
    }

    private static final Class<ClosedTensorException> CLOSED = ClosedTensorException.class;
    private static final Class<ShapeMismatchException> SHAPE = ShapeMismatchException.class;

    static Stream<DynamicTest> cases(Oracle o, Supplier<Backend> factory) {
        Backend be = o.backend();
        DType f = DType.FLOAT32;
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("op on a closed tensor", be, CLOSED, b -> {
            Tensor x = t(b, f, 3, 7), out = t(b, f, 3, 7);
            x.close();
            return new Rejections.Call(() -> Elementwise.unary(UnaryOp.EXP, 0, 0, x, out), out);
        }, "[3, 7]", "close"));
        c.add(rejects("output closed", be, CLOSED, b -> {
            Tensor x = t(b, f, 3, 7), out = t(b, f, 3, 7);
            out.close();
            return new Rejections.Call(() -> Elementwise.binary(BinaryOp.ADD, x, x, out), x);
        }, "[3, 7]"));
        c.add(rejects("read-back of a closed tensor", be, CLOSED, b -> {
            Tensor x = t(b, f, 5);
            x.close();
            return new Rejections.Call(x::toFloatArray, null);
        }, "[5]"));
        c.add(rejects("view after its owner closed", be, CLOSED, b -> {
            Tensor owner = t(b, f, 4, 6);
            Tensor view = owner.rows(1, 3);
            Tensor out = t(b, f, 2, 6);
            owner.close();
            return new Rejections.Call(() -> Elementwise.copy(view, out), out);
        }, "[2, 6]", "owner"));
        c.add(dynamicTest("closing a view leaves its owner usable", () -> {
            try (Tensor owner = t(be, f, 4, 6)) {
                Tensor view = owner.block(1, 1, 2, 2);
                view.close();
                assertTrue(view.isClosed() && !owner.isClosed(), "only the view is closed");
                assertThrows(CLOSED, view::toFloatArray, "the closed view refuses use");
                assertEquals(24, owner.toFloatArray().length, "the owner still reads back");
            }
        }));
        c.add(dynamicTest("every tensor after its backend closed", () -> backendClosed(factory)));
        c.add(rejects("reshape to another size", be, SHAPE, b -> {
            Tensor x = t(b, f, 3, 4);
            return new Rejections.Call(() -> x.reshape(5, -1), null);
        }, "[3, 4]", "[5, -1]"));
        c.add(rejects("reshape of a strided view", be, SHAPE, b -> {
            Tensor x = t(b, f, 3, 4).block(0, 0, 3, 2);
            return new Rejections.Call(() -> x.reshape(6), null);
        }, "[3, 2]", "contiguous"));
        c.add(rejects("block out of range", be, SHAPE, b -> {
            Tensor x = t(b, f, 3, 4);
            return new Rejections.Call(() -> x.block(2, 1, 2, 2), null);
        }, "[3, 4]"));
        c.add(rejects("rows out of range", be, SHAPE, b -> {
            Tensor x = t(b, f, 3, 4);
            return new Rejections.Call(() -> x.rows(1, 4), null);
        }, "[3, 4]"));
        c.add(rejects("data of the wrong length", be, SHAPE, b -> new Rejections.Call(
                () -> Tensor.of(b, new float[11], 3, 4), null), "11", "[3, 4]"));
        c.add(rejects("host read-back in the wrong dtype", be, DTypeMismatchException.class, b -> {
            Tensor x = t(b, DType.INT32, 3);
            return new Rejections.Call(x::toFloatArray, null);
        }, "INT32"));
        if (!o.float64()) {
            c.add(rejects("FLOAT64 on a backend without it", be, DTypeMismatchException.class, b -> new Rejections.Call(
                    () -> Tensor.zeros(b, DType.FLOAT64, 3), null), "FLOAT64", be.name()));
        }
        return c.stream();
    }

    private static void backendClosed(Supplier<Backend> factory) {
        Backend fresh = factory.get();
        Tensor a = t(fresh, DType.FLOAT32, 3, 4), b = t(fresh, DType.FLOAT32, 4, 2);
        Tensor view = a.rows(0, 2);
        fresh.close();
        Throwable e = assertThrows(CLOSED, () -> MatMul.matmul(a, b), "matmul after the backend closed");
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains(fresh.name()),
                "names the tensor and the backend: " + e.getMessage());
        assertThrows(CLOSED, view::toFloatArray, "a view after the backend closed");
        assertThrows(CLOSED, () -> a.to(fresh), "Tensor.to after the backend closed");
        assertThrows(IllegalStateException.class, () -> Tensor.zeros(fresh, DType.FLOAT32, 2),
                "creating a tensor on a closed backend");
    }
}
