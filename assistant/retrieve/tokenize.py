"""Vietnamese tokenization for BM25.

A Vietnamese word is usually two or more syllables written apart (``tài chính``), so single
syllables alone match too loosely; adjacent-syllable bigrams restore some of the word
structure. Users often type without diacritics, so every token that carries accents is
emitted a second time without them: an unaccented query then meets the accent-free copies,
while an accented query matches both forms and ranks exact spellings higher.
"""

from __future__ import annotations

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
    # ``unaccent`` keeps positions, so the accent-free token is the same slice of the
    # accent-free text: one call per passage instead of one per token.
    plain_text = unaccent(folded)
    spans = [m.span() for m in _SYLLABLE.finditer(folded)]
    tokens = [folded[start:end] for start, end in spans]
    plain = [plain_text[start:end] for start, end in spans]
    for left in range(len(spans) - 1):
        if not _PHRASE_BREAK.search(folded, spans[left][1], spans[left + 1][0]):
            tokens.append(f"{tokens[left]}_{tokens[left + 1]}")
            plain.append(f"{plain[left]}_{plain[left + 1]}")
    return tokens + [p for t, p in zip(tokens, plain, strict=True) if p != t]
