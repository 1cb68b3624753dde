"""The suite's own wait: it returns as soon as its condition holds and fails, naming what it
waited for, once its deadline passes."""
import itertools
import time

import pytest

from tests.helpers import wait_for


def test_wait_for_returns_once_the_condition_holds():
    calls = itertools.count(1)
    wait_for(lambda: next(calls) >= 3, timeout=5, what="the third call")
    assert next(calls) == 4


def test_wait_for_fails_with_a_message_after_its_deadline():
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match="timed out after 0.2 s waiting for Godot"):
        wait_for(lambda: False, timeout=0.2, what="Godot")
    assert 0.2 <= time.monotonic() - started < 2
