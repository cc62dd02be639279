package dev.backprop.opencl;

import dev.backprop.backend.BackendFailureException;
import dev.backprop.backend.DType;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Compiles the {@code .cl} resources of this package and caches the results for one context: a program per
 * (device, source, build options), a kernel object per (program, kernel name). Each program is built once per
 * context; the kernel objects are reused for every launch, which is safe because the backend serializes launches
 * (argument setting and enqueueing happen under its lock).
 *
 * <p>Every program is compiled from {@code common.cl} followed by its own source, so the element-type macros
 * live in one place. A build failure throws {@link BackendFailureException} carrying the compiler's build log.
 */
final class OpenClPrograms implements AutoCloseable {
    private static final String RESOURCE_DIR = "/dev/backprop/opencl/";
    private static final Map<String, String> SOURCES = new ConcurrentHashMap<>();

    private final cl_context context;
    private final OpenClDevice device;
    private final Map<String, cl_program> programs = new HashMap<>();
    private final Map<String, cl_kernel> kernels = new HashMap<>();

    OpenClPrograms(cl_context context, OpenClDevice device) {
        this.context = context;
        this.device = device;
    }

    /**
     * The build options that make the element type {@code dtype}: {@code REAL} is {@code float}, {@code double}
     * or {@code int}, with {@code REAL_IS_DOUBLE} / {@code REAL_IS_INT} defined for the conditional parts.
     */
    static String typeOptions(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "-DREAL=float";
            case FLOAT64 -> "-DREAL=double -DREAL_IS_DOUBLE";
            case INT32 -> "-DREAL=int -DREAL_IS_INT";
        };
    }

    /** The kernel {@code name} of {@code source} built with {@code options}, building the program if needed. */
    synchronized cl_kernel kernel(String source, String options, String name) {
        String key = source + '|' + options + '|' + name;
        cl_kernel k = kernels.get(key);
        if (k == null) {
            cl_program program = program(source, options);
            int[] err = new int[1];
            k = CL.clCreateKernel(program, name, err);
            OpenClCheck.check(err[0], "clCreateKernel", name + " in " + source + " " + options);
            kernels.put(key, k);
        }
        return k;
    }

    /** The built program of {@code source} with {@code options} (cached per device and options). */
    synchronized cl_program program(String source, String options) {
        String key = device.id() + "|" + source + '|' + options;
        cl_program p = programs.get(key);
        if (p == null) {
            p = build(source, options);
            programs.put(key, p);
        }
        return p;
    }

    private cl_program build(String source, String options) {
        int[] err = new int[1];
        String[] texts = {source("common.cl"), source(source)};
        cl_program p = CL.clCreateProgramWithSource(context, texts.length, texts, null, err);
        OpenClCheck.check(err[0], "clCreateProgramWithSource", source);
        int status = CL.clBuildProgram(p, 1, new cl_device_id[] {device.id()}, options, null, null);
        if (status != CL.CL_SUCCESS) {
            String log = buildLog(p);
            CL.clReleaseProgram(p);
            throw new BackendFailureException("opencl: clBuildProgram failed with " + OpenClCheck.errorName(status)
                    + " for " + source + " with options '" + options + "' on " + device.label() + "; build log:\n"
                    + log);
        }
        return p;
    }

    private String buildLog(cl_program p) {
        long[] size = new long[1];
        int s = CL.clGetProgramBuildInfo(p, device.id(), CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
        if (s != CL.CL_SUCCESS || size[0] <= 1) {
            return "(no build log: " + OpenClCheck.errorName(s) + ")";
        }
        byte[] bytes = new byte[(int) size[0]];
        s = CL.clGetProgramBuildInfo(p, device.id(), CL.CL_PROGRAM_BUILD_LOG, bytes.length, Pointer.to(bytes), null);
        if (s != CL.CL_SUCCESS) {
            return "(no build log: " + OpenClCheck.errorName(s) + ")";
        }
        return new String(bytes, 0, Math.max(0, bytes.length - 1), StandardCharsets.UTF_8).trim();
    }

    /** The text of a kernel resource of this package. */
    static String source(String name) {
        return SOURCES.computeIfAbsent(name, n -> {
            try (InputStream in = OpenClPrograms.class.getResourceAsStream(RESOURCE_DIR + n)) {
                if (in == null) {
                    throw new IllegalStateException("kernel resource " + RESOURCE_DIR + n + " is missing from the jar");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read kernel resource " + RESOURCE_DIR + n, e);
            }
        });
    }

    /** How many programs were built (for tests of the cache). */
    synchronized int programCount() {
        return programs.size();
    }

    /** Releases every kernel and program. */
    @Override
    public synchronized void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (cl_kernel k : kernels.values()) {
            collect(failures, CL.clReleaseKernel(k), "clReleaseKernel");
        }
        for (cl_program p : programs.values()) {
            collect(failures, CL.clReleaseProgram(p), "clReleaseProgram");
        }
        kernels.clear();
        programs.clear();
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }

    private static void collect(List<RuntimeException> failures, int status, String call) {
        if (status != CL.CL_SUCCESS) {
            failures.add(OpenClCheck.failure(status, call, ""));
        }
    }
}
