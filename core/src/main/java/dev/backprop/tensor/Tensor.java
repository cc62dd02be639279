package dev.backprop.tensor;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.logging.Logger;

/**
 * An n-dimensional array living on one backend's device. Row-major. A tensor either owns its buffer or is a
 * <em>view</em> of another tensor's buffer ({@link #reshape}, {@link #rows}, {@link #block}): views copy
 * nothing, and closing a view leaves the buffer alone, while closing the owner frees it (a view used after
 * that fails with {@link ClosedTensorException}).
 *
 * <p>Tensors are {@link AutoCloseable}. A tensor created while a {@link Scope} is open on the current thread
 * belongs to that scope and is closed with it unless {@link Scope#keep kept}. A {@link Cleaner} frees the
 * buffer of an unreachable, unclosed tensor as a safety net only (and logs it).
 *
 * <p>Operations live in the family classes {@link MatMul}, {@link Elementwise}, {@link Reductions},
 * {@link Softmax} and {@link Updates}; this class holds creation, transfer and views.
 */
public final class Tensor implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Logger LOG = Logger.getLogger(Tensor.class.getName());

    /** The buffer shared by an owner and its views; freed once. */
    private static final class Storage implements Runnable {
        final Backend backend;
        final Buffer buffer;
        volatile boolean released;
        volatile boolean explicitlyClosed;
        /** Writes through the op facades ({@link #version()}); plain: a count lost to a race only weakens a check. */
        int version;

        Storage(Backend backend, Buffer buffer) {
            this.backend = backend;
            this.buffer = buffer;
        }

        @Override
        public void run() {
            if (!released) {
                released = true;
                if (!explicitlyClosed) {
                    LOG.fine(() -> "a " + buffer.dtype() + " tensor of " + buffer.size()
                            + " elements was never closed; freed by the cleaner");
                }
                if (!buffer.isReleased()) {
                    try {
                        backend.release(buffer);
                    } catch (RuntimeException e) {
                        LOG.fine("release after backend close: " + e);
                    }
                }
            }
        }
    }

    private final Storage storage;
    /** Reachable from the owner and every view: the cleaner frees the buffer once none is reachable. */
    private final Object anchor;
    private final Cleaner.Cleanable cleanable; // null for views
    private final long offset;
    private final Shape shape;
    private final int rowStride;
    private volatile boolean closed;

    /** An owner of a fresh buffer. */
    private Tensor(Storage storage, Shape shape) {
        this.storage = storage;
        this.anchor = new Object();
        this.cleanable = CLEANER.register(anchor, storage);
        this.offset = 0;
        this.shape = shape;
        this.rowStride = shape.cols();
        Scope.register(this);
    }

    /** A view of {@code base}'s buffer. */
    private Tensor(Tensor base, long offset, Shape shape, int rowStride) {
        this.storage = base.storage;
        this.anchor = base.anchor;
        this.cleanable = null;
        this.offset = offset;
        this.shape = shape;
        this.rowStride = rowStride;
        Scope.register(this);
    }

    // ---- creation -------------------------------------------------------------------------------------

    /**
     * A new tensor with unspecified contents.
     *
     * @param backend where it lives
     * @param dtype   its element type
     * @param shape   its shape
     * @return the tensor, owned by the current {@link Scope} if one is open
     */
    public static Tensor empty(Backend backend, DType dtype, Shape shape) {
        if (dtype == DType.FLOAT64 && !backend.capabilities().float64()) {
            throw new DTypeMismatchException("backend '" + backend.name() + "' does not support FLOAT64 ("
                    + backend.device().name() + ")");
        }
        Buffer buffer = backend.allocate(dtype, shape.size());
        return new Tensor(new Storage(backend, buffer), shape);
    }

    /**
     * A new tensor with unspecified contents.
     *
     * @param backend where it lives
     * @param dtype   its element type
     * @param dims    its dimensions
     * @return the tensor
     */
    public static Tensor empty(Backend backend, DType dtype, int... dims) {
        return empty(backend, dtype, Shape.of(dims));
    }

    /**
     * A new tensor filled with zeros.
     *
     * @param backend where it lives
     * @param dtype   its element type
     * @param dims    its dimensions
     * @return the tensor
     */
    public static Tensor zeros(Backend backend, DType dtype, int... dims) {
        return full(backend, dtype, 0.0, dims);
    }

    /**
     * A new tensor with every element {@code value}.
     *
     * @param backend where it lives
     * @param dtype   its element type
     * @param value   every element's value
     * @param dims    its dimensions
     * @return the tensor
     * @throws IllegalArgumentException for an INT32 tensor and a value that is not a whole number (checked before
     *                                  anything is allocated)
     */
    public static Tensor full(Backend backend, DType dtype, double value, int... dims) {
        if (dtype == DType.INT32 && value != Math.rint(value)) {
            throw new IllegalArgumentException("full: INT32 tensor " + Arrays.toString(dims) + " cannot hold " + value);
        }
        Tensor t = empty(backend, dtype, Shape.of(dims));
        try {
            backend.fill(t.buffer(), 0, t.size(), value);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /**
     * A FLOAT32 tensor holding {@code data} (row-major), of the given dimensions.
     *
     * @param backend where it lives
     * @param data    the elements, row-major (copied)
     * @param dims    its dimensions, whose product is {@code data.length}
     * @return the tensor
     */
    public static Tensor of(Backend backend, float[] data, int... dims) {
        Shape s = checkedShape(data.length, dims);
        Tensor t = empty(backend, DType.FLOAT32, s);
        backend.upload(data, 0, t.buffer(), 0, data.length);
        return t;
    }

    /**
     * A FLOAT64 tensor holding {@code data}.
     *
     * @param backend where it lives
     * @param data    the elements, row-major (copied)
     * @param dims    its dimensions, whose product is {@code data.length}
     * @return the tensor
     */
    public static Tensor of(Backend backend, double[] data, int... dims) {
        Shape s = checkedShape(data.length, dims);
        Tensor t = empty(backend, DType.FLOAT64, s);
        backend.upload(data, 0, t.buffer(), 0, data.length);
        return t;
    }

    /**
     * An INT32 tensor holding {@code data}.
     *
     * @param backend where it lives
     * @param data    the elements, row-major (copied)
     * @param dims    its dimensions, whose product is {@code data.length}
     * @return the tensor
     */
    public static Tensor of(Backend backend, int[] data, int... dims) {
        Shape s = checkedShape(data.length, dims);
        Tensor t = empty(backend, DType.INT32, s);
        backend.upload(data, 0, t.buffer(), 0, data.length);
        return t;
    }

    private static Shape checkedShape(int length, int[] dims) {
        Shape s = dims.length == 0 ? Shape.of(length) : Shape.of(dims);
        if (s.size() != length) {
            throw new ShapeMismatchException("data has " + length + " elements but shape " + s + " needs "
                    + s.size());
        }
        return s;
    }

    // ---- facts ----------------------------------------------------------------------------------------

    /** {@return the backend holding the elements} */
    public Backend backend() {
        return storage.backend;
    }

    /** {@return the element type} */
    public DType dtype() {
        return storage.buffer.dtype();
    }

    /** {@return the dimensions} */
    public Shape shape() {
        return shape;
    }

    /** {@return the number of elements} */
    public long size() {
        return shape.size();
    }

    /** {@return the backend buffer (shared with views)} Checks that the tensor is open. */
    public Buffer buffer() {
        checkOpen();
        return storage.buffer;
    }

    /** {@return the offset of element 0 in {@link #buffer()}, in elements} */
    public long offset() {
        return offset;
    }

    /** {@return elements between the starts of consecutive rows of the matrix view ({@code cols} when contiguous)} */
    public int rowStride() {
        return rowStride;
    }

    /** {@return whether the elements are one dense row-major range of the buffer} */
    public boolean isContiguous() {
        return rowStride == shape.cols() || shape.rows() <= 1;
    }

    /** {@return whether this tensor, its owner or its backend has been closed} */
    public boolean isClosed() {
        return closed || storage.released || storage.buffer.isReleased();
    }

    /**
     * Checks that the tensor can be used.
     *
     * @throws ClosedTensorException if {@link #isClosed()}
     */
    public void checkOpen() {
        if (closed) {
            throw new ClosedTensorException("tensor " + shape + " " + dtype() + " used after close() (a Tape or "
                    + "Scope closes the tensors made while it was open: read values before it closes)");
        }
        if (storage.released || storage.buffer.isReleased()) {
            throw new ClosedTensorException("tensor " + shape + " " + dtype()
                    + " used after its buffer was freed (its owner tensor or backend '" + storage.backend.name()
                    + "' was closed)");
        }
    }

    /**
     * How many times an op facade has written into this tensor's buffer (shared with its owner and views), as
     * PyTorch's {@code _version}. The autodiff compares it with the count an op saw when it was recorded, so a
     * backward pass refuses values that were changed in place after the forward pass read them. A write made
     * through the {@link Backend} directly counts when its writer calls {@link #incrementVersion()}, as a
     * {@link dev.backprop.data.BatchLoader} does for the batch tensors it uploads into again and again.
     *
     * @return the write count; it only grows (wrapping around after 2³² writes)
     */
    public int version() {
        return storage.version;
    }

    /**
     * Counts a write into this tensor's buffer made through the {@link Backend} directly (an upload, say), which
     * {@link #version()} does not see by itself, as PyTorch's {@code torch.autograd.graph.increment_version}: a
     * backward pass then refuses the ops recorded before the write that read or made this tensor.
     */
    public void incrementVersion() {
        storage.version++;
    }

    /** Counts a write into {@code t}'s buffer (see {@link #version()}); null is ignored. */
    static void written(Tensor t) {
        if (t != null) {
            t.incrementVersion();
        }
    }

    /** {@link #written(Tensor)} for two outputs of one op. */
    static void written(Tensor a, Tensor b) {
        written(a);
        written(b);
    }

    /** {@link #written(Tensor)} for three outputs of one op. */
    static void written(Tensor a, Tensor b, Tensor c) {
        written(a);
        written(b);
        written(c);
    }

    // ---- host transfer ---------------------------------------------------------------------------------

    /** {@return the elements as floats (FLOAT32 only), row-major; waits for queued work} */
    public float[] toFloatArray() {
        requireHostType(DType.FLOAT32);
        float[] out = new float[Math.toIntExact(size())];
        forEachRow((row, dstOff, len) -> backend().download(buffer(), rowStart(row), out, dstOff, len));
        return out;
    }

    /** {@return the elements as doubles (FLOAT64 only)} */
    public double[] toDoubleArray() {
        requireHostType(DType.FLOAT64);
        double[] out = new double[Math.toIntExact(size())];
        forEachRow((row, dstOff, len) -> backend().download(buffer(), rowStart(row), out, dstOff, len));
        return out;
    }

    /** {@return the elements as ints (INT32 only)} */
    public int[] toIntArray() {
        requireHostType(DType.INT32);
        int[] out = new int[Math.toIntExact(size())];
        forEachRow((row, dstOff, len) -> backend().download(buffer(), rowStart(row), out, dstOff, len));
        return out;
    }

    /** {@return the elements converted to doubles, whatever the dtype} */
    public double[] toDoubles() {
        return switch (dtype()) {
            case FLOAT64 -> toDoubleArray();
            case FLOAT32 -> {
                float[] f = toFloatArray();
                double[] d = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    d[i] = f[i];
                }
                yield d;
            }
            case INT32 -> Arrays.stream(toIntArray()).asDoubleStream().toArray();
        };
    }

    /** {@return the single element of a one-element tensor, as a double} */
    public double item() {
        if (size() != 1) {
            throw new ShapeMismatchException("item() needs exactly one element, tensor is " + shape);
        }
        return toDoubles()[0];
    }

    private interface RowCopy {
        void copy(int row, int dstOffset, int length);
    }

    private void forEachRow(RowCopy c) {
        checkOpen();
        if (size() == 0) {
            return;
        }
        if (isContiguous()) {
            c.copy(0, 0, Math.toIntExact(size()));
        } else {
            for (int r = 0; r < shape.rows(); r++) {
                c.copy(r, r * shape.cols(), shape.cols());
            }
        }
    }

    private long rowStart(int row) {
        return offset + (long) row * rowStride;
    }

    private void requireHostType(DType t) {
        if (dtype() != t) {
            throw new DTypeMismatchException("tensor " + shape + " is " + dtype() + ", not " + t);
        }
    }

    /**
     * A contiguous copy on {@code target} (which may be this tensor's backend).
     *
     * @param target the backend to copy to
     * @return the copy
     */
    public Tensor to(Backend target) {
        checkOpen();
        if (target == backend() && isContiguous()) {
            Tensor t = empty(target, dtype(), shape);
            target.copy(buffer(), offset, t.buffer(), 0, size());
            return t;
        }
        return switch (dtype()) {
            case FLOAT32 -> of(target, toFloatArray(), shape.dims());
            case FLOAT64 -> of(target, toDoubleArray(), shape.dims());
            case INT32 -> of(target, toIntArray(), shape.dims());
        };
    }

    /** {@return a contiguous copy on the same backend} */
    public Tensor copy() {
        return to(backend());
    }

    // ---- views ----------------------------------------------------------------------------------------

    /**
     * A view with other dimensions and the same elements; one dimension may be {@code -1} (inferred). The
     * tensor must be contiguous.
     *
     * @param dims the new dimensions
     * @return the view
     */
    public Tensor reshape(int... dims) {
        checkOpen();
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new ShapeMismatchException("reshape " + shape + " to " + Arrays.toString(dims)
                            + ": only one dimension may be -1");
                }
                infer = i;
            } else {
                known *= d[i];
            }
        }
        boolean inferred = infer < 0 || (known > 0 && size() % known == 0);
        if (infer >= 0 && inferred) {
            d[infer] = Math.toIntExact(size() / known);
        }
        // Checked before Shape.of, which would reject a -1 left uninferred as a negative dimension.
        if (!inferred || Arrays.stream(d).anyMatch(x -> x < 0) || Shape.of(d).size() != size()) {
            throw new ShapeMismatchException("cannot reshape " + shape + " (" + size() + " elements) to "
                    + Arrays.toString(dims));
        }
        Shape s = Shape.of(d);
        if (!isContiguous()) {
            throw new ShapeMismatchException("reshape needs a contiguous tensor; " + shape + " is a strided view"
                    + " (use copy() first)");
        }
        return new Tensor(this, offset, s, s.cols());
    }

    /**
     * A view of rows {@code [from, to)} along the first dimension (any rank ≥ 1); contiguous.
     *
     * @param from the first row
     * @param to   the row after the last
     * @return the view
     */
    public Tensor rows(int from, int to) {
        checkOpen();
        if (shape.rank() == 0) {
            throw new ShapeMismatchException("rows() of a scalar");
        }
        int n = shape.dim(0);
        if (from < 0 || to > n || from > to) {
            throw new ShapeMismatchException("rows [" + from + ", " + to + ") out of range for " + shape);
        }
        if (!isContiguous()) {
            if (shape.rank() != 2) {
                throw new ShapeMismatchException("rows() of a strided view needs rank 2, got " + shape);
            }
            return new Tensor(this, offset + (long) from * rowStride, Shape.of(to - from, shape.cols()),
                    rowStride);
        }
        long per = n == 0 ? 0 : size() / n;
        int[] d = shape.dims();
        d[0] = to - from;
        Shape s = Shape.of(d);
        return new Tensor(this, offset + from * per, s, s.cols());
    }

    /**
     * A 2-D view of {@code rows × cols} elements starting at ({@code row}, {@code col}) of this rank-2
     * tensor; not contiguous unless it spans whole rows. GEMM accepts such views; most other ops need
     * contiguous operands.
     *
     * @param row  the first row
     * @param col  the first column
     * @param rows rows in the view
     * @param cols columns in the view
     * @return the view
     */
    public Tensor block(int row, int col, int rows, int cols) {
        checkOpen();
        if (shape.rank() != 2) {
            throw new ShapeMismatchException("block() needs a rank-2 tensor, got " + shape);
        }
        if (row < 0 || col < 0 || rows < 0 || cols < 0 || row + rows > shape.dim(0) || col + cols > shape.dim(1)) {
            throw new ShapeMismatchException("block at (" + row + ", " + col + ") of size [" + rows + ", " + cols
                    + "] does not fit in " + shape);
        }
        return new Tensor(this, offset + (long) row * rowStride + col, Shape.of(rows, cols), rowStride);
    }

    // ---- lifetime --------------------------------------------------------------------------------------

    /**
     * Closes this tensor. For an owner this frees the buffer (views of it become unusable); for a view it
     * only marks the view closed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cleanable != null) {
            storage.explicitlyClosed = true;
            cleanable.clean();
        }
    }

    /** {@return whether this tensor owns its buffer (false for views)} */
    public boolean isOwner() {
        return cleanable != null;
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype() + " on " + storage.backend.name() + (isClosed() ? " (closed)" : "");
    }
}
