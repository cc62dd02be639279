package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.BackendUnavailableException;
import dev.backprop.backend.DeviceInfo;
import dev.backprop.backend.DeviceType;
import dev.backprop.backend.Probe;
import dev.backprop.reference.ReferenceBackend;
import dev.backprop.runtime.Backends;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Providers for the cli tests, one per situation {@code backends} must report: available, unavailable, a probe
 * that throws, and a create that fails after a good probe. Tests hand them to {@link Main} through
 * {@link Backends#withProviders}, so the real backends on the class path do not change what they see.
 */
final class FakeProviders {
    /** Every backend the {@link Reference} provider created, so tests can check that each was closed. */
    static final List<Backend> CREATED = new CopyOnWriteArrayList<>();

    private FakeProviders() {
    }

    /** A registry over one of each fake provider. */
    static Backends.Registry registry() {
        return Backends.withProviders(List.of(new Reference(), new Missing(), new Throwing(), new BrokenCreate()));
    }

    /** Available; creates the float64 reference backend from core's test-jar, whose name is "reference". */
    public static final class Reference implements BackendProvider {
        @Override
        public String name() {
            return "reference";
        }

        @Override
        public Probe probe() {
            return Probe.available("float64 reference for tests",
                    List.of(new DeviceInfo("test host", DeviceType.CPU, 1L << 30, Map.of("lanes", "1"))),
                    Probe.RANK_GPU + 50);
        }

        @Override
        public Backend create(BackendOptions options) {
            Backend b = new ReferenceBackend();
            CREATED.add(b);
            return b;
        }
    }

    /** Unavailable with a reason. */
    public static final class Missing implements BackendProvider {
        @Override
        public String name() {
            return "zz-missing";
        }

        @Override
        public Probe probe() {
            return Probe.unavailable("no fake device here; install the fake driver");
        }

        @Override
        public Backend create(BackendOptions options) {
            throw new BackendUnavailableException("zz-missing cannot be created");
        }
    }

    /** A probe that breaks its contract by throwing: the registry must turn it into a reason. */
    public static final class Throwing implements BackendProvider {
        @Override
        public String name() {
            return "zz-throwing";
        }

        @Override
        public Probe probe() {
            throw new IllegalStateException("probe exploded");
        }

        @Override
        public Backend create(BackendOptions options) {
            throw new IllegalStateException("never reached");
        }
    }

    /** A good probe, then a failing create (as when kernels do not build). */
    public static final class BrokenCreate implements BackendProvider {
        @Override
        public String name() {
            return "broken";
        }

        @Override
        public Probe probe() {
            return Probe.available("looks fine", List.of(), Probe.RANK_EMULATED);
        }

        @Override
        public Backend create(BackendOptions options) {
            throw new BackendUnavailableException("broken: kernel build failed (fake)");
        }
    }
}
