"""``tcli.datasets``: small classic datasets shipped with tcli, for examples and tests that must run offline."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

__all__ = ["load_iris"]

_IRIS_SPECIES = ["setosa", "versicolor", "virginica"]


def load_iris(*, return_X_y=False):
    """Fisher's Iris data (public domain): 150 flowers, 4 measurements each, 3 species of 50 in order.

    Returns a namespace with
      - ``data``: float32 tensor of shape (150, 4), in centimetres;
      - ``target``: int64 tensor of shape (150,), the species index 0, 1 or 2;
      - ``feature_names``: ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
      - ``target_names``: ['setosa', 'versicolor', 'virginica'].
    With ``return_X_y=True`` it returns the tuple ``(data, target)`` instead.
    """
    from importlib import resources  # ~7 ms to import: only when the table is read

    from .. import float32, int64, tensor
    text = resources.files(__name__).joinpath("iris.csv").read_text(encoding="utf-8")
    header, *rows = csv.reader(io.StringIO(text))
    data = tensor([[float(v) for v in row[:4]] for row in rows], dtype=float32)
    target = tensor([_IRIS_SPECIES.index(row[4]) for row in rows], dtype=int64)
    if return_X_y:
        return data, target
    return SimpleNamespace(data=data, target=target, feature_names=header[:4], target_names=list(_IRIS_SPECIES))
