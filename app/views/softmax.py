"""Softmax and cross-entropy: a playground, the loss, the model's next token, and the
document's worked numbers."""
import inspect
import re

import pandas as pd
import streamlit as st

from app import state
from lessons.concepts.softmax import compute as sm
from lessons.concepts.softmax import figures as smf
from lessons.worked_numbers import VERDICT_COLOURS, worked_numbers_table

tr = state.tr
DEFAULT_LOGITS = "1, 2, 2"          # the pre-activation the document prints in 3.3.2


def parse_logits(text: str) -> list[float]:
    parts = [p for p in text.replace("，", ",").replace(";", ",").replace(",", " ").split() if p]
    values = [float(p) for p in parts]        # ValueError on anything that is not a number
    if not 2 <= len(values) <= 12:
        raise ValueError("length")
    if any(v != v or abs(v) == float("inf") for v in values):
        raise ValueError("finite")
    return values


def label(tokenizer, token_id: int) -> str:
    """A token as Markdown-safe text: a token like '*' or '$' must not start bold or maths."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", sm.token_label(tokenizer, token_id))


def next_token_view(checkpoint, prompt: str, temperature: float, top_k, top_p, seed: int,
                    lang: str):
    """The model's next-token distribution and its chart: shared by every visitor asking the
    same model the same thing (state.shared), as most visitors of the shipped model do."""
    result = sm.next_token(checkpoint.model, checkpoint.tokenizer, prompt, temperature, top_k,
                           top_p, seed)
    return result, smf.next_token_figure(checkpoint.tokenizer, result, lang=lang)


def sequence_view(checkpoint, ids: list[int], lang: str):
    """Cross-entropy at every position of prompt + the learner's text, and (if the model kept
    its training curve) that curve with this text's loss drawn across it."""
    per_position = sm.per_position_cross_entropy(checkpoint.model, ids)
    figure = smf.loss_curve_figure(checkpoint.metrics, float(per_position.mean()), lang=lang) \
        if checkpoint.metrics else None
    return per_position, figure


@st.cache_data(show_spinner=False)
def worked_table(lang: str) -> pd.DataFrame:
    return pd.DataFrame(worked_numbers_table(lang))


st.title(tr("softmax.title"))
state.prose("softmax", "intro")

# ---- 1. softmax playground ------------------------------------------------------------------
st.header(tr("softmax.playground_heading"))
state.prose("softmax", "playground_text")
left, right = st.columns([1, 2])
with left:
    text = st.text_input(tr("softmax.logits_label"), DEFAULT_LOGITS, key="softmax_logits",
                         help=tr("softmax.logits_help"), max_chars=state.text_cap())
    temperature = st.slider(tr("softmax.temperature_label"), 0.1, 5.0, 1.0, 0.1,
                            key="softmax_temperature", help=tr("softmax.temperature_help"))
try:
    logits = parse_logits(text)
except ValueError:
    st.error(tr("softmax.bad_logits"))
    logits = parse_logits(DEFAULT_LOGITS)
probs = sm.softmax(logits, temperature)
labels = [str(i) for i in range(len(logits))]
with right:
    st.plotly_chart(state.shared(smf.probability_bars, labels, probs,
                                 tr("softmax.bars_title", temperature=f"{temperature:g}"),
                                 lang=state.lang()), key="softmax_bars")
with st.expander(tr("softmax.temperature_expander")):
    st.plotly_chart(state.shared(smf.temperature_figure, logits, lang=state.lang()),
                    key="softmax_temps")
    state.prose("softmax", "temperature_text")

st.subheader(tr("softmax.shift_heading"))
state.prose("softmax", "shift_text")
shift = st.number_input(tr("softmax.shift_label"), -1000.0, 1000.0, 100.0, 50.0, key="softmax_shift")
shifted = [x + shift for x in logits]
st.dataframe(pd.DataFrame({
    tr("softmax.col_logits"): logits, tr("softmax.col_probs"): sm.softmax(logits, temperature).tolist(),
    tr("softmax.col_shifted_logits"): shifted,
    tr("softmax.col_shifted_probs"): sm.softmax(shifted, temperature).tolist()}), hide_index=True)

st.subheader(tr("softmax.overflow_heading"))
big = [1000.0, 999.0, 998.0]
st.dataframe(pd.DataFrame({
    tr("softmax.col_logits"): big,
    tr("softmax.col_naive"): [str(round(v, 4)) for v in sm.naive_softmax(big).tolist()],
    tr("softmax.col_stable"): [round(v, 4) for v in sm.softmax(big).tolist()]}), hide_index=True)
state.prose("softmax", "overflow_text")
with st.expander(tr("softmax.show_code")):
    st.code(inspect.getsource(sm.softmax) + "\n" + inspect.getsource(sm.log_softmax), language="python")

# ---- 2. cross-entropy -----------------------------------------------------------------------
st.header(tr("softmax.ce_heading"))
state.prose("softmax", "ce_text")
target = st.selectbox(tr("softmax.target_label"), list(range(len(logits))), key="softmax_target",
                      index=min(1, len(logits) - 1))
if target >= len(logits):     # the logits got shorter since this was picked
    target = 0
p_target = float(probs[target])
ce_nats = float(sm.cross_entropy_of_probabilities([float(i == target) for i in range(len(logits))], probs))
c1, c2, c3 = st.columns(3)
c1.metric(tr("softmax.metric_p"), f"{p_target:.4f}")
c2.metric(tr("softmax.metric_ce"), f"{ce_nats:.4f}", help=tr("softmax.metric_ce_help", bits=f"{ce_nats / 0.6931471805599453:.4f}"))
c3.metric(tr("softmax.metric_ppl"), f"{sm.perplexity(ce_nats):.3f}")
st.plotly_chart(state.shared(smf.surprise_curve, p_target, lang=state.lang()), key="softmax_curve")
state.prose("softmax", "bits_text")

