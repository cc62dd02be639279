package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.Capabilities;
import dev.backprop.backend.DType;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.MemoryStats;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every {@link Backend} must meet, checked op by op against the float64
 * {@link ReferenceBackend}. A backend module has exactly one subclass:
 *
 * <pre>{@code
 * class CpuBackendContractTest extends BackendContractTest {
 *     protected Backend createBackend() { return new CpuBackendProvider().create(BackendOptions.defaults()); }
 * }
 * }</pre>
 *
 * <p>Cases (one dynamic test per op, dtype and variant; the helper classes in this package say exactly what
 * each covers): every op on every dtype it supports (FLOAT64 where {@link #supportsFloat64()}), sizes 1, 3,
 * 17, 255, 257, 1000 and non-square shapes, every GEMM transpose with alpha/beta, views and batches,
 * broadcasting in all four modes, offsets and allowed in-place aliasing; the fused ops bit for bit against
 * the primitives they replace; bad input through every facade;
 * use after close; several threads at once; a 100,000-op loop with flat memory. Tolerances are in
 * {@link Tolerance}. Inputs come from fixed seeds, so a failure reproduces.
 *
 * <p>One backend is created for the whole class (tests that close a backend ask {@link #createBackend()} for a
 * fresh one). After every test the backend's live buffers must be back where they were: a leak fails the test
 * that caused it. {@link #checklist()} fails when a {@code Backend} method has no {@link Covers} case.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendContractTest {
    private Backend backend;
    private ReferenceBackend reference;
    private Oracle oracle;
    private long baselineBuffers;

    /** A new, ready backend under test. Called once per class, and again by tests that close one. */
    protected abstract Backend createBackend();

    /** Whether FLOAT64 cases run; by default what the backend's capabilities say. */
    protected boolean supportsFloat64() {
        return backend.capabilities().float64();
    }

    /**
     * How far the platform-reported bytes may grow over the 100,000-op loop: 8 MiB plus 10% of the starting
     * value by default (allocator pools and page granularity, not per-op growth: the loop allocates about
     * 900 MiB in total, so a leak of even one buffer in ten exceeds it). Override with a reason.
     */
    protected long platformBytesTolerance(MemoryStats start) {
        return 8L * 1024 * 1024 + Math.max(0, start.platformBytes()) / 10;
    }

    /** The backend under test (created once per class). */
    protected final Backend backend() {
        return backend;
    }

    @BeforeAll
    final void createBackends() {
        backend = createBackend();
        reference = new ReferenceBackend();
        oracle = new Oracle(backend, reference, supportsFloat64());
        baselineBuffers = backend.memoryStats().liveBuffers();
    }

    @AfterAll
    final void closeBackends() {
        if (backend != null) {
            backend.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    @AfterEach
    final void nothingLeaked() {
        assertEquals(baselineBuffers, backend.memoryStats().liveBuffers(), "the test left buffers allocated on "
                + backend.name() + " (a leak in core or the backend)");
    }

    // ---- identity and memory -------------------------------------------------------------------------

    @Test
    @Covers({"name", "device", "capabilities"})
    void identity() {
        assertTrue(backend.name().matches("[a-z][a-z0-9-]*"), "name is lower case: '" + backend.name() + "'");
        DeviceInfo d = backend.device();
        assertNotNull(d, "device()");
        assertFalse(d.name().isBlank(), "device name");
        assertNotNull(d.type(), "device type");
        Capabilities c = backend.capabilities();
        assertNotNull(c, "capabilities()");
        assertTrue(!supportsFloat64() || c.float64(), "supportsFloat64() claims FLOAT64 the backend does not offer");
        try (Tensor t = Tensor.zeros(backend, DType.FLOAT32, 2)) {
            assertEquals(backend, t.backend(), "tensors know their backend");
        }
    }

    @Test
    @Covers({"allocate", "release", "memoryStats"})
    void accounting() {
        MemoryCases.accounting(backend);
    }

    @Test
    @Covers("allocate")
    void outOfMemory() {
        MemoryCases.outOfMemory(backend);
    }

    @Test
    @Covers("synchronize")
    void synchronize() {
        MemoryCases.synchronize(backend);
    }

    @Test
    @Covers({"close", "release"})
    void close() {
        MemoryCases.close(this::createBackend);
    }

    @Test
    @Covers({"allocate", "release", "memoryStats"})
    void steadyStateMemory() {
        MemoryCases.steadyState(backend, this::platformBytesTolerance);
    }

    @TestFactory
    @Covers({"upload", "download"})
    Stream<DynamicTest> uploadDownload() {
        return TransferCases.uploadDownload(oracle);
    }

    @TestFactory
    @Covers("copy")
    Stream<DynamicTest> copy() {
        return TransferCases.copy(oracle);
    }

    @TestFactory
    @Covers("fill")
    Stream<DynamicTest> fill() {
        return TransferCases.fill(oracle);
    }

    // ---- ops -----------------------------------------------------------------------------------------

    @TestFactory
    @Covers("gemm")
    Stream<DynamicTest> gemm() {
        return GemmCases.gemm(oracle);
    }

    @TestFactory
    @Covers("transpose")
    Stream<DynamicTest> transpose() {
        return TransferCases.transpose(oracle);
    }

    @TestFactory
    @Covers("gatherRows")
    Stream<DynamicTest> gatherRows() {
        return TransferCases.gatherRows(oracle);
    }

    @TestFactory
    @Covers("unary")
    Stream<DynamicTest> unary() {
        return UnaryCases.unary(oracle);
    }

    @TestFactory
    @Covers("unaryBackward")
    Stream<DynamicTest> unaryBackward() {
        return UnaryCases.unaryBackward(oracle);
    }

    @TestFactory
    @Covers("unaryBackward")
    Stream<DynamicTest> unaryBackwardEdges() {
        return UnaryEdgeCases.unaryBackwardEdges(oracle);
    }

    @TestFactory
    @Covers("binary")
    Stream<DynamicTest> binary() {
        return BinaryCases.binary(oracle);
    }

    @TestFactory
    @Covers("axpby")
    Stream<DynamicTest> axpby() {
        return BinaryCases.axpby(oracle);
    }

    @TestFactory
    @Covers("reduce")
    Stream<DynamicTest> reduce() {
        return ReductionCases.reduce(oracle);
    }

    @TestFactory
    @Covers("argmaxRows")
    Stream<DynamicTest> argmaxRows() {
        return ReductionCases.argmaxRows(oracle);
    }

    @TestFactory
    @Covers("softmaxRows")
    Stream<DynamicTest> softmaxRows() {
        return SoftmaxCases.softmaxRows(oracle);
    }

    @TestFactory
    @Covers("softmaxCrossEntropy")
    Stream<DynamicTest> softmaxCrossEntropy() {
        return SoftmaxCases.softmaxCrossEntropy(oracle);
    }

    @TestFactory
    @Covers("softmaxCrossEntropyBackward")
    Stream<DynamicTest> softmaxCrossEntropyBackward() {
        return SoftmaxCases.softmaxCrossEntropyBackward(oracle);
    }

    @TestFactory
    @Covers("sgdUpdate")
    Stream<DynamicTest> sgdUpdate() {
        return UpdateCases.sgdUpdate(oracle);
    }

    @TestFactory
    @Covers("adamUpdate")
    Stream<DynamicTest> adamUpdate() {
        return UpdateCases.adamUpdate(oracle);
    }

    @TestFactory
    @Covers("biasActivation")
    Stream<DynamicTest> biasActivation() {
        return FusedCases.biasActivation(oracle);
    }

    @TestFactory
    @Covers("biasActivationBackward")
    Stream<DynamicTest> biasActivationBackward() {
        return FusedCases.biasActivationBackward(oracle);
    }

    @TestFactory
    @Covers("sgdUpdateAll")
    Stream<DynamicTest> sgdUpdateAll() {
        return MultiUpdateCases.sgdUpdateAll(oracle);
    }

    @TestFactory
    @Covers("adamUpdateAll")
    Stream<DynamicTest> adamUpdateAll() {
        return MultiUpdateCases.adamUpdateAll(oracle);
    }

    @TestFactory
    @Covers("im2col")
    Stream<DynamicTest> im2col() {
        return ImageCases.im2col(oracle);
    }

    @TestFactory
    @Covers("col2im")
    Stream<DynamicTest> col2im() {
        return ImageCases.col2im(oracle);
    }

    @TestFactory
    @Covers("copyStrided")
    Stream<DynamicTest> copyStrided() {
        return ImageCases.copyStrided(oracle);
    }

    @TestFactory
    @Covers("conv2d")
    Stream<DynamicTest> conv2d() {
        return ImageCases.conv2d(oracle);
    }

    @TestFactory
    @Covers("conv2dBackward")
    Stream<DynamicTest> conv2dBackward() {
        return ImageCases.conv2dBackward(oracle);
    }

    @TestFactory
    @Covers({"maxPool2d", "maxPool2dBackward"})
    Stream<DynamicTest> maxPool2d() {
        return ImageCases.maxPool2d(oracle);
    }

    @TestFactory
    @Covers({"avgPool2d", "avgPool2dBackward"})
    Stream<DynamicTest> avgPool2d() {
        return ImageCases.avgPool2d(oracle);
    }

    @TestFactory
    @Covers("batchNormStats")
    Stream<DynamicTest> batchNormStats() {
        return NormalizationCases.stats(oracle);
    }

    @TestFactory
    @Covers("batchNormForward")
    Stream<DynamicTest> batchNormForward() {
        return NormalizationCases.forward(oracle);
    }

    @TestFactory
    @Covers("batchNormBackward")
    Stream<DynamicTest> batchNormBackward() {
        return NormalizationCases.backward(oracle);
    }

    @TestFactory
    @Covers("dropout")
    Stream<DynamicTest> dropout() {
        return NormalizationCases.dropout(oracle);
    }

    // ---- bad input, threads ----------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> rejectsBadGemm() {
        return OpErrorCases.gemm(oracle);
    }

    @TestFactory
    Stream<DynamicTest> rejectsBadElementwise() {
        return OpErrorCases.elementwise(oracle);
    }

    @TestFactory
    Stream<DynamicTest> rejectsBadReductionsAndSoftmax() {
        return OpErrorCases.reductionsAndSoftmax(oracle);
    }

    @TestFactory
    Stream<DynamicTest> rejectsBadUpdates() {
        return OpErrorCases.updates(oracle);
    }

    @TestFactory
    Stream<DynamicTest> rejectsBadFusedOps() {
        return FusedErrorCases.cases(oracle);
    }

    @TestFactory
    Stream<DynamicTest> rejectsBadImageOps() {
        return ImageErrorCases.cases(oracle);
    }

    @TestFactory
    Stream<DynamicTest> rejectsUseAfterCloseAndBadViews() {
        return LifetimeErrorCases.cases(oracle, this::createBackend);
    }

    @Test
    void concurrentUse() throws Exception {
        ConcurrencyCases.run(oracle);
    }

    // ---- the training step as one unit ----------------------------------------------------------------

    @Test
    @Covers({"runStep", "replaysSteps"})
    void stepsRunOrReplay() {
        StepCases.runOrReplay(backend);
    }

    // ---- the checklist ---------------------------------------------------------------------------------

    /** Every {@code Backend} method has a contract case, and every {@link Covers} names a real method. */
    @Test
    void checklist() {
        Set<String> spi = Arrays.stream(Backend.class.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()) && m.getDeclaringClass() != Object.class)
                .map(Method::getName).collect(Collectors.toCollection(TreeSet::new));
        Set<String> covered = new TreeSet<>();
        for (Method m : BackendContractTest.class.getDeclaredMethods()) {
            Covers c = m.getAnnotation(Covers.class);
            if (c != null) {
                assertTrue(m.isAnnotationPresent(Test.class) || m.isAnnotationPresent(TestFactory.class),
                        m.getName() + " has @Covers but is not a test");
                covered.addAll(Arrays.asList(c.value()));
            }
        }
        Set<String> missing = new TreeSet<>(spi);
        missing.removeAll(covered);
        assertTrue(missing.isEmpty(), "Backend methods without a contract case: " + missing);
        Set<String> unknown = new TreeSet<>(covered);
        unknown.removeAll(spi);
        assertTrue(unknown.isEmpty(), "@Covers names that are not Backend methods: " + unknown);
    }
}
