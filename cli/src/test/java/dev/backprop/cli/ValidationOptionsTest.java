package dev.backprop.cli;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The best epoch's counters a --keep-best checkpoint records, checked against the model's. */
class ValidationOptionsTest {
    private static final String STATE = "{\"validation\":0.2,\"patience\":3,\"keep_best\":true,\"best_epoch\":2,"
            + "\"best\":0.5,\"epochs_since_best\":1";
    private static final Set<String> COUNTERS = Set.of("1.num_batches_tracked");

    private static Map<String, String> meta(String json) {
        return Map.of(ValidationOptions.STATE_KEY, json);
    }

    @Test
    void keptCountersAreTheModelsOrRefusedNamingTheFile() {
        assertEquals(Map.of("1.num_batches_tracked", 40L), ValidationOptions.keptCounters(
                meta(STATE + ",\"kept_counters\":{\"1.num_batches_tracked\":40}}"), "ck.safetensors", COUNTERS));
        assertEquals(Map.of(), ValidationOptions.keptCounters(meta(STATE + "}"), "ck.safetensors", Set.of()));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ValidationOptions.keptCounters(meta(STATE + "}"), "ck.safetensors", COUNTERS));
        assertEquals("ck.safetensors: its " + ValidationOptions.STATE_KEY + " entry keeps the best epoch's counters "
                + "[], not the model's [1.num_batches_tracked]", missing.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> ValidationOptions.keptCounters(meta(STATE + ",\"kept_counters\":{\"0.x\":3}}"),
                        "ck.safetensors", COUNTERS));
        assertEquals("ck.safetensors: its " + ValidationOptions.STATE_KEY + " entry keeps the best epoch's counters "
                + "[0.x], not the model's [1.num_batches_tracked]", other.getMessage());
    }
}
