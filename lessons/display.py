"""The one visual vocabulary every page and notebook shares: invisible characters made visible,
a token's bytes as a readable label, and byte tokens grouped under the character they spell.

One glyph per invisible character, everywhere: space ␣, newline ↵, tab ⇥, carriage return ␍,
other control characters as Unicode's control pictures (NUL ␀, BEL ␇ ...), and characters
that draw nothing at all (zero-width joiner, right-to-left mark ...) as ⟨U+XXXX⟩.

>>> visible("a b\\n")
'a␣b↵'
>>> bytes_label("猫 ".encode())          # whole characters read as themselves
'猫␣'
>>> bytes_label("猫".encode()[:2])       # two of the three bytes of 猫: no character yet
'<0xE7><0x8C>'
"""
from __future__ import annotations

import unicodedata


WHITESPACE_GLYPHS = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
# characters that draw nothing: controls, formats (ZWJ, RLM ...), surrogates, line/paragraph sep
_INVISIBLE_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def visible(text: str) -> str:
    """Make invisible characters visible; every other character is unchanged.

    >>> visible("x\\ty\\r\\n")
    'x⇥y␍↵'
    >>> visible("\\x00\\x07"), visible("\\u200d\\u202e")
    ('␀␇', '⟨U+200D⟩⟨U+202E⟩')
    >>> visible("大语言 model")
    '大语言␣model'
    """
    return "".join(_visible_char(ch) for ch in text)


def markdown_literal(token: str) -> str:
    """A token made visible and safe to put inside Markdown (Streamlit's st.markdown, titles):
    its Markdown and LaTeX characters are backslash-escaped, so a token "*" or " " cannot
    turn the bold around it inside out.

    >>> markdown_literal(" "), markdown_literal("*"), markdown_literal("$x_1$")
    ('␣', '\\\\*', '\\\\$x\\\\_1\\\\$')
    """
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in visible(token))


_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:")


def _visible_char(ch: str) -> str:
    if ch in WHITESPACE_GLYPHS:
        return WHITESPACE_GLYPHS[ch]
    if ord(ch) < 0x20:
        return chr(0x2400 + ord(ch))              # Unicode's "control pictures": ␀ ␁ ...
    if unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
        return f"⟨U+{ord(ch):04X}⟩"
    return ch


def byte_name(byte: int) -> str:
    """The name of one byte standing alone: 0xE4 -> '<0xE4>'.

    >>> byte_name(228), byte_name(10)
    ('<0xE4>', '<0x0A>')
    """
    return f"<0x{byte:02X}>"


def bytes_text(raw: bytes) -> str:
    """The bytes as text; a byte that is only part of a UTF-8 character shows as <0xNN>.
    Whitespace is left as it is (``bytes_label`` makes it visible).

    >>> bytes_text(b" the"), bytes_text(b"a\\xe4\\xbd")
    (' the', 'a<0xE4><0xBD>')
    """
    # subtle: surrogateescape turns each byte that is no part of a whole character into one
    # stand-in character U+DC80..U+DCFF, so the whole characters decode and the rest is marked
    text = raw.decode("utf-8", errors="surrogateescape")
    return "".join(byte_name(ord(c) - 0xDC00) if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)


def bytes_label(raw: bytes) -> str:
    """A token's readable label from its bytes: ``bytes_text`` with invisible characters shown.

    >>> bytes_label(b"\\xe5\\xa4"), bytes_label("ok 大\\n".encode())
    ('<0xE5><0xA4>', 'ok␣大↵')
    """
    return visible(bytes_text(raw))


def is_whole_text(raw: bytes) -> bool:
    """Are these bytes whole UTF-8 characters (no piece of one left over)?

    >>> is_whole_text("你".encode()), is_whole_text("你".encode()[:1]), is_whole_text(b"")
    (True, False, True)
    """
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def group_by_character(tokens: list) -> list[list]:
    """Tokens whose character spans overlap belong together: the three byte tokens of one
    Chinese character (each spanning that same character) form one group; others stand alone.
    ``tokens``: anything with ``start`` and ``end`` character offsets, in text order.

    >>> from lessons.engine.tokenizers import TokenSpan
    >>> spans = [TokenSpan(1, "a", 0, 1), TokenSpan(7, "<0xE9>", 1, 2),
    ...          TokenSpan(8, "<0xB2>", 1, 2), TokenSpan(9, "<0xB8>", 1, 2)]
    >>> [[s.id for s in group] for group in group_by_character(spans)]
    [[1], [7, 8, 9]]
    """
    groups: list[list] = []
    for token in tokens:
        if groups and token.start < max(t.end for t in groups[-1]):
            groups[-1].append(token)
        else:
            groups.append([token])
    return groups


def group_label(group: list, text: str) -> str:
    """What a group of tokens spells in ``text``, made visible: the character its bytes make.

    >>> from lessons.engine.tokenizers import TokenSpan
    >>> group_label([TokenSpan(7, "<0xE9>", 2, 3), TokenSpan(8, "<0xB2>", 2, 3)], "a 鲸")
    '鲸'
    """
    return visible(text[group[0].start:max(t.end for t in group)])


# ---- a token sequence's labels, byte pieces grouped under their character ------------------

BYTE_PIECE = "{text}·{k}/{n}"     # the k-th of n tokens that together spell text, e.g. 猫·2/3
_MAX_CHAR_BYTES = 4               # the longest UTF-8 character


