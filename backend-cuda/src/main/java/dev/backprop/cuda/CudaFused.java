package dev.backprop.cuda;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.base.MemoryPool;
import dev.backprop.backend.base.OpFamilies;
import dev.backprop.cuda.CudaLaunch.Shape;
import jcuda.driver.CUdeviceptr;

import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

import static dev.backprop.cuda.CudaKernel.floating;

/**
 * The fused ops of a training step ({@link Backend#biasActivation}, {@link Backend#biasActivationBackward},
 * {@link Backend#sgdUpdateAll}, {@link Backend#adamUpdateAll}) in the kernels of {@code fused.cu}: a dense layer's
 * bias + activation forward and backward, and the optimizer step of every parameter tensor in one launch. Each
 * computes the same float operations, in the same order, as the SPI's default on the other families (ADD then the
 * activation; the activation's derivative from the output, then a column sum; one {@code sgdUpdate} or
 * {@code adamUpdate} per tensor), so a step gives the same bits with or without them.
 *
 * <p>The multi-tensor steps read their tensors from a device table ({@link #SGD_WORDS} or {@link #ADAM_WORDS}
 * 64-bit words per tensor, uploaded as pairs of ints). The table of the last call is kept and uploaded again only
 * when a pointer or length changed, so a training loop uploads it once, and a captured graph that reads it never
 * sees it move.
 */
final class CudaFused implements OpFamilies.Fused<CudaBuffer>, AutoCloseable {
    /**
     * Words per tensor in the SGD table: param, grad, velocity (0 without momentum), n; {@code SGD_WORDS} in fused.cu.
     */
    static final int SGD_WORDS = 4;
    /** Words per tensor in the Adam table: param, grad, m, v, n; {@code ADAM_WORDS} in fused.cu. */
    static final int ADAM_WORDS = 5;

    /** Queues the upload of a table's words to device memory (the staging ring, or a test's recorder). */
    @FunctionalInterface
    interface TableUpload {
        void upload(int[] words, CUdeviceptr dst);
    }

    private final CudaLaunch launch;
    private final MemoryPool<CUdeviceptr> pool;
    private final TableUpload upload;
    private final BooleanSupplier recording;
    private long[] tableWords;
    private MemoryPool.Block<CUdeviceptr> table;

    /** @param recording whether a step is being captured now (the multi-tensor updates are refused then) */
    CudaFused(CudaLaunch launch, MemoryPool<CUdeviceptr> pool, TableUpload upload, BooleanSupplier recording) {
        this.launch = launch;
        this.pool = pool;
        this.upload = upload;
        this.recording = recording;
    }

    /** {@code y = act(z + bias)} over a {@code rows × cols} matrix, {@code bias} broadcast along rows; y may be z. */
    @Override
    public void biasActivation(UnaryOp act, int rows, int cols, CudaBuffer z, long zOffset, CudaBuffer bias,
                               long biasOffset, CudaBuffer y, long yOffset) {
        launch.elementwise(floating(z.dtype(), CudaKernel.BIAS_ACT_F32, CudaKernel.BIAS_ACT_F64), (long) rows * cols,
                CudaOpCodes.unary(act), rows, cols, z.at(zOffset), bias.at(biasOffset), y.at(yOffset));
    }

    /**
     * {@code dz = act'(z)·g} from the forward output {@code y = act(z)}, and {@code dbias} = the column sums of dz: one
     * launch when the rows fit one chunk of a column reduction ({@link CudaReductions#columnPasses}), else the
     * chunks' partial sums then {@code reduce_cols} over them. dz may be g.
     */
    @Override
    public void biasActivationBackward(UnaryOp act, int rows, int cols, CudaBuffer y, long yOffset, CudaBuffer g,
                                long gOffset, CudaBuffer dz, long dzOffset, CudaBuffer dbias, long dbiasOffset) {
        DType dtype = y.dtype();
        CudaKernel kernel = floating(dtype, CudaKernel.BIAS_ACT_BACKWARD_F32, CudaKernel.BIAS_ACT_BACKWARD_F64);
        int op = CudaOpCodes.unary(act);
        int perChunk = CudaReductions.rowsPerChunk(rows);
        Shape[] passes = CudaReductions.columnPasses(rows, cols);
        if (passes.length == 1) {
            launch.launch(kernel, passes[0], op, rows, cols, perChunk, y.at(yOffset), g.at(gOffset), dz.at(dzOffset),
                    dbias.at(dbiasOffset));
            return;
        }
        int chunks = passes[0].gridY();
        MemoryPool.Block<CUdeviceptr> scratch = pool.allocate(dtype, (long) chunks * cols);
        try {
            launch.launch(kernel, passes[0], op, rows, cols, perChunk, y.at(yOffset), g.at(gOffset), dz.at(dzOffset),
                    scratch.raw());
            launch.launch(floating(dtype, CudaKernel.REDUCE_COLS_F32, CudaKernel.REDUCE_COLS_F64), passes[1],
                    CudaOpCodes.reduce(ReduceOp.SUM), chunks, cols, chunks, scratch.raw(),
                    dbias.at(dbiasOffset), (double) rows);
        } finally {
            pool.free(scratch);
        }
    }

