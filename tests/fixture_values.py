"""Helpers shared by the reader-fixture generators (generate_reader_fixtures.py,
generate_external_fixtures.py): how an array's values are written into their
expected.json files."""
import numpy as np


def flat_values(array):
    """The elements in C order as exact decimal strings."""
    out = []
    for v in np.ascontiguousarray(array).ravel(order="C").tolist():
        if isinstance(v, bool):
            out.append("1" if v else "0")
        elif isinstance(v, int):
            out.append(str(v))
        else:
            out.append(repr(float(v)))
    return out
