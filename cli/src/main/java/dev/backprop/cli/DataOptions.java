package dev.backprop.cli;

import dev.backprop.data.CsvData;
import dev.backprop.data.DataFormatException;
import dev.backprop.data.Dataset;
import dev.backprop.data.FashionMnist;
import dev.backprop.data.HoldOut;
import dev.backprop.data.ImageFolder;
import dev.backprop.data.ImageTransform;
import dev.backprop.data.LabelColumn;
import dev.backprop.model.SavedModel;
import dev.backprop.model.Task;
import dev.backprop.spark.SparkTrainDriver;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the examples come from, shared by {@code train}, {@code eval} and {@code predict}: Fashion-MNIST (the
 * default; {@code --data DIR} or {@code $FASHION_MNIST_DIR} overrides Debian's directory), or a numeric CSV
 * ({@code --csv}; the last column is the label, or the last {@code --targets} columns the regression targets, unless
 * {@code --label-column} names another by header name or 0-based index), or
 * a folder of images with one subfolder per class ({@code --images}, torchvision's {@code ImageFolder} layout).
 * For binary classification on Fashion-MNIST, {@code --positive-class} picks the class scored against the rest.
 * Examples come in the data's own shape ({@code [28, 28]} images, flat CSV rows); {@link Loaded#shaped} gives them
 * the shape a network takes. {@code train --spark} reads the same options ({@link #sparkData}), with a CSV at any path
 * Spark reads.
 */
final class DataOptions {
    @Option(names = "--data", paramLabel = "DIR",
            description = "Fashion-MNIST directory (train-/t10k-*-idx?-ubyte[.gz]). Default: $FASHION_MNIST_DIR, "
                    + "else /usr/share/datasets/fashion-mnist. Refused with --csv, --test-csv, --images and "
                    + "--test-images, which give the examples instead.")
    Path dataDir;

    @Option(names = "--csv", paramLabel = "FILE",
            description = "Train on a numeric CSV instead (optional header line; features, then the label, a class "
                    + "number or name, or the target column(s); quoted fields as RFC 4180 has them: \"T-shirt, top\" "
                    + "is one name). With --spark: read by the executors, from any path Spark reads (hdfs://, s3a://, "
                    + "a shared file), line by line, so a quoted field cannot hold a line break.")
    String csv;

    @Option(names = "--test-csv", paramLabel = "FILE",
            description = "Test examples for --csv. Default: a seeded 20%% of --csv held out.")
    Path testCsv;

    @Option(names = "--images", paramLabel = "DIR",
            description = "Train on a folder of images instead, one subfolder per class, as torchvision's "
                    + "ImageFolder reads it (DIR/cat/001.png, DIR/dog/002.jpg; PNG, JPEG, BMP, GIF; of one size, or "
                    + "brought to one by --resize and --center-crop).")
    Path images;

    @Option(names = "--test-images", paramLabel = "DIR",
            description = "Test images for --images, in folders of the same classes. Default: a seeded 20%% of "
                    + "--images held out.")
    Path testImages;

    @Option(names = "--channels", paramLabel = "1|3",
            description = "Image channels: 1 (gray; RGB images become their luma) or 3 (RGB; gray images repeated). "
                    + "Default: 1 when every training image is gray, else 3.")
    Integer channels;

    @Option(names = "--resize", paramLabel = "N|HxW",
            description = "Resize each image as torchvision's Resize does with PIL (bilinear, to the byte): N sets the "
                    + "shorter side, keeping the aspect ratio; HxW the exact size. eval and predict default to the "
                    + "model's, --resume to the checkpoint's.")
    String resize;

    @Option(names = "--center-crop", paramLabel = "N|HxW",
            description = "Then keep the middle N x N or H x W, as torchvision's CenterCrop (zeros around an image "
                    + "smaller than it). eval and predict default to the model's, --resume to the checkpoint's.")
    String centerCrop;

    /**
     * The model or checkpoint whose recorded label column, a header name, {@link #settleLabelColumn} took (the
     * column {@code --label-column} may only repeat); null otherwise. A CSV read for it must have a header naming it.
     */
    private Object labelColumnFrom;

    /**
     * The resize and crop a model or a resumed checkpoint records, when the options give none; set by
     * {@link ModelSession} and {@link ResumedRun}.
     */
    ImageTransform modelTransform = ImageTransform.NONE;

    @Option(names = "--targets", paramLabel = "N",
            description = "Regression on CSV: how many trailing columns are targets. Default: 1; eval and predict "
                    + "take a regression model's output count and refuse another. Refused for other tasks and "
                    + "without a CSV.")
    Integer targetColumns;

    @Option(names = "--label-column", paramLabel = "COL",
            description = "The CSV column that holds the label: a header name (label) or a 0-based index (0; "
                    + "digits are always an index); for regression, the first of the --targets consecutive target "
                    + "columns. The features are the other columns in file order. Default: the last column (the last "
                    + "--targets ones); eval and predict take the model's and refuse another.")
    String labelColumn;

    @Option(names = "--positive-class", paramLabel = "K",
            description = "--task binary on Fashion-MNIST: the class scored against all others. Default: 0 "
                    + "(T-shirt/top) for train; eval and predict take the model's own and refuse another. Refused for "
                    + "other tasks and for a CSV, whose 0/1 targets are given.")
    Integer positiveClass;

    @Option(names = "--train-limit", paramLabel = "N",
            description = "Use only the first N training examples (quick runs; with --spark, of Fashion-MNIST).")
    Integer trainLimit;

    @Option(names = "--test-limit", paramLabel = "N",
            description = "Use only the first N test examples.")
    Integer testLimit;

    /** Fraction of a single CSV held out as test examples when no {@code --test-csv} is given. */
    static final double HOLD_OUT = 0.2;

    /**
     * The training and test examples, ready for the task.
     *
     * @param imageShape the images' {@code [C, H, W]} when they come from image files, else null
     * @param holdOut    the split that held the test examples out of a single {@code --csv} or {@code --images},
     *                   else null
     */
    record Loaded(Dataset train, Dataset test, List<String> classNames, String description, int[] imageShape,
                  HoldOutSplit holdOut) {
        /** Examples that do not come from image files. */
        Loaded(Dataset train, Dataset test, List<String> classNames, String description) {
            this(train, test, classNames, description, null);
        }

        /** Examples whose test examples were not held out of the training data. */
        Loaded(Dataset train, Dataset test, List<String> classNames, String description, int[] imageShape) {
            this(train, test, classNames, description, imageShape, null);
        }

        /** The same examples with {@code train} for training examples (the split that made them kept). */
        Loaded withTrain(Dataset train) {
            return new Loaded(train, test, classNames, description, imageShape, holdOut);
        }

        /**
         * The same examples seen with dimensions {@code exampleShape} (the arrays are shared).
         *
         * @throws IllegalArgumentException when the element count differs
         */
        Loaded shaped(int[] exampleShape) {
            return new Loaded(train == null ? null : train.withFeatureShape(exampleShape),
                    test.withFeatureShape(exampleShape), classNames, description, imageShape, holdOut);
        }
    }

    /**
     * Loads both splits for {@code task}; {@code seed} drives the hold-out split of a single {@code --csv} or
     * {@code --images}, made of all the examples before {@code --train-limit} and {@code --test-limit}.
     */
    Loaded load(Task task, long seed) {
        checkSources(true);
        checkTaskOptions(task, "--task " + task.id());
        Loaded full = images != null ? loadImages(task, seed, null) : csv == null ? loadFashion(task)
                : loadCsv(task, seed, null);
        task.check(full.train());
        task.check(full.test());
        Dataset tr = limit(full.train(), trainLimit, "--train-limit");
        Dataset te = limit(full.test(), testLimit, "--test-limit");
        return new Loaded(tr, te, full.classNames(), full.description(), full.imageShape(), full.holdOut());
    }

    /**
     * Whether the test examples are a seeded {@link #HOLD_OUT} of the training data: a single {@code --csv} or
     * {@code --images}, without {@code --test-csv} or {@code --test-images}.
     */
    boolean holdsOut() {
        return csv != null && testCsv == null || images != null && testImages == null;
    }

    /** Whether the examples come from image folders ({@code --images} or {@code --test-images}). */
    boolean readsImages() {
        return images != null || testImages != null;
    }

    /**
     * Refuses data options that contradict each other: image folders with a CSV or Fashion-MNIST, a CSV with
     * Fashion-MNIST's {@code --data} (which nothing would read), {@code --channels} without images, and (for
     * {@code train}) test images without training images or a test CSV without a training CSV.
     */
    private void checkSources(boolean training) {
        if (readsImages() && (csv != null || testCsv != null || dataDir != null)) {
            String other = csv != null ? "--csv" : testCsv != null ? "--test-csv" : "--data";
            throw new IllegalArgumentException((images != null ? "--images" : "--test-images") + " and " + other
                    + " exclude each other: give the examples as one kind of data");
        }
        if (dataDir != null && (csv != null || testCsv != null)) {
            throw new IllegalArgumentException(DataFormatException.oneLine("--data " + dataDir + " and "
                    + (csv != null ? "--csv" : "--test-csv") + " exclude each other: --data is the Fashion-MNIST "
                    + "directory, and a CSV gives the examples instead; leave --data out"));
        }
        if ((channels != null || askedTransform() != null) && !readsImages()) {
            throw new IllegalArgumentException((channels != null ? "--channels" : resize != null ? "--resize"
                    : "--center-crop") + " applies to images; give --images or --test-images");
        }
        askedChannels();
        if (training && testImages != null && images == null) {
            throw new IllegalArgumentException("--test-images needs --images, the training images");
        }
        if (training && testCsv != null && csv == null) {
            throw new IllegalArgumentException("--test-csv needs --csv, the training rows");
        }
    }

    /**
     * Only the test examples (for {@code eval} and {@code predict}): every row of {@code --test-csv} (with or
     * without {@code --csv}), every image of {@code --test-images}, the same seeded hold-out of {@code --csv} or
     * {@code --images} that {@code train} used, or else Fashion-MNIST's test split.
     */
    Loaded loadTest(Task task, long seed, List<String> modelClassNames) {
        checkSources(false);
        Loaded full;
        if (testImages != null) {
            Dataset test = ImageFolder.read(testImages, imageChannels(), imagesTask(task, modelClassNames),
                    imageTransform());
            full = new Loaded(test, test, test.classNames(), "images " + testImages, test.featureShape());
        } else if (images != null) {
            full = loadImages(task, seed, modelClassNames);
        } else if (testCsv != null) {
            checkHeaderNamesColumn("--test-csv", testCsv);
            CsvClasses classes = csvClasses(testCsv, task, modelClassNames, labelColumn());
            Dataset test = readCsv(testCsv, task, classes);
            full = new Loaded(test, test, classes.names(task), "CSV " + testCsv);
        } else if (csv == null) {
            full = fashion(task, null, FashionMnist.split(fashionDir(), "t10k"));
        } else {
            full = loadCsv(task, seed, modelClassNames);
        }
        task.check(full.test());
        return new Loaded(full.train(), limit(full.test(), testLimit, "--test-limit"), full.classNames(),
                full.description(), full.imageShape(), full.holdOut());
    }

    /**
     * Where {@code train --spark} reads its examples for {@code task}: the same {@code --data}, {@code --csv} and
     * limits, with {@code --checkpoint-dir} ({@code checkpointDir}, or null), whose newest checkpoint may record the
     * CSV's label column as a header name.
     */
    SparkTrainDriver.Data sparkData(Task task, String checkpointDir) {
        checkSources(true);
        checkTaskOptions(task, "--task " + task.id());
        if (trainLimit != null && trainLimit < 1) {
            throw new IllegalArgumentException("--train-limit must be at least 1, got " + trainLimit);
        }
        return new SparkTrainDriver.Data(fashionDir(), csv, targetColumns(), labelColumn(), trainLimit, checkpointDir);
    }

    /**
     * The CSV's label column: {@code --label-column} (or the model's, set by {@link ModelSession}), else the last.
     *
     * @throws IllegalArgumentException naming the value when it is blank or an index too large
     */
    LabelColumn labelColumn() {
        if (labelColumn == null) {
            return LabelColumn.LAST;
        }
        try {
            return LabelColumn.of(labelColumn);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--label-column: " + e.getMessage(), e);
        }
    }

    /**
     * Takes the label column a model or checkpoint records ({@link SavedModel#LABEL_COLUMN_KEY}) when a CSV is read
     * and {@code --label-column} is left out, so its test files read as its training files did.
     *
     * @param recorded the recorded column, or null when it records none (the last)
     * @param file     the model or checkpoint, for messages
     * @throws IllegalArgumentException naming both when {@code --label-column} gives another, or naming the file
     *                                  when the recorded value is not a column
     */
    void settleLabelColumn(String recorded, Object file) {
        if (recorded == null || csv == null && testCsv == null) {
            return;
        }
        LabelColumn own;
        try {
            own = LabelColumn.of(recorded);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": metadata " + SavedModel.LABEL_COLUMN_KEY + ": "
                    + e.getMessage(), e);
        }
        if (labelColumn != null && !labelColumn().equals(own)) {
            throw new IllegalArgumentException("--label-column " + labelColumn + " is not the column " + file
                    + " was trained with, " + own + ": leave it out or give " + own + (own.name() == null ? ""
                    : " (a header name: the CSV needs a header line naming it, as the training file had)"));
        }
        if (own.name() != null) {
            labelColumnFrom = file;
        }
        labelColumn = own.toString();
    }

    /**
     * Refuses {@code file}, a CSV read for a model or checkpoint whose label column is a header name
     * ({@link #labelColumnFrom}), when it has no header line: no name can find the column there, and an index would
     * be another column than the file was trained with for all the model records. Reads the first record only.
     *
     * @param option how the message names the file's option ({@code --csv}, {@code --test-csv})
     * @throws IllegalArgumentException naming the file, the model and the column, and what to add
     */
    private void checkHeaderNamesColumn(String option, Path file) {
        if (labelColumnFrom == null || CsvData.hasHeader(file)) {
            return;
        }
        throw SavedModel.headerlessCsv(option, file, labelColumnFrom, labelColumn().name());
    }

    /** The trailing target columns of a regression CSV: {@code --targets}, else 1. */
    int targetColumns() {
        return targetColumns != null ? targetColumns : 1;
    }

    /**
     * Refuses the task's data options that nothing would read. {@code --positive-class} picks the Fashion-MNIST class
     * of a binary task, so another task, a CSV (whose 0/1 targets are given) or image folders (classification only)
     * leave it unused; {@code --targets} counts a regression CSV's target columns, so another task or data without
     * a CSV (Fashion-MNIST, image folders, which regression refuses as having no targets) leaves it unused;
     * {@code --label-column} picks a CSV's column, so Fashion-MNIST and image folders leave it unused.
     *
     * @param taskIs how a message names the task ({@code --task classification})
     */
    void checkTaskOptions(Task task, String taskIs) {
        if (labelColumn != null && csv == null && testCsv == null) {
            throw new IllegalArgumentException("--label-column " + labelColumn + " picks a column of a CSV; give "
                    + "--csv or --test-csv, or leave it out");
        }
        labelColumn();
        if (targetColumns != null && task != Task.REGRESSION) {
            throw new IllegalArgumentException("--targets " + targetColumns + " applies to --task regression (the "
                    + "CSV's trailing target columns), not to " + taskIs + "; leave it out");
        }
        if (task == Task.REGRESSION && csv == null && testCsv == null && (targetColumns != null || !readsImages())) {
            // before Fashion-MNIST or an image folder is read: neither has targets to regress on (images without
            // --targets are refused as a folder per class, where their task is checked)
            String none = (readsImages() ? "an image folder has none (its examples have a class per folder)"
                    : "Fashion-MNIST has none (its examples have class labels)") + "; give them with --csv FILE";
            throw new IllegalArgumentException(targetColumns != null ? "--targets " + targetColumns + " counts the "
                    + "target columns of a CSV for " + taskIs + ", and " + none : taskIs + " needs real-valued "
                    + "targets, and " + none);
        }
        if (positiveClass == null) {
            return;
        }
        if (task != Task.BINARY) {
            throw new IllegalArgumentException("--positive-class " + positiveClass + " applies to --task binary (the "
                    + "Fashion-MNIST class scored against the rest), not to " + taskIs + "; leave it out");
        }
        if (csv != null || testCsv != null) {
            throw new IllegalArgumentException("--positive-class " + positiveClass + " picks a Fashion-MNIST class, "
                    + "and a CSV for --task binary gives its 0/1 targets itself; leave it out");
        }
    }

    /** The class scored against the rest in binary Fashion-MNIST runs ({@code fallback} when not given). */
    int positiveClass(int fallback) {
        return positiveClass != null ? positiveClass : fallback;
    }

    private Path fashionDir() {
        return dataDir != null ? dataDir : FashionMnist.defaultDir();
    }

    private Loaded loadFashion(Task task) {
        FashionMnist.Splits s = FashionMnist.load(fashionDir());
        return fashion(task, s.train(), s.test());
    }

    /** Fashion-MNIST splits made ready for the task ({@code train} may be null when only testing). */
    private Loaded fashion(Task task, Dataset train, Dataset test) {
        String what = "Fashion-MNIST " + fashionDir();
        return switch (task) {
            case CLASSIFICATION -> new Loaded(train, test, FashionMnist.CLASS_NAMES, what);
            case BINARY -> {
                int k = positiveClass(0);
                if (k < 0 || k >= test.numClasses()) {
                    throw new IllegalArgumentException("--positive-class " + k + " is not a class in [0, "
                            + test.numClasses() + ")");
                }
                String name = FashionMnist.CLASS_NAMES.get(k);
                yield new Loaded(train == null ? null : train.oneVsRest(k), test.oneVsRest(k),
                        List.of("not " + name, name), what + ", '" + name + "' (class " + k + ") against the rest");
            }
            case REGRESSION -> throw new IllegalStateException("checkTaskOptions refuses regression without a CSV");
        };
    }

    /**
     * How a CSV's last column is read for {@code task}: for classification, the classes the file names (read with
     * {@code known}, a model's class names, when it has them, so the indices are the model's) or the number of
     * classes it numbers.
     */
    private record CsvClasses(List<String> names, int count) {
        /** The class names the task's data carries: binary's 0 and 1, the file's names, or none. */
        List<String> names(Task task) {
            return task == Task.BINARY ? List.of("0", "1") : names;
        }
    }

    private static CsvClasses csvClasses(Path file, Task task, List<String> known, LabelColumn column) {
        if (task != Task.CLASSIFICATION) {
            return new CsvClasses(null, -1);
        }
        CsvData.ClassColumn c = CsvData.readClassColumn(file, column);
        return !c.named() ? new CsvClasses(null, c.numClasses())
                : new CsvClasses(known != null ? known : c.names(), -1);
    }

    private Loaded loadCsv(Task task, long seed, List<String> modelClassNames) {
        checkHeaderNamesColumn("--csv", Path.of(csv));
        if (testCsv != null) {
            checkHeaderNamesColumn("--test-csv", testCsv);
        }
        CsvClasses classes = csvClasses(Path.of(csv), task, modelClassNames, labelColumn());
        Dataset train = readCsv(Path.of(csv), task, classes);
        Dataset test;
        String what = "CSV " + csv;
        if (testCsv != null) {
            CsvClasses testClasses = classes.names() != null ? classes
                    : new CsvClasses(null, train.hasLabels() ? train.numClasses() : -1);
            test = readCsv(testCsv, task, testClasses);
            what += ", test CSV " + testCsv;
        } else {
            return heldOut(train, seed, classes.names(task), what, "rows", null);
        }
        return new Loaded(train, test, classes.names(task), what);
    }

    /**
     * {@code all} split into training and a seeded {@link #HOLD_OUT} of test examples, said in {@code unit}; the
     * split, made before any limit, records all the examples: their count and digest.
     */
    private static Loaded heldOut(Dataset all, long seed, List<String> classNames, String what, String unit,
                                  int[] imageShape) {
        Dataset[] parts = HoldOut.split(all, HOLD_OUT, seed);
        return new Loaded(parts[0], parts[1], classNames, what + String.format(java.util.Locale.ROOT,
                " (%d train / %d held-out test %s, seed %d)", parts[0].size(), parts[1].size(), unit, seed),
                imageShape, HoldOutSplit.of(seed, all));
    }

    /**
     * The image folders: {@code --images} for training and {@code --test-images} (read with the training images'
     * channels and class names) or a seeded hold-out of {@code --images} for testing; {@code known} are the classes
     * the folders must have (a model's), or null.
     */
    private Loaded loadImages(Task task, long seed, List<String> known) {
        Dataset train = ImageFolder.read(images, imageChannels(), imagesTask(task, known), imageTransform());
        String what = "images " + images;
        if (testImages == null) {
            return heldOut(train, seed, train.classNames(), what, "images", train.featureShape());
        }
        Dataset test = ImageFolder.read(testImages, train.featureShape()[0], train.classNames(), imageTransform());
        return new Loaded(train, test, train.classNames(), what + ", test images " + testImages,
                train.featureShape());
    }

    /**
     * What {@code --resize} and {@code --center-crop} ask for, or null when neither is given.
     *
     * @throws IllegalArgumentException naming the value that is not a size
     */
    ImageTransform askedTransform() {
        if (resize == null && centerCrop == null) {
            return null;
        }
        try {
            ImageTransform.of(resize, null);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--resize: " + e.getMessage(), e);
        }
        try {
            return ImageTransform.of(resize, centerCrop);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--center-crop: " + e.getMessage(), e);
        }
    }

    /** The images' resize and crop: the options', else the model's. */
    ImageTransform imageTransform() {
        ImageTransform asked = askedTransform();
        return asked != null ? asked : modelTransform;
    }

    /** {@code --channels}, or {@link ImageFolder#AUTO_CHANNELS}. */
    private int imageChannels() {
        Integer c = askedChannels();
        return c != null ? c : ImageFolder.AUTO_CHANNELS;
    }

    /**
     * {@code --channels}, or null when not given.
     *
     * @throws IllegalArgumentException when it is neither 1 nor 3
     */
    Integer askedChannels() {
        if (channels != null && channels != 1 && channels != 3) {
            throw new IllegalArgumentException("--channels must be 1 (gray) or 3 (RGB), got " + channels);
        }
        return channels;
    }

    /** The classes an image folder must have ({@code known}, or null for its own), once the task fits images. */
    private static List<String> imagesTask(Task task, List<String> known) {
        if (task != Task.CLASSIFICATION) {
            throw new IllegalArgumentException("image folders hold one class per folder, for --task classification; "
                    + "--task " + task.id() + " needs its targets in a --csv");
        }
        return known;
    }

    private Dataset readCsv(Path file, Task task, CsvClasses classes) {
        LabelColumn column = labelColumn();
        return switch (task) {
            case CLASSIFICATION -> classes.names() != null ? CsvData.readClassification(file, classes.names(), column)
                    : CsvData.readClassification(file, classes.count(), column);
            case BINARY -> CsvData.readRegression(file, 1, column);
            case REGRESSION -> CsvData.readRegression(file, targetColumns(), column);
        };
    }

    private static Dataset limit(Dataset d, Integer n, String option) {
        if (n == null) {
            return d;
        }
        if (n < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + n);
        }
        return n >= d.size() ? d : d.head(n);
    }
}
