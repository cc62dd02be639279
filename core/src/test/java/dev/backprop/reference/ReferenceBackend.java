package dev.backprop.reference;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceOutOfMemoryException;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.MemoryStats;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.Window2d;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The float64 truth every backend is tested against: a naive, obviously correct {@link Backend} in plain
 * loops. Every buffer is a {@code double[]}; every op reads its inputs, computes in float64 and rounds once
 * on store to the output's dtype (float for FLOAT32, wrapping int for INT32). It shares no code with any real
 * backend and is deliberately slow.
 *
 * <p>Unlike real backends it checks what core promises (buffers are its own and live, ranges inside their
 * buffers, dtypes as the op needs), so a facade that forgets a check fails loudly here instead of giving a
 * wrong answer. Every method is {@code synchronized}: the backend is thread-safe. It is not registered with
 * {@link java.util.ServiceLoader}; tests create it with {@code new ReferenceBackend()}.
 *
 * <p>It does not extend {@link dev.backprop.backend.base.BaseBackend}, though that is only plumbing: the contract
 * tests compare every real backend, skeleton included, against it, so it shares nothing with them but the SPI.
 */
public final class ReferenceBackend implements Backend {
    private final Set<ReferenceBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long liveBytes;
    private long peakBytes;
    private boolean closed;

    /** A fresh, empty reference backend. */
    public ReferenceBackend() {
    }

