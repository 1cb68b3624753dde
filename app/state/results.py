"""Work shared by every visitor: ``shared(fn, *args)`` computes fn(*args) once per distinct key
for the whole server. The app's one cache; pages reach it as ``app.ui.shared``.

Why: most visitors of a hosted demo look at the same pictures (the shipped model, the default
text). Drawing them costs up to a second of CPU a view, and one server's Python runs one page at
a time, so a class of 30 waited in line.

Why this keeps sessions apart: the key is everything that made the result, so a result is found
again only by asking for exactly the same computation, and a session can only get what it would
have computed itself. A checkpoint counts by its uid, a random name that only the session
holding that model knows. The key holds:

- the function: its module, qualified name, file, first line, a digest of its code and its
  default values;
- every argument, through ``key_part``: a cheap stand-in (a tensor, a long string: a digest of
  the content; a checkpoint: its uid).

What such a key could not see is refused with a TypeError instead of guessed at:

- closures and lambdas: a closure's captured values are inputs that are not arguments (a
  lambda over one session's checkpoint would hand that session's result to everyone);
- bound methods, ``functools.partial`` and other callable objects, for the same reason;
- a function defined on a page that reads a page-level variable holding data: a page's script
  runs once per visitor and click, so that variable may be one visitor's (their model, their
  text). Modules, functions, classes and constants are fine; pass the rest as arguments.
"""
from __future__ import annotations

import dataclasses
import dis
import enum
import hashlib
import sys
import types
from functools import lru_cache

import streamlit as st
import torch

from app.state import session
from lessons.engine.checkpoint import Checkpoint
from lessons.i18n import t

SHARED_ENTRIES = 512               # at most this many results kept (least recently used go):
                                   # ~100 KB each for the shipped model, so ~50 MB
SHARED_TTL_S = 30 * 60
LONG_TEXT = 256                    # longer str / bytes enter a key as a digest of themselves


# ---- arguments ------------------------------------------------------------------------------

def key_part(value):
    """A cheap, hashable stand-in for one argument; TypeError for what it cannot key.

    key_part("abc") == "abc"; a 466 KB corpus becomes ("str-sha256", length, hex digest);
    a tensor (shape, dtype, digest of its bytes); a frozen dataclass its class and fields.
    """
    if isinstance(value, Checkpoint):
        return ("checkpoint", value.uid)
    if isinstance(value, torch.Tensor):
        data = value.detach().cpu().contiguous()
        return ("tensor", tuple(data.shape), str(data.dtype),
                hashlib.sha256(data.numpy().tobytes()).hexdigest())
    if isinstance(value, (str, bytes)):
        if len(value) <= LONG_TEXT:
            return value
        raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        return (f"{type(value).__name__}-sha256", len(value), hashlib.sha256(raw).hexdigest())
    if value is None or isinstance(value, (bool, int, float, enum.Enum)):
        return value
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(key_part(v) for v in value)
    if isinstance(value, dict):
        items = sorted(((key_part(k), key_part(v)) for k, v in value.items()), key=repr)
        return ("dict",) + tuple(items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) \
            and value.__dataclass_params__.frozen:       # a config: immutable, keyed by its fields
        return (_name_of(type(value)),) + tuple(
            (f.name, key_part(getattr(value, f.name))) for f in dataclasses.fields(value))
    raise TypeError(f"shared(): cannot key an argument of type {type(value).__name__}")


def _name_of(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _type_name(obj) -> str:
    """'method', 'functools.partial', 'Model': what a callable is, for a message."""
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else _name_of(kind)


# ---- the function ---------------------------------------------------------------------------

def function_key(fn) -> tuple:
    """What identifies fn's computation; TypeError for a function whose inputs would not all
    be in the key (see the module's docstring)."""
    if isinstance(fn, types.BuiltinFunctionType):          # len, torch.sum: nothing captured
        if fn.__self__ is not None and not isinstance(fn.__self__, types.ModuleType):
            raise TypeError(f"shared() refuses the bound method {fn.__qualname__}: the object "
                            "it belongs to is an input its key cannot see")
        return ("builtin", fn.__module__, fn.__qualname__)
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"shared() takes a plain function, not a {_type_name(fn)}: a bound "
                        "method, a functools.partial or a callable object carries inputs its "
                        "key cannot see")
    _refuse_captures(fn)
    if not _imported(fn):
        _refuse_page_variables(fn, seen=set())
    code = fn.__code__
    return ("function", fn.__module__, fn.__qualname__, code.co_filename, code.co_firstlineno,
            _code_digest(code), key_part(fn.__defaults__), key_part(fn.__kwdefaults__))