def byte_groups(pieces: list[bytes]) -> list[list[int]]:
    """Indices of consecutive tokens whose bytes only make whole characters together: a token
    that ends inside a character is grouped with the ones that finish it. Tokens that are whole
    text by themselves (and special tokens, which spell no bytes) stand alone.

    >>> byte_groups([b"a", "猫".encode()[:1], "猫".encode()[1:2], "猫".encode()[2:], b"b"])
    [[0], [1, 2, 3], [4]]
    >>> byte_groups([b"\\xe7", b"", b"x"])      # a piece that never completes stays alone
    [[0], [1], [2]]
    """
    groups, k = [], 0
    while k < len(pieces):
        group, raw = [k], pieces[k]
        while raw and not is_whole_text(raw) and group[-1] + 1 < len(pieces) \
                and pieces[group[-1] + 1] and len(group) < _MAX_CHAR_BYTES:
            group.append(group[-1] + 1)
            raw += pieces[group[-1]]
        if not is_whole_text(raw):             # no character after all: each piece alone
            group = [k]
        groups.append(group)
        k = group[-1] + 1
    return groups


def _spelt_by_bytes(tokenizer, ids: list[int]) -> list[list[int]]:
    """The groups of positions whose tokens are byte tokens spelling one character: several
    pieces of it, or one byte-fallback token standing in for a character the vocabulary lacks."""
    pieces = [tokenizer.token_bytes(i) for i in ids]
    # subtle: byte-level BPE can merge across a character's edge (its last byte with the next
    # character's first); such a byte token spells no character alone and keeps its own label
    return [g for g in byte_groups(pieces)
            if (len(g) > 1 or (pieces[g[0]] and tokenizer.is_byte_piece(ids[g[0]])))
            and is_whole_text(b"".join(pieces[k] for k in g))]


def position_labels(tokenizer, ids: list[int]) -> list[str]:
    """One label per position of a token sequence, for heatmap axes, bertviz and tables: a
    byte token that spells (part of) a character shows that character and which of its tokens
    it is, so no <0xNN> is shown where a character could be.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tok = CharTokenizer.train("ab ")
    >>> position_labels(tok, tok.encode("a 猫$"))
    ['a', '␣', '猫·1/3', '猫·2/3', '猫·3/3', '$·1/1']
    """
    labels = [tokenizer.token_label(i) for i in ids]
    for group in _spelt_by_bytes(tokenizer, ids):
        text = visible(b"".join(tokenizer.token_bytes(ids[k]) for k in group).decode("utf-8"))
        for k, index in enumerate(group, 1):
            labels[index] = BYTE_PIECE.format(text=text, k=k, n=len(group))
    return labels


def characters_in_pieces(tokenizer, ids: list[int]) -> tuple[int, int]:
    """(characters, tokens): how many characters of the sequence were spelt by byte tokens,
    and how many tokens those were. A page says so beside its picture.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tok = CharTokenizer.train("ab")
    >>> characters_in_pieces(tok, tok.encode("a猫狗"))
    (2, 6)
    """
    groups = _spelt_by_bytes(tokenizer, ids)
    characters = sum(len(b"".join(tokenizer.token_bytes(ids[k]) for k in g).decode("utf-8"))
                     for g in groups)
    return characters, sum(len(g) for g in groups)


def best_spelt(tokenizer, texts: list[str]) -> str:
    """Of several candidate texts, the one whose characters the tokenizer most often spells as
    whole tokens of their own (the first on a tie): a page's default text in words its model
    has learned. A character read as bytes or as the unknown token □ is not spelt.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> best_spelt(CharTokenizer.train("春眠不觉晓"), ["the cat", "春眠"])
    '春眠'
    >>> best_spelt(CharTokenizer.train("the cat"), ["the cat", "春眠"])
    'the cat'
    >>> best_spelt(CharTokenizer.train("春眠春眠", min_count=2), ["the cat", "春眠"])
    '春眠'
    """
    def share_not_spelt(text: str) -> float:
        ids = tokenizer.encode(text)
        in_bytes, _ = characters_in_pieces(tokenizer, ids)
        unknown = sum(tokenizer.is_unknown(i) for i in ids)
        return (in_bytes + unknown) / max(len(text), 1)
    return min(texts, key=share_not_spelt)


def ends_inside_a_character(tokenizer, ids: list[int]) -> bool:
    """True when the last tokens' bytes begin a UTF-8 character they do not finish: a cut
    after so many tokens fell inside a character spelt in bytes.

    >>> from lessons.engine.tokenizers import CharTokenizer
    >>> tok = CharTokenizer.train("ab")
    >>> ids = tok.encode("a猫")
    >>> ends_inside_a_character(tok, ids[:3]), ends_inside_a_character(tok, ids)
    (True, False)
    """
    raw = b"".join(tokenizer.token_bytes(i) for i in ids[-_MAX_CHAR_BYTES:])
    for n in range(1, min(_MAX_CHAR_BYTES, len(raw)) + 1):
        lead = raw[-n]
        if lead & 0xC0 != 0x80:                  # the first byte of the last character
            length = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
            return n < length
    return False


def style_html(css: str) -> str:
    """A <style> element for CSS the app wrote itself. CSS has no escaping that keeps it
    working, so anything that could end the element or start another is refused instead.

    >>> style_html("p { color: red; }")
    '<style>p { color: red; }</style>'
    >>> style_html("</style><script>alert(1)</script>")
    Traceback (most recent call last):
    ...
    ValueError: CSS may not contain '<'
    """
    if "<" in css:
        raise ValueError("CSS may not contain '<'")
    return f"<style>{css}</style>"
