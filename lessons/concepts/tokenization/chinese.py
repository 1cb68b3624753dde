"""Tokenisation on Chinese: one text cut three ways (characters, byte-level BPE, and jieba's
word segmentation, 中文分词), tokens per character for each, and the BPE merges that rebuild a
character from its three UTF-8 bytes.

A Chinese character is 3 bytes in UTF-8, so a byte-level BPE starts at 3 tokens per character;
its first merges on Chinese text join those bytes back into characters, and later ones join
characters into words. A character tokenizer has one token per character from the start, and
a word segmenter fewer, but its vocabulary is every word it has ever seen.

>>> cuts = chinese_cuts("床前明月光", bpe_vocab=None)
>>> [(c.name, c.pieces) for c in cuts][0]
('char', ['床', '前', '明', '月', '光'])
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from lessons.concepts.tokenization.compute import token_views
from lessons.display import group_by_character, group_label, is_whole_text
from lessons.engine.corpus import builtin_text, split_text
from lessons.engine.tokenizers import BPETokenizer

DEFAULT_CHINESE_TEXT = "床前明月光，疑是地上霜。举头望明月，低头思故乡。大语言模型如何工作？"
CHINESE_BPE_VOCAB = 1024      # 256 bytes + 768 merges: enough to rebuild the common characters


@dataclass(frozen=True)
class Cut:
    name: str                 # "char", "bpe" or "jieba"
    pieces: list[str]         # what each token spells; BPE byte pieces of one character are
                              # joined under that character, with how many tokens it took
    tokens: int               # tokens the text took
    tokens_per_char: float


def chinese_bpe(vocab_size: int = CHINESE_BPE_VOCAB) -> BPETokenizer:
    """Byte-level BPE trained on the first 90 % of the built-in Chinese poems."""
    train_text, _ = split_text(builtin_text("poems_zh"))
    return BPETokenizer.train(train_text, vocab_size)


def jieba_words(text: str) -> list[str]:
    """jieba's word segmentation (its default, precise mode), empty pieces dropped.

    >>> jieba_words("我爱北京天安门")
    ['我', '爱', '北京', '天安门']
    """
    import jieba    # imported here: it builds its dictionary on first use (about a second)
    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(text, HMM=True) if w]


def _bpe_pieces(bpe: BPETokenizer, text: str) -> list[str]:
    views = token_views(bpe, text)
    pieces = []
    for group in group_by_character(views):
        spelt = group_label(group, text)
        pieces.append(spelt if len(group) == 1 else f"{spelt}·{len(group)}")
    return pieces


def chinese_cuts(text: str, bpe_vocab: int | None = CHINESE_BPE_VOCAB) -> list[Cut]:
    """The text by character, by a byte-level BPE of bpe_vocab tokens trained on the poems
    (skipped when None; training takes a tenth of a second) and by jieba.

    >>> [(c.name, c.tokens) for c in chinese_cuts("我爱北京", bpe_vocab=None)]
    [('char', 4), ('jieba', 3)]
    """
    n = max(1, len(text))
    cuts = [Cut("char", list(text), len(text), len(text) / n)]
    if bpe_vocab is not None:
        bpe = chinese_bpe(bpe_vocab)
        ids = bpe.encode(text)
        cuts.append(Cut("bpe", _bpe_pieces(bpe, text), len(ids), len(ids) / n))
    words = jieba_words(text)
    cuts.append(Cut("jieba", words, len(words), len(words) / n))
    return cuts


def character_merges(bpe_vocab: int = CHINESE_BPE_VOCAB, limit: int = 12) -> list[dict]:
    """The first merges of the poems' BPE whose new token is one whole character built from
    byte pieces: the step, the two pieces (as bytes in hex), and the character they make.

    >>> rows = character_merges(300, limit=2)
    >>> [len(r["character"]) for r in rows], all(r["pieces"].count("+") == 1 for r in rows)
    ([1, 1], True)
    """
    bpe, rows = chinese_bpe(bpe_vocab), []
    for step, (left, right) in enumerate(bpe.merges(), start=1):
        ids = [bpe.tokenizer.token_to_id(p) for p in (left, right, left + right)]
        left_raw, right_raw, new_raw = (bpe.token_bytes(i) for i in ids)
        if not is_whole_text(new_raw) or is_whole_text(left_raw):
            continue
        character = new_raw.decode("utf-8")
        if len(character) != 1:
            continue
        rows.append({"step": step, "pieces": f"{left_raw.hex(' ').upper()} + {right_raw.hex(' ').upper()}",
                     "character": character, "bytes": len(new_raw)})
        if len(rows) == limit:
            break
    return rows
