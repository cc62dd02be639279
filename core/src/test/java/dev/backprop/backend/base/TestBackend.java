package dev.backprop.backend.base;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.HostArray;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.Window2d;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal module on the skeleton, for the skeleton's own tests: blocks are {@code double[]}, {@code unary} adds
 * one (and records how many threads are inside a family at once), {@code fill} and the transfers work, and every
 * other family method fails, so a test sees whether the skeleton called it.
 */
final class TestBackend extends BaseBackend<double[], TestBackend.TestBuffer> {
    /** Counts what the memory and the resources saw; shared with the test, never referring to the backend. */
    static final class Probe implements RawMemory<double[]>, AutoCloseable {
        final AtomicInteger allocated = new AtomicInteger();
        final AtomicInteger freed = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger mostInside = new AtomicInteger();
        final AtomicInteger familyCalls = new AtomicInteger();
        volatile CountDownLatch holdUnary;
        volatile CountDownLatch unaryEntered;

        @Override
        public long maxBlockBytes(DType dtype) {
            return 1L << 30;
        }

        @Override
        public String maxBlockReason() {
            return "a test limit";
        }

        @Override
        public double[] allocate(DType dtype, long bytes) {
            allocated.incrementAndGet();
            return new double[(int) (bytes / 8)];
        }

        @Override
        public void free(double[] block) {
            freed.incrementAndGet();
        }

        @Override
        public Platform platform(List<double[]> liveBlocks) {
            return new Platform(-1, "none");
        }

        @Override
        public void close() {
            closed.incrementAndGet();
        }
    }

    /** A buffer whose elements are doubles whatever the dtype. */
    static final class TestBuffer extends BaseBuffer<double[]> {
        TestBuffer(BaseBackend<double[], TestBuffer> owner, DType dtype, long size, MemoryPool.Block<double[]> block) {
            super(owner, dtype, size, block);
        }

        double[] values() {
            return memory();
        }
    }

    private final OpFamilies.StepRecorder<double[]> recorder;

    TestBackend(Probe probe) {
        this(probe, null);
    }

    /** With {@code recorder} as the module's recorder of training steps (null: none). */
    TestBackend(Probe probe, OpFamilies.StepRecorder<double[]> recorder) {
        super("test", TestBuffer.class, TestBuffer::new, probe, 1L << 20);
        this.recorder = recorder;
        own(probe);
        install(new OpFamilies<>(new Transfers(probe), new Unsupported(probe), new Elementwise(probe),
                new Unsupported(probe), new Unsupported(probe), new Unsupported(probe), new NoImages(),
                new NoImages(), null, null),
                new DeviceInfo("test device", DeviceType.CPU, -1, Map.of()), new Capabilities(true, true, Map.of()));
    }

    @Override
    protected OpFamilies.StepRecorder<double[]> stepRecorder() {
        return recorder;
    }

    private record Transfers(Probe probe) implements OpFamilies.Transfers<TestBuffer> {
        @Override
        public void upload(HostArray src, TestBuffer dst, long dstOffset) {
            probe.familyCalls.incrementAndGet();
            for (int i = 0; i < src.length(); i++) {
                dst.values()[(int) dstOffset + i] = ((double[]) src.array())[src.offset() + i];
            }
        }

        @Override
        public void download(TestBuffer src, long srcOffset, HostArray dst) {
            probe.familyCalls.incrementAndGet();
            for (int i = 0; i < dst.length(); i++) {
                ((double[]) dst.array())[dst.offset() + i] = src.values()[(int) srcOffset + i];
            }
        }

        @Override
        public void copy(TestBuffer src, long srcOffset, TestBuffer dst, long dstOffset, long length) {
            throw new AssertionError("copy reached the family");
        }

        @Override
        public void fill(TestBuffer dst, long offset, long length, double value) {
            probe.familyCalls.incrementAndGet();
            java.util.Arrays.fill(dst.values(), (int) offset, (int) (offset + length), value);
        }

