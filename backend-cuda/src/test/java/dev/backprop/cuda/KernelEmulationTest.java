package dev.backprop.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every CUDA kernel on the CPU: {@code src/test/cuda/kernel_test.cpp} compiles the real kernel sources
 * against {@code cuda_emu.h} (host threads for CUDA threads, barriers for {@code __syncthreads}, per-warp
 * exchange for shuffles) and checks each kernel against a float64 reference with the contract's tolerances.
 * This is how indexing, bounds, barriers and reduction order are tested where no GPU exists.
 */
class KernelEmulationTest {
    @Test
    void everyKernelMatchesTheReferenceOnTheCpu() throws Exception {
        Path gxx = TestTools.find("g++", "/usr/bin/g++");
        Assumptions.assumeTrue(gxx != null, "g++ not found on PATH: the CPU emulation of the kernels is skipped");
        Path module = TestTools.moduleDir();
        Path dir = Files.createTempDirectory("backprop-kernels-");
        Path exe = dir.resolve("kernel_test");
        try {
            TestTools.Result build = TestTools.run(List.of(gxx.toString(), "-std=c++20", "-O1", "-pthread", "-w",
                    "-I", module.resolve("src/main/cuda").toString(), "-include",
                    module.resolve("src/test/cuda/cuda_emu.h").toString(), "-x", "c++",
                    module.resolve("src/test/cuda/kernel_test.cpp").toString(), "-o", exe.toString()), dir, Map.of(), 600);
            assertEquals(0, build.exit(), "compiling the kernels for the CPU failed:\n" + build.output());
            TestTools.Result run = TestTools.run(List.of(exe.toString()), dir, Map.of(), 600);
            List<String> failed = run.output().lines().filter(l -> l.startsWith("FAIL")).toList();
            assertTrue(failed.isEmpty(), failed.size() + " kernel case(s) failed:\n" + String.join("\n", failed));
            assertEquals(0, run.exit(), run.output());
            long passed = run.output().lines().filter(l -> l.startsWith("PASS")).count();
            assertTrue(passed >= 250, "expected every case to run, got " + passed + " passes:\n" + run.output());
        } finally {
            Files.deleteIfExists(exe);
            Files.deleteIfExists(dir);
        }
    }
}
