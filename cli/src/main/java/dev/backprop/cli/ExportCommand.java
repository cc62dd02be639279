package dev.backprop.cli;

import dev.backprop.backend.Backend;
import dev.backprop.backend.BackendOptions;
import dev.backprop.backend.BackpropException;
import dev.backprop.data.DataFormatException;
import dev.backprop.io.IoErrors;
import dev.backprop.model.SavedModel;
import dev.backprop.onnx.OnnxExport;
import dev.backprop.runtime.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code backprop export --model FILE --onnx OUT}: a saved model as an ONNX file (the work is the onnx module's). */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        resourceBundle = "dev.backprop.cli.Export",
        description = "Writes a saved model as ONNX (opset " + OnnxExport.OPSET + ") for ONNX Runtime and other "
                + "engines: input '" + OnnxExport.INPUT + "' [batch, ...], output '" + OnnxExport.OUTPUT + "' (or '"
                + OnnxExport.PROBABILITIES + "' with --softmax).")
public final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE", required = true,
            description = "The model to export (a model file or checkpoint, or an ONNX file).")
    Path model;

    @Option(names = "--onnx", paramLabel = "FILE", required = true, description = "The ONNX file to write.")
    Path onnx;

    @Option(names = "--softmax", description = "End with a Softmax: the output is class probabilities.")
    boolean softmax;

    @Option(names = "--input-shape", paramLabel = "DIMS",
            description = "The input's dimensions after the batch, e.g. 1,28,28 (default: the shape train recorded "
                    + "in the model file, else from the first layer).")
    String inputShape;

    @Option(names = "--overwrite",
            description = "Replace the --onnx file when it exists (only an ONNX model Backprop exported is replaced).")
    boolean overwrite;

    @Mixin
    BackendSelectionOption selection;

    @Override
    public Integer call() {
        OutputFiles.check(List.of(new OutputFiles.Target("--onnx", onnx, OutputFiles.Kind.ONNX)),
                List.of(new OutputFiles.Target("--model", model, OutputFiles.Kind.MODEL)), overwrite);
        OnnxExport.Options options = OnnxExport.Options.defaults().withSoftmax(softmax);
        if (inputShape != null) {
            options = options.withInputShape(SavedModel.parseShape(inputShape));
        }
        try (Backend backend = Backends.create(backendName(), BackendOptions.defaults())) {
            // The line names both files: escaped, as a name can hold anything that moves a terminal's cursor.
            spec.commandLine().getOut().println(DataFormatException.oneLine(OnnxExport.convert(model, onnx, options,
                    backend)));
        } catch (IOException e) {
            throw new BackpropException(IoErrors.message(e), e);
        }
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * The backend named on the command line or configured, else cpu: converting reads the weights once and runs
     * nothing, so it needs no accelerator, and automatic selection would probe (and log) every driver.
     */
    private String backendName() {
        String n = selection.commandLineName();
        return n != null ? n : Backends.configuredName() != null ? Backends.configuredName() : "cpu";
    }
}