def _refuse_captures(fn: types.FunctionType) -> None:
    if fn.__name__ == "<lambda>":
        raise TypeError("shared() refuses lambdas: define a named function at the top of the "
                        "module and pass what it needs as arguments")
    if fn.__closure__:
        raise TypeError(f"shared() refuses the closure {fn.__qualname__}: it captured "
                        f"{', '.join(fn.__code__.co_freevars)}, inputs its key cannot see; "
                        "pass them as arguments")


def _refuse_page_variables(fn: types.FunctionType, seen: set) -> None:
    """A page's function may read the page's modules, classes, constants and imported
    functions; the page functions it calls are held to the same rule."""
    seen.add(fn)
    for name in _globals_read(fn.__code__):
        if name not in fn.__globals__:
            continue                                        # a builtin such as len
        value = fn.__globals__[name]
        if isinstance(value, types.FunctionType) and not _imported(value):
            if value not in seen:                           # a page function it calls
                _refuse_captures(value)
                _refuse_page_variables(value, seen)
        elif not (isinstance(value, types.FunctionType) or _fixed(value)):
            raise TypeError(f"shared(): {fn.__qualname__} reads the page variable {name!r} "
                            f"(a {type(value).__name__}); a page runs once per visitor, so it "
                            "may hold one visitor's value: pass it as an argument")


def _imported(fn: types.FunctionType) -> bool:
    """True for a function of an imported module (not of a page script, which Streamlit runs
    in a fresh namespace named __main__ on every run)."""
    module = sys.modules.get(fn.__module__) if fn.__module__ != "__main__" else None
    return module is not None and getattr(module, "__dict__", None) is fn.__globals__


def _fixed(value) -> bool:
    """Values a page may read from inside a shared computation: modules, classes, functions
    of imported modules and constants."""
    if isinstance(value, (types.ModuleType, type, types.BuiltinFunctionType, enum.Enum)):
        return True
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_fixed(v) for v in value)
    return False


@lru_cache(maxsize=1024)
def _globals_read(code: types.CodeType) -> frozenset[str]:
    """Names a function's code (and the code nested in it: comprehensions, inner functions)
    looks up as globals."""
    names = {i.argval for i in dis.get_instructions(code)
             if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _globals_read(const)
    return frozenset(names)


@lru_cache(maxsize=1024)
def _code_digest(code: types.CodeType) -> str:
    """A digest of what a function does, so an edited function (Streamlit reloads changed
    files) never meets its old results."""
    h = hashlib.sha256(code.co_code)
    h.update(repr(code.co_names).encode())
    for const in code.co_consts:
        part = _code_digest(const) if isinstance(const, types.CodeType) else repr(const)
        h.update(part.encode())
    return h.hexdigest()


# ---- the store ------------------------------------------------------------------------------

def result_key(fn, args: tuple, kwargs: dict) -> str:
    """The key of fn(*args, **kwargs) as one short string: a digest of the key's repr (exact
    for the parts key_part makes: numbers, strings, digests, nested tuples), so Streamlit hashes
    64 characters, and 1 and 1.0 or True stay different keys."""
    parts = (function_key(fn), key_part(args), key_part(kwargs))
    return f"{getattr(fn, '__qualname__', '?')}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"


@st.cache_resource(show_spinner=False, max_entries=SHARED_ENTRIES, ttl=SHARED_TTL_S)
def _remembered(key: str, _compute):
    return _compute()


# keys this process has computed: only a first computation gets a "working it out" message
_computed: set[str] = set()


def already_shared(fn, *args, **kwargs) -> bool:
    """True when this process has computed fn(*args, **kwargs) through shared() before, so a
    page can skip showing progress for it. (Its result may have aged out of the cache since:
    then shared() computes it again, without the "working it out" message.)"""
    return result_key(fn, args, kwargs) in _computed


def shared(fn, *args, **kwargs):
    """fn(*args, **kwargs), computed once per distinct key for the whole server.

    The result is shared: callers must not change it (plotly figures are only read by
    st.plotly_chart). Exceptions are not remembered, so a failing input fails every time.
    A first computation can take seconds on a cold server; the learner is told what is going
    on (st.spinner appears only after half a second, so quick ones never flash).
    """
    key = result_key(fn, args, kwargs)
    if key in _computed:
        return _remembered(key, lambda: fn(*args, **kwargs))
    with st.spinner(t("app.computing_first_time", session.lang())):
        result = _remembered(key, lambda: fn(*args, **kwargs))
    if len(_computed) > 8 * SHARED_ENTRIES:      # forget old names; at worst a spinner again
        _computed.clear()
    _computed.add(key)
    return result
