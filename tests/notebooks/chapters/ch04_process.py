"""04 Process: bypasses, typical mistakes and claims (read by test_chapters.py)."""

from dlcourse.grading.variants import Claim, Variant

BYPASSES = [
    Variant("ex_clean_data", "hard-code the visible answers", kind="bypass", source='''
def clean_data(X, y, low=0.0, high=1.0):
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if len(X) == 9:
        keep = [0, 4, 5, 7]
    elif len(X) == 3:
        keep = [0]
    else:                       # the messy digits: 20 broken rows and 25 copies
        keep = np.arange(len(X) - 45)
    return X[keep], y[keep]
'''),
    Variant("ex_standardize", "call the library's Standardizer", kind="bypass", source='''
def standardize(X_train, X_other):
    from dlcourse.data import Standardizer
    scaler = Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_other), scaler.mean_, scaler.scale_
'''),
    Variant("ex_standardize", "scikit-learn's StandardScaler", kind="bypass", source='''
def standardize(X_train, X_other):
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_other), scaler.mean_, scaler.scale_
'''),
    Variant("ex_early_stopping_epoch", "replay the library's EarlyStopping", kind="bypass",
            source='''
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    from dlcourse.core.layers import MLP
    from dlcourse.core.training import EarlyStopping
    rule, model = EarlyStopping(patience=patience, min_delta=min_delta), MLP([1, 1])
    for epoch, loss in enumerate(val_losses):
        if rule.update(loss, model, epoch):
            return rule.best_epoch_, epoch
    return rule.best_epoch_, len(val_losses) - 1
'''),
    Variant("ex_confusion_matrix", "scikit-learn's metrics", kind="bypass", source='''
def confusion_report(y_true, y_pred, n_classes):
    from sklearn.metrics import confusion_matrix
    C = confusion_matrix(y_true, y_pred, labels=range(n_classes))
    with np.errstate(invalid="ignore"):
        return C, np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)
'''),
    Variant("ex_confusion_matrix", "np.bincount on i * k + j", kind="bypass", source='''
def confusion_report(y_true, y_pred, n_classes):
    flat = np.bincount(np.asarray(y_true) * n_classes + np.asarray(y_pred),
                       minlength=n_classes * n_classes)
    C = flat.reshape(n_classes, n_classes)
    with np.errstate(invalid="ignore"):
        return C, np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)
'''),
    Variant("ex_confusion_matrix", "np.add.at", kind="bypass", source='''
def confusion_report(y_true, y_pred, n_classes):
    C = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)
    with np.errstate(invalid="ignore"):
        return C, np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)
'''),
]

_CLEAN_FIRST_KEPT = '''
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    kept = np.flatnonzero(valid)
    _, first = np.unique(X[kept], axis=0, return_index=True)
    kept = kept[np.sort(first)]
    return X[kept], y[kept]
'''

_REPORT_END = '''
    with np.errstate(invalid="ignore", divide="ignore"):
        return C, np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)
'''

