package dev.backprop.opencl;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.UnaryOp;
import dev.backprop.backend.base.OpFamilies;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Fused ops of a training step ({@code fused.cl}): a dense layer's bias + activation, forward (one launch) and
 * backward with the bias gradient (one launch), and the SGD or Adam step of up to {@link #MULTI_TENSORS} parameter
 * tensors per launch. Each computes the float operations of the SPI's default, in its order (the per-element
 * functions are common.cl's, the column sums {@code reduce_cols}' group shape and tree), so a step gives the same
 * bits with or without them.
 */
final class OpenClFused implements OpFamilies.Fused<OpenClBuffer> {
    private static final String SOURCE = "fused.cl";
    /**
     * Tensors per multi-tensor launch, fused.cl's slots. A slot is 8 (SGD) or 10 (Adam) kernel arguments, since
     * OpenCL 1.2 buffers cannot hold the device pointers of a table: 8 Adam slots and the scalars take about 730
     * bytes, within the 1024 bytes of arguments ({@code CL_DEVICE_MAX_PARAMETER_SIZE}) every OpenCL 1.2 device
     * takes, where 12 would not. Eight cover an MLP of four layers, or the reference CNN, in one launch.
     */
    static final int MULTI_TENSORS = 8;
    private static final Set<UnaryOp> ACTIVATIONS = EnumSet.copyOf(Backend.FUSED_ACTIVATIONS);

    private final OpenClRuntime rt;

    OpenClFused(OpenClRuntime rt) {
        this.rt = rt;
    }

    /** Builds the program for {@code dtype} and creates its kernels. */
    void prepare(DType dtype) {
        for (UnaryOp act : ACTIVATIONS) {
            launch(dtype, "bias_act_" + name(act));
            launch(dtype, "bias_act_backward_" + name(act));
        }
        launch(dtype, "sgd_update_multi");
        launch(dtype, "adam_update_multi");
    }

    private OpenClLaunch launch(DType dtype, String kernel) {
        return rt.launch(SOURCE, rt.reduceOptions(), dtype, kernel);
    }

