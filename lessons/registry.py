"""THE list of lessons. Navigation, the home page, every test suite that goes page by page
(AppTest, browser, faults, security, prose) and the load test read it, so a new lesson is one
entry here plus its files, and no suite can forget it.

A lesson's files follow from its slug and prose topic:
``app/views/<slug>.py`` (the page), ``lessons/prose/<lang>/<prose>.md`` (its words, with at
least ``title`` and, for a lesson, ``summary``), ``notebooks/<notebook>`` (its notebook).

>>> [entry.slug for entry in PAGES][:3]
['home', 'tokenization', 'embeddings']
>>> lesson("attention").text_boxes[0]
TextBox(kind='text_input', key='attention_text')
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextBox:
    """A free-text widget of a page: the fault suite types empty, huge and capped text into
    it, the security suite a script payload."""
    kind: str      # "text_area" or "text_input" (the AppTest accessor and the HTML element)
    key: str       # the widget's key

    @property
    def selector(self) -> str:
        """CSS selector of the box's element in the browser."""
        return "textarea" if self.kind == "text_area" else 'input[type="text"]'


@dataclass(frozen=True)
class Lesson:
    slug: str                          # url path: /<slug>; the home page's url is /
    icon: str                          # a Material icon name in Streamlit's :material/...: form
    prose: str                         # topic of lessons/prose/<lang>/<prose>.md
    notebook: str | None = None        # file name in notebooks/
    more_notebooks: tuple[str, ...] = ()   # further notebooks of the same lesson (e.g. evaluation)
    text_boxes: tuple[TextBox, ...] = ()
    browse: bool = True                # the load test's visitors browse it (training is driven)
    is_home: bool = False

    @property
    def notebooks(self) -> tuple[str, ...]:
        """Every notebook of the lesson, its main one first."""
        return ((self.notebook,) if self.notebook else ()) + self.more_notebooks

    @property
    def page(self) -> str:
        """The page's script, relative to app/."""
        return f"views/{self.slug}.py"

    @property
    def title_key(self) -> str:
        return "app.home_title" if self.is_home else f"{self.prose}.title"

    @property
    def summary_key(self) -> str | None:
        return None if self.is_home else f"{self.prose}.summary"

    @property
    def url_path(self) -> str:
        return "" if self.is_home else self.slug


HOME = Lesson("home", ":material/school:", prose="app", notebook="00_worked_numbers.ipynb",
              is_home=True)

LESSONS: list[Lesson] = [
    Lesson("tokenization", ":material/text_fields:", prose="tokenization",
           notebook="01_tokenization.ipynb",
           text_boxes=(TextBox("text_area", "tok_text"), TextBox("text_area", "tok_zh_text"))),
    Lesson("embeddings", ":material/scatter_plot:", prose="embeddings",
           notebook="02_embeddings.ipynb"),
    Lesson("attention", ":material/grid_on:", prose="attention", notebook="03_attention.ipynb",
           text_boxes=(TextBox("text_input", "attention_text"),)),
    Lesson("forward_pass", ":material/account_tree:", prose="forward_pass",
           notebook="06_forward_pass.ipynb",
           text_boxes=(TextBox("text_input", "forward_text"),)),
    Lesson("training", ":material/monitoring:", prose="training", notebook="04_training.ipynb",
           browse=False),
    Lesson("softmax", ":material/functions:", prose="softmax",
           notebook="05_softmax_cross_entropy.ipynb",
           text_boxes=(TextBox("text_area", "softmax_prompt"), TextBox("text_input", "softmax_logits"),
                       TextBox("text_input", "softmax_actual"))),
    Lesson("decoding", ":material/edit_note:", prose="decoding", notebook="10_decoding.ipynb",
           text_boxes=(TextBox("text_area", "decoding_prompt"),
                       TextBox("text_input", "decoding_passage"),
                       TextBox("text_input", "decoding_guess"))),
    Lesson("masked_vs_causal", ":material/compare_arrows:", prose="masked_vs_causal",
           notebook="09_masked_vs_causal.ipynb",
           text_boxes=(TextBox("text_input", "mvc_sentence"), TextBox("text_input", "mvc_blank"),
                       TextBox("text_input", "mvc_prompt"))),
    # the model trains live here (four methods): the load test does not browse it
    Lesson("finetuning", ":material/tune:", prose="finetuning", notebook="07_finetuning.ipynb",
           more_notebooks=("08_evaluation.ipynb",), browse=False),
]

# the home page first: it is the default page of the navigation
PAGES: list[Lesson] = [HOME, *LESSONS]


def lesson(slug: str) -> Lesson:
    """The entry with this slug; KeyError names the known ones."""
    for entry in PAGES:
        if entry.slug == slug:
            return entry
    raise KeyError(f"no lesson {slug!r}; known: {', '.join(e.slug for e in PAGES)}")
