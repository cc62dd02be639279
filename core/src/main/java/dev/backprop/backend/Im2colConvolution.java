package dev.backprop.backend;

/**
 * Convolution on a backend's own GEMM, the default of {@link Backend#conv2d} and {@link Backend#conv2dBackward}.
 *
 * <p>The whole batch goes through one product per direction: {@link Backend#im2col} lays the batch's windows out as
 * a {@code P × Q} matrix ({@code P = channels·kernelH·kernelW} taps, {@code Q = n·outH·outW} output positions), so
 * the forward pass is the single GEMM {@code [O, P]·[P, Q]}, the weight gradient {@code [O, Q]·[Q, P]} and the data
 * gradient {@code [P, O]·[O, Q]}, each large enough for the GEMM to run near its peak (per-image products of the
 * network's second convolution are only {@code 64 × 288 × 196}). The price is one layout change per direction
 * between NCHW and the products' {@code [O, n·outH·outW]} ({@link Backend#copyStrided}), a few percent of the GEMM's
 * time. With a single image the two layouts coincide and the copy is skipped.
 *
 * <p>Temporaries come from the backend's allocator and go back to it before returning.
 */
final class Im2colConvolution {
    private Im2colConvolution() {
    }

    static void forward(Backend be, Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight,
                        long weightOffset, Buffer bias, long biasOffset, Buffer y, long yOffset) {
        int p = w.patchSize(), q = w.columns(), s = w.outPlane();
        if (q == 0) {
            return;
        }
        DType dt = x.dtype();
        Buffer cols = be.allocate(dt, (long) p * q);
        Buffer product = null;
        try {
            be.im2col(w, x, xOffset, cols, 0);
            boolean direct = w.n() == 1;
            product = direct ? y : be.allocate(dt, (long) outChannels * q);
            long productOffset = direct ? yOffset : 0;
            be.gemm(false, false, outChannels, q, p, 1, weight, weightOffset, p, cols, 0, q, 0, product,
                    productOffset, q, 1, 0, 0, 0);
            if (bias != null) {
                be.binary(BinaryOp.ADD, outChannels, q, product, productOffset, Broadcast.FULL, bias, biasOffset,
                        Broadcast.COLUMN, product, productOffset);
            }
            if (!direct) {
                // product[o][img·s + k] -> y[img][o][k]
                be.copyStrided(new int[] {w.n(), outChannels, s}, product, 0, new long[] {s, q, 1}, y, yOffset);
            }
        } finally {
            be.release(cols);
            if (product != null && product != y) {
                be.release(product);
            }
        }
    }

    static void backward(Backend be, Window2d w, int outChannels, Buffer x, long xOffset, Buffer weight,
                         long weightOffset, Buffer dy, long dyOffset, Buffer dx, long dxOffset, Buffer dweight,
                         long dweightOffset, Buffer dbias, long dbiasOffset) {
        int p = w.patchSize(), q = w.columns(), s = w.outPlane();
        DType dt = dy.dtype();
        if (q == 0) {
            // An empty batch: no gradient flows, and the weight and bias gradients are sums over nothing.
            if (dweight != null) {
                be.fill(dweight, dweightOffset, (long) outChannels * p, 0);
            }
            if (dbias != null) {
                be.fill(dbias, dbiasOffset, outChannels, 0);
            }
            return;
        }
        boolean direct = w.n() == 1;
        Buffer g = direct ? dy : be.allocate(dt, (long) outChannels * q);
        long gOffset = direct ? dyOffset : 0;
        Buffer cols = null;
        try {
            if (!direct) {
                // dy[img][o][k] -> g[o][img·s + k]
                be.copyStrided(new int[] {outChannels, w.n(), s}, dy, dyOffset,
                        new long[] {s, (long) outChannels * s, 1}, g, 0);
            }
            if (dbias != null) {
                be.reduce(ReduceOp.SUM, ReduceAxis.PER_ROW, outChannels, q, g, gOffset, dbias, dbiasOffset);
            }
            if (dweight != null || dx != null) {
                cols = be.allocate(dt, (long) p * q);
            }
            if (dweight != null) {
                be.im2col(w, x, xOffset, cols, 0);
                be.gemm(false, true, outChannels, p, q, 1, g, gOffset, q, cols, 0, q, 0, dweight, dweightOffset, p,
                        1, 0, 0, 0);
            }
            if (dx != null) {
                be.gemm(true, false, p, q, outChannels, 1, weight, weightOffset, p, g, gOffset, q, 0, cols, 0, q,
                        1, 0, 0, 0);
                be.col2im(w, cols, 0, dx, dxOffset);
            }
        } finally {
            if (cols != null) {
                be.release(cols);
            }
            if (g != dy) {
                be.release(g);
            }
        }
    }
}