    private static String name(UnaryOp act) {
        return act.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void biasActivation(UnaryOp act, int rows, int cols, OpenClBuffer z, long zOffset, OpenClBuffer bias,
                               long biasOffset, OpenClBuffer y, long yOffset) {
        DType dt = floating("biasActivation", z.dtype());
        long n = (long) rows * cols;
        launch(dt, "bias_act_" + name(act)).i64(n).i32(cols).mem(z).i64(zOffset).mem(bias).i64(biasOffset).mem(y)
                .i64(yOffset).run1(n, rt.elementwiseGroupSize);
    }

    @Override
    public void biasActivationBackward(UnaryOp act, int rows, int cols, OpenClBuffer y, long yOffset, OpenClBuffer g,
                                       long gOffset, OpenClBuffer dz, long dzOffset, OpenClBuffer dbias,
                                       long dbiasOffset) {
        DType dt = floating("biasActivationBackward", y.dtype());
        OpenClReductions.runColumns(launch(dt, "bias_act_backward_" + name(act)).i32(rows).i32(cols).mem(y)
                .i64(yOffset).mem(g).i64(gOffset).mem(dz).i64(dzOffset).mem(dbias).i64(dbiasOffset), cols,
                rt.reduceGroupSize);
    }

    /** Without momentum a tensor's parameters stand in for its unused velocity slot, as in {@code sgd_update}. */
    @Override
    public void sgdUpdateAll(List<Backend.SgdTensor> tensors, double lr, double momentum, double weightDecay,
                             boolean nesterov) {
        DType dt = sameDtype("sgdUpdateAll", tensors, t -> t.velocity() == null
                ? List.of(t.param(), t.grad()) : List.of(t.param(), t.grad(), t.velocity()));
        for (int from = 0; from < tensors.size(); from += MULTI_TENSORS) {
            List<Backend.SgdTensor> part = tensors.subList(from, Math.min(tensors.size(), from + MULTI_TENSORS));
            int mask = 0;
            for (int i = 0; i < part.size(); i++) {
                mask |= part.get(i).velocity() == null ? 0 : 1 << i;
            }
            OpenClLaunch l = launch(dt, "sgd_update_multi").real(lr).real(momentum).real(weightDecay)
                    .i32(nesterov ? 1 : 0).i32(mask);
            long[] first = firstGroups(part.stream().mapToLong(Backend.SgdTensor::n).toArray());
            for (int slot = 0; slot < MULTI_TENSORS; slot++) {
                Backend.SgdTensor t = part.get(Math.min(slot, part.size() - 1));
                boolean used = slot < part.size();
                OpenClBuffer param = cast(t.param());
                l.mem(param).i64(t.paramOffset()).mem(cast(t.grad())).i64(t.gradOffset());
                if (t.velocity() == null) {
                    l.mem(param).i64(t.paramOffset());
                } else {
                    l.mem(cast(t.velocity())).i64(t.velocityOffset());
                }
                l.i64(used ? t.n() : 0).i64(first[slot]);
            }
            run(l, first[MULTI_TENSORS]);
        }
    }

    @Override
    public void adamUpdateAll(List<Backend.AdamTensor> tensors, double lr, double beta1, double beta2, double eps,
                              double weightDecay, boolean decoupled, long step) {
        DType dt = sameDtype("adamUpdateAll", tensors, t -> List.of(t.param(), t.grad(), t.m(), t.v()));
        for (int from = 0; from < tensors.size(); from += MULTI_TENSORS) {
            List<Backend.AdamTensor> part = tensors.subList(from, Math.min(tensors.size(), from + MULTI_TENSORS));
            OpenClLaunch l = OpenClUpdates.adamScalars(launch(dt, "adam_update_multi"), lr, beta1, beta2, eps,
                    weightDecay, decoupled, step);
            long[] first = firstGroups(part.stream().mapToLong(Backend.AdamTensor::n).toArray());
            for (int slot = 0; slot < MULTI_TENSORS; slot++) {
                Backend.AdamTensor t = part.get(Math.min(slot, part.size() - 1));
                l.mem(cast(t.param())).i64(t.paramOffset()).mem(cast(t.grad())).i64(t.gradOffset())
                        .mem(cast(t.m())).i64(t.mOffset()).mem(cast(t.v())).i64(t.vOffset())
                        .i64(slot < part.size() ? t.n() : 0).i64(first[slot]);
            }
            run(l, first[MULTI_TENSORS]);
        }
    }

    /**
     * The first work-group of each slot's tensor ({@code Long.MAX_VALUE} for an unused slot, so no group selects
     * it), then the groups of all tensors together at index {@link #MULTI_TENSORS}.
     */
    private long[] firstGroups(long[] lengths) {
        long[] first = new long[MULTI_TENSORS + 1];
        Arrays.fill(first, Long.MAX_VALUE);
        long groups = 0;
        for (int slot = 0; slot < lengths.length; slot++) {
            first[slot] = groups;
            groups += OpenClLaunch.roundUp(lengths[slot], rt.elementwiseGroupSize) / rt.elementwiseGroupSize;
        }
        first[MULTI_TENSORS] = groups;
        return first;
    }

    private void run(OpenClLaunch l, long groups) {
        int ls = rt.elementwiseGroupSize;
        l.run(new long[] {groups * ls}, new long[] {ls});
    }

    private static OpenClBuffer cast(Buffer b) {
        return (OpenClBuffer) b;
    }

    /** The activation was checked by the skeleton ({@code BackendCore}); the dtype is checked here. */
    private static DType floating(String op, DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("opencl " + op + ": needs a floating dtype, got " + dtype);
        }
        return dtype;
    }

    /** The one floating dtype of every buffer of {@code tensors}, or a one-line error listing them. */
    private static <T> DType sameDtype(String op, List<T> tensors, Function<T, List<Buffer>> buffers) {
        List<DType> dtypes = new ArrayList<>();
        for (T t : tensors) {
            for (Buffer b : buffers.apply(t)) {
                dtypes.add(b.dtype());
            }
        }
        DType first = dtypes.get(0);
        if (!first.isFloating() || dtypes.stream().anyMatch(d -> d != first)) {
            throw new IllegalArgumentException("opencl " + op + ": the tensors need one floating dtype, got "
                    + dtypes.stream().distinct().toList() + " over " + tensors.size() + " tensors");
        }
        return first;
    }
}
