package dev.backprop.examples;

import dev.backprop.backend.Backend;
import dev.backprop.data.Dataset;
import dev.backprop.data.HoldOut;
import dev.backprop.data.ImageFile;
import dev.backprop.data.ImageFolder;
import dev.backprop.model.Predictor;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.nn.Cnn;
import dev.backprop.nn.Init;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.runtime.Backends;
import dev.backprop.train.Trainer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A classifier for your own pictures in torchvision's {@code ImageFolder} layout, one subfolder per class: reads them
 * with {@link ImageFolder} ({@code [C, H, W]} images in [0, 1], labels by folder), holds out a seeded 20% for
 * testing, trains the CNN with Adam, saves the model with the class names, and predicts the class of one image file
 * ({@link ImageFile}) with the loaded model. Arguments: the folder (default {@code stripes}; written first, when it
 * does not exist, as 60 RGB PNGs of 16x16 pixels in two classes, {@code horizontal} and {@code vertical} stripes
 * over noise) and the number of epochs (default 5). The model file goes beside the folder.
 */
public final class ImageFolderExample {
    private ImageFolderExample() {
    }

    /**
     * Runs the example.
     *
     * @param args the folder and the number of epochs, both optional
     * @throws IOException when a file cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "stripes");
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        if (!Files.exists(root)) {
            writeStripes(root, 30);
        }
        Path modelFile = root.toAbsolutePath().resolveSibling("images-model.safetensors");

        Dataset all = ImageFolder.read(root);                 // classes = sorted folder names, label = index
        Dataset[] parts = HoldOut.split(all, 0.2, 0);         // a seeded 20% held out: {train, test}
        int[] chw = all.featureShape();                       // [C, H, W]: C is 1 when every image is gray
        List<String> classes = all.classNames();

        try (Backend backend = Backends.create()) {
            try (Sequential model = new Cnn(chw[0], chw[1], chw[2], classes.size(), Init.PYTORCH_DEFAULT, 0)
                         .build(backend);
                 Adam adam = Adam.builder(model.parameters()).lr(0.001).build()) {
                Trainer trainer = Trainer.builder(model, Task.CLASSIFICATION.loss(), adam)
                        .batchSize(16).seed(0).build();
                trainer.fit(parts[0], parts[1], epochs, m -> System.out.printf(
                        "epoch %d: test loss %.4f, test accuracy %.4f%n",
                        m.epoch(), m.validation().loss(), m.validation().accuracy()));
                SavedModel.save(modelFile, model, Task.CLASSIFICATION, classes, Map.of());
            }
            Path file = root.resolve(classes.get(0)).resolve("00.png");
            try (SavedModel.Loaded saved = SavedModel.load(modelFile, backend)) {
                ImageFile image = ImageFile.read(file);       // checked against the limits before decoding
                float[] p = new Predictor(saved.model(), saved.task(), 1, chw)
                        .predict(image.toTensor(chw[0]), 1);  // ToTensor's [C, H, W] values, then the probabilities
                int best = p[0] >= p[1] ? 0 : 1;
                System.out.printf("%s: %s (probability %.4f)%n", file, saved.classNames().get(best), p[best]);
            }
        }
    }

    /** {@code perClass} images of each class: noise with bright rows (horizontal) or columns (vertical). */
    static void writeStripes(Path root, int perClass) throws IOException {
        Random r = new Random(1);
        for (String name : List.of("horizontal", "vertical")) {
            Path dir = Files.createDirectories(root.resolve(name));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
                int phase = r.nextInt(4);
                for (int y = 0; y < 16; y++) {
                    for (int x = 0; x < 16; x++) {
                        boolean stripe = ((name.equals("horizontal") ? y : x) + phase) % 4 == 0;
                        int v = stripe ? 200 + r.nextInt(56) : r.nextInt(120);
                        img.setRGB(x, y, v << 16 | r.nextInt(256) << 8 | v);
                    }
                }
                ImageIO.write(img, "png", dir.resolve(String.format("%02d.png", i)).toFile());
            }
        }
    }
}
