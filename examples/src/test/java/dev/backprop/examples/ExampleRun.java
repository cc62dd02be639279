package dev.backprop.examples;

import org.junit.jupiter.api.Assertions;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs an example's {@code main} in this JVM and returns what it printed (also echoed to the test log). */
final class ExampleRun {
    /** An example's {@code main}. */
    interface Main {
        void main(String[] args) throws Exception;
    }

    private ExampleRun() {
    }

    static String run(Main main, String... args) throws Exception {
        PrintStream console = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.main(args);
        } finally {
            System.setOut(console);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        console.print(out);
        return out;
    }

    /** The number after {@code label} in {@code out} (the examples print with the default locale). */
    static double number(String out, String label) {
        Matcher m = Pattern.compile(Pattern.quote(label) + " (-?[0-9]+[.,][0-9]+)").matcher(out);
        Assertions.assertTrue(m.find(), "no '" + label + " <number>' in:\n" + out);
        return Double.parseDouble(m.group(1).replace(',', '.'));
    }
}
