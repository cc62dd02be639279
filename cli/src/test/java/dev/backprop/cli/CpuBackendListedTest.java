package dev.backprop.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real cpu backend (a dependency of the cli, found on the class path) as {@code backends} shows it: its device line
 * and whether its Vector API path is on. The test JVM is started with {@code --add-modules jdk.incubator.vector}.
 */
class CpuBackendListedTest {
    @AfterEach
    void clearProperty() {
        System.clearProperty("backprop.cpu.vector");
    }

    @Test
    void cpuShowsItsDeviceAndTheVectorApiOn() {
        JsonObject cpu = cpu(BackendsCommandTest.run(new Main(), "backends", "--json"));
        assertTrue(cpu.get("available").getAsBoolean(), cpu.toString());
        assertFalse(cpu.getAsJsonArray("devices").isEmpty(), "device line: " + cpu);
        String vector = cpu.getAsJsonObject("created").getAsJsonObject("capabilities").get("vector").getAsString();
        assertTrue(vector.startsWith("on"), vector);
    }

    @Test
    void scalarModeSaysWhy() {
        System.setProperty("backprop.cpu.vector", "false");
        BackendsCommandTest.Run r = BackendsCommandTest.run(new Main(), "backends", "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("vector = off (disabled by backprop.cpu.vector=false)"), r.out());
        assertTrue(r.out().contains("picks:       cpu"), r.out());
    }

    private static JsonObject cpu(BackendsCommandTest.Run r) {
        assertEquals(0, r.code(), r.err());
        for (JsonElement e : JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("providers")) {
            if (e.getAsJsonObject().get("name").getAsString().equals("cpu")) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("cpu missing from " + r.out());
    }
}
