"""Vietnamese tokenization for BM25.

A Vietnamese word is usually two or more syllables written apart (``tài chính``), so single
syllables alone match too loosely; adjacent-syllable bigrams restore some of the word
structure. Users often type without diacritics, so every token that carries accents is
emitted a second time without them: an unaccented query then meets the accent-free copies,
while an accented query matches both forms and ranks exact spellings higher.
"""

from __future__ import annotations

import itertools
import re

from assistant.text import fold, nfc, unaccent

# Bump when the token stream changes: it is part of the BM25 index identity.
TOKENIZER_VERSION = "vi-syl-bigram-unaccent-1"

# ``\w+`` keeps one-letter syllables (``ở``, ``ý``) that the usual ``\w\w+`` pattern drops.
_SYLLABLE = re.compile(r"(?u)\b\w+\b")
# Punctuation between two syllables that ends a phrase: no bigram is formed across it.
_PHRASE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"'“”‘’…/\\|\n]")


def tokenize(text: str) -> list[str]:
    """Tokens for BM25: folded syllables, adjacent bigrams, and accent-free copies."""
    folded = fold(nfc(text))
    sylls = list(_SYLLABLE.finditer(folded))
    tokens = [m.group() for m in sylls]
    for left, right in itertools.pairwise(sylls):
        if not _PHRASE_BREAK.search(folded, left.end(), right.start()):
            tokens.append(f"{left.group()}_{right.group()}")
    plain = [unaccent(token) for token in tokens]
    return tokens + [p for t, p in zip(tokens, plain, strict=True) if p != t]
