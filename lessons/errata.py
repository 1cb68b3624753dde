"""What the source document gets wrong in words and code: one list, shown where each concept
is taught.

``lessons/worked_numbers.py`` holds the document's *numbers*; this module holds its other
errors: a false claim, code that cannot run, a post that contradicts itself. An ``Erratum``
records which post (``"000"`` .. ``"004"``, the files in ``shared/seeds/``), where in it, the
lesson page that shows it (a slug of ``lessons/registry.py``), what kind of error it is and a
few characters of the post that locate it (``anchors``: a test finds them in the post, so an
erratum cannot point at text the post does not have). Its words are lesson text, in
``lessons/prose/<lang>/errata.md``: ``<key>_claim`` (what the post says, paraphrased, and where)
and ``<key>_fix`` (what is true instead).

>>> [e.key for e in for_slug("attention")]
['attention_cost', 'wa_ignores_tokens']
>>> sorted({e.post for e in ERRATA})
['000', '001', '002', '003', '004']
>>> erratum("wa_ignores_tokens").where("en")
'004 §3.3.3'
"""
from __future__ import annotations

from dataclasses import dataclass

from lessons import registry
from lessons.i18n import t

POSTS = ("000", "001", "002", "003", "004")
KINDS = ("wrong", "code", "inconsistent", "incomplete")


@dataclass(frozen=True)
class Erratum:
    key: str                         # prose keys errata.<key>_claim and errata.<key>_fix
    post: str                        # "000" .. "004"
    section: str | None              # the post's own section number; None where it has none
    slug: str                        # the registry lesson whose page shows it
    kind: str                        # wrong | code | inconsistent | incomplete
    anchors: tuple[str, ...]         # short pieces of the post that locate it (tests only)
    worked_number: str | None = None   # the worked_numbers row it qualifies, if any

    def where(self, lang: str = "en") -> str:
        """'004 §3.3.3', or just '000' for a post without numbered sections."""
        if self.section is None:
            return self.post
        return t("errata.where", lang, post=self.post, section=self.section)

    def claim(self, lang: str = "en") -> str:
        return unwrap(t(f"errata.{self.key}_claim", lang), lang)

    def fix(self, lang: str = "en") -> str:
        """What holds instead; "{page}" in the text is the title of the page that shows it,
        so a reference to "section 3" reads the same on that page, the home page and a table."""
        page = t(registry.lesson(self.slug).title_key, lang)
        return unwrap(t(f"errata.{self.key}_fix", lang, page=page), lang)

    def kind_label(self, lang: str = "en") -> str:
        return t(f"errata.kind_{self.kind}", lang)

    def markdown(self, lang: str = "en") -> str:
        """One Markdown list item: the claim in bold, where and what kind, then the fix."""
        return t("errata.item", lang, claim=self.claim(lang), where=self.where(lang),
                 kind=self.kind_label(lang), fix=self.fix(lang))


def unwrap(text: str, lang: str = "en") -> str:
    """The prose file's wrapped lines as one line. English joins them with a space. Chinese
    joins two Chinese characters with nothing (a space there would show), and puts a space
    between Chinese and Latin text, none next to full-width punctuation.

    >>> unwrap("a line —\\nand more"), unwrap("中文的\\n一行", "zh"), unwrap("会报\\nIndentationError", "zh")
    ('a line — and more', '中文的一行', '会报 IndentationError')
    >>> unwrap("MIT Press，\\n2016 年", "zh")
    'MIT Press，2016 年'
    """
    lines = [line.strip() for line in text.splitlines()]
    joined = lines[0] if lines else ""
    for line in lines[1:]:
        joined += (" " if _space_between(joined[-1:], line[:1], lang) else "") + line
    return joined


def _space_between(left: str, right: str, lang: str) -> bool:
    if lang != "zh":
        return True
    full_width = lambda c: c in "“”‘’—…·" or 0x3000 <= ord(c) <= 0x303F or 0xFF00 <= ord(c) <= 0xFFEF  # noqa: E731
    if not left or not right or full_width(left) or full_width(right):
        return False
    return left.isascii() or right.isascii()