        @Override
        public void synchronize() {
        }
    }

    private record Elementwise(Probe probe) implements OpFamilies.Elementwise<TestBuffer> {
        @Override
        public void unary(UnaryOp op, double p1, double p2, TestBuffer x, long xOffset, TestBuffer y, long yOffset,
                          long n) {
            probe.familyCalls.incrementAndGet();
            int now = probe.inside.incrementAndGet();
            probe.mostInside.accumulateAndGet(now, Math::max);
            try {
                CountDownLatch entered = probe.unaryEntered;
                if (entered != null) {
                    entered.countDown();
                }
                CountDownLatch hold = probe.holdUnary;
                if (hold != null) {
                    hold.await();
                }
                for (int i = 0; i < n; i++) {
                    double v = x.values()[(int) xOffset + i];
                    Thread.onSpinWait();
                    y.values()[(int) yOffset + i] = v + 1;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                probe.inside.decrementAndGet();
            }
        }

        @Override
        public void unaryBackward(UnaryOp op, double p1, double p2, TestBuffer x, long xOffset, TestBuffer g,
                                  long gOffset, TestBuffer dx, long dxOffset, long n) {
            throw new AssertionError("unaryBackward reached the family");
        }

        @Override
        public void binary(BinaryOp op, int rows, int cols, TestBuffer a, long aOffset, Broadcast aBroadcast,
                           TestBuffer b, long bOffset, Broadcast bBroadcast, TestBuffer out, long outOffset) {
            throw new AssertionError("binary reached the family");
        }

        @Override
        public void axpby(long n, double alpha, TestBuffer x, long xOffset, double beta, TestBuffer y, long yOffset) {
            throw new AssertionError("axpby reached the family");
        }

        @Override
        public void transpose(int rows, int cols, TestBuffer src, long srcOffset, TestBuffer dst, long dstOffset) {
            throw new AssertionError("transpose reached the family");
        }

        @Override
        public void gatherRows(int rows, int cols, TestBuffer src, long srcOffset, int srcRows, TestBuffer indices,
                               long indicesOffset, TestBuffer dst, long dstOffset) {
            throw new AssertionError("gatherRows reached the family");
        }
    }

    /** Families this module does not implement: reaching one is a test failure. */
    private record Unsupported(Probe probe) implements OpFamilies.Gemm<TestBuffer>, OpFamilies.Reductions<TestBuffer>,
            OpFamilies.Softmax<TestBuffer>, OpFamilies.Updates<TestBuffer> {
        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, TestBuffer a, long aOffset,
                         int lda, TestBuffer b, long bOffset, int ldb, double beta, TestBuffer c, long cOffset,
                         int ldc, int batch, long strideA, long strideB, long strideC) {
            throw new AssertionError("gemm reached the family");
        }

        @Override
        public void reduce(ReduceOp op, ReduceAxis axis, int rows, int cols, TestBuffer x, long xOffset,
                           TestBuffer out, long outOffset) {
            throw new AssertionError("reduce reached the family");
        }

        @Override
        public void argmaxRows(int rows, int cols, TestBuffer x, long xOffset, TestBuffer out, long outOffset) {
            throw new AssertionError("argmaxRows reached the family");
        }

        @Override
        public void softmaxRows(boolean log, int rows, int cols, TestBuffer x, long xOffset, TestBuffer y,
                                long yOffset) {
            throw new AssertionError("softmaxRows reached the family");
        }

        @Override
        public void softmaxCrossEntropy(int rows, int cols, TestBuffer logits, long logitsOffset, TestBuffer labels,
                                        long labelsOffset, TestBuffer losses, long lossesOffset, TestBuffer probs,
                                        long probsOffset) {
            throw new AssertionError("softmaxCrossEntropy reached the family");
        }

        @Override
        public void softmaxCrossEntropyBackward(int rows, int cols, TestBuffer probs, long probsOffset,
                                                TestBuffer labels, long labelsOffset, TestBuffer g, long gOffset,
                                                TestBuffer dlogits, long dlogitsOffset) {
            throw new AssertionError("softmaxCrossEntropyBackward reached the family");
        }

