package dev.backprop.cli;

import dev.backprop.model.Predictor;
import dev.backprop.model.Task;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The printed class is the predictor's decision, not a second rule applied to the printed probabilities. */
class PredictionPrinterTest {
    private static final PredictionPrinter.Example ROW =
            new PredictionPrinter.Example("row", "row", 0, 0, 1, null, null);

    /** A logit just below 0: its float sigmoid is 0.5, its class 0 (the loss's {@code z ≥ 0}). */
    private static final Predictor.Decided BELOW_ZERO = new Predictor.Decided(new float[] {0.5f}, new int[] {0});

    @Test
    void binaryTextPrintsTheDecidedClassBesideTheProbability() {
        assertEquals("row (label: class 1): P(class 1) = 0.5000 -> class 0   (wrong)", print(false));
    }

    @Test
    void binaryJsonPrintsTheDecidedClassBesideTheProbability() {
        assertEquals("{\"row\":0,\"class\":0,\"probability\":0.5,\"label\":1}", print(true));
    }

    /** Logits [0, 1e-30]: their float softmax is [0.5, 0.5], their class 1 (the loss's first largest logit). */
    private static final Predictor.Decided EQUAL_PROBABILITIES =
            new Predictor.Decided(new float[] {0.5f, 0.5f}, new int[] {1});

    @Test
    void classificationTextPutsTheDecidedClassFirst() {
        assertEquals("row (label: class 1)\n  probabilities:  class 0 0.5000  class 1 0.5000\n"
                + "  top 3:  1. class 1 0.5000  2. class 0 0.5000   (correct)",
                print(Task.CLASSIFICATION, EQUAL_PROBABILITIES, false).replace(System.lineSeparator(), "\n"));
    }

    @Test
    void classificationJsonPrintsTheDecidedClass() {
        assertEquals("{\"row\":0,\"class\":1,\"probabilities\":[0.5,0.5],\"label\":1}",
                print(Task.CLASSIFICATION, EQUAL_PROBABILITIES, true));
    }

    private static String print(boolean json) {
        return print(Task.BINARY, BELOW_ZERO, json);
    }

    private static String print(Task task, Predictor.Decided batch, boolean json) {
        StringWriter text = new StringWriter();
        new PredictionPrinter(new PrintWriter(text, true), task, null, json).print(ROW, batch, 0, 1);
        return text.toString().strip();
    }
}
