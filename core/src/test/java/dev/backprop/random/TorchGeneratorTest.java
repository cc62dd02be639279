package dev.backprop.random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Values printed by PyTorch 1.13 (Debian's python3-torch):
 * <pre>
 * torch.manual_seed(0); m = torch.nn.Linear(784, 256)      # weight[0, :3], bias[:3]
 * g = torch.Generator().manual_seed(0); torch.randperm(10, generator=g)   # twice
 * g = torch.Generator().manual_seed(0); torch.randperm(60000, generator=g)
 * # SHA-256 of every parameter of the 784-256-128-10 nn.Sequential after torch.manual_seed(0), as little-endian
 * # float32 in state_dict order, and of three successive randperm(60000) as little-endian int32
 * </pre>
 */
class TorchGeneratorTest {
    @Test
    void mt19937MatchesTheStandardSequence() {
        // std::mt19937 default seed 5489: the 10000th output is 4123659995 (C++ standard, [rand.predef]).
        TorchGenerator g = new TorchGenerator(5489);
        long v = 0;
        for (int i = 0; i < 10000; i++) {
            v = g.nextUint32();
        }
        assertEquals(4123659995L, v);
    }

    @Test
    void linearInitMatchesPyTorchBitForBit() {
        TorchGenerator g = new TorchGenerator(0);
        double a = Math.sqrt(5);
        double bound = Math.sqrt(3.0) * (Math.sqrt(2.0 / (1 + a * a)) / Math.sqrt(784));
        float[] w = new float[784 * 256];
        for (int i = 0; i < w.length; i++) {
            w[i] = g.uniformFloat(-bound, bound);
        }
        assertEquals(Float.intBitsToFloat(0xb98c3000), w[0]);
        assertEquals(Float.intBitsToFloat(0x3c9cf2b5), w[1]);
        assertEquals(Float.intBitsToFloat(0xbcf0ccac), w[2]);
        double bb = 1 / Math.sqrt(784);
        assertEquals(-0.01171777956187725f, g.uniformFloat(-bb, bb));
        assertEquals(0.013269922696053982f, g.uniformFloat(-bb, bb));
        assertEquals(-0.002468675374984741f, g.uniformFloat(-bb, bb));
    }

    @Test
    void wholeMlpInitAndThreeEpochOrdersMatchPyTorch() throws Exception {
        TorchGenerator g = new TorchGenerator(0);
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        int[][] layers = {{784, 256}, {256, 128}, {128, 10}};
        double a = Math.sqrt(5);
        for (int[] l : layers) {
            double wb = Math.sqrt(3.0) * (Math.sqrt(2.0 / (1 + a * a)) / Math.sqrt(l[0]));
            double bb = 1 / Math.sqrt(l[0]);
            md.update(littleEndian(l[0] * l[1], () -> g.uniformFloat(-wb, wb)));
            md.update(littleEndian(l[1], () -> g.uniformFloat(-bb, bb)));
        }
        assertEquals("23f6b677320f6cb84a0eabd9e9b820c16ca8d5a07312b410486dfc7786237cfa", hex(md.digest()));
        TorchGenerator s = new TorchGenerator(0);
        java.security.MessageDigest md2 = java.security.MessageDigest.getInstance("SHA-256");
        for (int e = 0; e < 3; e++) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(60000 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(s.randperm(60000));
            md2.update(b.array());
        }
        assertEquals("d268c7e5f6a13d9fe7121f11471b9624297f94dda3662ff934ed01e0f0359027", hex(md2.digest()));
    }

    private static byte[] littleEndian(int n, java.util.function.Supplier<Float> draw) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(draw.get());
        }
        return b.array();
    }

    private static String hex(byte[] d) {
        StringBuilder sb = new StringBuilder();
        for (byte x : d) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    @Test
    void badArgumentsAreRejectedWithoutDrawing() {
        TorchGenerator g = new TorchGenerator(0);
        TorchGenerator fresh = new TorchGenerator(0);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> g.randperm(-1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> g.uniformFloat(1, 0));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> g.uniformFloat(0, Double.NaN));
        assertEquals(fresh.nextUint32(), g.nextUint32(), "a rejected call must not advance the generator");
    }

    @Test
    void randpermMatchesPyTorch() {
        TorchGenerator g = new TorchGenerator(0);
        assertArrayEquals(new int[] {4, 1, 7, 5, 3, 9, 0, 8, 6, 2}, g.randperm(10));
        assertArrayEquals(new int[] {3, 9, 4, 2, 7, 8, 6, 0, 5, 1}, g.randperm(10));
        int[] p = new TorchGenerator(0).randperm(60000);
        assertArrayEquals(new int[] {36044, 10678, 57327, 55074, 21567, 15479, 9481, 43095},
                java.util.Arrays.copyOf(p, 8));
        assertArrayEquals(new int[] {31951, 27130, 1544}, java.util.Arrays.copyOfRange(p, 59997, 60000));
    }
}
