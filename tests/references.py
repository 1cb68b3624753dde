"""Independent reference implementations that more than one test folder compares with, written
the slow, obvious way on purpose."""
from __future__ import annotations

import math


def brute_force_neighbours(vectors, index, k, candidates):
    """The k candidates (other than index) with the highest cosine similarity to row index, as
    (id, similarity) pairs, computed with plain Python floats."""
    def cos(a, b):
        return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    rows = vectors.tolist()
    scored = [(j, cos(rows[index], rows[j])) for j in candidates if j != index]
    return sorted(scored, key=lambda p: -p[1])[:k]
