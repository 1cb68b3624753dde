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
