package dev.backprop.opencl;

import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.backend.ReduceAxis;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import org.jocl.CL;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The column sum ({@code reduce(SUM, PER_COLUMN)}, FLOAT32) and the fused bias gradient
 * ({@code biasActivationBackward(IDENTITY)}) against an elementwise pass over the same elements ({@code unary NEG},
 * one read and one write each) on one OpenCL backend, for the MLP's bias gradients (128 rows) and a large matrix.
 * With a directory holding an earlier {@code common.cl}, {@code reductions.cl} and {@code fused.cl} (e.g. from
 * {@code git show main:...}), those earlier kernels run too, built here and launched with their group shape (cx
 * columns x LS/cx row slices), so before and after are measured in the same JVM. Rounds alternate the targets' order;
 * every call is timed to completion ({@code synchronize}). Prints each target's median and best microseconds per
 * call and the median of its per-round ratio to the elementwise pass.
 * A measuring tool, not a test: {@code OpenClReductionProfile [rounds] [beforeDir [cx]]} (default 200 rounds; cx,
 * the earlier kernels' columns per group, 16).
 */
public final class OpenClReductionProfile {
    private static final int[][] SHAPES = {{128, 256}, {128, 128}, {128, 10}, {4096, 1024}};
    /** Calls per target per round; a round's figure is their median. */
    private static final int CALLS = 15;

    private OpenClReductionProfile() {
    }

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Path before = args.length > 1 ? Path.of(args[1]) : null;
        int cx = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        try (OpenClBackend be = (OpenClBackend) new OpenClBackendProvider().create(BackendOptions.defaults())) {
            OpenClRuntime rt = be.runtime();
            cl_kernel[] old = before == null ? null : new cl_kernel[] {
                buildBefore(rt, before, "reductions.cl", "reduce_cols"),
                buildBefore(rt, before, "fused.cl", "bias_act_backward_identity")};
            System.out.println("opencl: " + be.device().describe() + "; LS " + rt.reduceGroupSize + ", " + rounds
                    + " rounds of " + CALLS + " calls per target");
            for (int[] s : SHAPES) {
                int rows = s[0], cols = s[1];
                long n = (long) rows * cols;
                Buffer x = be.allocate(DType.FLOAT32, n), y = be.allocate(DType.FLOAT32, n);
                Buffer out = be.allocate(DType.FLOAT32, cols);
                try {
                    be.fill(x, 0, n, 0.5);
                    List<String> names = new ArrayList<>(List.of("elementwise", "reduce_cols", "bias_act_backward"));
                    List<Runnable> calls = new ArrayList<>(List.of(
                            () -> be.unary(UnaryOp.NEG, 0, 0, x, 0, y, 0, n),
                            () -> be.reduce(ReduceOp.SUM, ReduceAxis.PER_COLUMN, rows, cols, x, 0, out, 0),
                            () -> be.biasActivationBackward(UnaryOp.IDENTITY, rows, cols, x, 0, x, 0, y, 0, out, 0)));
                    if (old != null) {
                        OpenClBuffer bx = (OpenClBuffer) x, by = (OpenClBuffer) y, bo = (OpenClBuffer) out;
                        long[] global = {OpenClLaunch.roundUp(cols, cx), rt.reduceGroupSize / cx};
                        long[] local = {cx, rt.reduceGroupSize / cx};
                        names.add("reduce_cols before");
                        calls.add(() -> new OpenClLaunch(rt, old[0], "reduce_cols", DType.FLOAT32).i32(rows).i32(cols)
                                .mem(bx).i64(0).mem(bo).i64(0).i32(0).run(global, local));
                        names.add("bias_act_backward before");
                        calls.add(() -> new OpenClLaunch(rt, old[1], "bias_act_backward_identity", DType.FLOAT32)
                                .i32(rows).i32(cols).mem(bx).i64(0).mem(bx).i64(0).mem(by).i64(0).mem(bo).i64(0)
                                .run(global, local));
                    }
                    report(rows + "x" + cols, names, measure(be, calls, rounds));
                } finally {
                    be.release(x);
                    be.release(y);
                    be.release(out);
                }
            }
            if (old != null) {
                for (cl_kernel k : old) {
                    CL.clReleaseKernel(k);
                }
            }
        }
    }

    /** Microseconds per call: [target][round], each the median of the round's calls. */
    private static double[][] measure(OpenClBackend be, List<Runnable> calls, int rounds) {
        int k = calls.size();
        double[][] us = new double[k][rounds];
        double[] one = new double[CALLS];
        for (int r = -5; r < rounds; r++) { // 5 rounds to warm up
            for (int i = 0; i < k; i++) {
                int t = Math.floorMod(r, 2) == 0 ? i : k - 1 - i;
                for (int c = 0; c < CALLS; c++) {
                    long t0 = System.nanoTime();
                    calls.get(t).run();
                    be.synchronize();
                    one[c] = (System.nanoTime() - t0) / 1e3;
                }
                if (r >= 0) {
                    us[t][r] = median(one);
                }
            }
        }
        return us;
    }

    private static void report(String shape, List<String> names, double[][] us) {
        for (int t = 0; t < names.size(); t++) {
            double[] ratio = new double[us[t].length];
            for (int r = 0; r < ratio.length; r++) {
                ratio[r] = us[t][r] / us[0][r];
            }
            System.out.printf(Locale.ROOT, "%-10s %-20s median %9.1f us  best %9.1f us  x elementwise %.2f%n", shape,
                    names.get(t), median(us[t]), Arrays.stream(us[t]).min().orElseThrow(), median(ratio));
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** {@code kernel} of {@code dir}'s common.cl and {@code file}, built for FLOAT32 with the backend's LS. */
    private static cl_kernel buildBefore(OpenClRuntime rt, Path dir, String file, String kernel) throws IOException {
        String[] texts = {Files.readString(dir.resolve("common.cl")), Files.readString(dir.resolve(file))};
        int[] err = new int[1];
        cl_program p = CL.clCreateProgramWithSource(rt.context, texts.length, texts, null, err);
        OpenClCheck.check(err[0], "clCreateProgramWithSource", dir + "/" + file);
        OpenClCheck.check(CL.clBuildProgram(p, 1, new cl_device_id[] {rt.device.id()},
                OpenClPrograms.typeOptions(DType.FLOAT32) + " " + rt.reduceOptions(), null, null),
                "clBuildProgram", dir + "/" + file);
        cl_kernel k = CL.clCreateKernel(p, kernel, err);
        OpenClCheck.check(err[0], "clCreateKernel", kernel + " in " + dir + "/" + file);
        CL.clReleaseProgram(p);
        return k;
    }
}
