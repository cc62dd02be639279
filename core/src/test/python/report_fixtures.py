#!/usr/bin/python3
# Writes the scikit-learn reference for ConfusionMatrixTest and RegressionScoresTest: sklearn 1.x's
# confusion_matrix and classification_report(labels=range(K), zero_division=0, output_dict=True) for several
# label/prediction sets (a class never predicted, a class absent from the data, a perfect model, binary), and
# mean_squared_error, mean_absolute_error and r2_score (per target, raw_values and uniform_average) for regression
# sets (a constant target predicted exactly and not, several targets). Regenerate from the repository root with:
#
#   /usr/bin/python3 core/src/test/python/report_fixtures.py > core/src/test/resources/dev/backprop/train/report-fixtures.txt
#
# (Debian's python3-sklearn). Format, one record a line, floats in repr (Java's Double.parseDouble reads them back
# exactly):
#   classification <label> <K>
#   truth <int>...
#   predicted <int>...
#   matrix <row-major K*K counts>
#   class <k> <precision> <recall> <f1> <support>    (one per class)
#   macro <precision> <recall> <f1> <support>
#   weighted <precision> <recall> <f1> <support>
#   accuracy <accuracy>
#   regression <label> <samples> <targets>
#   truth <row-major floats>
#   predicted <row-major floats>
#   target <j> <mse> <mae> <r2>    (one per target)
#   average <mse> <mae> <r2>
import random

import numpy as np
from sklearn.metrics import (accuracy_score, classification_report, confusion_matrix, mean_absolute_error,
                             mean_squared_error, r2_score)

rng = random.Random(20261207)


def noisy(k, n, right):
    truth = [rng.randrange(k) for _ in range(n)]
    return truth, [t if rng.random() < right else rng.randrange(k) for t in truth]


CLASSIFICATION = [
    ("three classes, mixed", 3, [0, 1, 2, 2, 1, 0, 0, 2, 1, 1], [0, 2, 2, 1, 1, 0, 1, 2, 1, 0]),
    ("class 2 never predicted", 3, [0, 1, 2, 2, 1, 0, 2], [0, 1, 0, 1, 1, 0, 1]),
    ("class 3 absent from the data", 4, [0, 1, 2, 0, 1, 2], [0, 1, 3, 0, 2, 2]),
    ("perfect", 4, [3, 1, 0, 2, 2, 1], [3, 1, 0, 2, 2, 1]),
    ("binary", 2, [1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1, 1]),
    ("binary, one class only predicted", 2, [1, 0, 1, 0], [0, 0, 0, 0]),
    ("ten classes, noisy", 10) + noisy(10, 200, 0.6),
]

REGRESSION = [
    ("one target", [[3.0], [-0.5], [2.0], [7.0]], [[2.5], [0.0], [2.0], [8.0]]),
    ("constant target predicted exactly", [[2.0], [2.0], [2.0]], [[2.0], [2.0], [2.0]]),
    ("constant target missed, next to a varying one", [[1.5, 0.0], [1.5, 1.0], [1.5, 4.0]],
     [[1.5, 0.5], [1.0, 1.0], [2.0, 3.0]]),
    ("three targets", [[0.5, 1.0, -2.0], [-1.0, 1.0, 0.25], [7.0, -6.0, 3.5], [2.0, 0.1, 0.0], [1.0, 2.0, 3.0]],
     [[0.0, 2.0, -2.5], [-1.0, 0.5, 0.0], [8.0, -5.0, 3.0], [2.5, 0.0, 0.5], [0.9, 2.2, 2.9]]),
    ("random, many samples", [[rng.gauss(0, 3), rng.gauss(5, 1)] for _ in range(100)], None),
]


def floats(values):
    return " ".join(repr(float(v)) for v in values)


def classification(label, k, truth, predicted):
    print("classification", label.replace(" ", "_").replace(",", ""), k)
    print("truth", *truth)
    print("predicted", *predicted)
    print("matrix", *confusion_matrix(truth, predicted, labels=range(k)).flatten())
    report = classification_report(truth, predicted, labels=range(k), zero_division=0, output_dict=True)
    for c in range(k):
        r = report[str(c)]
        print("class", c, floats([r["precision"], r["recall"], r["f1-score"]]), int(r["support"]))
    for name, key in (("macro", "macro avg"), ("weighted", "weighted avg")):
        r = report[key]
        print(name, floats([r["precision"], r["recall"], r["f1-score"]]), int(r["support"]))
    print("accuracy", repr(float(accuracy_score(truth, predicted))))


def regression(label, truth, predicted):
    y = np.array(truth, dtype=np.float64)
    p = y + np.array([[rng.gauss(0, 0.5) for _ in row] for row in truth]) if predicted is None \
        else np.array(predicted, dtype=np.float64)
    print("regression", label.replace(" ", "_").replace(",", ""), y.shape[0], y.shape[1])
    print("truth", floats(y.flatten()))
    print("predicted", floats(p.flatten()))
    mse = mean_squared_error(y, p, multioutput="raw_values")
    mae = mean_absolute_error(y, p, multioutput="raw_values")
    r2 = r2_score(y, p, multioutput="raw_values")
    for j in range(y.shape[1]):
        print("target", j, floats([mse[j], mae[j], r2[j]]))
    print("average", floats([mean_squared_error(y, p), mean_absolute_error(y, p), r2_score(y, p)]))


for case in CLASSIFICATION:
    classification(*case)
for case in REGRESSION:
    regression(*case)
