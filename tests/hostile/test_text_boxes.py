"""Issue #22 item 6: a lone surrogate from the browser no longer drops the message it came in.
The cut in characters is tested on every box in tests/app/test_faults.py, the browser side in
tests/browser/test_pasted_text.py."""
from __future__ import annotations

import pytest
from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg

from app.state import server


def _browser_bytes(text: str) -> bytes:
    """A rerun message carrying ``text`` as a widget's string value, encoded the way the
    browser's protobuf library writes a lone surrogate (three bytes, like any BMP character)."""
    msg = BackMsg()
    widget = msg.rerun_script.widget_states.widgets.add()
    # written first as ☃ (three bytes too), so every length in the message stays right
    widget.id, widget.string_value = "box", text.replace("\ud83e", "\u2603")
    return msg.SerializeToString().replace("\u2603".encode(),
                                           "\ud83e".encode("utf-8", "surrogatepass"))


def test_a_message_with_a_lone_surrogate_parses_with_a_replacement_character():
    data = _browser_bytes("ab\ud83e cd")
    server.forgive_lone_surrogates()
    with pytest.raises(DecodeError):       # Streamlit's own parse: it closed the socket
        BackMsg.ParseFromString.original(BackMsg(), data)
    parsed = BackMsg()
    parsed.ParseFromString(data)
    assert parsed.rerun_script.widget_states.widgets[0].string_value == "ab\ufffd cd"


def test_a_message_that_is_broken_otherwise_still_fails():
    server.forgive_lone_surrogates()
    with pytest.raises(DecodeError):
        BackMsg().ParseFromString(b"\x0a\xff\xff")
