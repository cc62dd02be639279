package dev.backprop.cli;

import dev.backprop.io.Checkpoint;
import dev.backprop.io.SafeTensorsFile;
import dev.backprop.tensor.Tensor;

import java.io.IOException;
import java.util.Map;

/**
 * The best epoch's weights a {@code --keep-best} checkpoint keeps ({@link Checkpoint#readKept}), read onto the
 * model's backend for the resumed run's early stopping; empty for any other run.
 *
 * @param weights  the tensors by the model's names, closed with this
 * @param counters the best epoch's counters' values
 */
record KeptWeights(Map<String, Tensor> weights, Map<String, Long> counters) implements AutoCloseable {
    /**
     * Reads them from the open {@code --resume} checkpoint, or none.
     *
     * @throws IllegalArgumentException when the run keeps the best weights but the checkpoint has none
     */
    static KeptWeights read(TrainCommand cmd, SafeTensorsFile resumed, TrainingSetup setup) throws IOException {
        if (resumed == null || cmd.resumedState == null || !cmd.validationOptions.keepBest
                || cmd.resumedState.bestEpoch() == 0) {
            return new KeptWeights(Map.of(), Map.of());
        }
        Map<String, Long> counters = ValidationOptions.keptCounters(resumed.metadata(), cmd.resume.toString(),
                setup.model().counters().keySet());
        Map<String, Tensor> w = Checkpoint.readKept(resumed, setup.model());
        if (w.isEmpty()) {
            throw new IllegalArgumentException("--keep-best: " + cmd.resume + " keeps no best weights (of epoch "
                    + cmd.resumedState.bestEpoch() + "); it was not written by a --keep-best run");
        }
        return new KeptWeights(w, counters);
    }

    @Override
    public void close() {
        weights.values().forEach(Tensor::close);
    }
}
