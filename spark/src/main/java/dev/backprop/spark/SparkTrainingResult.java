package dev.backprop.spark;

import dev.backprop.backend.Backend;
import dev.backprop.io.AtomicFile;
import dev.backprop.io.ModelFile;
import dev.backprop.nn.Layer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of {@link SparkTrainer#fit}: the trained model (as model-file bytes, the format of
 * {@link ModelFile}), the per-epoch metrics and every rank's report.
 */
public final class SparkTrainingResult {
    private final List<RankReport> reports;
    private final byte[] modelFile;
    private final TrainingSpec spec;

    /**
     * @param reports   one per rank, from the stage attempt that finished
     * @param modelFile rank 0's final model as model-file bytes
     * @param spec      the spec the ranks trained with
     */
    public SparkTrainingResult(List<RankReport> reports, byte[] modelFile, TrainingSpec spec) {
        this.reports = reports.stream().sorted(Comparator.comparingInt(RankReport::rank)).toList();
        this.modelFile = modelFile.clone();
        this.spec = spec;
    }

    /**
     * The spec the ranks trained with: the one given to {@link SparkTrainer#fit}, completed from the data (the
     * number of classes, balanced class weights as counted).
     */
    public TrainingSpec spec() {
        return spec;
    }

    /** One report per rank, in rank order. */
    public List<RankReport> reports() {
        return reports;
    }

    /** The epochs finished by the final stage attempt (earlier attempts' epochs are in their checkpoints). */
    public List<EpochResult> epochs() {
        return reports.get(0).epochs();
    }

    /** The trained model as the bytes of a model file. */
    public byte[] modelFile() {
        return modelFile.clone();
    }

    /** Writes the model file to {@code path} atomically ({@link AtomicFile}). */
    public void saveModel(Path path) throws IOException {
        AtomicFile.write(path, modelFile);
    }

    /** The trained model rebuilt on {@code backend} (the caller closes it). */
    public Layer loadModel(Backend backend) throws IOException {
        Path tmp = Files.createTempFile("backprop-model-", ".safetensors");
        try {
            Files.write(tmp, modelFile);
            return ModelFile.load(tmp, backend);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Epoch lines and one line per rank, for logs and the command line. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (EpochResult e : epochs()) {
            sb.append(String.format(Locale.ROOT, "epoch %3d  loss %.6f%s  %d examples  %.1f s%n", e.epoch(), e.loss(),
                    Double.isNaN(e.accuracy()) ? "" : String.format(Locale.ROOT, "  train acc %.4f", e.accuracy()),
                    e.examples(), e.millis() / 1e3));
        }
        for (RankReport r : reports) {
            sb.append(r.describe()).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
