package dev.backprop.benchmarks;

import dev.backprop.data.ImageFile;
import dev.backprop.data.ImageFolder;
import dev.backprop.data.ImageTransform;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reading images against PIL, interleaved: per round and case, the best of a few Java calls, then the best of as many
 * calls of the same case in {@code benchmarks/scripts/images_pil.py serve}, a Python process kept open beside this
 * JVM; each round gives a ratio Java / PIL, so both sides see the same load. Cases: {@link ImageTransform#apply}
 * alone on large RGB and gray images (3000 × 4000 to a shorter side of 256 and 72) and an upscale (300 × 400 to
 * 600); and {@link ImageFolder#read} of a folder of generated photos with {@code Resize(72)} and
 * {@code CenterCrop(64)} on one thread and on {@code WORKERS} ({@code backprop.images.threads}; PIL: a
 * {@code multiprocessing.Pool}).
 *
 * <pre>
 * /usr/bin/python3 benchmarks/scripts/images_pil.py generate DIR
 * java -cp benchmarks/target/benchmarks.jar dev.backprop.benchmarks.ImagePairs DIR [ROUNDS] [WORKERS] [CASES]
 *   ROUNDS (5), WORKERS (available processors), CASES: comma-separated (all)
 * </pre>
 */
public final class ImagePairs {
    private static final List<String> RESIZES = List.of("resize-rgb-256", "resize-gray-256", "resize-rgb-72",
            "upscale-rgb-600");

    private ImagePairs() {
    }

    /** Runs the comparison the class comment describes: one line per case, median milliseconds and ratios. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: ImagePairs DIR [ROUNDS] [WORKERS] [CASES]");
        }
        Path dir = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int workers = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        List<String> cases = new ArrayList<>(RESIZES);
        cases.add("folder-1");
        cases.add("folder-" + workers);
        if (args.length > 3) {
            cases = List.of(args[3].split(","));
        }
        ImageFile rgb = ImageFile.read(dir.resolve("big_rgb.png"));
        ImageFile gray = ImageFile.read(dir.resolve("big_gray.png"));
        ImageFile small = ImageFile.read(dir.resolve("small_rgb.png"));
        Process pil = new ProcessBuilder("/usr/bin/python3", "benchmarks/scripts/images_pil.py", "serve",
                dir.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader fromPil = new BufferedReader(new InputStreamReader(pil.getInputStream(),
                StandardCharsets.UTF_8));
             PrintWriter toPil = new PrintWriter(pil.getOutputStream(), true, StandardCharsets.UTF_8)) {
            System.out.println(fromPil.readLine());
            System.out.printf(Locale.ROOT, "# ImagePairs %s, %d rounds, load average %.2f, JDK %s%n", dir, rounds,
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    Runtime.version());
            for (String c : cases) {
                Runnable call = call(c, dir, rgb, gray, small);
                int reps = c.startsWith("folder") ? 1 : 5;
                call.run();
                double[] java = new double[rounds];
                double[] py = new double[rounds];
                double[] ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    java[r] = best(call, reps);
                    toPil.println(c + " " + reps);
                    py[r] = Double.parseDouble(fromPil.readLine().trim());
                    ratio[r] = java[r] / py[r];
                }
                System.out.printf(Locale.ROOT, "%-16s java %9.2f ms  PIL %9.2f ms  java/PIL median %.2f "
                        + "range [%.2f-%.2f]%n", c, median(java), median(py), median(ratio), min(ratio), max(ratio));
            }
        } finally {
            pil.destroy();
        }
    }

    private static Runnable call(String c, Path dir, ImageFile rgb, ImageFile gray, ImageFile small) {
        switch (c) {
            case "resize-rgb-256":
                return () -> ImageTransform.resize(256).apply(rgb, 3);
            case "resize-gray-256":
                return () -> ImageTransform.resize(256).apply(gray, 1);
            case "resize-rgb-72":
                return () -> ImageTransform.resize(72).apply(rgb, 3);
            case "upscale-rgb-600":
                return () -> ImageTransform.resize(600).apply(small, 3);
            default:
                if (!c.startsWith("folder-")) {
                    throw new IllegalArgumentException("no case " + c + ": " + RESIZES + ", folder-N");
                }
                String threads = c.substring("folder-".length());
                ImageTransform t = ImageTransform.resize(72).centerCrop(64, 64);
                return () -> {
                    System.setProperty("backprop.images.threads", threads);
                    ImageFolder.read(dir.resolve("folder"), 3, null, t);
                };
        }
    }

    /** The fewest milliseconds of {@code reps} calls. */
    private static double best(Runnable call, int reps) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t = System.nanoTime();
            call.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e6);
        }
        return best;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }
}
