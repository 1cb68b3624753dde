"""The decoding page in AppTest, en and zh: the steps move forward and back, each step equals
decoding.generate, beam search shows beam_search's beams, the comparison table equals
compare(), the copied spans are escaped, and hostile prompts do not break it."""
import pytest

from lessons.concepts.decoding import compute as dc
from lessons.engine.checkpoint import load_checkpoint
from tests.helpers import assert_page_ok as ok, open_view, page_markdown as text


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint_bytes):
    return load_checkpoint(tiny_checkpoint_bytes)



@pytest.mark.parametrize("lang", ["en", "zh"])
def test_steps_forward_back_and_to_the_end(lang, tiny):
    at = open_view("decoding", lang, tiny)
    ok(at)
    at.selectbox(key="decoding_strategy").set_value("top-k").run()
    at.number_input(key="decoding_top_k").set_value(3).run()
    at.number_input(key="decoding_length").set_value(8).run()
    ok(at)
    assert at.slider(key="decoding_step").value == 1
    at.button(key="decoding_forward").click().run()
    at.button(key="decoding_forward").click().run()
    assert at.slider(key="decoding_step").value == 3
    at.button(key="decoding_back").click().run()
    assert at.slider(key="decoding_step").value == 2
    at.button(key="decoding_to_end").click().run()
    ok(at)
    assert at.slider(key="decoding_step").value == 8
    prompt = at.text_area(key="decoding_prompt").value
    steps = dc.walk(tiny.model, tiny.tokenizer.encode(prompt), dc.Strategy("top-k", top_k=3), 8)
    so_far = tiny.tokenizer.decode([s.chosen for s in steps[:7]])
    assert at.code[0].value == prompt + so_far + "▌"
    assert ("kept **3** of" if lang == "en" else "保留了 **3** 个") in text(at)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_beam_search_shows_the_beams_and_the_comparison_is_compare(lang, tiny):
    at = open_view("decoding", lang, tiny)
    at.selectbox(key="decoding_strategy").set_value("beam").run()
    at.number_input(key="decoding_length").set_value(5).run()
    at.button(key="decoding_to_end").click().run()
    ok(at)
    prompt = at.text_area(key="decoding_prompt").value
    beams = dc.beam_tree(tiny.model, tiny.tokenizer.encode(prompt), 5, 3).beams
    table = at.dataframe[0].value
    assert sorted(table.iloc[:, 1]) == sorted(prompt + tiny.tokenizer.decode(b.ids) for b in beams)
    compare = at.dataframe[1].value
    rows = dc.compare(tiny.model, tiny.tokenizer.encode(prompt),
                      [dc.Strategy(n, top_k=10, top_p=0.9) for n in dc.STRATEGIES], 5)
    assert len(compare) == 5
    assert list(compare.iloc[:, 2]) == [round(r["logprob"], 3) for r in rows]
    assert list(compare.iloc[:, 1]) == [tiny.tokenizer.decode(r["ids"]) for r in rows]


@pytest.mark.parametrize("prompt", ["", "<script>alert(1)</script>", "猫" * 300, "`*$_\n\n#"])
def test_hostile_prompts(prompt, tiny):
    at = open_view("decoding", "en", tiny)
    at.text_area(key="decoding_prompt").set_value(prompt).run()
    ok(at)
    shown = "".join(h.proto.body for h in at.get("html"))
    assert "<span" in shown and "<script>" not in shown
    if not prompt:
        assert at.info


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_guessing_game_scores_you_and_the_model(lang, tiny):
    at = open_view("decoding", lang, tiny)
    at.text_input(key="decoding_passage").set_value("the cat sat on the mat. the dog").run()
    ok(at)
    assert shown(at) == "the cat sat on the mat. ▌"     # the first 24 characters
    at.text_input(key="decoding_guess").set_value("x").run()
    at.button(key="decoding_guess_button").click().run()
    ok(at)
    assert at.warning                                     # wrong: guess again
    at.text_input(key="decoding_guess").set_value("the").run()   # only its first token counts
    at.button(key="decoding_guess_button").click().run()
    at.button(key="decoding_reveal").click().run()       # "h": shown, as if 2 guesses
    ok(at)
    assert shown(at) == "the cat sat on the mat. th▌"
    table = at.dataframe[-1].value
    assert list(table.iloc[0, 1:4]) == [0, 2.0, 0.0]      # 2 and 2 guesses: 0 bits, none first
    ids = tiny.tokenizer.encode("the cat sat on the mat. th")
    model = dc.model_game(tiny.model, tiny.tokenizer, ids, 24)
    assert table.iloc[1, 1] == sum(r["rank"] == 1 for r in model)
    assert table.iloc[1, 4] == round(sum(r["bits"] for r in model) / 2, 3)


def shown(at):
    return [c.value for c in at.code if c.value.endswith("▌")][-1]


def test_comparison_shows_the_copied_share_and_an_own_model_says_what_it_is_compared_with(tiny):
    from lessons.engine.corpus import embedded_corpus
    at = open_view("decoding", "en", tiny)           # a model of the learner's own
    ok(at)
    compare = at.dataframe[0].value
    expected = [round(dc.copied_view(t, embedded_corpus(), 12)["share"], 3) for t in compare.iloc[:, 1]]
    assert list(compare.iloc[:, -1]) == expected
    assert any("embedded corpus" in c.value for c in at.caption)
