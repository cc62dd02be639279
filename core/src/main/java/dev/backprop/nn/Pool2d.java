package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.tensor.ShapeMismatchException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Max or average pooling of NCHW batches, like PyTorch's {@code nn.MaxPool2d} and {@code nn.AvgPool2d} (floor mode;
 * the stride defaults to the kernel; padding at most half the kernel). No parameters.
 */
public final class Pool2d implements Layer {
    private final boolean max;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;
    private final boolean countIncludePad;

    private Pool2d(boolean max, int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        check(kernel, stride, padding);
        this.max = max;
        this.kernel = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.countIncludePad = countIncludePad;
    }

    /**
     * Checks a pooling window (each argument {@code {rows, columns}}) without building it.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    public static void check(int[] kernel, int[] stride, int[] padding) {
        Geometry2d.check("Pool2d", "kernel", kernel, 1);
        Geometry2d.check("Pool2d", "stride", stride, 1);
        Geometry2d.check("Pool2d", "padding", padding, 0);
        if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1]) {
            throw new IllegalArgumentException("Pool2d: padding " + padding[0] + "x" + padding[1]
                    + " is more than half the kernel " + kernel[0] + "x" + kernel[1]);
        }
    }

    /** {@code nn.MaxPool2d(kernel, stride, padding)}, each {@code {rows, columns}}. */
    public static Pool2d max(int[] kernel, int[] stride, int[] padding) {
        return new Pool2d(true, kernel, stride, padding, true);
    }

    /** {@code nn.MaxPool2d(k)}: a square window moved by its own size. */
    public static Pool2d max(int k) {
        return max(new int[] {k, k}, new int[] {k, k}, new int[] {0, 0});
    }

    /** {@code nn.AvgPool2d(kernel, stride, padding, count_include_pad=countIncludePad)}. */
    public static Pool2d avg(int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        return new Pool2d(false, kernel, stride, padding, countIncludePad);
    }

    /** {@code nn.AvgPool2d(k)}. */
    public static Pool2d avg(int k) {
        return avg(new int[] {k, k}, new int[] {k, k}, new int[] {0, 0}, true);
    }

    /** Whether this is max pooling (else average). */
    public boolean isMax() {
        return max;
    }

    /**
     * @throws ShapeMismatchException when the input is not rank 4
     * @throws IllegalArgumentException when the window does not fit the input (a pooled size of 0)
     */
    @Override
    public Variable forward(Variable input) {
        if (input.shape().rank() != 4) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " is not an NCHW batch [N, C, H, W]");
        }
        if (max) {
            return Ops.maxPool2d(input, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]);
        }
        return Ops.avgPool2d(input, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1],
                countIncludePad);
    }

    @Override
    public Map<String, Variable> parameters() {
        return Map.of();
    }

    @Override
    public LayerSpec spec() {
        return spec(max, kernel, stride, padding, countIncludePad);
    }

    /**
     * The spec of max pooling ({@code max}) or average pooling (each geometry argument {@code {rows, columns}};
     * {@code countIncludePad} matters for average pooling only), without building it.
     */
    public static LayerSpec spec(boolean max, int[] kernel, int[] stride, int[] padding, boolean countIncludePad) {
        Map<String, Integer> a = new LinkedHashMap<>();
        Geometry2d.put(a, "kernel", kernel);
        Geometry2d.put(a, "stride", stride);
        Geometry2d.put(a, "pad", padding);
        if (!max) {
            a.put("count_include_pad", countIncludePad ? 1 : 0);
        }
        return LayerSpec.of(max ? "maxpool2d" : "avgpool2d", a);
    }

    @Override
    public String toString() {
        String k = kernel[0] == kernel[1] ? "" + kernel[0] : kernel[0] + "x" + kernel[1];
        return (max ? "MaxPool2d(" : "AvgPool2d(") + "k=" + k
                + (stride[0] == kernel[0] && stride[1] == kernel[1] ? "" : ", stride=" + stride[0] + "x" + stride[1])
                + (padding[0] == 0 && padding[1] == 0 ? "" : ", padding=" + padding[0] + "x" + padding[1])
                + (max || countIncludePad ? "" : ", count_include_pad=False") + ")";
    }
}
