package dev.backprop.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Kernel launches on the backend's stream, each checked twice: the arguments against the kernel's declared
 * parameters before the launch ({@link KernelParams#write}), and the launch's result code after it.
 *
 * <p>Launch shapes: elementwise kernels use {@link #BLOCK} threads per block and at most
 * {@code 32 × multiprocessors} blocks (the kernels' grid-stride loops cover any size); row kernels use one
 * block per row up to 65535 blocks (again with a grid-stride loop over rows); per-channel reductions a grid of
 * chunks × channels (see {@link Shape#channels}).
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

    /** Where launches go: the driver on the context's stream, or a test's recorder. */
    @FunctionalInterface
    interface Target {
        void launch(CudaKernel kernel, Shape shape, Object... args);
    }

    private final Target target;
    private final int maxBlocks;
    private long launches;

    CudaLaunch(CudaContext context) {
        this(maxBlocks(context.facts.multiprocessors()), (kernel, shape, args) -> driver(context, kernel, shape, args));
    }

    /** Launches into {@code target}, with grids of at most {@code maxBlocks} for grid-stride kernels. */
    CudaLaunch(int maxBlocks, Target target) {
        this.maxBlocks = maxBlocks;
        this.target = target;
    }

    /**
     * A launch's grid and block (x and y; z is 1). The op classes launch with these shapes, and the CPU emulation
     * of the kernels (KernelEmulationTest) asks for the same ones.
     */
    record Shape(int gridX, int gridY, int blockX, int blockY) {
        /** A 1-D grid-stride kernel over {@code n} elements. */
        static Shape elementwise(long n, int maxBlocks) {
            return blocks(blocksFor(n, maxBlocks));
        }

        /** A one-block-per-row kernel over {@code rows} rows. */
        static Shape perRow(long rows) {
            return blocks(blocksForRows(rows));
        }

        /** {@code blocks} 1-D blocks of {@link #BLOCK} threads. */
        static Shape blocks(int blocks) {
            return new Shape(blocks, 1, BLOCK, 1);
        }

        /** The transpose of a {@code rows × cols} matrix: one block per tile, columns along x. */
        static Shape transpose(int rows, int cols) {
            return new Shape(tileBlocks(cols), tileBlocks(rows), TILE, TILE_ROWS);
        }

        /** A column reduction over {@code cols} columns in {@code chunks} chunks of rows (along y). */
        static Shape columns(int cols, int chunks) {
            return new Shape(tileBlocks(cols), chunks, TILE, TILE_ROWS);
        }

        /**
         * A per-channel reduction: {@code chunks} blocks along x (each a fixed range of a channel's elements), one
         * block per channel along y up to {@link #MAX_GRID_Y} (the kernels loop over channels beyond that).
         */
        static Shape channels(int chunks, int channels) {
            return new Shape(chunks, (int) Math.max(1, Math.min(channels, MAX_GRID_Y)), BLOCK, 1);
        }

        private static int tileBlocks(int n) {
            return Math.min(tiles(n), MAX_GRID_Y);
        }
    }

    /** Most blocks of a grid-stride kernel on a device with {@code multiprocessors} multiprocessors. */
    static int maxBlocks(int multiprocessors) {
        return Math.max(1, multiprocessors) * 32;
    }

    /** Most blocks of this device's grid-stride launches ({@link Shape#elementwise}). */
    int maxBlocks() {
        return maxBlocks;
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
        launch(kernel, Shape.elementwise(n, maxBlocks), args);
    }

    /** Launches a one-block-per-row kernel over {@code rows} rows. */
    void perRow(CudaKernel kernel, long rows, Object... args) {
        launch(kernel, Shape.perRow(rows), args);
    }

    /** Launches {@code kernel} with grid and block {@code shape}. */
    void launch(CudaKernel kernel, Shape shape, Object... args) {
        target.launch(kernel, shape, args);
        launches++;
    }

    /** Kernels launched so far (each under the backend's lock): what a training step costs in launches. */
    long launches() {
        return launches;
    }

    private static void driver(CudaContext context, CudaKernel kernel, Shape s, Object... args) {
        // One parameter block per context: safe because every launch runs under the backend's lock.
        int rc = JCudaDriver.cuLaunchKernel(context.modules().function(kernel), s.gridX(), s.gridY(), 1, s.blockX(),
                s.blockY(), 1, 0, context.stream, context.params().write(kernel, args), null);
        if (rc != CUresult.CUDA_SUCCESS) { // the message is built only on failure: launches are the hot path
            throw CudaCheck.failure(rc, "cuLaunchKernel(" + kernel.entry() + ", grid " + s.gridX() + "x" + s.gridY()
                    + ", block " + s.blockX() + "x" + s.blockY() + ")");
        }
    }
}
