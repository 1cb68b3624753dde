"""The tokenisation page in AppTest: the merge slider and vocabulary, bad input, the upload
choice, the active model's tokenizer."""
from lessons.concepts.tokenization import compute as lesson
from tests.helpers import open_view


def open_page(lang="en"):
    return open_view("tokenization", lang)


def htmls(at):
    return " ".join(str(e.proto) for e in at.get("html"))


def test_page_moves_the_merge_slider_and_vocabulary():
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    at.slider(key="tok_merge").set_value(0).run()
    assert any("0 of 743 merges" in c.value for c in at.caption)
    assert any("No merge yet" in m.value for m in at.markdown)
    at.slider(key="tok_merge").set_value(3).run()
    assert any("Merge 3:" in m.value for m in at.markdown)
    at.select_slider(key="tok_vocab").set_value(300).run()
    assert not at.exception
    # 300 tokens = 257 + 43 merges: the slider's range shrank and its value stayed inside
    assert at.slider(key="tok_merge").max == 43 and at.slider(key="tok_merge").value == 3
    assert any("✓" in c.value for c in at.caption)


def test_training_box_shows_progress_only_while_there_is_something_to_train():
    """A rerun skips st.status (which sleeps 50 ms each time it is drawn) once the server has
    the tokenizers; the box says the same finished thing either way."""
    from app.state import results
    results._computed.clear()          # as on a server that never trained these
    for lang, done in (("en", "743 merges, a vocabulary of 1000 tokens"),
                       ("zh", "743 次合并，词表共 1000 个词元")):
        at = open_page(lang)
        assert not at.exception, [e.value for e in at.exception]
        first = [s for s in at.status]
        assert len(first) == 1 and first[0].state == "complete" and done in first[0].label
        at.run()                       # a rerun, nothing changed
        assert not at.exception and not list(at.status)
        boxes = [e for e in at.expander if done in e.label]
        assert len(boxes) == 1 and boxes[0].icon == ":material/check:"
        results._computed.clear()


def test_page_bad_input_never_raises_and_keeps_the_text():
    at = open_page("zh")
    for text in ["", "x" * 1_000_000, "\x00\x01 NUL \u202e RTL שלום", "👩🏽‍💻👍🏿🇨🇳",
                 "<script>alert(1)</script>"]:
        at.text_area(key="tok_text").set_value(text).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.text_area(key="tok_text").value == text
        if not text:
            assert at.info
        if len(text) > lesson.DISPLAY_CHAR_LIMIT:
            assert any("20,000" in w.value for w in at.warning)
        assert "<script>" not in htmls(at)


def test_page_upload_choice_without_a_file_falls_back_to_the_builtin_text():
    at = open_page()
    at.radio(key="tok_source").set_value("upload").run()
    assert not at.exception
    assert any("No file yet" in i.value for i in at.info)


def test_page_active_model_tokenizer():
    at = open_page()
    at.radio(key="tok_which").set_value("active").run()
    assert not at.exception
    # the shipped model's tokenizer is character-level and never saw Chinese: 47 English
    # characters + 10 Chinese ones = 57 characters, 47 + 30 = 77 bytes, 47 + 30 byte tokens
    assert [m.value for m in at.metric][:3] == ["57", "77", "77"]
    at.select_slider(key="tok_vocab").set_value(500).run()
    assert at.radio(key="tok_which").value == "active"
