package dev.backprop.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.backprop.backend.Backend;
import dev.backprop.backend.DType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code backprop backends} over the {@link FakeProviders}. */
class BackendsCommandTest {
    private static final String[] PROPERTIES = {"backprop.backend", "backprop.fallback"};
    private final Map<String, String> saved = new HashMap<>();

    /** The outcome of one command: exit code, stdout, stderr. */
    record Run(int code, String out, String err) {
    }

    /** Runs the program over the fake providers. */
    static Run run(String... args) {
        return run(new Main(FakeProviders.registry()), args);
    }

    /** Runs {@code main}. */
    static Run run(Main main, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(main, new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeEach
    void saveProperties() {
        for (String p : PROPERTIES) {
            saved.put(p, System.getProperty(p));
            System.clearProperty(p);
        }
        FakeProviders.CREATED.clear();
    }

    @AfterEach
    void restoreProperties() {
        saved.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
    }

    @Test
    void textListsEveryProviderWithReasonsAndThePick() {
        Run r = run("backends");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("reference available, rank 350"), r.out());
        assertTrue(r.out().contains("device:  test host [CPU] 1.0 GiB, lanes=1"), r.out());
        assertTrue(r.out().contains("storage = double[] per buffer"), r.out());
        assertTrue(r.out().contains("zz-missing UNAVAILABLE"), r.out());
        assertTrue(r.out().contains("reason:  no fake device here; install the fake driver"), r.out());
        assertTrue(r.out().contains("probe failed: java.lang.IllegalStateException: probe exploded"), r.out());
        assertTrue(r.out().contains("create:  FAILED: broken: kernel build failed (fake)"), r.out());
        assertTrue(r.out().contains("Selection: automatic, backprop.fallback=allow"), r.out());
        assertTrue(r.out().contains("picks:       reference"), r.out());
        assertTrue(r.out().contains("Vector API: jdk.incubator.vector"), r.out());
    }

    @Test
    void reusesTheSelectedBackendAndClosesEverythingItCreated() {
        assertEquals(0, run("backends").code());
        assertEquals(1, FakeProviders.CREATED.size(), "selected backend created once and reused for its report");
        for (Backend b : FakeProviders.CREATED) {
            assertThrows(IllegalStateException.class, () -> b.allocate(DType.FLOAT32, 1), "left open");
        }
    }

    @Test
    void jsonCarriesTheSameFacts() {
        Run r = run("backends", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject root = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonObject reference = provider(root, "reference");
        assertTrue(reference.get("available").getAsBoolean());
        assertEquals(350, reference.get("rank").getAsInt());
        JsonObject created = reference.getAsJsonObject("created");
        assertTrue(created.get("ok").getAsBoolean());
        assertTrue(created.get("float64").getAsBoolean());
        assertEquals("double[] per buffer", created.getAsJsonObject("capabilities").get("storage").getAsString());
        JsonObject missing = provider(root, "zz-missing");
        assertFalse(missing.get("available").getAsBoolean());
        assertTrue(missing.get("created").isJsonNull());
        assertFalse(provider(root, "broken").getAsJsonObject("created").get("ok").getAsBoolean());
        JsonObject sel = root.getAsJsonObject("selection");
        assertEquals("automatic", sel.get("mode").getAsString());
        assertEquals("reference", sel.get("chosen").getAsString());
        assertTrue(sel.get("error").isJsonNull());
        assertEquals("reference (rank 350)", sel.getAsJsonArray("automaticOrder").get(0).getAsString());
        assertTrue(root.getAsJsonObject("jvm").has("vectorModule"));
    }

    @Test
    void unknownNameInThePropertyFailsListingTheKnownNames() {
        System.setProperty("backprop.backend", "nosuch");
        Run r = run("backends");
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().startsWith("backprop: unknown backend 'nosuch'; known backends: "), r.err());
        for (String name : new String[] {"reference", "zz-missing", "zz-throwing", "broken"}) {
            assertTrue(r.err().contains(name), "known names listed: " + r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(r.out().contains("Selection: by name 'nosuch' (from system property backprop.backend)"), r.out());
    }

    @Test
    void unknownNameInJsonModeStillPrintsTheReport() {
        Run r = run("backends", "--json", "--backend", "nosuch");
        assertEquals(Main.EXIT_ERROR, r.code());
        JsonObject sel = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonObject("selection");
        assertTrue(sel.get("error").getAsString().contains("known backends"), sel.toString());
        assertTrue(sel.get("chosen").isJsonNull());
    }

    @Test
    void commandLineNameWinsOverTheProperty() {
        System.setProperty("backprop.backend", "nosuch");
        Run r = run("backends", "--json", "--backend", "REFERENCE");
        assertEquals(0, r.code(), r.err());
        JsonObject sel = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonObject("selection");
        assertEquals("by name", sel.get("mode").getAsString());
        assertEquals("--backend", sel.get("source").getAsString());
        assertEquals("reference", sel.get("chosen").getAsString());
    }

    @Test
    void namedButUnavailableOrBrokenBackendsFailWithTheirReason() {
        Run missing = run("backends", "--backend", "zz-missing");
        assertEquals(Main.EXIT_ERROR, missing.code());
        assertTrue(missing.err().contains("no fake device here"), missing.err());
        Run broken = run("backends", "--backend", "broken");
        assertEquals(Main.EXIT_ERROR, broken.code());
        assertTrue(broken.err().contains("kernel build failed"), broken.err());
    }

    @Test
    void fallbackFailRefusesWhenAProviderIsUnavailable() {
        System.setProperty("backprop.fallback", "fail");
        Run r = run("backends");
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("backprop.fallback=fail"), r.err());
        assertTrue(r.out().contains("Selection: automatic, backprop.fallback=fail"), r.out());
    }

    @Test
    void invalidFallbackValueIsNamed() {
        System.setProperty("backprop.fallback", "sometimes");
        Run r = run("backends");
        assertEquals(Main.EXIT_ERROR, r.code());
        assertTrue(r.err().contains("backprop.fallback must be allow, warn or fail; got 'sometimes'"), r.err());
        assertTrue(r.out().contains("backprop.fallback=invalid: sometimes"), r.out());
    }

    @Test
    void autoMeansAutomatic() {
        Run r = run("backends", "--json", "--backend", "auto");
        assertEquals(0, r.code(), r.err());
        JsonObject sel = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonObject("selection");
        assertEquals("automatic", sel.get("mode").getAsString());
        assertTrue(sel.get("requested").isJsonNull(), sel.toString());
    }

    private static JsonObject provider(JsonObject root, String name) {
        JsonArray providers = root.getAsJsonArray("providers");
        for (JsonElement e : providers) {
            if (e.getAsJsonObject().get("name").getAsString().equals(name)) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("provider " + name + " missing from " + providers);
    }
}
