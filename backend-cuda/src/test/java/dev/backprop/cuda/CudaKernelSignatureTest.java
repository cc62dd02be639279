package dev.backprop.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every {@link CudaKernel} matches an {@code .entry} of its PTX module parameter by parameter, and vice versa. */
class CudaKernelSignatureTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param (\\.\\w+) \\w+");

    /** Entry name to its parameter types, e.g. {@code unary_f32 -> [.u32, .f64, .f64, .u64, .u64, .u64]}. */
    static Map<String, List<String>> entries(PtxModule module) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(module.text());
        while (m.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) {
                types.add(p.group(1));
            }
            out.put(m.group(1), types);
        }
        return out;
    }

    @Test
    void javaSpecsMatchThePtx() {
        for (CudaKernel k : CudaKernel.values()) {
            List<String> declared = entries(k.module()).get(k.entry());
            assertTrue(declared != null, k.entry() + " is not an entry of " + k.module().resource());
            List<String> expected = k.params().stream().map(CudaKernel.Param::ptxType).toList();
            assertEquals(expected, declared, "parameters of " + k.entry());
        }
    }

    @Test
    void everyPtxEntryHasASpec() {
        for (PtxModule module : PtxModule.values()) {
            for (String entry : entries(module).keySet()) {
                boolean known = false;
                for (CudaKernel k : CudaKernel.values()) {
                    known |= k.module() == module && k.entry().equals(entry);
                }
                assertTrue(known, module.resource() + " defines " + entry + ", which no CudaKernel describes");
            }
        }
    }
}
