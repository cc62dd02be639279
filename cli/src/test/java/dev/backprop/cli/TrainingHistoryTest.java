package dev.backprop.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingHistoryTest {
    private static TrainingHistory history(double... seconds) {
        TrainingHistory h = new TrainingHistory("test_acc");
        for (int i = 0; i < seconds.length; i++) {
            h.add(new TrainingHistory.Epoch(i + 1, seconds[i], 60000, 0.5, 0.4, 0.8 + i / 100.0));
        }
        return h;
    }

    @Test
    void theMedianLeavesOutTheFirstEpoch() {
        assertEquals(2.0, history(9, 1, 2, 3).medianSeconds());
        assertEquals(2.5, history(9, 1, 2, 3, 4).medianSeconds());
        assertEquals(7.0, history(7).medianSeconds(), "a single epoch is its own median");
        assertThrows(IllegalStateException.class, () -> history().medianSeconds());
    }

    @Test
    void theSummaryLineIsParseable() {
        String s = history(9, 1, 2, 3).summaryLine("cpu", "AMD \"EPYC\"", "sgd");
        assertTrue(s.startsWith("summary: impl=backprop backend=cpu device=\"AMD 'EPYC'\" optimizer=sgd epochs=4 "
                + "epochs_timed=2..4 median_epoch_s=2.0000 median_samples_per_s=30000 test_acc=0.8300"), s);
        assertTrue(history(9, 1, 2, 3).medianLine().contains("over epochs 2..4: min 1.000 s  median 2.000 s  max "
                + "3.000 s"));
    }

    /**
     * With a --min-delta the kept epoch need not have the lowest validation loss: the saved line names it as the
     * best (by early stopping's judgement), with its own loss.
     */
    @Test
    void theKeptEpochIsTheBestNotAlwaysTheLowest() {
        TrainingHistory h = new TrainingHistory("test_acc", true);
        double[] val = {1.0, 0.995, 0.99};
        for (int i = 0; i < val.length; i++) {
            h.add(new TrainingHistory.Epoch(i + 1, 1, 100, 0.5, 0.4, 0.8 + i / 100.0, val[i], 0.7));
        }
        h.best(1, 1.0, ValidationOptions.LOSS, true);
        assertEquals("the weights of epoch 1, the best val_loss 1.0000, test_acc 0.8000", h.kept().orElseThrow());
    }
}
