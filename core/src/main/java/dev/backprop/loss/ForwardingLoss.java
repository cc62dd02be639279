package dev.backprop.loss;

import dev.backprop.autograd.Variable;
import dev.backprop.tensor.Tensor;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A loss that passes every call to another one, for a wrapper that observes or adds to a few calls and leaves the
 * rest as they are (a Spark rank keeps each batch's weight sum from {@link #compute}; a test counts the calls).
 * Subclasses override what they change and call {@code super} for the delegated result.
 */
public abstract class ForwardingLoss implements Loss {
    private final Loss delegate;

    /**
     * @param delegate the loss every call goes to
     * @throws NullPointerException when {@code delegate} is null
     */
    protected ForwardingLoss(Loss delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** {@return the loss every call goes to} */
    protected final Loss delegate() {
        return delegate;
    }

    @Override
    public Variable compute(Variable prediction, Tensor target) {
        return delegate.compute(prediction, target);
    }

    @Override
    public Reduction reduction() {
        return delegate.reduction();
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public double meanDenominator(Tensor target) {
        return delegate.meanDenominator(target);
    }

    @Override
    public Optional<Classified> classify(Tensor prediction, Tensor target) {
        return delegate.classify(prediction, target);
    }

    @Override
    public OptionalLong countCorrect(Tensor prediction, Tensor target) {
        return delegate.countCorrect(prediction, target);
    }

    @Override
    public long countDecisions(Tensor prediction, Tensor target) {
        return delegate.countDecisions(prediction, target);
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
