"""Keeps numba-cuda 0.30 compiling under numpy 2.5.

numba-cuda registers an overload for ``np.row_stack`` when it first compiles a kernel; numpy 2.5 removed that
alias of ``np.vstack`` (deprecated since 2.0), so every kernel compile failed with AttributeError. Restoring the
alias before numba-cuda looks it up costs nothing and changes no numpy behaviour a user relies on.
"""

import numpy as np

if not hasattr(np, "row_stack"):
    np.row_stack = np.vstack