    // ---- identity --------------------------------------------------------------------------------------

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public DeviceInfo device() {
        return new DeviceInfo("float64 reference (Java heap)", DeviceType.CPU, -1, Map.of());
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, true, Map.of("storage", "double[] per buffer", "math", "float64 loops"));
    }

    // ---- memory ----------------------------------------------------------------------------------------

    @Override
    public synchronized Buffer allocate(DType dtype, long elements) {
        open();
        if (elements < 0) {
            throw new IllegalArgumentException("allocate: negative element count " + elements);
        }
        if (elements > Integer.MAX_VALUE - 8) {
            throw new DeviceOutOfMemoryException("reference: " + elements + " elements exceed one Java array");
        }
        ReferenceBuffer buffer;
        try {
            buffer = new ReferenceBuffer(this, dtype, (int) elements);
        } catch (OutOfMemoryError e) {
            throw new DeviceOutOfMemoryException("reference: no heap for " + elements + " elements", e);
        }
        live.add(buffer);
        liveBytes += elements * dtype.byteSize();
        peakBytes = Math.max(peakBytes, liveBytes);
        return buffer;
    }

    @Override
    public synchronized void release(Buffer buffer) {
        // A Cleaner may release after close(); close() already marked every buffer released.
        if (buffer.isReleased()) {
            return;
        }
        ReferenceBuffer b = own(buffer);
        b.markReleased();
        live.remove(b);
        liveBytes -= b.size() * b.dtype().byteSize();
    }

    @Override
    public synchronized void upload(HostArray src, Buffer dst, long dstOffset) {
        ReferenceBuffer d = range(dst, dstOffset, src.length(), src.dtype());
        for (int i = 0; i < src.length(); i++) {
            d.data[(int) dstOffset + i] = switch (src.dtype()) {
                case FLOAT32 -> ((float[]) src.array())[src.offset() + i];
                case FLOAT64 -> ((double[]) src.array())[src.offset() + i];
                case INT32 -> ((int[]) src.array())[src.offset() + i];
            };
        }
    }

    @Override
    public synchronized void download(Buffer src, long srcOffset, HostArray dst) {
        ReferenceBuffer s = range(src, srcOffset, dst.length(), dst.dtype());
        for (int i = 0; i < dst.length(); i++) {
            double v = s.data[(int) srcOffset + i];
            switch (dst.dtype()) {
                case FLOAT32 -> ((float[]) dst.array())[dst.offset() + i] = (float) v;
                case FLOAT64 -> ((double[]) dst.array())[dst.offset() + i] = v;
                case INT32 -> ((int[]) dst.array())[dst.offset() + i] = (int) v;
            }
        }
    }

    @Override
    public synchronized void copy(Buffer src, long srcOffset, Buffer dst, long dstOffset, long length) {
        ReferenceBuffer s = range(src, srcOffset, length, null);
        ReferenceBuffer d = range(dst, dstOffset, length, s.dtype());
        write(d, dstOffset, read(s, srcOffset, length));
    }

    @Override
    public synchronized void fill(Buffer dst, long offset, long length, double value) {
        ReferenceBuffer d = range(dst, offset, length, null);
        if (d.dtype() == DType.INT32 && value != Math.rint(value)) {
            throw new IllegalArgumentException("fill: INT32 value must be whole, got " + value);
        }
        double[] v = new double[(int) length];
        java.util.Arrays.fill(v, value);
        write(d, offset, v);
    }

    @Override
    public synchronized void synchronize() {
        open();
    }

    @Override
    public synchronized MemoryStats memoryStats() {
        open();
        return new MemoryStats(live.size(), liveBytes, peakBytes, 0, -1,
                "none (the reference keeps plain Java arrays)");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        for (ReferenceBuffer b : live) {
            b.markReleased();
        }
        live.clear();
        liveBytes = 0;
        closed = true;
    }

    // ---- linear algebra --------------------------------------------------------------------------------

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                                  Buffer a, long aOffset, int lda, Buffer b, long bOffset, int ldb,
                                  double beta, Buffer c, long cOffset, int ldc,
                                  int batch, long strideA, long strideB, long strideC) {
        ReferenceBuffer ab = floating(a);
        ReferenceBuffer bb = sameDType(b, ab);
        ReferenceBuffer cb = sameDType(c, ab);
        for (int i = 0; i < batch; i++) {
            ReferenceKernels.gemm(transA, transB, m, n, k, alpha, ab.data, aOffset + i * strideA, lda,
                    bb.data, bOffset + i * strideB, ldb, beta, cb, cOffset + i * strideC, ldc);
        }
    }

    @Override
    public synchronized void transpose(int rows, int cols, Buffer src, long srcOffset, Buffer dst, long dstOffset) {
        ReferenceBuffer s = range(src, srcOffset, (long) rows * cols, null);
        ReferenceBuffer d = range(dst, dstOffset, (long) rows * cols, s.dtype());
        double[] in = read(s, srcOffset, (long) rows * cols);
        double[] out = new double[in.length];
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) {
                out[col * rows + r] = in[r * cols + col];
            }
        }
        write(d, dstOffset, out);
    }

    @Override
    public synchronized void gatherRows(int rows, int cols, Buffer src, long srcOffset, int srcRows, Buffer indices,
                                        long indicesOffset, Buffer dst, long dstOffset) {
        ReferenceBuffer s = range(src, srcOffset, (long) srcRows * cols, null);
        ReferenceBuffer d = range(dst, dstOffset, (long) rows * cols, s.dtype());
        double[] idx = read(range(indices, indicesOffset, rows, DType.INT32), indicesOffset, rows);
        double[] in = read(s, srcOffset, (long) srcRows * cols);
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            if (idx[r] >= 0 && idx[r] < srcRows) {
                System.arraycopy(in, (int) idx[r] * cols, out, r * cols, cols);
            }
        }
        write(d, dstOffset, out);
    }

    // ---- elementwise -----------------------------------------------------------------------------------

    @Override
    public synchronized void unary(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer y, long yOffset,
                                   long n) {
        double[] in = read(floating(x), xOffset, n);
        double[] out = new double[in.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = ReferenceMath.unary(op, p1, p2, in[i]);
        }
        write(sameDType(y, own(x)), yOffset, out);
    }

    @Override
    public synchronized void unaryBackward(UnaryOp op, double p1, double p2, Buffer x, long xOffset, Buffer g,
                                           long gOffset, Buffer dx, long dxOffset, long n) {
        double[] in = read(floating(x), xOffset, n);
        double[] grad = read(sameDType(g, own(x)), gOffset, n);
        double[] out = new double[in.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = ReferenceMath.unaryBackward(op, p1, p2, in[i], grad[i]);
        }
        write(sameDType(dx, own(x)), dxOffset, out);
    }

    @Override
    public synchronized void binary(BinaryOp op, int rows, int cols, Buffer a, long aOffset, Broadcast aBroadcast,
                                    Buffer b, long bOffset, Broadcast bBroadcast, Buffer out, long outOffset) {
        ReferenceBuffer ab = own(a);
        double[] av = read(ab, aOffset, aBroadcast.length(rows, cols));
        double[] bv = read(sameDType(b, ab), bOffset, bBroadcast.length(rows, cols));
        double[] result = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double x = av[index(aBroadcast, r, c, cols)];
                double y = bv[index(bBroadcast, r, c, cols)];
                result[r * cols + c] = ab.dtype() == DType.INT32
                        ? ReferenceMath.binaryInt(op, (int) x, (int) y)
                        : ReferenceMath.binary(op, x, y);
            }
        }
        write(sameDType(out, ab), outOffset, result);
    }

    private static int index(Broadcast broadcast, int r, int c, int cols) {
        return switch (broadcast) {
            case FULL -> r * cols + c;
            case ROW -> c;
            case COLUMN -> r;
            case SCALAR -> 0;
        };
    }

    @Override
    public synchronized void axpby(long n, double alpha, Buffer x, long xOffset, double beta, Buffer y,
                                   long yOffset) {
        ReferenceBuffer xb = floating(x);
        ReferenceBuffer yb = sameDType(y, xb);
        double[] xv = read(xb, xOffset, n);
        double[] out = new double[xv.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = alpha * xv[i] + (beta == 0 ? 0 : beta * yb.data[(int) yOffset + i]);
        }
        write(yb, yOffset, out);
    }

    // ---- reductions ------------------------------------------------------------------------------------

    @Override
    public synchronized void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, Buffer x, long xOffset,
                                    Buffer out, long outOffset) {
        ReferenceBuffer xb = floating(x);
        double[] in = read(xb, xOffset, (long) rows * cols);
        write(sameDType(out, xb), outOffset, ReferenceKernels.reduce(op, axis, rows, cols, in));
    }

    @Override
    public synchronized void argmaxRows(int rows, int cols, Buffer x, long xOffset, Buffer out, long outOffset) {
        double[] in = read(floating(x), xOffset, (long) rows * cols);
        write(range(out, outOffset, rows, DType.INT32), outOffset, ReferenceKernels.argmaxRows(rows, cols, in));
    }

    // ---- softmax and loss ------------------------------------------------------------------------------

    @Override
    public synchronized void softmaxRows(boolean log, int rows, int cols, Buffer x, long xOffset, Buffer y,
                                         long yOffset) {
        ReferenceBuffer xb = floating(x);
        double[] in = read(xb, xOffset, (long) rows * cols);
        write(sameDType(y, xb), yOffset, ReferenceKernels.softmaxRows(log, rows, cols, in));
    }

    @Override
    public synchronized void softmaxCrossEntropy(int rows, int cols, Buffer logits, long logitsOffset,
                                                 Buffer labels, long labelsOffset, Buffer losses,
                                                 long lossesOffset, Buffer probs, long probsOffset) {
        ReferenceBuffer zb = floating(logits);
        double[] z = read(zb, logitsOffset, (long) rows * cols);
        double[] label = read(range(labels, labelsOffset, rows, DType.INT32), labelsOffset, rows);
        double[] p = ReferenceKernels.softmaxRows(false, rows, cols, z);
        double[] loss = ReferenceKernels.crossEntropy(rows, cols, z, label);
        write(sameDType(losses, zb), lossesOffset, loss);
        write(sameDType(probs, zb), probsOffset, p);
    }

    @Override
    public synchronized void softmaxCrossEntropyBackward(int rows, int cols, Buffer probs, long probsOffset,
                                                         Buffer labels, long labelsOffset, Buffer g, long gOffset,
                                                         Buffer dlogits, long dlogitsOffset) {
        ReferenceBuffer pb = floating(probs);
        double[] p = read(pb, probsOffset, (long) rows * cols);
        double[] label = read(range(labels, labelsOffset, rows, DType.INT32), labelsOffset, rows);
        double[] grad = read(sameDType(g, pb), gOffset, rows);
        write(sameDType(dlogits, pb), dlogitsOffset,
                ReferenceKernels.crossEntropyBackward(rows, cols, p, label, grad));
    }

    // ---- optimizer updates -----------------------------------------------------------------------------

    @Override
    public synchronized void sgdUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset,
                                       Buffer velocity, long velocityOffset, double lr, double momentum,
                                       double weightDecay, boolean nesterov) {
        ReferenceBuffer pb = floating(param);
        double[] theta = read(pb, paramOffset, n);
        double[] g = read(sameDType(grad, pb), gradOffset, n);
        double[] v = velocity == null ? null : read(sameDType(velocity, pb), velocityOffset, n);
        ReferenceKernels.sgd(theta, g, v, lr, momentum, weightDecay, nesterov, pb::round);
        write(pb, paramOffset, theta);
        if (v != null) {
            write(own(velocity), velocityOffset, v);
        }
    }

    @Override
    public synchronized void adamUpdate(long n, Buffer param, long paramOffset, Buffer grad, long gradOffset,
                                        Buffer m, long mOffset, Buffer v, long vOffset, double lr, double beta1,
                                        double beta2, double eps, double weightDecay, boolean decoupled,
                                        long step) {
        ReferenceBuffer pb = floating(param);
        double[] theta = read(pb, paramOffset, n);
        double[] g = read(sameDType(grad, pb), gradOffset, n);
        double[] mv = read(sameDType(m, pb), mOffset, n);
        double[] vv = read(sameDType(v, pb), vOffset, n);
        ReferenceKernels.adam(theta, g, mv, vv, lr, beta1, beta2, eps, weightDecay, decoupled, step, pb::round);
        write(pb, paramOffset, theta);
        write(own(m), mOffset, mv);
        write(own(v), vOffset, vv);
    }

    // ---- images, normalization, dropout ----------------------------------------------------------------

    @Override
    public synchronized void im2col(Window2d w, Buffer x, long xOffset, Buffer cols, long colsOffset) {
        ReferenceBuffer xb = floating(x);
        double[] in = read(xb, xOffset, w.inputSize());
        write(sameDType(cols, xb), colsOffset, ReferenceImageKernels.im2col(w, in));
    }

    @Override
    public synchronized void col2im(Window2d w, Buffer cols, long colsOffset, Buffer dx, long dxOffset) {
        ReferenceBuffer cb = floating(cols);
        double[] in = read(cb, colsOffset, (long) w.patchSize() * w.columns());
        write(sameDType(dx, cb), dxOffset, ReferenceImageKernels.col2im(w, in));
    }

    @Override
    public synchronized void copyStrided(int[] sizes, Buffer src, long srcOffset, long[] srcStrides, Buffer dst,
                                         long dstOffset) {
        ReferenceBuffer s = own(src);
        long last = 0;
        for (int k = 0; k < sizes.length; k++) {
            last += (long) (sizes[k] - 1) * srcStrides[k];
        }
        double[] in = read(s, srcOffset, last + 1);
        write(sameDType(dst, s), dstOffset, ReferenceImageKernels.copyStrided(sizes, in, srcStrides));
    }

    /** The direct convolution, overriding the SPI's im2col default so the contract compares two methods. */
    @Override
    public synchronized void conv2d(Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight,
                                    long weightOffset, Buffer bias, long biasOffset, Buffer y, long yOffset) {
        ReferenceBuffer xb = floating(x);
        double[] in = read(xb, xOffset, w.inputSize());
        double[] wt = read(sameDType(weight, xb), weightOffset, (long) outChannels * w.patchSize());
        double[] b = bias == null ? null : read(sameDType(bias, xb), biasOffset, outChannels);
        write(sameDType(y, xb), yOffset, ReferenceImageKernels.conv2d(w, outChannels, in, wt, b));
    }

    @Override
    public synchronized void conv2dBackward(Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight,
                                            long weightOffset, Buffer dy, long dyOffset, Buffer dx, long dxOffset,
                                            Buffer dweight, long dweightOffset, Buffer dbias, long dbiasOffset) {
        ReferenceBuffer gb = floating(dy);
        double[] g = read(gb, dyOffset, (long) w.n() * outChannels * w.outPlane());
        double[] in = x == null ? null : read(sameDType(x, gb), xOffset, w.inputSize());
        double[] wt = read(sameDType(weight, gb), weightOffset, (long) outChannels * w.patchSize());
        double[][] r = ReferenceImageKernels.conv2dBackward(w, outChannels, in, wt, g);
        if (dx != null) {
            write(sameDType(dx, gb), dxOffset, r[0]);
        }
        if (dweight != null) {
            write(sameDType(dweight, gb), dweightOffset, r[1]);
        }
        if (dbias != null) {
            write(sameDType(dbias, gb), dbiasOffset, r[2]);
        }
    }

    @Override
    public synchronized void maxPool2d(Window2d w, Buffer x, long xOffset, Buffer y, long yOffset, Buffer argmax,
                                       long argmaxOffset) {
        ReferenceBuffer xb = floating(x);
        double[][] r = ReferenceImageKernels.maxPool2d(w, read(xb, xOffset, w.inputSize()));
        write(sameDType(y, xb), yOffset, r[0]);
        write(range(argmax, argmaxOffset, r[1].length, DType.INT32), argmaxOffset, r[1]);
    }

    @Override
    public synchronized void maxPool2dBackward(Window2d w, Buffer dy, long dyOffset, Buffer argmax, long argmaxOffset,
                                               Buffer dx, long dxOffset) {
        ReferenceBuffer gb = floating(dy);
        long outs = (long) w.n() * w.channels() * w.outPlane();
        double[] arg = read(range(argmax, argmaxOffset, outs, DType.INT32), argmaxOffset, outs);
        write(sameDType(dx, gb), dxOffset, ReferenceImageKernels.maxPool2dBackward(w, read(gb, dyOffset, outs), arg));
    }

    @Override
    public synchronized void avgPool2d(Window2d w, boolean countIncludePad, Buffer x, long xOffset, Buffer y,
                                       long yOffset) {
        ReferenceBuffer xb = floating(x);
        write(sameDType(y, xb), yOffset,
                ReferenceImageKernels.avgPool2d(w, countIncludePad, read(xb, xOffset, w.inputSize())));
    }

    @Override
    public synchronized void avgPool2dBackward(Window2d w, boolean countIncludePad, Buffer dy, long dyOffset, Buffer dx,
                                               long dxOffset) {
        ReferenceBuffer gb = floating(dy);
        double[] g = read(gb, dyOffset, (long) w.n() * w.channels() * w.outPlane());
        write(sameDType(dx, gb), dxOffset, ReferenceImageKernels.avgPool2dBackward(w, countIncludePad, g));
    }

    @Override
    public synchronized void batchNormStats(int n, int c, int s, Buffer x, long xOffset, Buffer mean, long meanOffset,
                                            Buffer var, long varOffset) {
        ReferenceBuffer xb = floating(x);
        double[][] r = ReferenceImageKernels.batchNormStats(n, c, s, read(xb, xOffset, (long) n * c * s));
        write(sameDType(mean, xb), meanOffset, r[0]);
        write(sameDType(var, xb), varOffset, r[1]);
    }

    @Override
    public synchronized void batchNormForward(int n, int c, int s, double eps, Buffer x, long xOffset, Buffer mean,
                                              long meanOffset, Buffer var, long varOffset, Buffer gamma,
                                              long gammaOffset, Buffer beta, long betaOffset, Buffer y, long yOffset) {
        ReferenceBuffer xb = floating(x);
        double[] out = ReferenceImageKernels.batchNormForward(n, c, s, eps, read(xb, xOffset, (long) n * c * s),
                read(sameDType(mean, xb), meanOffset, c), read(sameDType(var, xb), varOffset, c),
                read(sameDType(gamma, xb), gammaOffset, c), read(sameDType(beta, xb), betaOffset, c));
        write(sameDType(y, xb), yOffset, out);
    }

    @Override
    public synchronized void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, Buffer x,
                                               long xOffset, Buffer dy, long dyOffset, Buffer mean, long meanOffset,
                                               Buffer var, long varOffset, Buffer gamma, long gammaOffset, Buffer dx,
                                               long dxOffset, Buffer dgamma, long dgammaOffset, Buffer dbeta,
                                               long dbetaOffset) {
        ReferenceBuffer xb = floating(x);
        long size = (long) n * c * s;
        double[][] r = ReferenceImageKernels.batchNormBackward(n, c, s, eps, batchStats, read(xb, xOffset, size),
                read(sameDType(dy, xb), dyOffset, size), read(sameDType(mean, xb), meanOffset, c),
                read(sameDType(var, xb), varOffset, c), read(sameDType(gamma, xb), gammaOffset, c));
        write(sameDType(dx, xb), dxOffset, r[0]);
        write(sameDType(dgamma, xb), dgammaOffset, r[1]);
        write(sameDType(dbeta, xb), dbetaOffset, r[2]);
    }

    @Override
    public synchronized void dropout(long n, int threshold, double scale, long seed, long offset, Buffer x,
                                     long xOffset, Buffer y, long yOffset) {
        ReferenceBuffer xb = floating(x);
        ReferenceBuffer yb = sameDType(y, xb);
        write(yb, yOffset, ReferenceImageKernels.dropout(n, threshold, scale, seed, offset, read(xb, xOffset, n),
                yb.dtype() == DType.FLOAT32));
    }

    // ---- the checks core promises, and element access --------------------------------------------------

    private void open() {
        if (closed) {
            throw new IllegalStateException("reference backend is closed");
        }
    }

    private ReferenceBuffer own(Buffer buffer) {
        open();
        if (!(buffer instanceof ReferenceBuffer) || buffer.backend() != this) {
            throw new IllegalArgumentException("reference: buffer " + buffer + " belongs to another backend");
        }
        if (buffer.isReleased()) {
            throw new IllegalStateException("reference: buffer " + buffer + " is released");
        }
        return (ReferenceBuffer) buffer;
    }

    private ReferenceBuffer floating(Buffer buffer) {
        ReferenceBuffer b = own(buffer);
        if (!b.dtype().isFloating()) {
            throw new IllegalArgumentException("reference: op needs a floating buffer, got " + b);
        }
        return b;
    }

    private ReferenceBuffer sameDType(Buffer buffer, ReferenceBuffer like) {
        ReferenceBuffer b = own(buffer);
        if (b.dtype() != like.dtype()) {
            throw new IllegalArgumentException("reference: dtype " + b.dtype() + " differs from " + like.dtype());
        }
        return b;
    }

    /** The buffer, checked to be ours, live, of {@code dtype} (when given) and to hold the range. */
    private ReferenceBuffer range(Buffer buffer, long offset, long length, DType dtype) {
        ReferenceBuffer b = own(buffer);
        if (dtype != null && b.dtype() != dtype) {
            throw new IllegalArgumentException("reference: expected a " + dtype + " buffer, got " + b);
        }
        b.checkRange(offset, length);
        return b;
    }

    private static double[] read(ReferenceBuffer b, long offset, long length) {
        b.checkRange(offset, length);
        return java.util.Arrays.copyOfRange(b.data, (int) offset, (int) (offset + length));
    }

    /** Stores {@code values} from {@code offset}, each rounded to the buffer's dtype. */
    private static void write(ReferenceBuffer b, long offset, double[] values) {
        b.checkRange(offset, values.length);
        for (int i = 0; i < values.length; i++) {
            b.data[(int) offset + i] = b.round(values[i]);
        }
    }
}
