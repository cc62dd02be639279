package dev.backprop.spark.transport;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobSecretTest {
    @Test
    void randomSecretsAreFreshAndNeverShown() {
        JobSecret a = JobSecret.random();
        JobSecret b = JobSecret.random();
        assertEquals(Crypto.KEY_BYTES, a.key().length);
        assertFalse(java.util.Arrays.equals(a.key(), b.key()));
        assertFalse(java.util.Arrays.equals(a.jobId(), b.jobId()));
        String shown = a.toString() + a.describe();
        assertFalse(shown.contains(Crypto.hex(a.key(), 4)), shown);
        assertTrue(a.describe().startsWith("a random secret made for this job, job " + Crypto.hex(a.jobId(), 4)));
    }

    @Test
    void aDerivedSecretIsTheSameForTheSameJobAndUnrelatedForAnother() {
        byte[] job = JobSecret.newJobId();
        JobSecret a = JobSecret.derive("spark's secret", job, "spark.authenticate");
        JobSecret b = JobSecret.derive("spark's secret", job.clone(), "spark.authenticate");
        assertArrayEquals(a.key(), b.key());
        assertNotEquals(java.util.Arrays.toString(a.key()), java.util.Arrays.toString(
                JobSecret.derive("spark's secret", JobSecret.newJobId(), "spark.authenticate").key()));
        assertNotEquals(java.util.Arrays.toString(a.key()), java.util.Arrays.toString(
                JobSecret.derive("another secret", job, "spark.authenticate").key()));
        assertEquals("derived from spark.authenticate, job " + Crypto.hex(job, 4), a.describe());
        assertThrows(IllegalArgumentException.class, () -> JobSecret.derive("", job, "x"));
        assertThrows(IllegalArgumentException.class, () -> JobSecret.derive("s", new byte[3], "x"));
    }

    /** The KDF is NIST SP 800-108 counter mode with HMAC-SHA256: one block, written out here with the JDK's Mac. */
    @Test
    void theKeyDerivationIsTheStandardCounterModeKdf() throws Exception {
        byte[] key = "k".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
        mac.update(new byte[] {0, 0, 0, 1});
        mac.update("label".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        mac.update((byte) 0);
        mac.update(new byte[] {9, 8});
        mac.update(new byte[] {0, 0, 1, 0});
        assertArrayEquals(mac.doFinal(), Crypto.derive(key, "label", new byte[] {9, 8}));
    }

    @Test
    void aSerializedCopyKeepsTheKey() throws Exception {
        JobSecret a = JobSecret.random();
        JobSecret copy = (JobSecret) roundTrip(a);
        assertArrayEquals(a.key(), copy.key());
        assertArrayEquals(a.jobId(), copy.jobId());
        assertEquals(a.describe(), copy.describe());
    }

    private static Object roundTrip(Object o) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
