"""scikit-learn's estimator checks, as the stacking and MLP-wrapper tests run them."""

import warnings


def failed_estimator_checks(estimator) -> list[tuple[str, str]]:
    """(check name, message) for every scikit-learn estimator check that fails."""
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    return [(r["check_name"], str(r["exception"])[:200]) for r in results
            if r["status"] == "failed"]
