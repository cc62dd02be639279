package dev.backprop.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;

/**
 * The progress bar shown while an epoch trains (me.tongfei:progressbar), one per epoch, cleared when the epoch
 * ends so only the epoch's summary line stays on screen.
 *
 * <p>The bar is drawn only on an interactive terminal: the library writes {@code \r} and redraws to its stream
 * even when that is a file or a pipe, which fills CI logs. {@link #isInteractive()} decides; a disabled bar
 * costs nothing. The ASCII style keeps terminals without Unicode block glyphs readable.
 */
final class EpochProgress implements AutoCloseable {
    private final ProgressBar bar;

    private EpochProgress(ProgressBar bar) {
        this.bar = bar;
    }

    /**
     * Starts the bar for one epoch of {@code steps} optimizer steps, or a no-op when {@code enabled} is false.
     *
     * @param stream where the bar is drawn (stderr, so stdout stays clean for the epoch lines)
     */
    static EpochProgress start(boolean enabled, int epoch, int epochs, long steps, PrintStream stream) {
        if (!enabled) {
            return new EpochProgress(null);
        }
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(String.format("epoch %d/%d", epoch, epochs))
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" steps", 1)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(stream, 100))
                .clearDisplayOnFinish()
                .build();
        return new EpochProgress(bar);
    }

    /** Counts one optimizer step. */
    void advance() {
        if (bar != null) {
            bar.stepBy(1);
        }
    }

    /** Shows the running mean loss after the bar (formatted only when a bar is drawn). */
    void loss(double meanLoss) {
        if (bar != null) {
            bar.setExtraMessage(String.format(java.util.Locale.ROOT, "loss %.4f", meanLoss));
        }
    }

    /** Clears the bar from the terminal. Idempotent. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    /**
     * Whether stderr reaches a person at a terminal: a console exists and, on JDK 22+ (where
     * {@code System.console()} is non-null even for redirected streams), {@code Console.isTerminal()} says so.
     */
    static boolean isInteractive() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true; // JDK < 22: a non-null console means stdin and stdout are a terminal
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
