"""Is a PDF's text layer Vietnamese? The share of its words that are Vietnamese syllables.

Scanned notices often carry a text layer made by a scanner's OCR without a Vietnamese model:
``Ldm D6ng, ngdy 13 thdng 11`` for ``Lâm Đồng, ngày 13 tháng 11``. Stored as it is, such text
matches no agency, no date word and no question. This module measures it.

The syllable list is built here from the rules of Vietnamese spelling, not copied from any word
list: every syllable is an optional initial consonant (``b c ch d đ g gh gi h k kh l m n ng ngh
nh p ph qu r s t th tr v x``) followed by one of the rhymes written out below (about 150, each
a vowel nucleus with an optional medial ``o``/``u`` and an optional final), with one of the six
tones, except that a rhyme ending in a stop (``-c -ch -p -t``) takes only the sắc or nặng tone.
A word is looked up with its tone mark removed (so that ``hoá``/``hóa`` placement does not
matter), and its tone is then checked against its rhyme. The list over-generates a little (it
does not enforce ``c``/``k`` or ``g``/``gh`` spelling), which only makes the measure lenient.

``layer_quality`` counts the word tokens of a text (letters only; numbers are left out; short
all-capital tokens such as ``UBND`` or ``PCI`` are acronyms and left out too) and returns the
share found in the list and the share carrying a Vietnamese mark (a tone or ``ă â đ ê ô ơ ư``).
Our own sample notices and the readable corpus score 0.97-1.00 and 0.84-0.93; the same texts
with their diacritics stripped about 0.7 and 0; the two garbled layers of the dev corpus (file
09 and 11) 0.32 and 0.31, and 0.01 and 0. A layer is judged broken below the thresholds in ``LoadSettings``
(``text_layer_min_syllables``, ``text_layer_min_marked``), and only when it has at least
``MIN_WORDS`` words: a PDF with one line of text is no evidence either way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

MIN_WORDS = 40

_INITIALS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)
# Rhymes without tone, as written. Grouped by nucleus; the medial o/u forms come last.
_RHYMES = """
a ac ach ai am an ang anh ao ap at au ay
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e ec em en eng eo ep et
ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu
iêc iêm iên iêng iêp iêt iêu
o oc oi om on ong op ot ooc oong
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung up ut
uôc uôi uôm uôn uông uôt
ư ưa ưc ưi ưm ưn ưng ưt ưu
ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêng yêt yêu
oa oac oach oai oam oan oang oanh oao oap oat oay
oăc oăm oăn oăng oăt
oe oen oeo oet
uâ uân uâng uât uây
uê uêch uênh
uy uya uych uyn uynh uyp uyt uyu uyên uyêt
uơ
""".split()  # noqa: SIM905 - one line per nucleus reads better than a list
_STOP_FINALS = ("c", "ch", "p", "t")
# Combining marks after NFD: the five tones, and the shape marks that make other letters.
_TONES = {"\u0300": "huyền", "\u0301": "sắc", "\u0303": "ngã", "\u0309": "hỏi", "\u0323": "nặng"}
_SHAPES = "\u0302\u0306\u031b"  # circumflex (â ê ô), breve (ă), horn (ơ ư)
_WORD = re.compile(r"[^\W_]+")
_ACRONYM_MAX = 6


@cache
def syllables() -> frozenset[str]:
    """Every toneless Vietnamese syllable as written (``nghiêng``, ``quyêt``, ``đươc``)."""
    built = set()
    for initial in _INITIALS:
        for rhyme in _RHYMES:
            if initial == "qu" and rhyme[0] in "ou":
                continue  # 'qu' already carries the medial: quan = qu + an
            if initial == "gi" and rhyme[0] == "i":
                built.add("g" + rhyme)  # gìn, gích: the i is shared
            if initial and initial != "qu" and rhyme[0] == "y" and len(rhyme) > 1:
                built.add(initial + "i" + rhyme[1:])  # yên alone, tiên after an initial
                continue
            built.add(initial + rhyme)
    return frozenset(built)


@dataclass(frozen=True)
class LayerQuality:
    words: int  # word tokens counted (numbers and short acronyms left out)
    syllable_share: float  # share of them that are Vietnamese syllables
    marked_share: float  # share of them carrying a Vietnamese tone or letter mark

    def is_vietnamese(self, min_syllables: float, min_marked: float) -> bool:
        if self.words < MIN_WORDS:
            return True  # too little text to judge: take it as it is
        return self.syllable_share >= min_syllables and self.marked_share >= min_marked


def is_syllable(word: str) -> bool:
    """Whether ``word`` (any case, NFC or NFD) is a Vietnamese syllable with a valid tone."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [ch for ch in decomposed if ch in _TONES]
    if len(tones) > 1:
        return False
    toneless = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    if toneless not in syllables():
        return False
    if toneless.endswith(_STOP_FINALS):
        return bool(tones) and _TONES[tones[0]] in ("sắc", "nặng")
    return True


def _is_marked(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "đ" in decomposed or any(ch in _TONES or ch in _SHAPES for ch in decomposed)


def layer_quality(text: str) -> LayerQuality:
    counted = found = marked = 0
    for word in _WORD.findall(text):
        if word.isdigit():
            continue
        letters_only = word.isalpha()
        if letters_only and word.isupper() and len(word) <= _ACRONYM_MAX and not is_syllable(word):
            continue  # UBND, HĐND, PCI: acronyms, not words
        counted += 1
        if letters_only and is_syllable(word):
            found += 1
        if _is_marked(word):
            marked += 1
    if not counted:
        return LayerQuality(0, 0.0, 0.0)
    return LayerQuality(counted, found / counted, marked / counted)
