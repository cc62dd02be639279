package dev.backprop.cuda;

import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import dev.backprop.cuda.CudaLaunch.Shape;
import dev.backprop.random.Philox;
import jcuda.driver.CUdeviceptr;

import static dev.backprop.cuda.CudaKernel.floating;

/**
 * Batch-norm statistics, forward and backward, and dropout (kernels in {@code normalization.cu}).
 *
 * <p>The per-channel sums (mean, then the squared deviations from it; Σdy and Σdy·x̂ for the backward pass) run on a
 * grid of chunks × channels blocks, each folding a fixed range of {@link #ELEMENTS_PER_CHUNK} or more of a channel's
 * {@code n·s} elements with a block reduction. With one chunk the blocks write the results; with several they write
 * partials to a scratch block from the backend's pool, which {@code reduce_rows} sums per channel. The chunk count
 * depends only on the shape, so every run gives the same bits, on every GPU. The normalizing pass and {@code dx}
 * are elementwise; dropout runs one thread per Philox block of four elements.
 */
final class CudaNormalization implements OpFamilies.Normalization<CudaBuffer> {
    /** Fewest elements of a channel per chunk (per block) before the chunk count is capped. */
    static final int ELEMENTS_PER_CHUNK = 4096;
    /** Most chunks per channel (the second pass is one block per channel over them). */
    static final int MAX_CHUNKS = CudaReductions.MAX_PARTIALS;

    /** A chunked pass writing its per-channel results (or partials) to {@code targets}, divided by {@code divisor}. */
    private interface ChunkPass {
        void run(Shape shape, long perChunk, CUdeviceptr[] targets, double divisor);
    }

    private final CudaLaunch launch;
    private final MemoryPool<CUdeviceptr> pool;

    CudaNormalization(CudaLaunch launch, MemoryPool<CUdeviceptr> pool) {
        this.launch = launch;
        this.pool = pool;
    }

    /** Chunks per channel for {@code perChannel} elements: 1 to {@link #MAX_CHUNKS}. */
    static int chunksFor(long perChannel) {
        return (int) Math.max(1, Math.min(MAX_CHUNKS, (perChannel + ELEMENTS_PER_CHUNK - 1) / ELEMENTS_PER_CHUNK));
    }

    /** Elements of a channel each chunk covers (the last chunk may cover fewer). */
    static long perChunk(long perChannel) {
        int chunks = chunksFor(perChannel);
        return (perChannel + chunks - 1) / chunks;
    }

    /** The launches of a per-channel sum: the chunks, then, with several, one block per channel over the partials. */
    static Shape[] channelSumPasses(long perChannel, int channels) {
        int chunks = chunksFor(perChannel);
        Shape first = Shape.channels(chunks, channels);
        return chunks == 1 ? new Shape[] {first} : new Shape[] {first, Shape.perRow(channels)};
    }

    /** The dropout launch: one thread per Philox block, i.e. per four elements. */
    static Shape dropoutShape(long n, int maxBlocks) {
        return Shape.elementwise(Philox.blocks(n), maxBlocks);
    }

    /**
     * Runs {@code pass} for {@code channels} channels of {@code perChannel} elements into {@code outs}: directly with
     * one chunk, else into partials that {@code reduce_rows} finishes; {@code mean} divides by {@code perChannel}.
     */
    private void channelSums(DType dtype, long perChannel, int channels, boolean mean, ChunkPass pass,
                             CUdeviceptr... outs) {
        Shape[] passes = channelSumPasses(perChannel, channels);
        long perChunk = perChunk(perChannel);
        double divisor = mean ? (double) perChannel : 1.0;
        if (passes.length == 1) {
            pass.run(passes[0], perChunk, outs, divisor);
            return;
        }
        int chunks = passes[0].gridX();
        long partials = (long) chunks * channels;
        MemoryPool.Block<CUdeviceptr> scratch = pool.allocate(dtype, partials * outs.length);
        try {
            CUdeviceptr[] targets = new CUdeviceptr[outs.length];
            for (int k = 0; k < outs.length; k++) {
                targets[k] = scratch.raw().withByteOffset(k * partials * dtype.byteSize());
            }
            pass.run(passes[0], perChunk, targets, 1.0);
            CudaKernel rows = floating(dtype, CudaKernel.REDUCE_ROWS_F32, CudaKernel.REDUCE_ROWS_F64);
            int op = CudaOpCodes.reduce(mean ? ReduceOp.MEAN : ReduceOp.SUM);
            for (int k = 0; k < outs.length; k++) {
                launch.launch(rows, passes[1], op, channels, chunks, targets[k], outs[k], divisor);
            }
        } finally {
            pool.free(scratch);
        }
    }