ERRATA: tuple[Erratum, ...] = (
    # ---- 000: a general introduction with a PyTorch listing --------------------------------
    Erratum("output_formula", "000", None, "forward_pass", "wrong",
            ("Encoder(Encoder(X) + Decoder(X))",)),
    Erratum("layers_per_block", "000", None, "forward_pass", "wrong",
            ("多个多头注意力层",)),
    Erratum("transformers_library", "000", None, "forward_pass", "wrong",
            ("Transformers 是一种新的深度学习架构",)),
    Erratum("listing_does_not_run", "000", None, "training", "code",
            ("for epoch in range(num_epochs):", "in data_loader:", "# Encoder 的实现代码")),
    # ---- 001: overview ending in perplexity and BLEU ---------------------------------------
    Erratum("stop_words", "001", "3.1", "tokenization", "wrong", ("去除停用词",)),
    Erratum("cross_entropy_n", "001", "4.2", "softmax", "wrong",
            ("表示样本数量", "表示模型预测的标签")),
    # ---- 002: BERT and self-supervised learning (the BERT-and-GPT page's section 6) --------
    Erratum("lm_subfield", "002", "1", "masked_vs_causal", "wrong", ("计算机科学的一个子领域",)),
    Erratum("adversarial_pretext", "002", "2", "masked_vs_causal", "wrong", ("对抗学习",)),
    Erratum("masking_recipe", "002", "4", "masked_vs_causal", "incomplete", ("随机mask掉部分词汇",)),
    Erratum("all_positions", "002", "5", "masked_vs_causal", "incomplete", ("其他所有位置",)),
    Erratum("nsp_missing", "002", "6", "masked_vs_causal", "incomplete", ("masked LM作为预训练任务",)),
    Erratum("bert_context", "002", "9", "masked_vs_causal", "incomplete",
            ("BERT与其他语言模型的主要区别",)),
    # ---- 003: language models and attention ------------------------------------------------
    Erratum("attention_cost", "003", "2.3", "attention", "wrong", ("计算效率高",)),
    # ---- 004: building blocks with worked examples -----------------------------------------
    Erratum("wa_ignores_tokens", "004", "3.3.3", "attention", "incomplete",
            (r"\text{W}_{a} \cdot \text{h}_{t}",), worked_number="attention_weights"),
    Erratum("pretraining_definition", "004", "1.4.2", "training", "inconsistent",
            ("在特定任务上预先训练模型", "在大量无监督数据上预先训练模型")),
    Erratum("fit_without_labels", "004", "2.4", "training", "code",
            ("model.fit(unlabeled_data, epochs=100)", "model.fit(labeled_data, epochs=10)")),
    Erratum("weight_matrix_unused", "004", "4.2", "training", "code",
            ("weight_matrix = np.array",)),
    Erratum("mse_on_softmax", "004", "4.3", "softmax", "wrong", ("回归损失函数",)),
    Erratum("references", "004", "6.3, §9.1", "home", "inconsistent",
            ("Bryce_BUFFETT", "Niki Parmar", "\"Deep Learning\"（2015）", "MIT Press, 2016")),
)


def erratum(key: str) -> Erratum:
    """The erratum with this key; KeyError names the known ones."""
    for entry in ERRATA:
        if entry.key == key:
            return entry
    raise KeyError(f"no erratum {key!r}; known: {', '.join(e.key for e in ERRATA)}")


def for_slug(slug: str) -> list[Erratum]:
    """The errata a lesson page shows, in the order of the posts."""
    return [e for e in ERRATA if e.slug == slug]


def for_post(post: str) -> list[Erratum]:
    """The errata of one post ("000" .. "004"), in the order they come in it."""
    return [e for e in ERRATA if e.post == post]


def by_post() -> dict[str, list[Erratum]]:
    """Every erratum grouped by post, posts in order; a post without errata is left out.

    >>> {post: len(found) for post, found in by_post().items()}
    {'000': 4, '001': 2, '002': 6, '003': 1, '004': 6}
    """
    return {post: for_post(post) for post in POSTS if for_post(post)}


def for_worked_number(row_id: str) -> list[Erratum]:
    """The errata that qualify one worked_numbers row (the row's number is right, but)."""
    return [e for e in ERRATA if e.worked_number == row_id]


def slugs() -> list[str]:
    """Every page that shows errata, in registry order is the caller's business: first seen."""
    return list(dict.fromkeys(e.slug for e in ERRATA))
