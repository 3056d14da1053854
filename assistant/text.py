"""Vietnamese text normalization.

Two kinds of views exist:

* ``fold(text)`` and ``unaccent(text)`` are *length-preserving*: the i-th character of the
  result corresponds to the i-th character of the input. Searching the folded view therefore
  yields offsets that are valid in the original text, which is what lets every span point at
  the exact passage it quotes.
* ``match_key(text)`` is a compact key (accent-free, ``&`` -> ``va``, punctuation dropped,
  whitespace collapsed) for comparing short names such as agencies; it is not aligned.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Old-style tone placement ("hoá", "uỷ") -> new style ("hóa", "ủy"), applied only at the end of
# a syllable where the two spellings of the same word differ. Both sides of every comparison go
# through the same map, so consistency matters more than orthographic correctness ("quý").
_TONE_PAIRS: dict[str, str] = {}
for _base, _toned in (("a", "àáảãạ"), ("e", "èéẻẽẹ"), ("y", "ỳýỷỹỵ")):
    _lead = "o" if _base in "ae" else "u"
    _lead_toned = "òóỏõọ" if _lead == "o" else "ùúủũụ"
    for _i, _t in enumerate(_toned):
        _TONE_PAIRS[_lead + _t] = _lead_toned[_i] + _base

_TONE_RE = re.compile("(" + "|".join(_TONE_PAIRS) + r")(?!\w)")

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_QUOTES = {ord("\u201c"): '"', ord("\u201d"): '"', ord("\u2018"): "'", ord("\u2019"): "'"}
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u3000\t"), " ")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _unify_tone_placement(lowered: str) -> str:
    return _TONE_RE.sub(lambda m: _TONE_PAIRS[m.group(1)], lowered)


def fold(text: str) -> str:
    """Lowercase, unify tone placement, dashes, quotes and spaces; same length as ``text``.

    ``text`` must already be NFC (the loader guarantees it for stored notices).
    """
    # One pass maps case, dashes, quotes and spaces (none of which is a word character, so
    # the tone rule's end-of-syllable test sees the same boundaries before or after it).
    folded = _unify_tone_placement(text.translate(_FOLD_CHARS))
    assert len(folded) == len(text)
    return folded


def _lower_one(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch


def _strip_one(ch: str) -> str:
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    if ord(ch) < 128:
        return ch
    decomposed = unicodedata.normalize("NFD", ch)
    base = decomposed[0]
    if unicodedata.combining(base):
        return ch
    return base


class _CharMap(dict[int, str]):
    """A ``str.translate`` table filled on first sight of each character: the per-character
    rule runs once per distinct character instead of once per character of every text, which
    matters when hundreds of thousands of passages are tokenized for BM25."""

    def __init__(self, rule: Callable[[str], str]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, code: int) -> str:
        mapped = self._rule(chr(code))
        self[code] = mapped
        return mapped


def _fold_one(ch: str) -> str:
    code = ord(ch)
    for table in (_DASHES, _QUOTES, _SPACES):
        if code in table:
            return table[code]
    return _lower_one(ch)


_FOLD_CHARS = _CharMap(_fold_one)
_STRIP = _CharMap(_strip_one)


def unaccent(text: str) -> str:
    """Remove Vietnamese diacritics character by character; same length as ``text``."""
    return text.translate(_STRIP)


def search_view(text: str) -> str:
    """The accent-free folded view used to find user-typed strings in stored text."""
    return unaccent(fold(text))


_KEY_DROP = re.compile(r"[^\w\s]")
_KEY_SPACE = re.compile(r"\s+")


def match_key(text: str) -> str:
    """Compact comparison key: ``"Phòng TN&MT"`` and ``"phong tn va mt"`` give the same key."""
    key = search_view(nfc(text))
    key = key.replace("&", " va ")
    key = key.replace("-", " ")
    key = _KEY_DROP.sub(" ", key)
    return _KEY_SPACE.sub(" ", key).strip()


def collapse_spaces(text: str) -> str:
    return _KEY_SPACE.sub(" ", text).strip()


def is_caps(text: str, min_letters: int = 1) -> bool:
    """Whether ``text`` is written in capitals ('UBND TỈNH LAM GIANG'): at least ``min_letters``
    letters, every one upper case."""
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= min_letters and all(ch.isupper() for ch in letters)


# Terminal escape sequences (CSI ``ESC [ … final``, OSC ``ESC ] … BEL/ST``, two-byte ``ESC x``)
# and the C0/C1 control characters other than tab, line feed, carriage return and form feed.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """``text`` without NUL, terminal escape sequences and other control characters: stored
    text and terminal output never carry them (an ANSI sequence could rewrite the screen)."""
    if not _CONTROL_CHARS.search(text) and "\x1b" not in text:
        return text
    return _CONTROL_CHARS.sub("", _ESCAPE_SEQUENCE.sub("", text))
