package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.tensor.BackendMismatchException;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Fused;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;
import dev.backprop.tensor.Updates;
import org.junit.jupiter.api.DynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.backprop.contract.OpErrorCases.t;
import static dev.backprop.contract.Rejections.rejects;

/**
 * Bad input to the fused ops through their facades: an activation that is not fused, shapes that do not fit
 * (the message names both), dtypes, operands on another backend, overlapping outputs; for the multi-tensor
 * updates a bad tensor anywhere in the list (which must leave the earlier tensors unchanged: nothing is
 * updated) and two tensors sharing elements.
 */
final class FusedErrorCases {
    private FusedErrorCases() {
    }

    private static final Class<ShapeMismatchException> SHAPE = ShapeMismatchException.class;
    private static final Class<DTypeMismatchException> DTYPE = DTypeMismatchException.class;
    private static final Class<BackendMismatchException> BACKEND = BackendMismatchException.class;
    private static final Class<IllegalArgumentException> ARG = IllegalArgumentException.class;
    private static final DType F = DType.FLOAT32;

    static Stream<DynamicTest> cases(Oracle o) {
        List<DynamicTest> c = new ArrayList<>();
        c.addAll(biasActivation(o));
        c.addAll(updates(o));
        return c.stream();
    }

    private static List<DynamicTest> biasActivation(Oracle o) {
        Backend be = o.backend(), other = o.reference();
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("biasActivation with an activation that is not fused", be, ARG, b -> {
            Tensor z = t(b, F, 3, 5), bias = t(b, F, 5), y = t(b, F, 3, 5);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.THRESHOLD, z, bias, y), y);
        }, "THRESHOLD", "RELU"));
        c.add(rejects("biasActivation bias of the wrong length", be, SHAPE, b -> {
            Tensor z = t(b, F, 3, 5), bias = t(b, F, 4), y = t(b, F, 3, 5);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.RELU, z, bias, y), y);
        }, "[4]", "[3, 5]"));
        c.add(rejects("biasActivation output of another shape", be, SHAPE, b -> {
            Tensor z = t(b, F, 3, 5), bias = t(b, F, 5), y = t(b, F, 5, 3);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.RELU, z, bias, y), y);
        }, "[3, 5]", "[5, 3]"));
        c.add(rejects("biasActivation rank-1 input", be, SHAPE, b -> {
            Tensor z = t(b, F, 15), bias = t(b, F, 15), y = t(b, F, 15);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.RELU, z, bias, y), y);
        }, "rank 2", "[15]"));
        c.add(rejects("biasActivation INT32 bias", be, DTYPE, b -> {
            Tensor z = t(b, F, 3, 5), bias = t(b, DType.INT32, 5), y = t(b, F, 3, 5);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.RELU, z, bias, y), y);
        }, "INT32", "FLOAT32"));
        c.add(rejects("biasActivation output partly overlapping the input", be, ARG, b -> {
            Tensor whole = t(b, F, 30), bias = t(b, F, 5);
            Tensor z = whole.rows(0, 15).reshape(3, 5), y = whole.rows(5, 20).reshape(3, 5);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.SIGMOID, z, bias, y), whole);
        }, "overlaps"));
        c.add(rejects("biasActivation bias on another backend", be, BACKEND, b -> {
            Tensor z = t(b, F, 3, 5), bias = t(other, F, 5), y = t(b, F, 3, 5);
            return new Rejections.Call(() -> Fused.biasActivation(UnaryOp.RELU, z, bias, y), y);
        }, "different backends"));
        c.add(rejects("biasActivationBackward gradient of another shape", be, SHAPE, b -> {
            Tensor y = t(b, F, 3, 5), g = t(b, F, 3, 4), dz = t(b, F, 3, 5), db = t(b, F, 5);
            return new Rejections.Call(() -> Fused.biasActivationBackward(UnaryOp.TANH, y, g, dz, db), dz);
        }, "[3, 5]", "[3, 4]"));
        c.add(rejects("biasActivationBackward bias gradient of the wrong length", be, SHAPE, b -> {
            Tensor y = t(b, F, 3, 5), g = t(b, F, 3, 5), dz = t(b, F, 3, 5), db = t(b, F, 3);
            return new Rejections.Call(() -> Fused.biasActivationBackward(UnaryOp.RELU, y, g, dz, db), dz);
        }, "[3]", "[3, 5]"));
        c.add(rejects("biasActivationBackward dz aliasing y", be, ARG, b -> {
            Tensor y = t(b, F, 3, 5), g = t(b, F, 3, 5), db = t(b, F, 5);
            return new Rejections.Call(() -> Fused.biasActivationBackward(UnaryOp.RELU, y, g, y, db), y);
        }, "overlaps"));
        c.add(rejects("biasActivationBackward bias gradient inside dz", be, ARG, b -> {
            Tensor y = t(b, F, 3, 5), g = t(b, F, 3, 5), dz = t(b, F, 3, 5);
            Tensor db = dz.rows(0, 1).reshape(5);
            return new Rejections.Call(() -> Fused.biasActivationBackward(UnaryOp.RELU, y, g, dz, db), dz);
        }, "overlaps"));
        return c;
    }

    private static List<DynamicTest> updates(Oracle o) {
        Backend be = o.backend(), other = o.reference();
        List<DynamicTest> c = new ArrayList<>();
        c.add(rejects("sgdUpdateAll second gradient of another size", be, SHAPE, b -> {
            Tensor p0 = t(b, F, 4), p1 = t(b, F, 10);
            List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(p0, t(b, F, 4), null),
                    new Updates.SgdTensors(p1, t(b, F, 11), null));
            return new Rejections.Call(() -> Updates.sgdUpdateAll(l, 0.1, 0, 0, false), p0);
        }, "tensor 1", "[10]", "[11]"));
        c.add(rejects("sgdUpdateAll two parameters sharing elements", be, ARG, b -> {
            Tensor whole = t(b, F, 12);
            List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(whole.rows(0, 8), t(b, F, 8), null),
                    new Updates.SgdTensors(whole.rows(6, 12), t(b, F, 6), null));
            return new Rejections.Call(() -> Updates.sgdUpdateAll(l, 0.1, 0, 0, false), whole);
        }, "tensor 0", "tensor 1", "share"));
        c.add(rejects("sgdUpdateAll a gradient that is another tensor's parameter", be, ARG, b -> {
            Tensor p0 = t(b, F, 5), p1 = t(b, F, 5);
            List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(p0, t(b, F, 5), null),
                    new Updates.SgdTensors(p1, p0, null));
            return new Rejections.Call(() -> Updates.sgdUpdateAll(l, 0.1, 0, 0, false), p0);
        }, "share"));
        c.add(rejects("sgdUpdateAll momentum without the second velocity", be, ARG, b -> {
            Tensor p0 = t(b, F, 4);
            List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(p0, t(b, F, 4), t(b, F, 4)),
                    new Updates.SgdTensors(t(b, F, 3), t(b, F, 3), null));
            return new Rejections.Call(() -> Updates.sgdUpdateAll(l, 0.1, 0.9, 0, false), p0);
        }, "velocity", "tensor 1"));
        c.add(rejects("sgdUpdateAll tensors on two backends", be, BACKEND, b -> {
            Tensor p0 = t(b, F, 4);
            List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(p0, t(b, F, 4), null),
                    new Updates.SgdTensors(t(other, F, 3), t(other, F, 3), null));
            return new Rejections.Call(() -> Updates.sgdUpdateAll(l, 0.1, 0, 0, false), p0);
        }, "different backends"));
        c.add(rejects("sgdUpdateAll infinite learning rate", be, ARG, b -> {
            Tensor p0 = t(b, F, 4);
            List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(p0, t(b, F, 4), null));
            return new Rejections.Call(() -> Updates.sgdUpdateAll(l, Double.POSITIVE_INFINITY, 0, 0, false), p0);
        }, "lr", "Infinity"));
        if (o.float64()) {
            c.add(rejects("sgdUpdateAll tensors of two dtypes", be, DTYPE, b -> {
                Tensor p0 = t(b, F, 4);
                List<Updates.SgdTensors> l = List.of(new Updates.SgdTensors(p0, t(b, F, 4), null),
                        new Updates.SgdTensors(t(b, DType.FLOAT64, 3), t(b, DType.FLOAT64, 3), null));
                return new Rejections.Call(() -> Updates.sgdUpdateAll(l, 0.1, 0, 0, false), p0);
            }, "FLOAT32", "FLOAT64"));
        }
        c.add(rejects("adamUpdateAll step 0", be, ARG, b -> {
            Tensor p0 = t(b, F, 4);
            List<Updates.AdamTensors> l = List.of(new Updates.AdamTensors(p0, t(b, F, 4), t(b, F, 4), t(b, F, 4)));
            return new Rejections.Call(() -> Updates.adamUpdateAll(l, 1e-3, 0.9, 0.999, 1e-8, 0, false, 0), p0);
        }, "step"));
        c.add(rejects("adamUpdateAll second m sharing the first v", be, ARG, b -> {
            Tensor p0 = t(b, F, 4), v0 = t(b, F, 4);
            List<Updates.AdamTensors> l = List.of(new Updates.AdamTensors(p0, t(b, F, 4), t(b, F, 4), v0),
                    new Updates.AdamTensors(t(b, F, 4), t(b, F, 4), v0, t(b, F, 4)));
            return new Rejections.Call(() -> Updates.adamUpdateAll(l, 1e-3, 0.9, 0.999, 1e-8, 0, false, 1), p0);
        }, "tensor 0", "tensor 1", "share"));
        c.add(rejects("adamUpdateAll second state of another size", be, SHAPE, b -> {
            Tensor p0 = t(b, F, 4);
            List<Updates.AdamTensors> l = List.of(new Updates.AdamTensors(p0, t(b, F, 4), t(b, F, 4), t(b, F, 4)),
                    new Updates.AdamTensors(t(b, F, 2, 5), t(b, F, 2, 5), t(b, F, 2, 5), t(b, F, 9)));
            return new Rejections.Call(() -> Updates.adamUpdateAll(l, 1e-3, 0.9, 0.999, 1e-8, 0, true, 1), p0);
        }, "tensor 1", "[2, 5]", "[9]"));
        return c;
    }
}
