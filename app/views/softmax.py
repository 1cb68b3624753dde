"""Softmax and cross-entropy: a playground, the loss, the model's next token, and the
document's worked numbers."""
import pandas as pd
import streamlit as st

from app.panels.errata import show_errata
from app.panels.softmax_model import next_token_section
from app.ui import explain, free_text, lang, prose, shared, show_code, tr
from app.panels.quiz import quiz_section
from lessons.concepts.softmax import compute as sm
from lessons.concepts.softmax import figures as smf
from lessons.errors import LessonError
from lessons.worked_numbers import VERDICT_COLOURS, worked_numbers_table

DEFAULT_LOGITS = "1, 2, 2"          # the pre-activation the document prints in 3.3.2
SOFT_TARGET, SOFT_PREDICTION = [0.7, 0.2, 0.1], [0.5, 0.3, 0.2]
OVERFLOW_LOGITS = [1000.0, 999.0, 998.0]


def verdict_colour(verdict: str) -> str:
    return f"background-color: {VERDICT_COLOURS.get(verdict[:1], 'white')}"


st.title(tr("softmax.title"))
prose("softmax.intro")

# ---- 1. softmax playground ------------------------------------------------------------------
st.header(tr("softmax.playground_heading"))
prose("softmax.playground_text")
left, right = st.columns([1, 2])
with left:
    text = free_text(st.text_input, tr("softmax.logits_label"), DEFAULT_LOGITS,
                     key="softmax_logits", help=tr("softmax.logits_help"))
    temperature = st.slider(tr("softmax.temperature_label"), 0.1, 5.0, 1.0, 0.1,
                            key="softmax_temperature", help=tr("softmax.temperature_help"))
try:
    logits = sm.parse_logits(text)
except ValueError as exc:     # LessonError (numbers too big) says exactly what is wrong
    st.error(explain(exc) if isinstance(exc, LessonError) else tr("softmax.bad_logits"))
    logits = sm.parse_logits(DEFAULT_LOGITS)
probs = sm.softmax(logits, temperature)
labels = [str(i) for i in range(len(logits))]
with right:
    st.plotly_chart(shared(smf.probability_bars, labels, probs,
                           tr("softmax.bars_title", temperature=f"{temperature:g}"), lang=lang()),
                    key="softmax_bars")
with st.expander(tr("softmax.temperature_expander")):
    st.plotly_chart(shared(smf.temperature_figure, logits, lang=lang()), key="softmax_temps")
    prose("softmax.temperature_text")

st.subheader(tr("softmax.shift_heading"))
prose("softmax.shift_text")
shift = st.number_input(tr("softmax.shift_label"), -1000.0, 1000.0, 100.0, 50.0, key="softmax_shift")
shifted = [x + shift for x in logits]
st.dataframe(pd.DataFrame({
    tr("softmax.col_logits"): logits, tr("softmax.col_probs"): probs.tolist(),
    tr("softmax.col_shifted_logits"): shifted,
    tr("softmax.col_shifted_probs"): sm.softmax(shifted, temperature).tolist()}), hide_index=True)

st.subheader(tr("softmax.overflow_heading"))
st.dataframe(pd.DataFrame({
    tr("softmax.col_logits"): OVERFLOW_LOGITS,
    tr("softmax.col_naive"): [str(round(v, 4)) for v in sm.naive_softmax(OVERFLOW_LOGITS).tolist()],
    tr("softmax.col_stable"): [round(v, 4) for v in sm.softmax(OVERFLOW_LOGITS).tolist()]}),
    hide_index=True)
prose("softmax.overflow_text")
show_code(sm.softmax, sm.log_softmax, label="softmax.show_code")

# ---- 2. cross-entropy -----------------------------------------------------------------------
st.header(tr("softmax.ce_heading"))
prose("softmax.ce_text")
target = st.selectbox(tr("softmax.target_label"), list(range(len(logits))), key="softmax_target",
                      index=min(1, len(logits) - 1))
if target >= len(logits):     # the logits got shorter since this was picked
    target = 0
surprise = sm.target_surprise(probs, target)
c1, c2, c3 = st.columns(3)
c1.metric(tr("softmax.metric_p"), f"{surprise['p']:.4f}")
c2.metric(tr("softmax.metric_ce"), f"{surprise['nats']:.4f}",
          help=tr("softmax.metric_ce_help", bits=f"{surprise['bits']:.4f}"))
c3.metric(tr("softmax.metric_ppl"), f"{surprise['perplexity']:.3f}")
st.plotly_chart(shared(smf.surprise_curve, surprise["p"], lang=lang()), key="softmax_curve")
prose("softmax.bits_text")

st.subheader(tr("softmax.soft_heading"))
prose("softmax.soft_text")
rows = [{tr("softmax.col_unit"): tr(unit),
         tr("softmax.col_ce"): round(sm.cross_entropy_of_probabilities(SOFT_TARGET, SOFT_PREDICTION,
                                                                       base).item(), 4),
         tr("softmax.col_entropy"): round(sm.entropy(SOFT_TARGET, base).item(), 4),
         tr("softmax.col_kl"): round(sm.kl_divergence(SOFT_TARGET, SOFT_PREDICTION, base).item(), 4)}
        for base, unit in (("nats", "softmax.unit_nats"), ("bits", "softmax.unit_bits"))]
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader(tr("softmax.mse_heading"))
prose("softmax.mse_text")
st.plotly_chart(shared(smf.gradient_figure, lang=lang()), key="softmax_gradients")

# ---- 3. the model's next token --------------------------------------------------------------
next_token_section()

# ---- 4. the document's worked numbers -------------------------------------------------------
st.header(tr("softmax.worked_heading"))
prose("softmax.worked_text")
table = pd.DataFrame(shared(worked_numbers_table, lang()))
styled = table.style.map(verdict_colour, subset=[tr("worked_numbers.col_verdict")])
# a static table wraps its cells, so no "what" or "why" is cut off (a dataframe's cells are one
# line high and cut long text)
st.table(styled.hide(axis="index"))
prose("softmax.worked_after")
show_errata("softmax")
quiz_section("softmax")
