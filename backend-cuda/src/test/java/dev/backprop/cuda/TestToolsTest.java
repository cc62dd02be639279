package dev.backprop.cuda;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A missing native tool fails the test that needs it under {@code CI=true}, and skips it (saying why) elsewhere. */
class TestToolsTest {
    private static final String MISSING = "backprop-no-such-tool";

    @Test
    void aMissingToolFailsInCiAndSkipsElsewhere() {
        Class<? extends Throwable> expected = TestTools.inCi() ? AssertionFailedError.class
                : TestAbortedException.class;
        Throwable t = assertThrows(expected, () -> TestTools.require(MISSING, "nothing is tested",
                "/nonexistent/" + MISSING));
        assertTrue(t.getMessage().contains(MISSING + " not found (looked in /nonexistent/" + MISSING + " and PATH): "
                + "nothing is tested"), t.getMessage());
    }

    @Test
    void aToolOnThePathIsFound() {
        assertEquals("sh", TestTools.require("sh", "nothing is tested").getFileName().toString());
    }
}