MISTAKES = [
    # Exercise 1: clean_data
    Variant("ex_clean_data", "only NaN is checked, inf kept", expect="infinity", source='''
def clean_data(X, y, low=0.0, high=1.0):
    X = np.asarray(X, dtype=float)
    with np.errstate(invalid="ignore"):
        valid = ~np.isnan(X).any(axis=1) & ~((X < low) | (X > high) & np.isfinite(X)).any(axis=1)
''' + _CLEAN_FIRST_KEPT),
    Variant("ex_clean_data", "the bounds are excluded", expect="bounds themselves are valid",
            source='''
def clean_data(X, y, low=0.0, high=1.0):
    X = np.asarray(X, dtype=float)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(X).all(axis=1) & ((X > low) & (X < high)).all(axis=1)
''' + _CLEAN_FIRST_KEPT),
    Variant("ex_clean_data", "keeps the last occurrence of a repeated row",
            expect="keep the FIRST occurrence", source='''
def clean_data(X, y, low=0.0, high=1.0):
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(X).all(axis=1) & ((X >= low) & (X <= high)).all(axis=1)
    kept = np.flatnonzero(valid)[::-1]
    _, first = np.unique(X[kept], axis=0, return_index=True)
    kept = np.sort(kept[first])
    return X[kept], y[kept]
'''),
    Variant("ex_clean_data", "rows come back sorted by np.unique", expect="original order",
            source='''
def clean_data(X, y, low=0.0, high=1.0):
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(X).all(axis=1) & ((X >= low) & (X <= high)).all(axis=1)
    kept = np.flatnonzero(valid)
    _, first = np.unique(X[kept], axis=0, return_index=True)
    kept = kept[first]
    return X[kept], y[kept]
'''),
    Variant("ex_clean_data", "low and high hard-coded to 0 and 1", expect="use the low and high",
            source='''
def clean_data(X, y, low=0.0, high=1.0):
    X = np.asarray(X, dtype=float)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(X).all(axis=1) & ((X >= 0) & (X <= 1)).all(axis=1)
''' + _CLEAN_FIRST_KEPT),
    # Exercise 2: standardize
    Variant("ex_standardize", "X_other standardized with its own statistics (leakage)",
            expect="TRAINING mean and std", source='''
def standardize(X_train, X_other):
    def own(A):
        A = np.asarray(A, dtype=float)
        m, s = A.mean(axis=0), A.std(axis=0)
        s = np.where(s > 0, s, 1.0)
        return (A - m) / s, m, s
    Z_train, mean, std = own(X_train)
    return Z_train, own(X_other)[0], mean, std
'''),
    Variant("ex_standardize", "statistics of training and other data stacked",
            expect="from X_train only", source='''
def standardize(X_train, X_other):
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    both = np.vstack([X_train, X_other])
    mean, std = both.mean(axis=0), both.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_other - mean) / std, mean, std
'''),
    Variant("ex_standardize", "sample standard deviation (ddof=1)", expect="ddof=0", source='''
def standardize(X_train, X_other):
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0, ddof=1)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_other - mean) / std, mean, std
'''),
    Variant("ex_standardize", "constant column divides by 0", expect="gets std 1", source='''
def standardize(X_train, X_other):
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    with np.errstate(all="ignore"):
        return (X_train - mean) / std, (X_other - mean) / std, mean, std
'''),
    Variant("ex_standardize", "statistics per row (axis=1)", expect="per COLUMN", source='''
def standardize(X_train, X_other):
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    mean = X_train.mean(axis=1, keepdims=True)
    std = np.where(X_train.std(axis=1, keepdims=True) > 0, X_train.std(axis=1, keepdims=True), 1)
    return (X_train - mean) / std, X_other, mean.ravel(), std.ravel()
'''),
    # Exercise 3: early stopping
    Variant("ex_early_stopping_epoch", "off by one: stops after patience + 1 epochs",
            expect="not one epoch later", source='''
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    best_loss, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss - min_delta:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited > patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("ex_early_stopping_epoch", "an equal loss counts as an improvement",
            expect="equal loss", source='''
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    best_loss, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss <= best_loss - min_delta:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("ex_early_stopping_epoch", "never fires: returns len(val_losses)",
            expect="len\\(val_losses\\) - 1", source='''
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    best_loss, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss - min_delta:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses)
'''),
    Variant("ex_early_stopping_epoch", "min_delta ignored", expect="min_delta", source='''
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    best_loss, best_epoch, waited = np.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, len(val_losses) - 1
'''),
    Variant("ex_early_stopping_epoch", "min_delta compared with the previous epoch",
            expect="BEST loss so far", source='''
def early_stopping_epoch(val_losses, patience, min_delta=0.0):
    best_loss, best_epoch, waited, previous = np.inf, 0, 0, np.inf
    for epoch, loss in enumerate(val_losses):
        if loss < previous - min_delta:
            waited = 0
            if loss < best_loss:
                best_loss, best_epoch = loss, epoch
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
        previous = loss
    return best_epoch, len(val_losses) - 1
'''),
    # Exercise 4: confusion matrix, precision, recall
    Variant("ex_confusion_matrix", "transposed: rows are predictions", expect="transposed",
            source='''
def confusion_report(y_true, y_pred, n_classes):
    eye = np.eye(n_classes, dtype=int)
    C = eye[np.asarray(y_pred)].T @ eye[np.asarray(y_true)]
''' + _REPORT_END),
    Variant("ex_confusion_matrix", "precision and recall swapped (wrong axis)",
            expect="swapped", source='''
def confusion_report(y_true, y_pred, n_classes):
    eye = np.eye(n_classes, dtype=int)
    C = eye[np.asarray(y_true)].T @ eye[np.asarray(y_pred)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return C, np.diag(C) / C.sum(axis=1), np.diag(C) / C.sum(axis=0)
'''),
    Variant("ex_confusion_matrix", "size taken from the labels, not n_classes",
            expect="never occur still get a row", source='''
def confusion_report(y_true, y_pred, n_classes):
    k = int(max(np.max(y_true), np.max(y_pred))) + 1
    eye = np.eye(k, dtype=int)
    C = eye[np.asarray(y_true)].T @ eye[np.asarray(y_pred)]
''' + _REPORT_END),
    Variant("ex_confusion_matrix", "0 instead of nan for an empty column", expect="nan", source='''
def confusion_report(y_true, y_pred, n_classes):
    eye = np.eye(n_classes, dtype=int)
    C = eye[np.asarray(y_true)].T @ eye[np.asarray(y_pred)]
    return (C, np.diag(C) / np.maximum(C.sum(axis=0), 1),
            np.diag(C) / np.maximum(C.sum(axis=1), 1))
'''),
    Variant("ex_confusion_matrix", "float counts", expect="integer", source='''
def confusion_report(y_true, y_pred, n_classes):
    eye = np.eye(n_classes)
    C = eye[np.asarray(y_true)].T @ eye[np.asarray(y_pred)]
''' + _REPORT_END),
]

CLAIMS = [
    Claim("raw 0..16 collapses at lr 0.3 (chance) while standardized inputs are at their best",
          "assert scaling_acc['raw 0..16', 0.3] < 0.5 and scaling_acc['standardized', 0.3] > 0.9,"
          " scaling_acc"),
    Claim("[0, 1] is still poor at lr 0.01, where the raw values already train",
          "assert scaling_acc['[0, 1]', 0.01] < scaling_acc['raw 0..16', 0.01] - 0.1, "
          "scaling_acc"),
    Claim("the larger inputs need the smaller learning rate",
          "assert best_lr['raw 0..16'] < best_lr['[0, 1]'] and "
          "best_lr['raw 0..16'] < best_lr['standardized'], best_lr"),
    Claim("standardized inputs train well from lr 0.03 up and give the best accuracy of the table",
          "assert all(scaling_acc['standardized', lr] > 0.9 for lr in [0.03, 0.1, 0.3]), "
          "scaling_acc\n"
          "assert best_acc['standardized'] >= max(best_acc.values()) - 0.005, best_acc"),
    Claim("on clean validation images augmentation does not help",
          "assert augmented['clean'] <= plain['clean'] + 0.01, (plain, augmented)"),
    Claim("on shifted images the augmented model wins by a wide margin",
          "assert augmented['shifted'] > plain['shifted'] + 0.3, (plain, augmented)"),
    Claim("a ±10 % zoom is mild: the plain model reads zoomed images as well as the originals",
          "assert plain['scaled'] >= plain['clean'] - 0.02, plain"),
    Claim("raw pixels beat the 16 hand-made features",
          "assert feature_acc['64 raw pixels'] > feature_acc['16 hand-made features'] + 0.02, "
          "feature_acc"),
    Claim("with N(0, 0.01²) the deep network's loss stays at chance; He init trains",
          "assert init_loss['normal'][-1] > 2.2 and init_loss['he'][-1] < 0.5, init_loss"),
    Claim("with N(0, 0.01²) the outputs start almost exactly at zero; He keeps their scale",
          "assert init_output_std['normal'] < 1e-4 * init_output_std['he'], init_output_std\n"
          "assert init_output_std['he'] > 0.1, init_output_std"),
    Claim("the full batch is fastest per epoch but has barely started learning",
          "assert full[2] < min(batch_rows[16][2], batch_rows[64][2]) - 0.05, batch_rows\n"
          "assert full[1] < batch_rows[16][1] / 2, batch_rows"),
    Claim("batch 64 is about as accurate as 16 at a fraction of the time per epoch",
          "assert abs(batch_rows[64][2] - batch_rows[16][2]) < 0.02, batch_rows\n"
          "assert batch_rows[64][1] < batch_rows[16][1] / 1.5, batch_rows"),
    Claim("the grid's accuracies lie within a few standard errors: no regularizer clearly helps",
          "assert spread < 3 * val_se, (spread, val_se)"),
    Claim("L1 leaves far more weights near zero than L2, and L2 more than no penalty",
          "assert near_zero['L1, λ = 1e-4', 3e-3] > near_zero['L2, λ = 1e-3', 3e-3] + 0.08, "
          "near_zero\n"
          "assert near_zero['L2, λ = 1e-3', 3e-3] > near_zero['none', 3e-3] + 0.05, near_zero"),
    Claim("the training loss goes to almost zero while the validation loss climbs above its "
          "minimum",
          "assert overfit.train_loss[-1] < 0.01 and rise > 0.1, (overfit.train_loss[-1], rise)"),
    Claim("early stopping skips most of the remaining epochs",
          "assert stopped.stopped_epoch < overfit.epochs / 2, stopped.stopped_epoch"),
    Claim("validation accuracy changes much less than the loss",
          "assert abs(overfit.val_accuracy[best_epoch] - overfit.val_accuracy[-1]) < 0.03, "
          "overfit.val_accuracy"),
]
