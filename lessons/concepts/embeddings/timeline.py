"""Watching the token table form: the same 2-D projection at every weight snapshot kept while
training, on axes that stay put from frame to frame.

>>> tables = {0: torch.tensor([[0., 1.], [0., -1.], [0., 0.]]),
...           9: torch.tensor([[2., 0.], [-2., 0.], [0., 0.]])}
>>> frames = timeline_projections(tables, [0, 1, 2], n_components=1)
>>> frames[9].coords.flatten().tolist(), frames[0].coords.flatten().tolist()
([2.0, -2.0, 0.0], [0.0, 0.0, 0.0])

Step 0's rows lie across the final axis, so they all land on 0. Shapes: V = vocabulary size,
C = embedding width, N = tokens shown, k = 2 or 3 axes.
"""
from __future__ import annotations

import torch

from lessons.concepts.embeddings.compute import Projection, pca_project, visible_tokens


def snapshot_token_tables(checkpoint) -> dict[int, torch.Tensor]:
    """{training step: token embedding table (V, C) at that step} from a checkpoint's snapshots."""
    return {step: weights["token_embedding.weight"].float()
            for step, weights in sorted(checkpoint.snapshots.items())
            if "token_embedding.weight" in weights}


def timeline_projections(tables: dict[int, torch.Tensor], ids: list[int],
                         n_components: int = 2) -> dict[int, Projection]:
    """Project every snapshot's rows ``ids`` onto the *last* snapshot's PCA axes.

    Alignment: each snapshot is centred on its own mean, then projected onto the principal axes
    of the final table. With a fixed pair of axes a cluster stays where it ends up instead of
    flipping or rotating from frame to frame, so the learner sees it gather. (Fitting PCA to each
    snapshot separately would reorder and mirror the axes at will.)

    Returns {step: Projection}; every frame has the final axes, its own mean, and in
    ``explained`` the share of *that* snapshot's variance lying along each final axis (small at
    step 0, where those directions do not mean anything yet).
    """
    if not tables:
        raise ValueError("this checkpoint has no snapshots")
    axes = pca_project(tables[max(tables)][ids], n_components).axes.double()   # (k, C)
    frames = {}
    for step, table in sorted(tables.items()):
        rows = table[ids].double()                         # (N, C)
        mean = rows.mean(dim=0)
        coords = (rows - mean) @ axes.T                    # (N, k)
        total = ((rows - mean) ** 2).sum().clamp_min(1e-30)
        explained = (coords ** 2).sum(dim=0) / total
        frames[step] = Projection(coords.float(), axes.float(), mean.float(), explained.float())
    return frames


def timeline_frames(checkpoint, show_bytes: bool = False):
    """(snapshot tables {step: (V, C)}, {step: Projection} of the tokens shown): the whole
    timeline of a checkpoint as one result. No frames for fewer than three tokens shown (a
    2-D projection of two points says nothing) or a checkpoint without snapshots.

    >>> from lessons.engine.checkpoint import Checkpoint
    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> timeline_frames(Checkpoint(None, CharTokenizer.train("abc")))
    ({}, {})
    """
    ids = visible_tokens(checkpoint, show_bytes)[1]
    snapshots = snapshot_token_tables(checkpoint)
    return snapshots, (timeline_projections(snapshots, ids) if snapshots and len(ids) >= 3 else {})


def axis_reach(frames: dict[int, Projection], margin: float = 1.1) -> float:
    """Half the width of axes that hold every frame's points, with a margin: fixed axes for
    the timeline, so the learner sees the table grow instead of the zoom changing.

    >>> frame = Projection(torch.tensor([[1., -2.], [0.5, 0.]]), None, None, None)
    >>> round(axis_reach({0: frame}), 6)
    2.2
    """
    return max(float(f.coords.abs().max()) for f in frames.values()) * margin
