package dev.backprop.contract.network;

import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The network layer (autodiff, layers, losses, optimizers, model files, training) run on one backend: every
 * backend module subclasses this once, as it does {@code BackendContractTest}.
 *
 * <pre>{@code
 * class CpuNetworkContractTest extends NetworkContractTest {
 *     protected Backend createBackend() { return new CpuBackendProvider().create(BackendOptions.defaults()); }
 * }
 * }</pre>
 *
 * Cases: MATH.md's worked examples (threshold networks exactly; examples 4-6 within ±1e-6 of the printed numbers
 * in FLOAT64, and FLOAT32 within {@code 1e-4·|v| + 1e-6} of FLOAT64); central finite differences in FLOAT64 for
 * every op, layer, activation, loss and random networks, each also on the training path (after {@code zeroGrad()},
 * and accumulated); weight sharing; autodiff behaviour; optimizer steps against PyTorch's formulas, and whole
 * training steps of a small MLP against PyTorch's weights; layer norm against PyTorch's outputs, gradients and SGD
 * steps; model files and 20+ kinds of corrupt or hostile files;
 * exact checkpoint resume, reproducibility and flat memory in training. FLOAT64 cases are skipped, with the
 * reason, only when the backend's capabilities have no FLOAT64. After every test the backend's live buffers must
 * be back at the baseline.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class NetworkContractTest {
    private Backend backend;
    private long baselineBuffers;

    /** A new, ready backend under test (called once per class). */
    protected abstract Backend createBackend();

    /** The backend under test. */
    protected final Backend backend() {
        return backend;
    }

    @BeforeAll
    final void createBackendOnce() {
        backend = createBackend();
        baselineBuffers = backend.memoryStats().liveBuffers();
    }

    @AfterAll
    final void closeBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    @AfterEach
    final void nothingLeaked() {
        assertEquals(baselineBuffers, backend.memoryStats().liveBuffers(), "the test left buffers allocated on "
                + backend.name() + " (a leak in the network layer)");
    }

    /** Skips the calling test, saying why, when the backend has no FLOAT64. */
    protected final void requireFloat64() {
        Assumptions.assumeTrue(backend.capabilities().float64(), "backend '" + backend.name() + "' on "
                + backend.device().name() + " reports no FLOAT64 support in its capabilities");
    }

    // ---- MATH.md worked examples -----------------------------------------------------------------------

    @Test
    void example1ThresholdOnAScalar() {
        WorkedExampleCases.example1(backend, DType.FLOAT32);
        if (backend.capabilities().float64()) {
            WorkedExampleCases.example1(backend, DType.FLOAT64);
        }
    }

    @Test
    void example2FourPointsTwoThresholdUnits() {
        WorkedExampleCases.example2(backend, DType.FLOAT32);
        if (backend.capabilities().float64()) {
            WorkedExampleCases.example2(backend, DType.FLOAT64);
        }
    }

    @Test
    void example3Triangle() {
        WorkedExampleCases.example3(backend, DType.FLOAT32);
        if (backend.capabilities().float64()) {
            WorkedExampleCases.example3(backend, DType.FLOAT64);
        }
    }

    @Test
    void example4ModelFromOps() {
        compareExample("example 4", WorkedExampleCases.example4Expected(),
                dt -> WorkedExampleCases.example4(backend, dt));
    }

    @Test
    void example5SigmoidNetworkWithBce() {
        compareExample("example 5", WorkedExampleCases.example5Expected(),
                dt -> WorkedExampleCases.example5(backend, dt, false));
    }

    @Test
    void example5WithBceOnLogits() {
        compareExample("example 5 (logits)", WorkedExampleCases.example5Expected(),
                dt -> WorkedExampleCases.example5(backend, dt, true));
    }

    @Test
    void example6JacobianWithRespectToInputs() {
        compareExample("example 6", WorkedExampleCases.example6Expected(),
                dt -> WorkedExampleCases.example6(backend, dt));
    }

    /**
     * FLOAT64 within ±1e-6 of the printed numbers and FLOAT32 within {@code 1e-4·|v| + 1e-6} of FLOAT64. Without
     * FLOAT64, the FLOAT32 run is held to that bound around the printed numbers (plus their rounding, 5e-7).
     */
    private void compareExample(String name, Map<String, double[]> printed,
                                java.util.function.Function<DType, Map<String, double[]>> run) {
        Map<String, double[]> f32 = run.apply(DType.FLOAT32);
        Map<String, double[]> f64 = backend.capabilities().float64() ? run.apply(DType.FLOAT64) : null;
        for (Map.Entry<String, double[]> e : printed.entrySet()) {
            String q = name + " " + e.getKey();
            if (f64 != null) {
                Net.assertClose(q + " (FLOAT64 vs MATH.md)", e.getValue(), f64.get(e.getKey()), 1e-6, 0);
                Net.assertClose(q + " (FLOAT32 vs FLOAT64)", f64.get(e.getKey()), f32.get(e.getKey()), 1e-6, 1e-4);
            } else {
                Net.assertClose(q + " (FLOAT32 vs MATH.md; no FLOAT64 here)", e.getValue(), f32.get(e.getKey()),
                        1.5e-6, 1e-4);
            }
        }
    }

    // ---- gradients ---------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> opGradientsByFiniteDifferences() {
        requireFloat64();
        return OpGradientCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> imageOpGradientsByFiniteDifferences() {
        requireFloat64();
        return ImageGradientCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> layerLossAndNetworkGradientsByFiniteDifferences() {
        requireFloat64();
        return LayerGradientCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> layerNormAgainstPyTorchAndByFiniteDifferences() {
        return LayerNormCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> fusedDenseActivation() {
        return FusedLayerCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> autodiffBehaviour() {
        return Stream.concat(AutogradCases.cases(backend), GradientListenerCases.cases(backend));
    }

    @TestFactory
    Stream<DynamicTest> crossEntropyWeightsAndSmoothing() {
        return CrossEntropyCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> numericalEdgesAgainstPyTorch() {
        return TorchEdgeCases.cases(backend);
    }

    // ---- optimizers ----------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> optimizerSteps() {
        return OptimizerCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> trainingStepsAgainstPyTorch() {
        return OptimizerGoldenCases.cases(backend);
    }

    // ---- model files ---------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> modelFiles() {
        return ModelFileCases.cases(backend);
    }

    @TestFactory
    Stream<DynamicTest> rejectsCorruptAndHostileFiles() {
        return HostileFileCases.cases(backend);
    }

    // ---- training ------------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> training() {
        return TrainingCases.cases(backend);
    }
}
