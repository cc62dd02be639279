package dev.backprop.autograd;

import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.tensor.BackendMismatchException;
import dev.backprop.tensor.DTypeMismatchException;
import dev.backprop.tensor.Elementwise;
import dev.backprop.tensor.MatMul;
import dev.backprop.tensor.Reductions;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

import java.util.Map;

/**
 * Where a {@link BackwardFunction} puts the gradients of its op's inputs. Each call <em>adds</em> a contribution
 * to ∂L/∂input: into the persistent gradient of a leaf, or into the pending gradient of an intermediate (made on
 * the first contribution, summed on later ones), so a variable used several times gets the sum of all its
 * uses. Contributions for inputs that do not {@linkplain #wants want} a gradient are dropped.
 *
 * <p>A contribution must have the input's number of elements (its shape may differ, e.g. {@code [N]} for an
 * input {@code [N, 1]}). {@link #add} borrows the tensor; {@link #give} takes ownership of a fresh one (it is
 * kept as the pending gradient or closed), which saves a copy.
 */
public final class Gradients {
    /** A pending gradient and the tensor that owns its buffer (the gradient may be a reshaped view of it). */
    record Pending(Tensor grad, Tensor owner) {
        void close() {
            grad.close();
            owner.close();
        }
    }

    private final Node node;
    private final Map<Variable, Pending> pending;
    /** Leaf to the index of the node adding its last contribution, when a listener is set; else null. */
    private final Map<Variable, Integer> lastUse;
    /** Whether the gradient of the op's output is the pass's own, freed after the rule: the rule may write it. */
    private final boolean outputGradOwned;

    Gradients(Node node, Map<Variable, Pending> pending, Map<Variable, Integer> lastUse, boolean outputGradOwned) {
        this.node = node;
        this.pending = pending;
        this.lastUse = lastUse;
        this.outputGradOwned = outputGradOwned;
    }

    /**
     * Whether the rule may overwrite the gradient of its op's output (it belongs to the pass and is freed after
     * the rule; the caller's upstream gradient is only borrowed).
     */
    boolean outputGradWritable() {
        return outputGradOwned;
    }

    /**
     * The gradient tensor of leaf input {@code i} when it was zeroed since its last contribution, for a rule that
     * writes its contribution straight into it (the whole tensor, next, with no other contribution in between);
     * else null, and the rule adds its contribution as usual.
     *
     * @param i the input's position
     * @return the leaf's gradient tensor to overwrite, or null
     */
    Tensor overwritable(int i) {
        Variable v = input(i);
        return wants(i) && v.isLeaf() && v.takeStale() ? v.gradForUpdate() : null;
    }

    /** The tape being replayed. */
    Tape tape() {
        return node.tape();
    }

    /** {@return the number of inputs of the op} */
    public int inputCount() {
        return node.inputs().length;
    }

    /**
     * An input of the op.
     *
     * @param i the input's position
     * @return the input, or null for an absent optional input
     */
    public Variable input(int i) {
        return node.inputs()[i];
    }

    /**
     * Whether an input needs a gradient; a rule may skip the work for inputs that do not.
     *
     * @param i the input's position
     * @return true when a contribution to it is kept
     */
    public boolean wants(int i) {
        Variable v = node.inputs()[i];
        return v != null && v.requiresGrad();
    }

    /**
     * Adds a contribution to ∂L/∂input {@code i}.
     *
     * @param i            the input's position
     * @param contribution the contribution, the input's number of elements (borrowed, not modified)
     */
    public void add(int i, Tensor contribution) {
        if (!wants(i)) {
            return;
        }
        Variable v = input(i);
        checkSize(i, contribution);
        Tensor target = target(v);
        if (target == null) {
            adopt(v, contribution.copy());
        } else {
            accumulate(v, contribution, target);
        }
    }

