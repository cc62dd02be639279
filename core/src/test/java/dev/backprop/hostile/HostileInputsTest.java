package dev.backprop.hostile;

import dev.backprop.data.DataFormatException;
import dev.backprop.io.ModelFileException;
import dev.backprop.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every reader against well over 700 generated hostile files. Each must be refused with the reader's documented
 * exception and a one-line message: a different exception (which the CLI prints with a stack trace), an
 * {@link OutOfMemoryError}, a read that does not finish (a hang) or an accepted file all count against it and fail
 * the test. Prints the table per reader, and writes it to {@code target/hostile-inputs.md}.
 */
class HostileInputsTest {
    /** Generous: a refusal takes milliseconds; only a reader that loops forever comes near. */
    private static final long HANG_SECONDS = 60;
    private static final ReferenceBackend BACKEND = new ReferenceBackend();

    @TempDir
    Path dir;

    private enum Outcome { CLEAN, STACK_TRACE, OOM, HANG, SILENT_SUCCESS }

    @AfterAll
    static void close() {
        BACKEND.close();
    }

    @Test
    void everyHostileInputIsRefusedWithAOneLineMessage() throws Exception {
        List<HostileCase> cases = new ArrayList<>();
        HostileModelCases.modelFiles(cases, BACKEND);
        HostileModelCases.checkpoints(cases, BACKEND, dir);
        HostileModelCases.metadata(cases, BACKEND);
        HostileDataCases.idx(cases);
        HostileDataCases.csv(cases);
        Map<String, Map<Outcome, Integer>> table = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            for (HostileCase c : cases) {
                Path f = dir.resolve("case");
                Files.write(f, c.bytes());
                String[] detail = new String[1];
                Outcome o = run(pool, c, f, detail);
                table.computeIfAbsent(c.reader(), k -> new LinkedHashMap<>()).merge(o, 1, Integer::sum);
                if (o != Outcome.CLEAN) {
                    bad.add(c.reader() + " / " + c.name() + ": " + o + " " + detail[0]);
                }
                if (o == Outcome.HANG) {
                    break;  // the reader is still running on the pool's thread
                }
            }
        } finally {
            pool.shutdownNow();
        }
        String report = report(table);
        System.out.println(report);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "hostile-inputs.md"), report);
        assertTrue(cases.size() >= 700, "at least 700 cases: " + cases.size());
        assertEquals(List.of(), bad, report);
    }

    private static Outcome run(ExecutorService pool, HostileCase c, Path f, String[] detail) throws Exception {
        long live = BACKEND.memoryStats().liveBuffers();
        Future<Throwable> done = pool.submit(() -> {
            try {
                c.call().read(f);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Throwable t;
        try {
            t = done.get(HANG_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            done.cancel(true);
            return Outcome.HANG;
        }
        if (BACKEND.memoryStats().liveBuffers() != live) {
            detail[0] = "left " + (BACKEND.memoryStats().liveBuffers() - live) + " buffers allocated";
            return Outcome.STACK_TRACE;
        }
        if (t == null) {
            detail[0] = "accepted";
            return Outcome.SILENT_SUCCESS;
        }
        detail[0] = t.toString();
        if (t instanceof OutOfMemoryError) {
            return Outcome.OOM;
        }
        boolean documented = t instanceof ModelFileException || t instanceof DataFormatException;
        String m = t.getMessage();
        return documented && m != null && !m.isBlank() && !m.contains("\n") && !m.contains("\r") ? Outcome.CLEAN
                : Outcome.STACK_TRACE;
    }

    private static String report(Map<String, Map<Outcome, Integer>> table) {
        StringBuilder b = new StringBuilder("| reader | cases | clean one-line errors | stack traces | OOMs | hangs "
                + "| silent successes |\n|---|---|---|---|---|---|---|\n");
        int[] total = new int[Outcome.values().length + 1];
        table.forEach((reader, counts) -> {
            int n = counts.values().stream().mapToInt(Integer::intValue).sum();
            total[0] += n;
            b.append(String.format(Locale.ROOT, "| %s | %d", reader, n));
            for (Outcome o : Outcome.values()) {
                int k = counts.getOrDefault(o, 0);
                total[o.ordinal() + 1] += k;
                b.append(" | ").append(k);
            }
            b.append(" |\n");
        });
        b.append("| all | ").append(total[0]);
        for (int i = 1; i < total.length; i++) {
            b.append(" | ").append(total[i]);
        }
        return b.append(" |\n").toString();
    }
}
