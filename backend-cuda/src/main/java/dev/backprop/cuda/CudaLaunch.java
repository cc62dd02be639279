package dev.backprop.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Kernel launches on the backend's stream, each checked twice: the arguments against the kernel's declared
 * parameters before the launch ({@link KernelParams#write}), and the launch's result code after it.
 *
 * <p>Launch shapes: elementwise kernels use {@link #BLOCK} threads per block and at most
 * {@code 32 × multiprocessors} blocks (the kernels' grid-stride loops cover any size); row kernels use one
 * block per row up to 65535 blocks (again with a grid-stride loop over rows).
 */
final class CudaLaunch {
    /** Threads per block of 1-D kernels; {@code BLOCK} in common.cuh. */
    static final int BLOCK = 256;
    /** Tile edge of the transpose and column-reduction kernels; {@code TILE} in common.cuh. */
    static final int TILE = 32;
    /** Rows of threads in those kernels' blocks; {@code TILE_ROWS} in common.cuh. */
    static final int TILE_ROWS = 8;
    /** Most blocks along grid y (a hardware limit) and the cap for row kernels. */
    static final int MAX_GRID_Y = 65535;

    private final CudaContext context;
    private final int maxBlocks;

    CudaLaunch(CudaContext context) {
        this.context = context;
        this.maxBlocks = Math.max(1, context.facts.multiprocessors()) * 32;
    }

    /** Blocks for a grid-stride kernel over {@code n} elements: enough to cover them, at most {@code maxBlocks}. */
    static int blocksFor(long n, int maxBlocks) {
        long needed = (n + BLOCK - 1) / BLOCK;
        return (int) Math.max(1, Math.min(needed, maxBlocks));
    }

    /** Tiles of {@link #TILE} covering {@code n} (without int overflow near {@code Integer.MAX_VALUE}). */
    static int tiles(int n) {
        return (int) (((long) n + TILE - 1) / TILE);
    }

    /** One block per row, capped at {@link #MAX_GRID_Y}. */
    static int blocksForRows(long rows) {
        return (int) Math.max(1, Math.min(rows, MAX_GRID_Y));
    }

    /** Launches a 1-D grid-stride kernel over {@code n} elements. */
    void elementwise(CudaKernel kernel, long n, Object... args) {
        launch(kernel, blocksFor(n, maxBlocks), 1, BLOCK, 1, args);
    }

    /** Launches a one-block-per-row kernel over {@code rows} rows. */
    void perRow(CudaKernel kernel, long rows, Object... args) {
        launch(kernel, blocksForRows(rows), 1, BLOCK, 1, args);
    }

    /** Launches {@code kernel} with an explicit grid and block shape. */
    void launch(CudaKernel kernel, int gridX, int gridY, int blockX, int blockY, Object... args) {
        // One parameter block per context: safe because every launch runs under the backend's lock.
        int rc = JCudaDriver.cuLaunchKernel(context.modules().function(kernel), gridX, gridY, 1, blockX, blockY, 1,
                0, context.stream, context.params().write(kernel, args), null);
        if (rc != CUresult.CUDA_SUCCESS) { // the message is built only on failure: launches are the hot path
            throw CudaCheck.failure(rc, "cuLaunchKernel(" + kernel.entry() + ", grid " + gridX + "x" + gridY
                    + ", block " + blockX + "x" + blockY + ")");
        }
    }
}