    /**
     * Adds a contribution to ∂L/∂input {@code i}, taking ownership of it (it must not be used after).
     *
     * @param i            the input's position
     * @param contribution the contribution, the input's number of elements
     */
    public void give(int i, Tensor contribution) {
        if (!wants(i)) {
            contribution.close();
            return;
        }
        Variable v = input(i);
        try {
            checkSize(i, contribution);
        } catch (RuntimeException e) {
            contribution.close();
            throw e;
        }
        Tensor target = target(v);
        if (target != null) {
            try {
                accumulate(v, contribution, target);
            } finally {
                contribution.close();
            }
        } else {
            adopt(v, contribution);
        }
    }

    /**
     * Writes (into a leaf gradient zeroed since its last contribution) or adds {@code contribution} into
     * {@code target}, viewed in the target's shape: a contribution may come in another shape of as many elements.
     */
    private static void accumulate(Variable v, Tensor contribution, Tensor target) {
        boolean view = !contribution.shape().equals(target.shape()) && contribution.isContiguous();
        Tensor c = view ? contribution.reshape(target.shape().dims()) : contribution;
        try {
            if (overwrites(v)) {
                Elementwise.copy(c, target);
            } else {
                Elementwise.axpy(1.0, c, target);
            }
        } finally {
            if (view) {
                c.close();
            }
        }
    }

    /**
     * Adds {@code op(a)·op(b)} to ∂L/∂input {@code i} (rank-2 or batched rank-3 operands): one GEMM with
     * {@code beta = 1} straight into an existing gradient ({@code beta = 0} into a leaf gradient zeroed since
     * the last pass), so a weight gradient needs no temporary.
     *
     * @param i      the input's position
     * @param transA whether {@code op(a)} is {@code aᵀ}
     * @param transB whether {@code op(b)} is {@code bᵀ}
     * @param a      the left operand
     * @param b      the right operand
     */
    public void gemm(int i, boolean transA, boolean transB, Tensor a, Tensor b) {
        if (!wants(i)) {
            return;
        }
        Tensor target = target(input(i));
        if (target != null) {
            int block = rowBlock(i, target, a);
            double beta = overwrites(input(i)) ? 0.0 : 1.0;
            if (block > 0) {
                gemmInRowBlocks(input(i), block, transA, transB, a, b, beta, target);
            } else {
                MatMul.gemm(transA, transB, 1.0, a, b, beta, target);
            }
        } else {
            give(i, MatMul.matmul(a, b, transA, transB));
        }
    }

    /**
     * Rows per block for the listener when this product completes input {@code i}'s gradient (a rank-2 leaf used
     * once by this op, whose last contribution this is), else 0.
     */
    private int rowBlock(int i, Tensor target, Tensor a) {
        GradientListener l = lastUse == null ? null : node.tape().listener();
        Variable v = input(i);
        if (l == null || !v.isLeaf() || target.shape().rank() != 2 || a.shape().rank() != 2
                || !Integer.valueOf(node.index()).equals(lastUse.get(v))) {
            return 0;
        }
        for (int j = 0; j < inputCount(); j++) {
            if (j != i && input(j) == v) {
                return 0;
            }
        }
        int block = l.gemmRowBlock(v);
        return block > 0 && block < target.shape().dim(0) ? block : 0;
    }

    /** The accumulating product in blocks of result rows, telling the listener after each block. */
    private void gemmInRowBlocks(Variable v, int block, boolean transA, boolean transB, Tensor a, Tensor b,
                                 double beta, Tensor target) {
        GradientListener l = node.tape().listener();
        int rows = target.shape().dim(0);
        for (int r0 = 0; r0 < rows; r0 += block) {
            int r1 = Math.min(rows, r0 + block);
            // Rows of op(A): rows of A, or columns of A when it is transposed (a strided view).
            try (Tensor aPart = transA ? a.block(0, r0, a.shape().dim(0), r1 - r0) : a.rows(r0, r1);
                 Tensor cPart = target.rows(r0, r1)) {
                MatMul.gemm(transA, transB, 1.0, aPart, b, beta, cPart);
            }
            l.rowsReady(v, r0, r1);
        }
    }

