package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.tensor.ShapeMismatchException;
import dev.backprop.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A 2-D convolution like PyTorch's {@code nn.Conv2d} (groups = 1): input {@code [N, in, H, W]}, weight
 * {@code [out, in, kH, kW]}, bias {@code [out]}, output {@code [N, out, outH, outW]}. With {@link Init#PYTORCH_DEFAULT}
 * and a {@link dev.backprop.random.TorchGenerator} its initial weights are PyTorch's for the same seed
 * ({@code kaiming_uniform_(a=√5)} over {@code fan_in = in·kH·kW}, and the bias uniform in {@code ±1/√fan_in}).
 */
public final class Conv2d implements Layer {
    private final int in;
    private final int out;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    private final Variable weight;
    private final Variable bias;

    /**
     * A convolution whose parameters come from {@code factory} (weight, then bias). Each geometry argument is
     * {@code {rows, columns}}.
     *
     * @throws IllegalArgumentException when a channel count or kernel size is not positive, a stride or dilation is
     *                                  below 1 or a padding below 0
     */
    public Conv2d(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean bias,
                  ParameterFactory factory) {
        check(in, out, kernel, stride, padding, dilation);
        this.in = in;
        this.out = out;
        this.kernel = kernel.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        int fanIn = Math.multiplyExact(in, Math.multiplyExact(this.kernel[0], this.kernel[1]));
        int fanOut = Math.multiplyExact(out, this.kernel[0] * this.kernel[1]);
        this.weight = Variable.parameter(checked(factory.create("weight", new int[] {out, in, this.kernel[0],
                this.kernel[1]}, ParameterRole.WEIGHT, fanIn, fanOut), "weight", out, in, this.kernel[0],
                this.kernel[1]));
        Variable b = null;
        if (bias) {
            try {
                b = Variable.parameter(checked(factory.create("bias", new int[] {out}, ParameterRole.BIAS, fanIn,
                        fanOut), "bias", out));
            } catch (RuntimeException e) {
                weight.close();
                throw e;
            }
        }
        this.bias = b;
    }

    /** A square-kernel convolution with equal strides, paddings and dilation 1, as {@code nn.Conv2d(in, out, k)}. */
    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, ParameterFactory factory) {
        this(in, out, new int[] {kernel, kernel}, new int[] {stride, stride}, new int[] {padding, padding},
                new int[] {1, 1}, bias, factory);
    }

    /**
     * Checks a convolution's sizes (each geometry argument {@code {rows, columns}}) without building it.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    public static void check(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Conv2d: channel counts must be positive, got " + in + "->" + out);
        }
        pair("kernel", kernel, 1);
        pair("stride", stride, 1);
        pair("padding", padding, 0);
        pair("dilation", dilation, 1);
        if ((long) in * out * kernel[0] * kernel[1] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Conv2d(" + in + "->" + out + "): a " + kernel[0] + "x" + kernel[1]
                    + " weight of more than 2^31 elements");
        }
    }

    private static void pair(String what, int[] v, int min) {
        if (v == null || v.length != 2 || v[0] < min || v[1] < min) {
            throw new IllegalArgumentException("Conv2d: " + what + " must be two values >= " + min + ", got "
                    + java.util.Arrays.toString(v));
        }
    }

    private Tensor checked(Tensor t, String name, int... dims) {
        if (!java.util.Arrays.equals(t.shape().dims(), dims)) {
            t.close();
            throw new ShapeMismatchException(this + ": " + name + " is " + t.shape() + ", expected "
                    + java.util.Arrays.toString(dims));
        }
        return t;
    }

    /** Input channels. */
    public int inChannels() {
        return in;
    }

    /** Output channels. */
    public int outChannels() {
        return out;
    }

    /** The weight {@code [out, in, kH, kW]}. */
    public Variable weight() {
        return weight;
    }

    /** The bias {@code [out]}, or null. */
    public Variable bias() {
        return bias;
    }

    /**
     * @throws ShapeMismatchException naming the layer and both shapes when the input is not {@code [N, in, H, W]}
     */
    @Override
    public Variable forward(Variable input) {
        int[] d = input.shape().dims();
        if (d.length != 4) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " is not an NCHW batch [N, " + in
                    + ", H, W]" + (d.length == 2 ? " (reshape flat images to [N, C, H, W] first)" : ""));
        }
        if (d[1] != in) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " has " + d[1] + " channel"
                    + (d[1] == 1 ? "" : "s") + ", expected " + in);
        }
        return Ops.conv2d(input, weight, bias, stride[0], stride[1], padding[0], padding[1], dilation[0],
                dilation[1]);
    }

    @Override
    public Map<String, Variable> parameters() {
        Map<String, Variable> m = new LinkedHashMap<>();
        m.put("weight", weight);
        if (bias != null) {
            m.put("bias", bias);
        }
        return m;
    }

    @Override
    public LayerSpec spec() {
        return spec(in, out, kernel, stride, padding, dilation, bias != null);
    }

    /** The spec of a convolution (each geometry argument {@code {rows, columns}}), without building it. */
    public static LayerSpec spec(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation,
                                 boolean bias) {
        Map<String, Integer> a = new LinkedHashMap<>();
        a.put("in", in);
        a.put("out", out);
        a.put("kernel_h", kernel[0]);
        a.put("kernel_w", kernel[1]);
        a.put("stride_h", stride[0]);
        a.put("stride_w", stride[1]);
        a.put("pad_h", padding[0]);
        a.put("pad_w", padding[1]);
        a.put("dilation_h", dilation[0]);
        a.put("dilation_w", dilation[1]);
        a.put("bias", bias ? 1 : 0);
        return LayerSpec.of("conv2d", a);
    }

    @Override
    public String toString() {
        String k = kernel[0] == kernel[1] ? "" + kernel[0] : kernel[0] + "x" + kernel[1];
        return "Conv2d(" + in + "->" + out + ", k=" + k
                + (stride[0] == 1 && stride[1] == 1 ? "" : ", stride=" + stride[0] + "x" + stride[1])
                + (padding[0] == 0 && padding[1] == 0 ? "" : ", padding=" + padding[0] + "x" + padding[1])
                + (dilation[0] == 1 && dilation[1] == 1 ? "" : ", dilation=" + dilation[0] + "x" + dilation[1])
                + (bias == null ? ", no bias" : "") + ")";
    }
}
