package dev.backprop.cuda;

import dev.backprop.backend.Window2d;
import dev.backprop.random.Philox;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every CUDA kernel on the CPU: {@code src/test/cuda/kernel_test.cpp} compiles the real kernel sources
 * against {@code cuda_emu.h} (host threads for CUDA threads, barriers for {@code __syncthreads}, per-warp
 * exchange for shuffles) and checks each kernel against a float64 reference with the contract's tolerances.
 * This is how indexing, bounds, barriers and reduction order are tested where no GPU exists. Each kernel case is
 * one test here.
 *
 * <p>The emulator launches with the Java code's shapes: it asks for each op's plan on its standard output and
 * this test answers from {@link CudaLaunch.Shape}, {@link CudaReductions}, {@link CudaImages},
 * {@link CudaNormalization} and {@link CudaFused}, for a device of
 * {@value #MULTIPROCESSORS} multiprocessor (the fewest blocks, so the grid-stride loops turn at the cases' sizes).
 */
class KernelEmulationTest {
    static final int MULTIPROCESSORS = 1;
    /** Fewest kernel cases a complete run reports. */
    static final int MIN_CASES = 965;
    /** Every kind of query the emulator must have asked: launches, and the Java reference's Philox words. */
    static final Set<String> KINDS = Set.of("elementwise", "rows", "transpose", "reduce_all", "reduce_cols", "im2col",
            "col2im", "pool", "pool_backward", "channel_sums", "dropout", "philox", "multi");

    /** The emulator's report: its exit status, its PASS/FAIL lines, the kinds of launch it asked for. */
    private record Emulation(int exit, List<String> lines, Set<String> asked) {
    }

    @TestFactory
    Stream<DynamicTest> everyKernelMatchesTheReferenceOnTheCpu() throws Exception {
        Path gxx = TestTools.require("g++", "the CPU emulation of the CUDA kernels, their only test without a GPU, "
                + "does not run", "/usr/bin/g++");
        Path module = TestTools.moduleDir();
        Path dir = Files.createTempDirectory("backprop-kernels-");
        Path exe = dir.resolve("kernel_test");
        Emulation run;
        try {
            TestTools.Result build = TestTools.run(List.of(gxx.toString(), "-std=c++20", "-O1", "-pthread", "-w",
                    "-I", module.resolve("src/main/cuda").toString(), "-include",
                    module.resolve("src/test/cuda/cuda_emu.h").toString(), "-x", "c++",
                    module.resolve("src/test/cuda/kernel_test.cpp").toString(), "-o", exe.toString()), dir, Map.of(),
                    600);
            assertEquals(0, build.exit(), "compiling the kernels for the CPU failed:\n" + build.output());
            run = emulate(exe, dir, 600);
        } finally {
            Files.deleteIfExists(exe);
            Files.deleteIfExists(dir);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : run.lines()) {
            if (line.startsWith("PASS ") || line.startsWith("FAIL ")) {
                String name = line.substring(5).split(":", 2)[0];
                tests.add(DynamicTest.dynamicTest(name, () -> assertTrue(line.startsWith("PASS "), line)));
            }
        }
        long cases = tests.size();
        long failed = run.lines().stream().filter(l -> l.startsWith("FAIL ")).count();
        String output = String.join("\n", run.lines());
        tests.add(DynamicTest.dynamicTest("the run: every case, every kind of launch, a clean exit", () -> {
            assertTrue(cases >= MIN_CASES, "expected at least " + MIN_CASES + " kernel cases, got " + cases + ":\n"
                    + output);
            assertEquals(KINDS, run.asked(), "kinds of launch the emulator asked the Java code for");
            assertEquals(failed, run.exit(), "the exit status counts the failed cases:\n" + output);
        }));
        return tests.stream();
    }

    /**
     * Runs the emulator, answering each {@code SHAPE <query>} line with {@link #plan}; fails after {@code seconds}.
     */
    private static Emulation emulate(Path exe, Path dir, long seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(exe.toString()).directory(dir.toFile()).redirectErrorStream(true).start();
        Thread watchdog = new Thread(() -> {
            try {
                if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        });
        watchdog.setDaemon(true);
        watchdog.start();
        List<String> lines = new ArrayList<>();
        Set<String> asked = new TreeSet<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("SHAPE ")) {
                    String query = line.substring(6);
                    asked.add(query.split(" ")[0]);
                    in.write(plan(query) + "\n");
                    in.flush();
                } else {
                    lines.add(line);
                }
            }
        } finally {
            p.destroyForcibly();
        }
        int exit = p.waitFor();
        watchdog.interrupt();
        return new Emulation(exit, lines, asked);
    }

    /**
     * The Java code's launches for one query of the emulator: {@code elementwise N}, {@code rows R},
     * {@code transpose R C}, {@code reduce_all N}, {@code reduce_cols R C}, {@code channel_sums M C} (a per-channel
     * sum over {@code M} elements per channel), {@code dropout N}, {@code multi N T} (a multi-tensor update of
     * {@code T} tensors, the largest of {@code N} elements), or an image kernel's ({@code im2col},
     * {@code col2im}, {@code pool}, {@code pool_backward}) followed by the window's twelve numbers. The answer is the
     * count and the values derived from the sizes (rows or elements per chunk), then the count of launches and each
     * one's grid and block. {@code philox SEED OFFSET N} is answered with the N words of
     * {@link Philox#words} and no launch: dropout's mask is checked against the reference generator itself.
     */
    static String plan(String query) {
        String[] q = query.split(" ");
        long a = Long.parseLong(q[1]);
        int maxBlocks = CudaLaunch.maxBlocks(MULTIPROCESSORS);
        return switch (q[0]) {
            case "elementwise" -> answer(new long[0], CudaLaunch.Shape.elementwise(a, maxBlocks));
            case "rows" -> answer(new long[0], CudaLaunch.Shape.perRow(a));
            case "transpose" -> answer(new long[0], CudaLaunch.Shape.transpose((int) a, Integer.parseInt(q[2])));
            case "reduce_all" -> answer(new long[0], CudaReductions.allPasses(a));
            case "reduce_cols" -> answer(new long[] {CudaReductions.rowsPerChunk((int) a)},
                    CudaReductions.columnPasses((int) a, Integer.parseInt(q[2])));
            case "im2col" -> answer(new long[0], CudaImages.im2colShape(window(q), maxBlocks));
            case "col2im", "pool_backward" -> answer(new long[0], CudaImages.inputShape(window(q), maxBlocks));
            case "pool" -> answer(new long[0], CudaImages.outputShape(window(q), maxBlocks));
            case "channel_sums" -> answer(new long[] {CudaNormalization.perChunk(a)},
                    CudaNormalization.channelSumPasses(a, Integer.parseInt(q[2])));
            case "dropout" -> answer(new long[0], CudaNormalization.dropoutShape(a, maxBlocks));
            case "multi" -> answer(new long[0], CudaFused.multiShape(a, Integer.parseInt(q[2]), maxBlocks));
            case "philox" -> {
                int[] words = new int[Integer.parseInt(q[3])];
                Philox.words(a, Long.parseLong(q[2]), words, words.length);
                yield answer(Arrays.stream(words).mapToLong(Integer::toUnsignedLong).toArray());
            }
            default -> throw new IllegalArgumentException("the emulator asked for an unknown launch: " + query);
        };
    }

    /** The window of an image query: the twelve numbers after its kind. */
    private static Window2d window(String[] q) {
        int[] g = Arrays.stream(q, 1, 13).mapToInt(Integer::parseInt).toArray();
        return new Window2d(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
    }

    private static String answer(long[] values, CudaLaunch.Shape... launches) {
        return values.length + (values.length == 0 ? "" : " " + Arrays.stream(values).mapToObj(Long::toString)
                .collect(Collectors.joining(" "))) + " " + launches.length + Arrays.stream(launches)
                .map(s -> " " + s.gridX() + " " + s.gridY() + " " + s.blockX() + " " + s.blockY())
                .collect(Collectors.joining());
    }
}
