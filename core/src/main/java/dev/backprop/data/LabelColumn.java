package dev.backprop.data;

import java.util.List;

/**
 * Which column of a CSV holds the label (for regression, the first of the target columns), as scikit-learn and
 * pandas users pick {@code y}: a header name ({@code label}), a 0-based column index, or {@link #LAST}, the last
 * column (the last {@code targets} columns for regression), which is what the readers take when given none. The
 * features are the other columns in file order. A name must be in the file's header line; an index must be below
 * the column count (and leave room for all the targets).
 *
 * @param name  the header name, or null when the column is given by index or is the last
 * @param index the 0-based index, or -1 when the column is given by name or is the last
 */
public record LabelColumn(String name, int index) {
    /** The last column (the last {@code targets} columns for regression). */
    public static final LabelColumn LAST = new LabelColumn(null, -1);

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException when both or an index below -1 is given, or the name is empty
     */
    public LabelColumn {
        if (name != null && (index != -1 || name.isEmpty())) {
            throw new IllegalArgumentException("a label column is a non-empty name or an index, not both: '" + name
                    + "', " + index);
        }
        if (index < -1) {
            throw new IllegalArgumentException("a label column index is 0-based, got " + index);
        }
    }

    /**
     * The column {@code spec} names: a run of digits is a 0-based index, any other text a header name (spaces and
     * tabs around it ignored).
     *
     * @throws IllegalArgumentException when {@code spec} is blank or an index too large for an int
     */
    public static LabelColumn of(String spec) {
        String s = spec.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("a label column is a header name or a 0-based index, got '" + spec
                    + "'");
        }
        if (s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                return new LabelColumn(null, Integer.parseInt(s));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("label column index " + s + " is too large", e);
            }
        }
        return new LabelColumn(s, -1);
    }

    /** Whether this is {@link #LAST}. */
    public boolean isLast() {
        return name == null && index < 0;
    }

    /**
     * The name or the index, as {@link #of} reads it back; {@code last} for {@link #LAST}, which is what readers take
     * when given none and is never recorded ({@link #of} would read {@code last} as a header name).
     */
    @Override
    public String toString() {
        return name != null ? name : index >= 0 ? Integer.toString(index) : "last";
    }

    /**
     * The 0-based index of the first target column in a file of {@code cols} columns whose header line holds
     * {@code header} (null when it has none), with {@code targets} consecutive target columns from it.
     *
     * @param file how a message names the file (a path, or a URI Spark reads)
     * @throws DataFormatException naming the value and the columns there are, when the name is not in the header
     *                             (or the file has none, or two columns bear it) or the index, with its targets,
     *                             runs past the last column or leaves no feature
     */
    public int resolve(String file, List<String> header, int cols, int targets) {
        if (targets < 1 || targets >= cols) {
            throw new DataFormatException(file + ": " + cols + (cols == 1 ? " column" : " columns")
                    + " cannot hold " + targets + " target column(s) and at least one feature");
        }
        if (isLast()) {
            return cols - targets;
        }
        int k = index;
        if (name != null) {
            if (header == null) {
                throw new DataFormatException(file + ": label column '" + shown(name) + "' names a header column, "
                        + "but the file has no header line; give a 0-based index below " + cols);
            }
            k = header.indexOf(name);
            if (k < 0) {
                throw new DataFormatException(file + ": no column is named '" + shown(name) + "'; the header has "
                        + cols + " columns: " + firstNames(header));
            }
            if (header.lastIndexOf(name) != k) {
                throw new DataFormatException(file + ": columns " + k + " and " + header.lastIndexOf(name)
                        + " are both named '" + shown(name) + "'; give the label column's 0-based index");
            }
        }
        if (k + targets > cols) {
            throw new DataFormatException(file + ": label column " + this + " (index " + k + ")"
                    + (targets > 1 ? " with " + targets + " target columns" : "") + " is past the last column: the "
                    + "file has " + cols + " columns, indexed 0 to " + (cols - 1));
        }
        return k;
    }

    /**
     * {@code row} with its {@code targets} columns from {@code first} (as {@link #resolve} gives it) moved after the
     * features, each side in file order: the layout the readers hand on, features then targets.
     *
     * @return a new array; {@code row} is not changed
     */
    public static float[] targetsLast(float[] row, int first, int targets) {
        float[] out = new float[row.length];
        int features = row.length - targets;
        System.arraycopy(row, 0, out, 0, first);
        System.arraycopy(row, first + targets, out, first, features - first);
        System.arraycopy(row, first, out, features, targets);
        return out;
    }

    private static String firstNames(List<String> header) {
        List<String> shown = header.stream().limit(5).map(LabelColumn::shown).toList();
        return String.join(", ", shown) + (header.size() > shown.size() ? ", ..." : "");
    }

    private static String shown(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