    /**
     * Adds a gradient computed for the broadcast result of an op to input {@code i}, first summing it over the
     * rows, columns or elements that the input was broadcast across (a bias {@code [C]} against a result
     * {@code [R, C]} gets the column sums).
     *
     * @param i     the input's position
     * @param full  the gradient of the op's broadcast result
     * @param owned whether this call takes ownership of {@code full}
     */
    public void addReduced(int i, Tensor full, boolean owned) {
        Variable v = input(i);
        if (!wants(i) || v.shape().size() == full.size()) {
            if (owned) {
                give(i, full);
            } else {
                add(i, full);
            }
            return;
        }
        Tensor reduced;
        try {
            ReduceAxis axis = broadcastAxis(v.shape(), full.shape());
            if (v.isLeaf() && overwrites(v)) {
                // A zeroed leaf gradient: the sums go straight into it, no temporary and no second pass.
                Reductions.reduce(ReduceOp.SUM, axis, full, v.gradForUpdate());
                return;
            }
            // In the input's own shape: the sums of a [2, 3, 4] result's rows are a [2, 3, 1] column's gradient.
            reduced = Tensor.empty(full.backend(), full.dtype(), v.shape());
            try {
                Reductions.reduce(ReduceOp.SUM, axis, full, reduced);
            } catch (RuntimeException e) {
                reduced.close();
                throw e;
            }
        } finally {
            if (owned) {
                full.close();
            }
        }
        give(i, reduced);
    }

    private ReduceAxis broadcastAxis(Shape input, Shape result) {
        int rows = result.rows(), cols = result.cols();
        if (input.size() == 1) {
            return ReduceAxis.ALL;
        }
        if (input.size() == cols && input.cols() == cols) {
            return ReduceAxis.PER_COLUMN;
        }
        if (input.size() == rows && input.cols() == 1) {
            return ReduceAxis.PER_ROW;
        }
        throw new ShapeMismatchException(node.name() + " backward: input " + input
                + " is not a row, column or scalar broadcast of the result " + result);
    }

    private Tensor target(Variable v) {
        if (v.isLeaf()) {
            return v.gradForUpdate();
        }
        Pending p = pending.get(v);
        return p == null ? null : p.grad();
    }

    /**
     * Whether the next write to leaf {@code v}'s gradient must overwrite it (it was zeroed lazily, see
     * {@link Variable#zeroGrad()}); the caller then writes the whole tensor. Intermediates never overwrite.
     */
    private static boolean overwrites(Variable v) {
        return v.isLeaf() && v.takeStale();
    }

    private void adopt(Variable v, Tensor owner) {
        Tensor g = owner.shape().equals(v.shape()) ? owner : owner.reshape(v.shape().dims());
        pending.put(v, new Pending(g, owner));
    }

    private void checkSize(int i, Tensor contribution) {
        Variable v = input(i);
        if (contribution.size() != v.shape().size()) {
            throw new ShapeMismatchException(node.name() + " backward: gradient for input " + i + " is "
                    + contribution.shape() + " but the input is " + v.shape());
        }
    }

    /** Checks an upstream gradient passed to {@link Variable#backward(Tensor)}. */
    static void checkUpstream(Variable v, Tensor upstream) {
        upstream.checkOpen();
        if (upstream.size() != v.shape().size()) {
            throw new ShapeMismatchException("backward: upstream gradient is " + upstream.shape()
                    + " but the output is " + v.shape());
        }
        if (upstream.backend() != v.backend()) {
            throw new BackendMismatchException("backward: upstream gradient " + upstream.shape() + " lives on "
                    + "backend '" + upstream.backend().name() + "' but the output " + v.shape() + " on another ('"
                    + v.backend().name() + "'); move it with Tensor.to(backend)");
        }
        if (upstream.dtype() != v.dtype()) {
            throw new DTypeMismatchException("backward: upstream gradient is " + upstream.dtype()
                    + " but the output is " + v.dtype());
        }
        if (!upstream.isContiguous()) {
            throw new ShapeMismatchException("backward: upstream gradient " + upstream.shape()
                    + " is a strided view; copy() it first");
        }
    }
}
