package dev.backprop.cli;

import dev.backprop.train.BatchResult;
import dev.backprop.train.StepPosition;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;

/**
 * The progress bar shown while an epoch trains (me.tongfei:progressbar), one per epoch with the running mean loss,
 * cleared when the epoch's last step is done so only the epoch's summary line stays on screen.
 *
 * <p>The bar is drawn only on an interactive terminal: the library writes {@code \r} and redraws to its stream
 * even when that is a file or a pipe, which fills CI logs. {@link #isInteractive()} decides; a disabled bar
 * costs nothing. The ASCII style keeps terminals without Unicode block glyphs readable.
 */
final class EpochProgress implements AutoCloseable {
    private final boolean enabled;
    private final int epochs;
    private final PrintStream stream;
    private ProgressBar bar;
    private double lossSum;
    private long seen;

    /**
     * Bars for a run of {@code epochs} epochs in all, or none when {@code enabled} is false.
     *
     * @param stream where the bars are drawn (stderr, so stdout stays clean for the epoch lines)
     */
    EpochProgress(boolean enabled, int epochs, PrintStream stream) {
        this.enabled = enabled;
        this.epochs = epochs;
        this.stream = stream;
    }

    /** Counts one optimizer step, showing the epoch's running mean loss; the epoch's last one clears the bar. */
    void batch(BatchResult b) {
        if (!enabled) {
            return;
        }
        StepPosition p = b.position();
        if (bar == null) {
            bar = new ProgressBarBuilder()
                    .setTaskName(String.format("epoch %d/%d", p.epoch(), epochs))
                    .setInitialMax(p.batches())
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" steps", 1)
                    .setUpdateIntervalMillis(250)
                    .setConsumer(new ConsoleProgressBarConsumer(stream, 100))
                    .clearDisplayOnFinish()
                    .build();
            lossSum = 0;
            seen = 0;
        }
        lossSum += b.loss() * p.rows();
        seen += p.rows();
        bar.stepBy(1);
        bar.setExtraMessage(String.format(java.util.Locale.ROOT, "loss %.4f", lossSum / seen));
        if (p.batch() == p.batches()) {
            close();
        }
    }

    /** Clears a bar still on the terminal. Idempotent. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
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
