package dev.backprop.nn;

import dev.backprop.autograd.Ops;
import dev.backprop.autograd.Variable;
import dev.backprop.tensor.ShapeMismatchException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A 2-D convolution like PyTorch's {@code nn.Conv2d} (groups = 1): input {@code [N, in, H, W]}, weight
 * {@code [out, in, kH, kW]}, bias {@code [out]}, output {@code [N, out, outH, outW]}. With {@link Init#PYTORCH_DEFAULT}
 * and a {@link dev.backprop.random.TorchGenerator} its initial weights are PyTorch's for the same seed
 * ({@code kaiming_uniform_(a=√5)} over {@code fan_in = in·kH·kW}, and the bias uniform in {@code ±1/√fan_in}).
 */
public final class Conv2d implements Layer {
    private final Options options;
    private final Variable weight;
    private final Variable bias;

    /**
     * A convolution whose parameters come from {@code factory} (weight, then bias): {@code new
     * Conv2d(Conv2d.options(1, 32, 3).padding(1), factory)} is {@code nn.Conv2d(1, 32, 3, padding=1)}.
     *
     * @param options the channels and geometry
     * @param factory makes the weight, then the bias
     * @throws IllegalArgumentException when a channel count or kernel size is not positive, a stride or dilation is
     *                                  below 1 or a padding below 0
     */
    public Conv2d(Options options, ParameterFactory factory) {
        check(options.in, options.out, options.kernel, options.stride, options.padding, options.dilation);
        this.options = options;
        int in = options.in;
        int out = options.out;
        int[] kernel = options.kernel;
        int fanIn = Math.multiplyExact(in, Math.multiplyExact(kernel[0], kernel[1]));
        int fanOut = Math.multiplyExact(out, kernel[0] * kernel[1]);
        WeightAndBias p = WeightAndBias.create(factory, toString(), new int[] {out, in, kernel[0], kernel[1]},
                options.bias, fanIn, fanOut);
        this.weight = p.weight();
        this.bias = p.bias();
    }

    /**
     * The options of {@code nn.Conv2d(in, out, kernel)}: a square kernel, stride 1, no padding, dilation 1, a bias.
     * Change them by name, as PyTorch's keyword arguments do: {@code options(32, 64, 3).padding(1)}.
     *
     * @param in     input channels
     * @param out    output channels
     * @param kernel the kernel's rows and columns
     * @return the options (checked when the layer is built)
     */
    public static Options options(int in, int out, int kernel) {
        return new Options(in, out, new int[] {kernel, kernel}, new int[] {1, 1}, new int[] {0, 0},
                new int[] {1, 1}, true);
    }

    /**
     * A convolution's channels and geometry, each geometry value {@code {rows, columns}}; immutable (each setter
     * returns new options, and no array leaves), so a layer keeps the options it was built from. Made by
     * {@link Conv2d#options}.
     */
    public static final class Options {
        private final int in;
        private final int out;
        private final int[] kernel;
        private final int[] stride;
        private final int[] padding;
        private final int[] dilation;
        private final boolean bias;

        private Options(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean bias) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.padding = padding;
            this.dilation = dilation;
            this.bias = bias;
        }

        /**
         * A rectangular kernel.
         *
         * @param rows    the kernel's rows
         * @param columns the kernel's columns
         * @return the changed options
         */
        public Options kernel(int rows, int columns) {
            return new Options(in, out, new int[] {rows, columns}, stride, padding, dilation, bias);
        }

        /**
         * The same stride along rows and columns ({@code stride=s}).
         *
         * @param s the stride
         * @return the changed options
         */
        public Options stride(int s) {
            return stride(s, s);
        }

        /**
         * The stride along rows and along columns ({@code stride=(rows, columns)}).
         *
         * @param rows    the stride along rows
         * @param columns the stride along columns
         * @return the changed options
         */
        public Options stride(int rows, int columns) {
            return new Options(in, out, kernel, new int[] {rows, columns}, padding, dilation, bias);
        }

        /**
         * The same zero padding on every side ({@code padding=p}).
         *
         * @param p the padding
         * @return the changed options
         */
        public Options padding(int p) {
            return padding(p, p);
        }

        /**
         * Zero padding above and below, and left and right ({@code padding=(rows, columns)}).
         *
         * @param rows    the padding above and below
         * @param columns the padding left and right
         * @return the changed options
         */
        public Options padding(int rows, int columns) {
            return new Options(in, out, kernel, stride, new int[] {rows, columns}, dilation, bias);
        }

        /**
         * The same dilation along rows and columns ({@code dilation=d}).
         *
         * @param d the dilation
         * @return the changed options
         */
        public Options dilation(int d) {
            return dilation(d, d);
        }

        /**
         * The dilation along rows and along columns ({@code dilation=(rows, columns)}).
         *
         * @param rows    the dilation along rows
         * @param columns the dilation along columns
         * @return the changed options
         */
        public Options dilation(int rows, int columns) {
            return new Options(in, out, kernel, stride, padding, new int[] {rows, columns}, bias);
        }

        /**
         * With or without a bias ({@code bias=False}).
         *
         * @param bias whether the layer adds a bias
         * @return the changed options
         */
        public Options bias(boolean bias) {
            return new Options(in, out, kernel, stride, padding, dilation, bias);
        }

        /** {@return the spec of the layer these options build, without building it} */
        public LayerSpec spec() {
            return Conv2d.spec(in, out, kernel, stride, padding, dilation, bias);
        }
    }

    /**
     * Checks a convolution's sizes (each geometry argument {@code {rows, columns}}) without building it.
     *
     * @throws IllegalArgumentException naming the first bad value
     */
    static void check(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Conv2d: channel counts must be positive, got " + in + "->" + out);
        }
        Geometry2d.check("Conv2d", "kernel", kernel, 1);
        Geometry2d.check("Conv2d", "stride", stride, 1);
        Geometry2d.check("Conv2d", "padding", padding, 0);
        Geometry2d.check("Conv2d", "dilation", dilation, 1);
        if ((long) in * out * kernel[0] * kernel[1] > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Conv2d(" + in + "->" + out + "): a " + kernel[0] + "x" + kernel[1]
                    + " weight of more than 2^31 elements");
        }
    }

    /** Input channels. */
    public int inChannels() {
        return options.in;
    }

    /** Output channels. */
    public int outChannels() {
        return options.out;
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
        int in = options.in;
        if (d.length != 4) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " is not an NCHW batch [N, " + in
                    + ", H, W]" + (d.length == 2 ? " (reshape flat images to [N, C, H, W] first)" : ""));
        }
        if (d[1] != in) {
            throw new ShapeMismatchException(this + ": input " + input.shape() + " has " + d[1] + " channel"
                    + (d[1] == 1 ? "" : "s") + ", expected " + in);
        }
        Options o = options;
        return Ops.conv2d(input, weight, bias, o.stride[0], o.stride[1], o.padding[0], o.padding[1], o.dilation[0],
                o.dilation[1]);
    }

    @Override
    public Map<String, Variable> parameters() {
        return WeightAndBias.parameters(weight, bias);
    }

    @Override
    public LayerSpec spec() {
        return options.spec();
    }

    /** The spec of a convolution (each geometry argument {@code {rows, columns}}), without building it. */
    static LayerSpec spec(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean bias) {
        Map<String, Integer> a = new LinkedHashMap<>();
        a.put("in", in);
        a.put("out", out);
        Geometry2d.put(a, "kernel", kernel);
        Geometry2d.put(a, "stride", stride);
        Geometry2d.put(a, "pad", padding);
        Geometry2d.put(a, "dilation", dilation);
        a.put("bias", bias ? 1 : 0);
        return LayerSpec.of("conv2d", a);
    }

    @Override
    public String toString() {
        int[] kernel = options.kernel, stride = options.stride, padding = options.padding;
        int[] dilation = options.dilation;
        String k = kernel[0] == kernel[1] ? "" + kernel[0] : kernel[0] + "x" + kernel[1];
        return "Conv2d(" + options.in + "->" + options.out + ", k=" + k
                + (stride[0] == 1 && stride[1] == 1 ? "" : ", stride=" + stride[0] + "x" + stride[1])
                + (padding[0] == 0 && padding[1] == 0 ? "" : ", padding=" + padding[0] + "x" + padding[1])
                + (dilation[0] == 1 && dilation[1] == 1 ? "" : ", dilation=" + dilation[0] + "x" + dilation[1])
                + (options.bias ? "" : ", no bias") + ")";
    }
}
