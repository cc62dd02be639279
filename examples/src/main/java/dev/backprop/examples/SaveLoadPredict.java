package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Sgd;
import dev.backprop.runtime.Backends;
import dev.backprop.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Saving, loading and predicting: trains a Fashion-MNIST classifier for one epoch, saves it as a safetensors
 * model file (the weights under PyTorch's {@code state_dict} names, the architecture, the task and the class
 * names), loads it back and classifies the first 16 test images. Arguments: the model file (default
 * {@code fashion.safetensors}) and how many training images to use (default all 60,000).
 */
public final class SaveLoadPredict {
    private SaveLoadPredict() {
    }

    /**
     * Runs the example.
     *
     * @param args the model file and the number of training images, both optional
     * @throws IOException when the model file cannot be written or read
     */
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : "fashion.safetensors");
        int images = args.length > 1 ? Integer.parseInt(args[1]) : 60_000;
        FashionMnist.Splits data = FashionMnist.load(FashionMnist.defaultDir());

        try (Backend backend = Backends.create()) {
            try (Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(0).flatten()
                         .dense(784, 256).relu().dense(256, 128).relu().dense(128, 10).build();
                 Sgd sgd = new Sgd(model.parameters(), 0.1)) {
                Trainer trainer = Trainer.builder(model, Task.CLASSIFICATION.loss(), sgd).batchSize(128).build();
                Dataset train = images < data.train().size() ? data.train().head(images) : data.train();
                trainer.fit(train, null, 1, null);                     // one epoch, no validation set
                SavedModel.save(file, model, Task.CLASSIFICATION, FashionMnist.CLASS_NAMES, Map.of());
            }

            try (SavedModel.Loaded saved = SavedModel.load(file, backend)) {
                Predictor predictor = new Predictor(saved.model(), saved.task());
                Dataset test = data.test();
                float[] x = new float[16 * 784];
                test.gatherFeatures(test.identityOrder(), 0, 16, x);   // the first 16 test images, row after row
                float[] probs = predictor.predict(x, 16);              // 16 rows of 10 class probabilities
                int[] classes = predictor.classify(x, 16);             // the most probable class of each
                List<String> names = saved.classNames();
                for (int i = 0; i < 16; i++) {
                    System.out.printf("test image %2d: %-11s p=%.2f  (label: %s)%n", i, names.get(classes[i]),
                            probs[i * 10 + classes[i]], names.get(test.label(i)));
                }
            }
        }
    }
}
