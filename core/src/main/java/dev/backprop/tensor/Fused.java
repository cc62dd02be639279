package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.UnaryOp;

/**
 * A dense layer's epilogue as one op: the bias add and the activation forward, and their backward form with
 * the bias gradient (see {@link Backend#biasActivation} and {@link Backend#biasActivationBackward}). The
 * matrices are contiguous {@code [rows, cols]} tensors of one floating dtype, the bias a contiguous row of
 * {@code cols} elements ({@code [cols]} or {@code [1, cols]}); the activation is one of
 * {@link Backend#FUSED_ACTIVATIONS}.
 */
public final class Fused {
    private Fused() {
    }

    /**
     * {@code y = act(z + bias)}, the bias broadcast along rows; {@code y} may be {@code z} itself.
     *
     * @param act  the activation, one of {@link Backend#FUSED_ACTIVATIONS}
     * @param z    the pre-activation {@code [rows, cols]}
     * @param bias the bias row
     * @param y    the output, {@code z}'s shape, written
     */
    public static void biasActivation(UnaryOp act, Tensor z, Tensor bias, Tensor y) {
        String name = "biasActivation " + act;
        Backend be = Checks.backendOf(name, z, bias, y);
        checkActivation(name, act);
        checkMatrices(name, z, bias, y);
        Checks.sameShape(name, z, y);
        Checks.disjointOrSame(name, z, y);
        Checks.disjoint(name, bias, y);
        if (z.size() == 0) {
            return;
        }
        Tensor.written(y);
        be.biasActivation(act, z.shape().dim(0), z.shape().dim(1), z.buffer(), z.offset(), bias.buffer(),
                bias.offset(), y.buffer(), y.offset());
    }

    /**
     * {@code dz = act'(z)·g} computed from the forward output {@code y}, and {@code dbias} = the column sums of
     * {@code dz} (written, not accumulated); {@code dz} may be {@code g} itself.
     *
     * @param act   the activation, one of {@link Backend#FUSED_ACTIVATIONS}
     * @param y     the forward output {@code [rows, cols]}
     * @param g     the gradient of {@code y}
     * @param dz    the gradient of the pre-activation, {@code y}'s shape, written
     * @param dbias the bias gradient, a row of {@code cols} elements, written
     */
    public static void biasActivationBackward(UnaryOp act, Tensor y, Tensor g, Tensor dz, Tensor dbias) {
        String name = "biasActivationBackward " + act;
        Backend be = Checks.backendOf(name, y, g, dz, dbias);
        checkActivation(name, act);
        checkMatrices(name, y, dbias, g, dz);
        Checks.sameShape(name, y, g);
        Checks.sameShape(name, y, dz);
        Checks.disjointOrSame(name, g, dz);
        Checks.disjoint(name, y, dz);
        for (Tensor t : new Tensor[] {y, g, dz}) {
            Checks.disjoint(name, t, dbias);
        }
        if (dbias.size() == 0) {
            return;
        }
        Tensor.written(dz, dbias);
        be.biasActivationBackward(act, y.shape().dim(0), y.shape().dim(1), y.buffer(), y.offset(), g.buffer(),
                g.offset(), dz.buffer(), dz.offset(), dbias.buffer(), dbias.offset());
    }

    private static void checkActivation(String name, UnaryOp act) {
        if (!Backend.FUSED_ACTIVATIONS.contains(act)) {
            throw new IllegalArgumentException(name + ": not a fused activation; use one of "
                    + Backend.FUSED_ACTIVATIONS);
        }
    }

    /** {@code m} a floating matrix, {@code row} a row of its columns, the others {@code m}'s dtype; all contiguous. */
    private static void checkMatrices(String name, Tensor m, Tensor row, Tensor... others) {
        Checks.floating(name, m);
        Checks.sameDType(name, m, row);
        for (Tensor t : others) {
            Checks.sameDType(name, m, t);
            Checks.contiguous(name, t);
        }
        Checks.contiguous(name, m);
        Checks.contiguous(name, row);
        Checks.rank(name, m, 2);
        int cols = m.shape().dim(1);
        if (row.size() != cols || row.shape().cols() != cols || row.shape().rank() > 2) {
            throw new ShapeMismatchException(name + ": bias is " + row.shape() + ", expected [" + cols + "] for "
                    + m.shape());
        }
    }
}
