package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import dev.backprop.backend.MemoryStats;
import dev.backprop.data.CsvData;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Sequential;
import dev.backprop.onnx.OnnxExport;
import dev.backprop.onnx.OnnxImport;
import dev.backprop.optim.Adam;
import dev.backprop.runtime.Backends;
import dev.backprop.train.Trainer;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A classifier for a CSV file of numeric features whose last column is the class label: reads it with
 * {@link CsvData}, holds out a seeded 20% for testing ({@link HoldOut}), trains a small MLP with Adam, printing the
 * loss and accuracy of each epoch, saves the model, loads it into a fresh model and exports it as ONNX and imports
 * that, checking that all three predict the same, and ends with the backend's memory account. Arguments: the CSV
 * file (default {@code blobs.csv}; written first, 600 rows of three Gaussian blobs in four dimensions, when it does
 * not exist), the number of classes (default 3) and of epochs (default 10). The model files go beside the CSV.
 */
public final class CsvExample {
    private CsvExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the CSV file, the number of classes and the number of epochs, all optional
     * @throws IOException when a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        Path csv = Path.of(args.length > 0 ? args[0] : "blobs.csv");
        int classes = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        if (!Files.exists(csv)) {
            writeBlobs(csv, 600, classes);
        }
        Path modelFile = csv.resolveSibling("csv-model.safetensors");
        Path onnxFile = csv.resolveSibling("csv-model.onnx");

        Dataset all = CsvData.readClassification(csv, classes);  // features, then a label in [0, classes)
        Dataset[] parts = HoldOut.split(all, 0.2, 0);              // a seeded 20% held out: {train, test}
        Dataset train = parts[0];
        Dataset test = parts[1];
        int features = train.featureSize();
        float[] rows = new float[5 * features];
        test.gatherFeatures(test.identityOrder(), 0, 5, rows);     // five test rows to predict

        try (Backend backend = Backends.create()) {
            float[] trained;
            try (Sequential model = Sequential.builder(backend, DType.FLOAT32).seed(0)
                         .dense(features, 16).relu().dense(16, classes).build();
                 Adam adam = Adam.builder(model.parameters()).lr(0.01).build()) {
                Trainer trainer = Trainer.builder(model, Task.CLASSIFICATION.loss(), adam)
                        .batchSize(32).seed(0).build();
                trainer.fit(train, test, epochs, m -> System.out.printf(
                        "epoch %d: train loss %.4f, train accuracy %.4f, test loss %.4f, test accuracy %.4f%n",
                        m.epoch(), m.trainLoss(), m.trainAccuracy(), m.validation().loss(),
                        m.validation().accuracy()));
                trained = new Predictor(model, Task.CLASSIFICATION).predict(rows, 5);
                SavedModel.save(modelFile, model, Task.CLASSIFICATION, null, Map.of());
            }
            try (SavedModel.Loaded saved = SavedModel.load(modelFile, backend)) {
                float[] loaded = new Predictor(saved.model(), saved.task()).predict(rows, 5);
                System.out.println("the loaded model predicts the same: " + Arrays.equals(trained, loaded));
                OnnxExport.write(saved, onnxFile, OnnxExport.Options.defaults());
            }
            try (SavedModel.Loaded imported = OnnxImport.load(onnxFile, backend)) {
                float[] fromOnnx = new Predictor(imported.model(), imported.task()).predict(rows, 5);
                System.out.println("the ONNX import predicts the same: " + Arrays.equals(trained, fromOnnx));
            }
            MemoryStats memory = backend.memoryStats();                // every tensor above is closed by now
            System.out.println("live buffers at the end: " + memory.liveBuffers() + " ("
                    + MemoryStats.human(memory.liveBytes()) + ")");
        }
    }

    /** Writes {@code rows} examples of {@code classes} Gaussian blobs in four dimensions, with a header line. */
    private static void writeBlobs(Path csv, int rows, int classes) throws IOException {
        Random random = new Random(0);
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(csv, StandardCharsets.UTF_8))) {
            out.println("x1,x2,x3,x4,label");
            for (int i = 0; i < rows; i++) {
                int label = i % classes;
                StringBuilder line = new StringBuilder();
                for (int f = 0; f < 4; f++) {
                    double center = (label + f) % 3 == 0 ? 2 : 0;
                    line.append(String.format(Locale.ROOT, "%.4f,", center + random.nextGaussian() * 0.7));
                }
                out.println(line.append(label));
            }
        }
    }
}