st.subheader(tr("softmax.soft_heading"))
state.prose("softmax", "soft_text")
y, y_hat = [0.7, 0.2, 0.1], [0.5, 0.3, 0.2]
rows = []
for base in ("nats", "bits"):
    rows.append({tr("softmax.col_unit"): tr(f"softmax.unit_{base}"),
                 tr("softmax.col_ce"): round(sm.cross_entropy_of_probabilities(y, y_hat, base).item(), 4),
                 tr("softmax.col_entropy"): round(sm.entropy(y, base).item(), 4),
                 tr("softmax.col_kl"): round(sm.kl_divergence(y, y_hat, base).item(), 4)})
st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader(tr("softmax.mse_heading"))
state.prose("softmax", "mse_text")
st.plotly_chart(state.shared(smf.gradient_figure, lang=state.lang()), key="softmax_gradients")

# ---- 3. the model's next token --------------------------------------------------------------
st.header(tr("softmax.model_heading"))
state.prose("softmax", "model_text")
checkpoint = state.active_checkpoint()
model, tokenizer = checkpoint.model, checkpoint.tokenizer
prompt = st.text_area(tr("softmax.prompt_label"), tr("softmax.prompt_default"), key="softmax_prompt",
                      max_chars=state.text_cap())
k1, k2, k3, k4 = st.columns(4)
model_temperature = k1.slider(tr("softmax.temperature_label"), 0.1, 3.0, 1.0, 0.1,
                              key="softmax_model_temperature")
top_k = k2.number_input(tr("softmax.top_k_label"), 0, tokenizer.vocab_size, 0, key="softmax_top_k",
                        help=tr("softmax.top_k_help"))
top_p = k3.slider(tr("softmax.top_p_label"), 0.05, 1.0, 1.0, 0.05, key="softmax_top_p",
                  help=tr("softmax.top_p_help"))
seed = k4.number_input(tr("softmax.seed_label"), 0, 10_000, 0, key="softmax_seed")
try:
    result, next_figure = state.shared(next_token_view, checkpoint, prompt, model_temperature,
                                       int(top_k) or None, top_p if top_p < 1.0 else None,
                                       int(seed), state.lang())
except Exception:              # a damaged or unusual model must not show a traceback
    st.error(tr("softmax.model_failed"))
    result = None
if result is not None:
    if result.started_empty:
        st.info(tr("softmax.empty_prompt", token=label(tokenizer, 0)))
    if result.cropped:
        st.info(tr("softmax.cropped", block=model.config.block_size))
    st.plotly_chart(next_figure, key="softmax_next")
    kept = int((result.probs > 0).sum())
    st.markdown(tr("softmax.sampled", token=label(tokenizer, result.sampled_id),
                   p=f"{float(result.probs[result.sampled_id]):.3f}", kept=kept,
                   vocab=tokenizer.vocab_size))

    st.subheader(tr("softmax.actual_heading"))
    actual = st.text_input(tr("softmax.actual_label"), tr("softmax.actual_default"),
                           key="softmax_actual", max_chars=state.text_cap())
    actual_ids = tokenizer.encode(actual)
    if not actual_ids:
        st.warning(tr("softmax.actual_empty"))
    else:
        p_actual = float(sm.softmax(result.logits)[actual_ids[0]])
        ce_actual = -float(sm.log_softmax(result.logits)[actual_ids[0]])
        st.markdown(tr("softmax.actual_result", token=label(tokenizer, actual_ids[0]),
                       p=f"{p_actual:.4f}", ce=f"{ce_actual:.3f}"))
        ids = (tokenizer.encode(prompt) or [0]) + actual_ids
        per_position, loss_figure = state.shared(sequence_view, checkpoint, ids, state.lang())
        val = [m["val_loss"] for m in checkpoint.metrics if m.get("val_loss") is not None]
        st.markdown(tr("softmax.sequence_result", n=len(per_position), ce=f"{per_position.mean():.3f}",
                       ppl=f"{sm.perplexity(float(per_position.mean())):.1f}",
                       val=f"{val[-1]:.3f}" if val else "–"))
        if loss_figure is not None:
            st.plotly_chart(loss_figure, key="softmax_loss_curve")

# ---- 4. the document's worked numbers -------------------------------------------------------
st.header(tr("softmax.worked_heading"))
state.prose("softmax", "worked_text")
table = worked_table(state.lang())
colour = lambda verdict: f"background-color: {VERDICT_COLOURS.get(verdict[:1], 'white')}"
styled = table.style.map(colour, subset=[tr("worked_numbers.col_verdict")])
st.dataframe(styled, hide_index=True, width="stretch", row_height=36, height=36 * (len(table) + 1) + 3,
             column_config={tr("worked_numbers.col_what"): st.column_config.TextColumn(width="medium"),
                            tr("worked_numbers.col_why"): st.column_config.TextColumn(width="large")})
with st.expander(tr("softmax.worked_expander")):
    what, verdict, why = (tr(f"worked_numbers.col_{key}") for key in ("what", "verdict", "why"))
    st.markdown("\n".join(f"- {row[verdict]} · **{row[what]}**: {row[why]}" for _, row in table.iterrows()))
state.prose("softmax", "worked_after")
