"""BPE's merges replayed step by step in our own Python, and how often each pair occurred:
what the tokenisation lesson shows of how a byte-level BPE is learned."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from functools import lru_cache

from tokenizers import Tokenizer, pre_tokenizers

from lessons.engine.tokenizers import BPETokenizer, TokenSpan
from lessons.engine.tokenizers.bpe import short_runs


def bpe_with_first_merges(bpe: BPETokenizer, n_merges: int) -> BPETokenizer:
    """The same tokenizer as if training had stopped after its first n_merges merges.

    Ids: 0 is <|endoftext|>, 1..256 the byte alphabet, and merge i creates token 257 + i,
    so keeping the first n merges and the ids below 257 + n is a smaller valid vocabulary.
    Appended special tokens come along, appended after that smaller vocabulary.

    >>> bpe = BPETokenizer.train("low lower lowest " * 30, vocab_size=262)
    >>> bpe.vocab_size, bpe_with_first_merges(bpe, 2).vocab_size
    (262, 259)
    """
    data = json.loads(bpe.tokenizer.to_str())
    merges, vocab = data["model"]["merges"], data["model"]["vocab"]
    n_merges = max(0, min(n_merges, len(merges)))
    keep_below = len(vocab) - len(merges) + n_merges
    data["model"]["merges"] = merges[:n_merges]
    data["model"]["vocab"] = {tok: i for tok, i in vocab.items() if i < keep_below}
    smaller = BPETokenizer(Tokenizer.from_str(json.dumps(data)))
    return smaller.with_special_tokens(*bpe.special_tokens())


def _pieces(text: str, specials: tuple[str, ...]):
    """Split text the way the BPE tokenizer does before merging: a special token stands
    alone, the rest goes through the ByteLevel pre-tokenizer (GPT-2's word-ish regex).
    Yields (piece, is_special) where a normal piece is in the ByteLevel alphabet (1 char = 1 byte).
    """
    splitter = pre_tokenizers.ByteLevel(add_prefix_space=False)
    # a capturing group keeps the special names in the split: text, name, text, name, ...
    names = "|".join(map(re.escape, sorted(specials, key=len, reverse=True)))
    parts = re.split(f"({names})", text) if names else [text]
    for k, part in enumerate(parts):
        if k % 2:
            yield part, True
        elif part:
            for piece, _ in splitter.pre_tokenize_str(part):
                yield piece, False


@lru_cache(maxsize=4)
def _word_counts(text: str, specials: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(piece, count) for every normal piece of text. Remembered: splitting a 466 KB text
    takes ~0.4 s and is the same for every vocabulary size the lesson compares."""
    # cut as BPETokenizer.train cuts, so the counts are those of the pieces it trained on
    return tuple(Counter(p for part in short_runs(text)
                         for p, special in _pieces(part, specials) if not special).items())


def _merge_pair(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """['a', 'a', 'a'] with ('a', 'a') -> ['aa', 'a']: left to right, never overlapping."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def replay_merges(bpe: BPETokenizer, text: str, n_merges: int) -> list[TokenSpan]:
    """Tokenise text using only the first n_merges learned merges, in our own Python.

    Inside each piece, the learned merge with the lowest rank that applies is made, then
    the next, until none applies; at n_merges = len(bpe.merges()) this equals bpe.token_spans.
    (Lowest rank first is the same as applying merges 1, 2, 3 ... in order: a merge can only
    create pairs that were learned after it.)

    >>> bpe = BPETokenizer.train("low lower lowest " * 30, vocab_size=262)
    >>> [s.text for s in replay_merges(bpe, "lower", 0)]
    ['l', 'o', 'w', 'e', 'r']
    """
    rank = {pair: r for r, pair in enumerate(bpe.merges()[:max(0, n_merges)])}
    vocab = bpe.tokenizer.get_vocab()
    specials = bpe.special_tokens()
    # byte position -> character index, to give every token its character span
    char_at = [i for i, ch in enumerate(text) for _ in ch.encode("utf-8", "surrogatepass")]
    char_at.append(len(text))
    spans, byte_pos = [], 0
    for piece, special in _pieces(text, tuple(specials)):
        if special:
            n = len(piece.encode())
            spans.append(TokenSpan(specials[piece], piece, char_at[byte_pos],
                                   char_at[byte_pos + n - 1] + 1))
            byte_pos += n
            continue
        symbols = list(piece)
        while len(symbols) > 1:
            pairs = [p for p in zip(symbols, symbols[1:]) if p in rank]
            if not pairs:
                break
            symbols = _merge_pair(symbols, min(pairs, key=rank.__getitem__))
        for sym in symbols:
            start, end = byte_pos, byte_pos + len(sym)   # ByteLevel: one symbol char per byte
            first, last = char_at[start], char_at[end - 1] + 1
            spans.append(TokenSpan(vocab[sym], bpe.token_text(vocab[sym]), first, last))
            byte_pos = end
    return spans


def merge_counts(bpe: BPETokenizer, training_text: str) -> list[int]:
    """How often each learned pair stood side by side in the training text just before it
    was merged (earlier merges already made), in merge order.

    >>> bpe = BPETokenizer.train("ab ab ab", vocab_size=258)
    >>> bpe.merges(), merge_counts(bpe, "ab ab ab")
    ([('a', 'b')], [3])

    Linear in the text's size: every symbol of every distinct piece sits in one linked list
    (links never cross a piece's end), and each pair knows the positions where it starts, so
    a merge visits only its own occurrences. (Re-scanning whole pieces for every merge was
    fine for words, but one 100 KB piece without a space took 46 s: issue #22.)
    """
    word_counts = _word_counts(training_text, tuple(bpe.special_tokens()))
    symbols, weight, prev, nxt = _linked_symbols(word_counts)
    starts = defaultdict(set)          # pair -> positions of its left symbol
    for i, j in enumerate(nxt):
        if j != -1:
            starts[(symbols[i], symbols[j])].add(i)
    counts = []
    for pair in bpe.merges():
        total = 0
        # left to right, so 'a a a' merges (a, a) once, as _merge_pair does
        for i in sorted(starts.pop(pair, ())):
            j = nxt[i]
            if symbols[i] is None or j == -1 or (symbols[i], symbols[j]) != pair:
                continue       # subtle: an earlier occurrence in this merge used these symbols
            total += weight[i]
            _merge_at(i, symbols, prev, nxt, starts)
        counts.append(total)
    return counts


def _linked_symbols(word_counts):
    """(symbols, weight, prev, nxt): one entry a character of every distinct piece; weight is
    the piece's count; prev/nxt link neighbours inside a piece (-1 at its ends)."""
    symbols, weight, prev, nxt = [], [], [], []
    for word, n in word_counts:
        first, last = len(symbols), len(symbols) + len(word) - 1
        for i, ch in enumerate(word, start=first):
            symbols.append(ch)
            weight.append(n)
            prev.append(i - 1 if i > first else -1)
            nxt.append(i + 1 if i < last else -1)
    return symbols, weight, prev, nxt


def _merge_at(i: int, symbols: list, prev: list, nxt: list, starts) -> None:
    """Merge the symbol at i with the next one; the pairs around them follow."""
    j = nxt[i]
    left, right = prev[i], nxt[j]
    if left != -1:
        starts[(symbols[left], symbols[i])].discard(left)
    if right != -1:
        starts[(symbols[j], symbols[right])].discard(j)
    symbols[i], symbols[j] = symbols[i] + symbols[j], None
    nxt[i] = right
    if right != -1:
        prev[right] = i
        starts[(symbols[i], symbols[right])].add(i)
    if left != -1:
        starts[(symbols[left], symbols[i])].add(left)
