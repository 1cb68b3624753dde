"""How much a text looks like classical Chinese verse: the share of its verse lines that have
exactly 5 or 7 characters (五言 and 七言), the two line lengths of 唐诗.

A "line" here is one clause of a poem's body: the characters between two of ，。？！；
(a printed row usually holds a couplet, two such lines). Title rows (《…》) and author rows
(作者：…) are not verse and are skipped, so the measure asks only "does the model break its
verse where a poet would?".

>>> verse_line_lengths("《春晓》\\n作者：孟浩然\\n春眠不觉晓，处处闻啼鸟。\\n夜来风雨声，花落知多少。")
[5, 5, 5, 5]
>>> five_or_seven_share("白日依山尽，黄河入海流。\\n欲穷千里目，更上一层楼楼。")
0.75
"""
from __future__ import annotations

import re

LINE_ENDS = "，。？！；,.?!;"
_LINE_END = re.compile(f"[{re.escape(LINE_ENDS)}]")
VERSE_LENGTHS = (5, 7)


def _is_verse_row(row: str) -> bool:
    row = row.strip()
    return bool(row) and not row.startswith("《") and not row.startswith("作者")


def verse_line_lengths(text: str) -> list[int]:
    """The number of characters in each verse line (clause) of ``text``."""
    lengths = []
    for row in filter(_is_verse_row, text.splitlines()):
        # a row's last piece after its final mark is an unfinished line: still a line
        for clause in _LINE_END.split(row.strip()):
            clause = "".join(ch for ch in clause if not ch.isspace())
            if clause:
                lengths.append(len(clause))
    return lengths


def five_or_seven_share(text: str) -> float:
    """The share of verse lines with exactly 5 or 7 characters (0.0 when there are none)."""
    lengths = verse_line_lengths(text)
    if not lengths:
        return 0.0
    return sum(n in VERSE_LENGTHS for n in lengths) / len(lengths)
