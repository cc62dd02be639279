package dev.backprop.loss;

/** How a loss combines its per-element (or per-sample) terms into one number. */
public enum Reduction {
    /** The mean: over the batch for softmax cross-entropy, over all elements otherwise (PyTorch's default). */
    MEAN,
    /** The sum of all terms. */
    SUM
}
