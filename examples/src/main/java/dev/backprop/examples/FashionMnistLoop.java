package dev.backprop.examples;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.loss.Loss;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Sgd;
import dev.backprop.runtime.Backends;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.Evaluation;
import dev.backprop.train.Evaluator;

import java.util.Random;

/**
 * Fashion-MNIST with a training loop written out by hand, the idiom the library's {@code Trainer} runs for you:
 * per batch, clear the gradients, open a {@link Tape}, run forward and the loss, back-propagate, close the tape,
 * take the optimizer's step. Arguments: epochs (default 3) and how many training images to use (default all
 * 60,000); reads the data from {@link FashionMnist#defaultDir()}.
 */
public final class FashionMnistLoop {
    private FashionMnistLoop() {
    }

    /**
     * Runs the example.
     *
     * @param args the number of epochs and the number of training images, both optional
     */
    @SuppressWarnings("try") // the tape frees the step's tensors on close; the body needs no reference to it
    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int images = args.length > 1 ? Integer.parseInt(args[1]) : 60_000;
        FashionMnist.Splits data = FashionMnist.load(FashionMnist.defaultDir());
        Dataset train = images < data.train().size() ? data.train().head(images) : data.train();
        int batch = 64;
        int features = train.featureSize();                         // 784 per image
        float[] x = new float[batch * features];
        int[] labels = new int[batch];

        try (Backend backend = Backends.create();
             Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(0).flatten()   // 28 × 28 to 784
                     .dense(features, 128).relu().dense(128, 10).build();
             Sgd sgd = Sgd.builder(model.parameters()).lr(0.05).momentum(0.9).build()) {
            Loss loss = new SoftmaxCrossEntropy();
            int[] order = train.identityOrder();
            Random rng = new Random(0);
            for (int epoch = 1; epoch <= epochs; epoch++) {
                Dataset.shuffle(order, rng);
                double lossSum = 0;
                int steps = 0;
                for (int from = 0; from + batch <= train.size(); from += batch) {  // the last partial batch waits
                    train.gatherFeatures(order, from, from + batch, x);
                    train.gatherLabels(order, from, from + batch, labels);
                    sgd.zeroGrad();                        // gradients add up across backward passes until cleared
                    try (Tape tape = Tape.open()) {        // records the ops; closing frees the step's tensors
                        Variable input = Variable.constant(Tensor.of(backend, x, batch, features));
                        Variable l = loss.compute(model.forward(input), Tensor.of(backend, labels, batch));
                        l.backward();                      // fills each parameter's grad()
                        lossSum += l.value().item();       // read what you need before the tape closes
                    }
                    sgd.step();                            // updates the parameters from their gradients
                    steps++;
                }
                Evaluation test = Evaluator.evaluate(model, loss, data.test(), 1000);   // no tape: no gradients
                System.out.printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f%n",
                        epoch, lossSum / steps, test.loss(), test.accuracy());
            }
        }
    }
}
