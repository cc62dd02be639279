package dev.backprop.benchmarks;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackendProvider;
import dev.backprop.backend.Buffer;
import dev.backprop.backend.DType;
import dev.backprop.runtime.Backends;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/** Seeded inputs and backend creation shared by the benchmarks. */
public final class BenchData {
    /** Upload in slices so a 16M-element operand never needs a second 64 MB host array. */
    private static final int SLICE = 1 << 20;

    private BenchData() {
    }

    /** {@code n} seeded floats uniform in [-1, 1). */
    public static float[] random(long n, long seed) {
        float[] out = new float[Math.toIntExact(n)];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return out;
    }

    /** A FLOAT32 buffer of {@code n} elements on {@code backend} holding {@link #random(long, long)}'s values
     *  times {@code scale}. */
    public static Buffer uploadRandom(Backend backend, long n, long seed, float scale) {
        Buffer buf = backend.allocate(DType.FLOAT32, n);
        SplittableRandom r = new SplittableRandom(seed);
        float[] slice = new float[(int) Math.min(n, SLICE)];
        for (long done = 0; done < n; done += slice.length) {
            int len = (int) Math.min(slice.length, n - done);
            for (int i = 0; i < len; i++) {
                slice[i] = (float) (r.nextDouble() * 2 - 1) * scale;
            }
            backend.upload(slice, 0, buf, done, len);
        }
        return buf;
    }

    /** {@link #uploadRandom(Backend, long, long, float)} with scale 1. */
    public static Buffer uploadRandom(Backend backend, long n, long seed) {
        return uploadRandom(backend, n, seed, 1f);
    }

    /**
     * The backend called {@code name} with {@code threads} worker threads (the {@code threads} option;
     * backends without a thread pool ignore it).
     *
     * <p>Only that backend's provider is probed: probing the others would load their native runtimes (PoCL with
     * LLVM and its worker threads, the CUDA driver) into a JVM that measures something else.
     *
     * @throws dev.backprop.backend.BackendUnavailableException when no provider has that name or it cannot run
     */
    public static Backend backend(String name, int threads) {
        return backend(name, Map.of("threads", Integer.toString(threads)));
    }

    /** The backend called {@code name} with explicit {@code options}; see {@link #backend(String, int)}. */
    public static Backend backend(String name, Map<String, String> options) {
        List<BackendProvider> only = Backends.providers().stream().filter(p -> p.name().equals(name))
                .collect(Collectors.toList());
        BackendOptions o = BackendOptions.of(options);
        return only.isEmpty() ? Backends.get(name, o) : Backends.withProviders(only).get(name, o);
    }
}
