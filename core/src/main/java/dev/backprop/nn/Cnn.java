package dev.backprop.nn;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.random.TorchGenerator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The convolutional network of Backprop's Fashion-MNIST example, exactly PyTorch's reference
 * ({@code shared/bench/cnn_fashion.py}): {@code Conv2d(C, 32, 3, padding=1)} [{@code 0.*}], ReLU,
 * {@code MaxPool2d(2)}, {@code Conv2d(32, 64, 3, padding=1)} [{@code 3.*}], ReLU, {@code MaxPool2d(2)}, Flatten,
 * {@code Linear(64·(H/4)·(W/4), 128)} [{@code 7.*}], ReLU, {@code Linear(128, outputs)} [{@code 9.*}], on
 * {@code [N, C, H, W]} inputs. For 1×28×28 images and 10 classes that is 421,642 parameters, and with
 * {@link Init#PYTORCH_DEFAULT} the initial weights are PyTorch's for the same seed, bit for bit. A dropout
 * probability above 0 puts {@code nn.Dropout(p)} before the last layer, as the examples' {@code CnnExample} does, so
 * the last layer is {@code 10.*}; its mask stream is keyed by the seed and its position ({@link Dropout#streamSeed}).
 *
 * @param channels input channels
 * @param height   image rows (at least 4: two 2×2 poolings)
 * @param width    image columns (at least 4)
 * @param outputs  network outputs (classes; 1 for binary classification)
 * @param dropout  the probability a value reaching the last layer is zeroed in training, as
 *                 {@link Dropout#checkRecordedProbability} takes it; 0 for no dropout layer
 * @param init     the initializer of fresh weights
 * @param seed     the seed the weights are drawn from, and the dropout layer's mask stream
 */
public record Cnn(int channels, int height, int width, int outputs, double dropout, Init init, long seed)
        implements Architecture {
    /** Channels of the second convolution, which the flattened feature maps carry into the first dense layer. */
    private static final int MAPS = 64;
    /** Width of the hidden dense layer. */
    private static final int HIDDEN = 128;

    /**
     * Checks the sizes.
     *
     * @throws IllegalArgumentException when a size is too small for the network, the images are so large that its
     *                                  first dense layer's weight would not fit one array, or the dropout probability
     *                                  is one {@link Dropout#checkRecordedProbability} refuses
     */
    public Cnn {
        dropout = Dropout.checkRecordedProbability(dropout);
        if (channels < 1 || height < 4 || width < 4 || outputs < 1) {
            throw new IllegalArgumentException("the CNN needs at least 1 channel, images of at least 4x4 and 1 output, "
                    + "got " + channels + "x" + height + "x" + width + " images and " + outputs + " output(s)");
        }
        try {
            long cells = (long) (height / 4) * (width / 4);
            // MAPS · cells overflows a long past 2^57 cells; any width past 2^31 is refused alike
            Dense.check(cells > Long.MAX_VALUE / MAPS ? Long.MAX_VALUE : MAPS * cells, HIDDEN);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the CNN for " + channels + "x" + height + "x" + width + " images: "
                    + e.getMessage(), e);
        }
        java.util.Objects.requireNonNull(init, "init");
    }

    /**
     * The network without dropout.
     *
     * @throws IllegalArgumentException as the canonical constructor does
     */
    public Cnn(int channels, int height, int width, int outputs, Init init, long seed) {
        this(channels, height, width, outputs, 0, init, seed);
    }

    /** The Fashion-MNIST network: 1×28×28 images, 10 classes. */
    public static Cnn fashionMnist(Init init, long seed) {
        return new Cnn(1, 28, 28, 10, init, seed);
    }

    @Override
    public LayerSpec spec() {
        int[] k3 = {3, 3}, two = {2, 2}, one = {1, 1}, none = {0, 0};
        LayerSpec relu = LayerSpec.of("relu", Map.of());
        LayerSpec pool = Pool2d.spec(true, two, two, none, true);
        List<LayerSpec> layers = new ArrayList<>(List.of(
                Conv2d.spec(channels, 32, k3, one, one, one, true), relu, pool,
                Conv2d.spec(32, MAPS, k3, one, one, one, true), relu, pool,
                LayerSpec.of("flatten", Map.of()), Dense.spec(MAPS * (height / 4) * (width / 4), HIDDEN, true), relu));
        if (dropout > 0) {
            layers.add(Dropout.spec(dropout));
        }
        layers.add(Dense.spec(HIDDEN, outputs, true));
        return new LayerSpec("sequential", Map.of(), layers);
    }

    /**
     * The network, its weights drawn layer after layer (weight, then bias) from a PyTorch generator, and its dropout
     * stream keyed by the seed and the layer's position.
     */
    @Override
    public Sequential build(Backend backend) {
        return (Sequential) Layers.create(spec(), init.factory(backend, DType.FLOAT32, new TorchGenerator(seed)), seed);
    }

    @Override
    public int[] inputShape() {
        return new int[] {channels, height, width};
    }

    /** {@code cnn conv(1->32,3,p1) relu maxpool(2) ... dense(128->10)}. */
    @Override
    public String describe() {
        return Layers.describe(spec());
    }
}
