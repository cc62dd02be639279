package dev.backprop.cuda;

import dev.backprop.backend.BinaryOp;
import dev.backprop.backend.Broadcast;
import dev.backprop.backend.ReduceOp;
import dev.backprop.backend.UnaryOp;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java op codes and launch constants agree with the {@code #define}s of {@code common.cuh}. */
class CudaOpCodesTest {
    private static Map<String, Integer> defines() throws Exception {
        String header = Files.readString(PtxModuleTest.CUDA_SOURCES.resolve("common.cuh"));
        Map<String, Integer> out = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^#define (\\w+) (\\d+)\\s*$").matcher(header);
        while (m.find()) {
            out.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return out;
    }

    private static <E extends Enum<E>> void same(String prefix, Class<E> type, ToIntFunction<E> code) throws Exception {
        Map<String, Integer> defines = defines();
        Set<Integer> seen = new HashSet<>();
        for (E e : type.getEnumConstants()) {
            Integer c = defines.get(prefix + e.name());
            assertTrue(c != null, "common.cuh lacks #define " + prefix + e.name());
            assertEquals(c.intValue(), code.applyAsInt(e), prefix + e.name());
            assertTrue(seen.add(c), "code " + c + " used twice in " + prefix);
        }
        long cuda = defines.keySet().stream().filter(k -> k.startsWith(prefix)).count();
        assertEquals(type.getEnumConstants().length, cuda, "common.cuh defines " + prefix + "* the SPI does not have");
    }

    @Test
    void opCodesMatch() throws Exception {
        same("UNARY_", UnaryOp.class, CudaOpCodes::unary);
        same("BINARY_", BinaryOp.class, CudaOpCodes::binary);
        same("BROADCAST_", Broadcast.class, CudaOpCodes::broadcast);
        same("REDUCE_", ReduceOp.class, CudaOpCodes::reduce);
    }

    @Test
    void launchShapesMatch() throws Exception {
        Map<String, Integer> d = defines();
        assertEquals(d.get("BLOCK"), CudaLaunch.BLOCK);
        assertEquals(d.get("TILE"), CudaLaunch.TILE);
        assertEquals(d.get("TILE_ROWS"), CudaLaunch.TILE_ROWS);
        assertEquals(0, CudaLaunch.BLOCK % 32, "block reductions need whole warps");
    }
}