    /** Two passes: the mean, then the mean of the squared deviations from it. */
    @Override
    public void batchNormStats(int n, int c, int s, CudaBuffer x, long xOffset, CudaBuffer mean, long meanOffset,
                               CudaBuffer var, long varOffset) {
        CudaKernel kernel = floating(x.dtype(), CudaKernel.BN_STATS_F32, CudaKernel.BN_STATS_F64);
        long m = (long) n * s;
        CUdeviceptr px = x.at(xOffset), pmean = mean.at(meanOffset);
        for (int squares = 0; squares <= 1; squares++) {
            int mode = squares;
            channelSums(x.dtype(), m, c, true, (shape, perChunk, targets, divisor) -> launch.launch(kernel, shape, n,
                    c, s, perChunk, mode, px, pmean, targets[0], divisor), mode == 0 ? pmean : var.at(varOffset));
        }
    }

    @Override
    public void batchNormForward(int n, int c, int s, double eps, CudaBuffer x, long xOffset, CudaBuffer mean,
                                 long meanOffset, CudaBuffer var, long varOffset, CudaBuffer gamma, long gammaOffset,
                                 CudaBuffer beta, long betaOffset, CudaBuffer y, long yOffset) {
        launch.elementwise(floating(x.dtype(), CudaKernel.BN_FORWARD_F32, CudaKernel.BN_FORWARD_F64),
                (long) n * c * s, n, c, s, eps, x.at(xOffset), mean.at(meanOffset), var.at(varOffset),
                gamma.at(gammaOffset), beta.at(betaOffset), y.at(yOffset));
    }

    /** Σdy into {@code dbeta} and Σdy·x̂ into {@code dgamma} (chunked sums), then {@code dx} elementwise from them. */
    @Override
    public void batchNormBackward(int n, int c, int s, double eps, boolean batchStats, CudaBuffer x, long xOffset,
                                  CudaBuffer dy, long dyOffset, CudaBuffer mean, long meanOffset, CudaBuffer var,
                                  long varOffset, CudaBuffer gamma, long gammaOffset, CudaBuffer dx, long dxOffset,
                                  CudaBuffer dgamma, long dgammaOffset, CudaBuffer dbeta, long dbetaOffset) {
        DType dt = dy.dtype();
        long m = (long) n * s;
        CUdeviceptr px = x.at(xOffset), pdy = dy.at(dyOffset), pmean = mean.at(meanOffset), pvar = var.at(varOffset);
        CUdeviceptr sumDy = dbeta.at(dbetaOffset), sumDyXhat = dgamma.at(dgammaOffset);
        CudaKernel sums = floating(dt, CudaKernel.BN_BACKWARD_SUMS_F32, CudaKernel.BN_BACKWARD_SUMS_F64);
        channelSums(dt, m, c, false, (shape, perChunk, targets, divisor) -> launch.launch(sums, shape, n, c, s,
                perChunk, eps, px, pdy, pmean, pvar, targets[0], targets[1]), sumDy, sumDyXhat);
        if (m > 0) {
            launch.elementwise(floating(dt, CudaKernel.BN_BACKWARD_DX_F32, CudaKernel.BN_BACKWARD_DX_F64), m * c, n, c,
                    s, eps, batchStats ? 1 : 0, px, pdy, pmean, pvar, gamma.at(gammaOffset), sumDy, sumDyXhat,
                    dx.at(dxOffset));
        }
    }

    @Override
    public void dropout(long n, int threshold, double scale, long seed, long offset, CudaBuffer x, long xOffset,
                        CudaBuffer y, long yOffset) {
        launch.launch(floating(x.dtype(), CudaKernel.DROPOUT_F32, CudaKernel.DROPOUT_F64),
                dropoutShape(n, launch.maxBlocks()), n, threshold, scale, seed, offset, x.at(xOffset), y.at(yOffset));
    }
}
