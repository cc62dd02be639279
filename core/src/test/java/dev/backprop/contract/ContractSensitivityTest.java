package dev.backprop.contract;

import dev.backprop.backend.Backend;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Keeps the contract honest from the other side: a backend with one planted bug (the reference with one
 * argument of one call altered) must fail the case family that is meant to catch it. A fault that every case
 * lets through means the contract has a blind spot.
 */
class ContractSensitivityTest {

    /** A planted bug: the SPI method it hits, how it alters that call's arguments, and the cases that must notice. */
    private record Fault(String name, String method, Function<Object[], Object[]> alter,
                         Function<Oracle, Stream<DynamicTest>> cases) {
    }

    private static Object[] set(Object[] args, int index, Object value) {
        Object[] a = args.clone();
        a[index] = value;
        return a;
    }

    private static final Fault[] FAULTS = {
            new Fault("gemm reads C when beta == 0", "gemm",
                    a -> (double) a[12] == 0 ? set(a, 12, Double.MIN_VALUE) : a, GemmCases::gemm),
            new Fault("gemm alpha slightly off", "gemm", a -> set(a, 5, (double) a[5] * (1 + 3e-5)), GemmCases::gemm),
            new Fault("gemm ignores C's offset", "gemm", a -> set(a, 14, 0L),
                    GemmCases::gemm),
            new Fault("relu'(0) = 1", "unaryBackward", a -> a[0] == UnaryOp.RELU
                    ? set(set(set(a, 0, UnaryOp.CLAMP), 1, 0.0), 2, Double.POSITIVE_INFINITY) : a,
                    UnaryCases::unaryBackward),
            new Fault("binary ignores b's offset", "binary", a -> set(a, 7, 0L), BinaryCases::binary),
            new Fault("axpby reads y when beta == 0", "axpby",
                    a -> (double) a[4] == 0 ? set(a, 4, Double.MIN_VALUE) : a, BinaryCases::axpby),
            new Fault("MEAN computed as SUM", "reduce", a -> a[0] == ReduceOp.MEAN ? set(a, 0, ReduceOp.SUM) : a,
                    ReductionCases::reduce),
            new Fault("log flag ignored", "softmaxRows", a -> set(a, 0, false), SoftmaxCases::softmaxRows),
            new Fault("copy writes one element too many", "copy", a -> set(a, 4, (long) a[4] + 1), TransferCases::copy),
            new Fault("fill ignores its offset", "fill", a -> set(a, 1, 0L), TransferCases::fill),
            new Fault("sgd drops weight decay", "sgdUpdate", a -> set(a, 9, 0.0), UpdateCases::sgdUpdate),
            new Fault("adam narrows beta2 to float first", "adamUpdate",
                    a -> set(a, 11, (double) (float) (double) a[11]), UpdateCases::adamUpdate),
            new Fault("biasActivation ignores the bias offset", "biasActivation", a -> set(a, 6, 0L),
                    FusedCases::biasActivation),
            new Fault("biasActivationBackward takes sigmoid for tanh", "biasActivationBackward",
                    a -> a[0] == UnaryOp.TANH ? set(a, 0, UnaryOp.SIGMOID) : a, FusedCases::biasActivationBackward),
            new Fault("biasActivationBackward skips the last row", "biasActivationBackward",
                    a -> (int) a[1] > 1 ? set(a, 1, (int) a[1] - 1) : a, FusedCases::biasActivationBackward),
            new Fault("sgdUpdateAll skips the last tensor", "sgdUpdateAll",
                    a -> ((List<?>) a[0]).size() > 1
                            ? set(a, 0, ((List<?>) a[0]).subList(0, ((List<?>) a[0]).size() - 1))
                            : a, MultiUpdateCases::sgdUpdateAll),
            new Fault("adamUpdateAll one step ahead", "adamUpdateAll", a -> set(a, 7, (long) a[7] + 1),
                    MultiUpdateCases::adamUpdateAll),
            new Fault("argmaxRows skips the last column", "argmaxRows",
                    a -> (int) a[1] > 1 ? set(a, 1, (int) a[1] - 1) : a, ReductionCases::argmaxRows),
    };

    /** The reference with {@code fault} planted in one method. */
    private static Backend faulty(Fault fault) {
        ReferenceBackend inner = new ReferenceBackend();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    Object[] a = args != null && method.getName().equals(fault.method()) ? fault.alter().apply(args)
                            : args;
                    try {
                        return method.invoke(inner, a);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @TestFactory
    Stream<DynamicTest> everyPlantedFaultIsCaught() {
        return Arrays.stream(FAULTS).map(f -> dynamicTest(f.name(), () -> {
            Backend be = faulty(f);
            try (ReferenceBackend ref = new ReferenceBackend()) {
                Oracle o = new Oracle(be, ref, true);
                assertTrue(f.cases().apply(o).anyMatch(ContractSensitivityTest::fails),
                        "planted fault '" + f.name() + "' passed every case");
            } finally {
                be.close();
            }
        }));
    }

    /** Whether a case fails: a failed assertion, or an exception a bad index or NaN led to. */
    private static boolean fails(DynamicTest t) {
        try {
            t.getExecutable().execute();
            return false;
        } catch (Throwable e) {
            return true;
        }
    }
}