        @Override
        public void sgdUpdate(long n, TestBuffer param, long paramOffset, TestBuffer grad, long gradOffset,
                              TestBuffer velocity, long velocityOffset, double lr, double momentum,
                              double weightDecay, boolean nesterov) {
            throw new AssertionError("sgdUpdate reached the family");
        }

        @Override
        public void adamUpdate(long n, TestBuffer param, long paramOffset, TestBuffer grad, long gradOffset,
                               TestBuffer m, long mOffset, TestBuffer v, long vOffset, double lr, double beta1,
                               double beta2, double eps, double weightDecay, boolean decoupled, long step) {
            throw new AssertionError("adamUpdate reached the family");
        }
    }

    /** The image and normalization families: never reached by the skeleton's tests. */
    private record NoImages() implements OpFamilies.Images<TestBuffer>, OpFamilies.Normalization<TestBuffer> {
        @Override
        public void im2col(Window2d w, TestBuffer x, long xOffset, TestBuffer cols, long colsOffset) {
            throw new AssertionError("im2col reached the family");
        }

        @Override
        public void col2im(Window2d w, TestBuffer cols, long colsOffset, TestBuffer dx, long dxOffset) {
            throw new AssertionError("col2im reached the family");
        }

        @Override
        public void copyStrided(int[] sizes, TestBuffer src, long srcOffset, long[] srcStrides, TestBuffer dst,
                                long dstOffset) {
            throw new AssertionError("copyStrided reached the family");
        }

        @Override
        public void maxPool2d(Window2d w, TestBuffer x, long xOffset, TestBuffer y, long yOffset, TestBuffer argmax,
                              long argmaxOffset) {
            throw new AssertionError("maxPool2d reached the family");
        }

        @Override
        public void maxPool2dBackward(Window2d w, TestBuffer dy, long dyOffset, TestBuffer argmax, long argmaxOffset,
                                      TestBuffer dx, long dxOffset) {
            throw new AssertionError("maxPool2dBackward reached the family");
        }

        @Override
        public void avgPool2d(Window2d w, boolean countIncludePad, TestBuffer x, long xOffset, TestBuffer y,
                              long yOffset) {
            throw new AssertionError("avgPool2d reached the family");
        }

        @Override
        public void avgPool2dBackward(Window2d w, boolean countIncludePad, TestBuffer dy, long dyOffset, TestBuffer dx,
                                      long dxOffset) {
            throw new AssertionError("avgPool2dBackward reached the family");
        }

        @Override
        public void batchNormStats(int n, int c, int s, TestBuffer x, long xOffset, TestBuffer mean, long meanOffset,
                                   TestBuffer var, long varOffset) {
            throw new AssertionError("batchNormStats reached the family");
        }

        @Override
        public void batchNormForward(int n, int c, int s, double eps, TestBuffer x, long xOffset, TestBuffer mean,
                                     long meanOffset, TestBuffer var, long varOffset, TestBuffer gamma,
                                     long gammaOffset, TestBuffer beta, long betaOffset, TestBuffer y, long yOffset) {
            throw new AssertionError("batchNormForward reached the family");
        }

        @Override
        public void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, TestBuffer x, long xOffset,
                                      TestBuffer dy, long dyOffset, TestBuffer mean, long meanOffset, TestBuffer var,
                                      long varOffset, TestBuffer gamma, long gammaOffset, TestBuffer dx,
                                      long dxOffset, TestBuffer dgamma, long dgammaOffset, TestBuffer dbeta,
                                      long dbetaOffset) {
            throw new AssertionError("batchNormBackward reached the family");
        }

        @Override
        public void dropout(long n, int threshold, double scale, long seed, long offset, TestBuffer x, long xOffset,
                            TestBuffer y, long yOffset) {
            throw new AssertionError("dropout reached the family");
        }
    }
}