    /** The SGD step of every tensor in one launch, with the formulas of {@code sgdUpdate}. */
    @Override
    public void sgdUpdateAll(List<Backend.SgdTensor> tensors, double lr, double momentum, double weightDecay,
                             boolean nesterov) {
        DType dtype = sameDtype(tensors.stream().map(t -> t.param().dtype()).toList());
        refuseWhileRecording();
        long[] words = new long[tensors.size() * SGD_WORDS];
        long most = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Backend.SgdTensor t = tensors.get(i);
            int at = i * SGD_WORDS;
            words[at] = address(t.param(), t.paramOffset());
            words[at + 1] = address(t.grad(), t.gradOffset());
            words[at + 2] = t.velocity() == null ? 0 : address(t.velocity(), t.velocityOffset());
            words[at + 3] = t.n();
            most = Math.max(most, t.n());
        }
        launch.launch(floating(dtype, CudaKernel.SGD_UPDATE_MULTI_F32, CudaKernel.SGD_UPDATE_MULTI_F64),
                multiShape(most, tensors.size(), launch.maxBlocks()), tensors.size(), table(words), lr, momentum,
                weightDecay, nesterov ? 1 : 0);
    }

    /** The Adam/AdamW step of every tensor in one launch, with the formulas (and host bias corrections) of
     *  {@code adamUpdate}. */
    @Override
    public void adamUpdateAll(List<Backend.AdamTensor> tensors, double lr, double beta1, double beta2, double eps,
                              double weightDecay, boolean decoupled, long step) {
        DType dtype = sameDtype(tensors.stream().map(t -> t.param().dtype()).toList());
        refuseWhileRecording();
        long[] words = new long[tensors.size() * ADAM_WORDS];
        long most = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Backend.AdamTensor t = tensors.get(i);
            int at = i * ADAM_WORDS;
            words[at] = address(t.param(), t.paramOffset());
            words[at + 1] = address(t.grad(), t.gradOffset());
            words[at + 2] = address(t.m(), t.mOffset());
            words[at + 3] = address(t.v(), t.vOffset());
            words[at + 4] = t.n();
            most = Math.max(most, t.n());
        }
        double bias1 = 1 - Math.pow(beta1, step);
        double bias2 = 1 - Math.pow(beta2, step);
        launch.launch(floating(dtype, CudaKernel.ADAM_UPDATE_MULTI_F32, CudaKernel.ADAM_UPDATE_MULTI_F64),
                multiShape(most, tensors.size(), launch.maxBlocks()), tensors.size(), table(words), lr, beta1, beta2,
                eps, weightDecay, decoupled ? 1 : 0, bias1, bias2);
    }

    /**
     * A multi-tensor launch: grid x covers the largest tensor as an elementwise launch would, grid y one tensor per
     * row of blocks up to {@link CudaLaunch#MAX_GRID_Y} (the kernels loop over tensors beyond that).
     */
    static Shape multiShape(long mostElements, int tensors, int maxBlocks) {
        return new Shape(CudaLaunch.blocksFor(mostElements, maxBlocks), Math.max(1, Math.min(tensors,
                CudaLaunch.MAX_GRID_Y)), CudaLaunch.BLOCK, 1);
    }

    /** The table's device copy: the kept one when the words are the same, else a new block and an upload. */
    private CUdeviceptr table(long[] words) {
        if (table != null && Arrays.equals(words, tableWords)) {
            return table.raw();
        }
        MemoryPool.Block<CUdeviceptr> fresh = pool.allocate(DType.INT32, 2L * words.length);
        int[] ints = new int[2 * words.length];
        for (int i = 0; i < words.length; i++) { // little-endian halves: the kernels read 64-bit words
            ints[2 * i] = (int) words[i];
            ints[2 * i + 1] = (int) (words[i] >>> 32);
        }
        upload.upload(ints, fresh.raw());
        releaseTable();
        table = fresh;
        tableWords = words;
        return table.raw();
    }

    private void releaseTable() {
        if (table != null) { // later work on the one stream cannot overtake the launches that read it
            pool.free(table);
            table = null;
            tableWords = null;
        }
    }

    /**
     * A captured graph would keep reading the table block of its capture, which a later call with other tensors
     * frees, and its scalars (the learning rate, Adam's step) would be frozen: the update runs after the step.
     */
    private void refuseWhileRecording() {
        if (recording.getAsBoolean()) {
            throw new IllegalStateException("cuda: a multi-tensor update inside a captured training step; run the "
                    + "optimizer's update after the step");
        }
    }

    private static DType sameDtype(List<DType> dtypes) {
        if (dtypes.isEmpty()) {
            throw new IllegalArgumentException("a multi-tensor update needs at least one tensor");
        }
        DType first = dtypes.get(0);
        if (first == DType.INT32 || dtypes.stream().anyMatch(d -> d != first)) {
            throw new IllegalArgumentException("a multi-tensor update needs one floating dtype, got " + dtypes);
        }
        return first;
    }

    /** The address of element {@code offset} of a buffer the skeleton checked to be this backend's. */
    private static long address(Buffer b, long offset) {
        return KernelParams.DeviceAddress.of(((CudaBuffer) b).at(offset));
    }

    /** Returns the kept table to the pool. */
    @Override
    public void close() {
        releaseTable();
    }
}
