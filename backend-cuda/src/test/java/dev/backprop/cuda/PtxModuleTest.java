package dev.backprop.cuda;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed PTX: up to date with the CUDA sources (the hash {@code scripts/build-ptx.sh} records), of the
 * ISA version the probe relies on, and accepted by {@code ptxas} for the oldest (sm_75) and the Hopper
 * (sm_90) target (ptxas: CUDA's, else the one .ci/run unpacks from Debian's nvidia-cuda-toolkit).
 */
class PtxModuleTest {
    static final Path CUDA_SOURCES = TestTools.moduleDir().resolve("src/main/cuda");

    /** As build-ptx.sh: SHA-256 of the .cu file followed by every .cuh header in name order. */
    static String sourceHash(PtxModule module) throws IOException, NoSuchAlgorithmException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(Files.readAllBytes(CUDA_SOURCES.resolve(module.baseName() + ".cu")));
        try (Stream<Path> headers = Files.list(CUDA_SOURCES)) {
            for (Path h : headers.filter(p -> p.toString().endsWith(".cuh")).sorted().toList()) {
                bytes.write(Files.readAllBytes(h));
            }
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    }

    @ParameterizedTest
    @EnumSource(PtxModule.class)
    void ptxIsUpToDateWithItsSources(PtxModule module) throws Exception {
        assertEquals(sourceHash(module), module.sourceHash(), module.resource() + " was generated from other sources "
                + "than src/main/cuda holds now: run backend-cuda/scripts/build-ptx.sh and commit the PTX");
    }

    @ParameterizedTest
    @EnumSource(PtxModule.class)
    void ptxTargetsTuringAtTheRecordedIsa(PtxModule module) {
        String text = module.text();
        assertTrue(text.contains("\n.target sm_75\n"), module.resource() + " must target sm_75");
        assertTrue(text.contains("// backprop-ptx-isa: " + module.isaVersion() + " "), "header records the ISA");
        assertTrue(DriverRequirements.driverForIsa(module.isaVersion()) <= DriverRequirements.CUBLAS_12_DRIVER,
                "ISA " + module.isaVersion() + " would need a newer driver than cuBLAS 12");
        assertEquals(0, module.image()[module.image().length - 1], "cuModuleLoadData needs a NUL-terminated image");
    }

    /**
     * The SPI's default computes the activation's derivative in separate launches ({@code y·y}, then {@code 1 - t},
     * then {@code t·g}), each result rounded; a product without a rounding modifier may be contracted by ptxas into
     * an FMA with the subtraction or the bias sum after it, so the fused backward kernels use {@code mul.rn} only.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bias_act_backward_f32", "bias_act_backward_f64"})
    void fusedBackwardProductsCannotBeContracted(String entry) {
        String text = PtxModule.FUSED.text();
        int start = text.indexOf(".entry " + entry + "(");
        assertTrue(start >= 0, entry + " is in fused.ptx");
        String body = text.substring(start, text.indexOf("\n}", start));
        assertTrue(body.contains("mul.rn.f"), entry + " has the rounded products");
        assertFalse(Pattern.compile("\\b(mul\\.f(32|64)|fma\\.)").matcher(body).find(),
                entry + " has a product ptxas may fuse");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sm_75", "sm_90"})
    void ptxasAssemblesEveryModule(String arch) throws Exception {
        Path ptxas = TestTools.require("ptxas", "the committed PTX is not assembled on this machine",
                "/usr/local/cuda/bin/ptxas");
        Path dir = Files.createTempDirectory("backprop-ptx-");
        try {
            for (PtxModule module : PtxModule.values()) {
                Path ptx = dir.resolve(module.baseName() + ".ptx");
                Files.writeString(ptx, module.text());
                TestTools.Result r = TestTools.run(List.of(ptxas.toString(), "-arch=" + arch, "-o",
                        dir.resolve(module.baseName() + ".cubin").toString(), ptx.toString()), dir, Map.of(), 120);
                assertEquals(0, r.exit(), "ptxas -arch=" + arch + " rejects " + module.resource() + ":\n" + r.output());
            }
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }
}
