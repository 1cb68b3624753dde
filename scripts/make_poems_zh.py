"""Rebuild lessons/data/poems_zh.txt from Debian's fortunes-zh package (see ../README.md).

    apt-get download fortunes-zh && dpkg-deb -x fortunes-zh_*.deb fz
    python scripts/make_poems_zh.py fz/usr/share/games/fortunes > lessons/data/poems_zh.txt

The package's files are fortune(6) cookies: poems separated by lines holding "%", titles and
authors coloured with ANSI escapes. We keep each poem as a title line, an author line and its
verse lines, one blank line between poems, so the text reads as a book of poems.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LIFE_DATES = re.compile(r"（[０-９－?？]+）$")     # song100 writes 作者:柳开（９４６－９９９）


def poems(cookie_file: Path) -> list[str]:
    text = ANSI.sub("", cookie_file.read_text(encoding="utf-8"))
    return [tidy(entry) for entry in text.split("\n%\n") if entry.strip()]


def tidy(entry: str) -> str:
    lines = [line.strip() for line in entry.strip("\n").splitlines() if line.strip()]
    title, author, verses = lines[0], lines[1], lines[2:]
    title = title.removeprefix("题目:").removeprefix("题目：")
    author = "作者：" + LIFE_DATES.sub("", author.split(":", 1)[-1].split("：", 1)[-1]).strip()
    return "\n".join([title, author, *verses])


def main(folder: str) -> None:
    root = Path(folder)
    book = poems(root / "tang300") + poems(root / "song100")
    sys.stdout.write("\n\n".join(book) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
