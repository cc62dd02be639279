package dev.backprop.nn;

import dev.backprop.autograd.Tape;
import dev.backprop.autograd.Variable;
import dev.backprop.backend.DType;
import dev.backprop.loss.SoftmaxCrossEntropy;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Scope;
import dev.backprop.tensor.Tensor;
import dev.backprop.testing.CountingBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which layer pairs {@link Sequential} runs as the fused dense epilogue, counted at the SPI: a dense layer with a
 * bias directly followed by ReLU, sigmoid, tanh or the identity, in training and in evaluation; not a dense layer
 * without a bias, the hard threshold, or an activation with another layer in between. The model's parameter names
 * and spec do not change.
 */
@SuppressWarnings("try") // scopes and tapes free memory on close; the bodies need no reference
class SequentialFusionTest {
    private ReferenceBackend inner;
    private CountingBackend counting;

    @BeforeEach
    void open() {
        inner = new ReferenceBackend();
        counting = new CountingBackend(inner);
    }

    @AfterEach
    void close() {
        inner.close();
    }

    /** Runs one forward and backward pass of {@code model} on a batch of 5 and returns it. */
    private void step(Sequential model, int inputs) {
        try (Scope scope = Scope.open(); Tape tape = Tape.open()) {
            Tensor x = Tensor.full(counting.backend(), DType.FLOAT32, 0.25, 5, inputs);
            Tensor labels = Tensor.of(counting.backend(), new int[] {0, 1, 2, 0, 1}, 5);
            new SoftmaxCrossEntropy().compute(model.forward(Variable.constant(x)), labels).backward();
        }
    }

    @Test
    void everyFusedActivationRunsWithItsDenseLayerAsOneOp() {
        try (Sequential model = Sequential.builder(counting.backend(), DType.FLOAT32).seed(1).dense(4, 6).relu()
                .dense(6, 6).sigmoid().dense(6, 6).tanh().dense(6, 6).identity().dense(6, 3).build()) {
            counting.reset();
            step(model, 4);
            assertEquals(4, counting.count("biasActivation"), "forward epilogues");
            assertEquals(4, counting.count("biasActivationBackward"), "backward epilogues");
            assertEquals(0, counting.count("unary"), "no activation ran on its own");
            assertEquals(0, counting.count("unaryBackward"), "no activation backward ran on its own");
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight",
                    "6.bias", "8.weight", "8.bias"), List.copyOf(model.parameters().keySet()));
        }
    }

    @Test
    void evaluationFusesToo() {
        try (Scope scope = Scope.open();
             Sequential model = Sequential.builder(counting.backend(), DType.FLOAT32).seed(2).flatten().dense(4, 6)
                     .relu().dense(6, 3).build()) {
            model.train(false);
            counting.reset();
            model.forward(Variable.constant(Tensor.full(counting.backend(), DType.FLOAT32, 0.5, 2, 2, 2)));
            assertEquals(1, counting.count("biasActivation"));
            assertEquals(0, counting.count("unary"));
        }
    }

    @Test
    void pairsThatCannotFuseRunLayerByLayer() {
        try (Sequential model = Sequential.builder(counting.backend(), DType.FLOAT32).seed(3).dense(4, 6, false)
                .relu().dense(6, 6).threshold().dense(6, 6).dropout(0.5).relu().dense(6, 3).build()) {
            counting.reset();
            step(model, 4);
            assertEquals(0, counting.count("biasActivation"), "no pair here fuses");
            assertEquals(3, counting.count("unary"), "relu, threshold, relu on their own");
        }
    }

    @Test
    void theSpecIsTheLayersSpec() {
        try (Sequential model = Sequential.builder(counting.backend(), DType.FLOAT32).seed(4).dense(4, 6).tanh()
                .dense(6, 3).build()) {
            assertEquals(3, model.spec().layers().size());
            assertEquals("tanh", model.spec().layers().get(1).type());
        }
    }
}
