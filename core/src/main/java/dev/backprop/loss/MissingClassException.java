package dev.backprop.loss;

/**
 * Balanced class weights refused for training data in which a class has no example, whose weight
 * {@code n / (K·0)} would be infinite
 * ({@link SoftmaxCrossEntropy.Builder#balancedWeights(long[], java.util.List)}). The message is the loss's
 * ({@code cross_entropy: balanced class weights: class 1 (dog) has no example among the 92 training examples});
 * {@link #reason()} is its part after the loss's prefix, for a caller that words the refusal after its own option,
 * such as the command line's {@code --class-weights balanced}.
 */
public final class MissingClassException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** What the message says before {@link #reason()}. */
    private static final String PREFIX = "cross_entropy: balanced class weights: ";

    private final String reason;

    /** @param reason which class has no example among how many, as {@link #reason()} returns it */
    MissingClassException(String reason) {
        super(PREFIX + reason);
        this.reason = reason;
    }

    /**
     * The class without an example and the number of training examples, without the loss's prefix.
     *
     * @return for example {@code class 1 (dog) has no example among the 92 training examples}
     */
    public String reason() {
        return reason;
    }
}
