package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.runtime.Backends;
import dev.backprop.train.EpochMetrics;
import dev.backprop.train.Trainer;

/**
 * A small convolutional network on Fashion-MNIST, built layer by layer as an {@code nn.Sequential} is: two
 * convolutions, each followed by a batch norm, a ReLU and a 2×2 max pooling, then dropout and a dense layer,
 * trained with {@link Trainer} (which trains in training mode and validates in evaluation mode: running statistics,
 * no dropout). Arguments: epochs (default 2) and how many training images to use (default all 60,000).
 */
public final class CnnExample {
    private CnnExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the number of epochs and the number of training images, both optional
     */
    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int images = args.length > 1 ? Integer.parseInt(args[1]) : 60_000;
        FashionMnist.Splits data = FashionMnist.load(FashionMnist.defaultDir());
        Dataset all = images < data.train().size() ? data.train().head(images) : data.train();
        // A convolution takes a batch as [N, channels, rows, columns]: each image becomes [1, 28, 28].
        Dataset train = all.withFeatureShape(1, 28, 28);
        Dataset test = data.test().withFeatureShape(1, 28, 28);

        try (Backend backend = Backends.create();
             Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(0)
                     .conv2d(Conv2d.options(1, 8, 3).padding(1))      // nn.Conv2d(1, 8, 3, padding=1)
                     .batchNorm2d(8).relu().maxPool2d(2)               // [N, 8, 14, 14]
                     .conv2d(Conv2d.options(8, 16, 3).padding(1))
                     .batchNorm2d(16).relu().maxPool2d(2)              // [N, 16, 7, 7]
                     .flatten().dropout(0.25).dense(16 * 7 * 7, 10).build();
             Adam adam = Adam.builder(model.parameters()).lr(0.002).build()) {
            System.out.println(model);
            Trainer trainer = Trainer.builder(model, new SoftmaxCrossEntropy(), adam).batchSize(64).seed(0).build();
            for (EpochMetrics m : trainer.fit(train, test, epochs, null)) {
                System.out.printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f%n",
                        m.epoch(), m.trainLoss(), m.validation().loss(), m.validation().accuracy());
            }
        }
    }
}
