"""One look-up of an agency as clerks type it, for the CLI, the API, the agency view and chat.

``find_agency(store, gazetteer, query)`` reads what was typed (``assistant.agency_forms``):

1. a known agency — a gazetteer form, a short form derived by rule ('Sở CT', 'SCT', 'P.KT'),
   with or without diacritics — optionally followed by a place ('phòng TC-KH thị xã Bến Vân',
   'so tai chinh quang ngai', 'Trung tâm Phát triển quỹ đất tỉnh'). A bare trailing name
   ('quang ngai') counts as a place only when the store knows it as one (a notice's issuer or
   place, or '<place word> <name>' in a notice); otherwise the agency is read without it only
   as a last resort;
2. the bodies known only from stored notices (the gazetteer did not know them): their stored
   key equal to the query's (also without the place name), else containment either way;
3. nothing: the closest agencies present in the store (``rapidfuzz``).

Among several agencies one form names (levels: 'P.KT' is a district's or a commune's Phòng
Kinh tế; or one level: 'Sở NV'), the place word decides, then the one with most rows in the
store, then the gazetteer's order; the result says which it chose and what else it could be.

A place keeps a row when the mention itself names it ('UBND xã Tân Phú', 'UBND các xã: Tân
Phú'), or, when the mention names no other place, when the notice's issuer is that place. A
place word alone ('… tỉnh') keeps the rows whose mention says that word, or, when the mention
has none, those of notices of that level. Names are compared without diacritics.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Unpack

from rapidfuzz import fuzz, process

from assistant.agencies import Agency, Gazetteer
from assistant.agency_forms import (
    QUALIFIERS,
    Place,
    Reading,
    qualifier_at,
    readings,
    words,
    written_forms,
)
from assistant.model import Level
from assistant.store import (
    AgencyRowRef,
    AssignmentFilters,
    AssignmentRef,
    AssignmentRow,
    Store,
    notice_words,
)
from assistant.text import collapse_spaces, match_key, nfc

LEVEL_LABELS: dict[Level, str] = {
    Level.CENTRAL: "trung ương",
    Level.PROVINCE: "cấp tỉnh",
    Level.DISTRICT: "cấp huyện",
    Level.COMMUNE: "cấp xã",
}
SUGGESTIONS = 5
_SUGGESTION_CUTOFF = 60.0
# A stored name contained in the query counts only when it is this specific (words).
_MIN_CONTAINED_WORDS = 3


@dataclass
class AgencyLookup:
    """What a typed agency query was read as, and its assignment rows (newest first)."""

    query: str
    agency: Agency | None = None
    typed: str = ""  # the agency part of the query, as typed
    others: list[Agency] = field(default_factory=list)
    place: Place | None = None
    stored: list[str] = field(default_factory=list)
    refs: list[AssignmentRef] = field(default_factory=list)
    before_place: int = 0
    suggestions: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        """Whether the query named an agency (the gazetteer's, or one known from notices)."""
        return self.agency is not None or bool(self.stored)

    @property
    def total(self) -> int:
        return len(self.refs)

    def label(self) -> str:
        """How the agency reads in a heading: 'Sở Tài chính — Quảng Ngãi'."""
        if self.agency is not None:
            name = self.agency.name
        elif self.stored:
            name = "; ".join(self.stored)
        else:
            return self.query
        return f"{name} — {self.place.label()}" if self.place is not None else name

    def level_note(self) -> str | None:
        """'Hiểu là Phòng Kinh tế (cấp xã); “P.KT” còn có thể là: Phòng Kinh tế (cấp huyện).'"""
        if self.agency is None or not self.others:
            return None
        others = ", ".join(_named(a) for a in self.others)
        return f"Hiểu là {_named(self.agency)}; “{self.typed or self.query}” còn có thể là: {others}."

    def notes(self) -> list[str]:
        """What the user should be told, in Vietnamese, most important first."""
        out: list[str] = []
        if not self.matched:
            out.append(f"Không tìm thấy cơ quan nào khớp với “{self.query}” trong danh mục hay trong các thông báo đã lưu.")
            if self.suggestions:
                out.append("Các cơ quan gần nhất có trong kho: " + "; ".join(self.suggestions) + ".")
            return out
        note = self.level_note()
        if note:
            out.append(note)
        if self.agency is None:
            out.append("Cơ quan này không có trong danh mục; tìm theo tên đã ghi trong thông báo: " + "; ".join(self.stored) + ".")
        if self.place is not None and self.total == 0 and self.before_place:
            out.append(
                f"{self.agency.name if self.agency else self.stored[0]} có {self.before_place} nhiệm vụ, "
                f"nhưng không có nhiệm vụ nào ở {self.place.label()}."
            )
        elif self.total == 0:
            out.append(f"Không có nhiệm vụ nào giao cho {self.label()} trong các thông báo đã lưu.")
            if self.suggestions:
                out.append("Các cơ quan gần nhất có trong kho: " + "; ".join(self.suggestions) + ".")
        return out

    def message(self) -> str | None:
        notes = self.notes()
        return " ".join(notes) if notes else None

    def rows(self, store: Store, offset: int = 0, limit: int | None = None) -> list[AssignmentRow]:
        """The full rows of one page of ``refs`` (only those are decoded)."""
        end = None if limit is None else offset + limit
        return store.assignment_rows(self.refs[offset:end])

    def to_json(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "label": self.label(),
            "agency": self.agency.name if self.agency else None,
            "level": self.agency.level.value if self.agency else None,
            "others": [{"name": a.name, "level": a.level.value} for a in self.others],
            "place": self.place.label() if self.place else None,
            "stored": self.stored,
            "suggestions": self.suggestions,
            "message": self.message(),
        }


def _named(agency: Agency) -> str:
    level = LEVEL_LABELS.get(agency.level)
    return f"{agency.name} ({level})" if level else agency.name


def find_agency(
    store: Store,
    gazetteer: Gazetteer,
    query: str,
    on: dt.date | None = None,
    **filters: Unpack[AssignmentFilters],
) -> AgencyLookup:
    """Read ``query`` as an agency (module docstring) and gather its rows, with ``filters``
    (meeting period, deadlines) applied. ``on`` decides between agencies valid at different
    dates (default: today)."""
    text = collapse_spaces(nfc(query)).strip()
    result = AgencyLookup(query=text)
    if not text:
        return result
    on = on or dt.date.today()
    unknown = _unknown(store)
    reading = _pick_reading(store, gazetteer, text)
    if reading is None and not _exact_unknown(unknown, text):
        # What the readings miss (a name inside a longer phrase): the gazetteer's own scan.
        found = gazetteer.resolve(text, on=on)
        if found is not None:
            reading = Reading(text, (found,), None)
    keys = _exact_unknown(unknown, text)
    if reading is not None and reading.place is not None:
        # 'Trung tâm Phát triển quỹ đất tỉnh Lam Giang': the stored body without its place name
        keys += _exact_unknown(unknown, f"{reading.agency_text} {reading.place.qualifier or ''}")
    if reading is None and not keys:
        keys = _containing(unknown, text)
    keys = list(dict.fromkeys(keys))
    if reading is None and not keys:
        result.suggestions = suggest(store, gazetteer, text)
        return result

    result.stored = [unknown[k][0] for k in keys if k in unknown]
    names: list[str] = []
    groups: list[str] = []
    if reading is not None:
        result.place = reading.place
        result.typed = reading.agency_text
        result.agency, result.others = _choose(store, gazetteer, reading, on)
        names = [result.agency.name]
        if reading.place is not None and reading.place.name:
            groups = _related_groups(gazetteer, result.agency)
    if result.agency is not None:
        result.stored = [s for s in result.stored if match_key(s) != match_key(result.agency.name)]
    rows = store.agency_refs(names=names + groups, keys=keys, **filters)
    if result.agency is not None and len(_same_name(gazetteer, result.agency)) > 1:
        # 'Phòng Kinh tế' names a district's and a commune's office: keep the chosen level's rows
        level = result.agency.level.value
        rows = [r for r in rows if r.agency != result.agency.name or r.agency_level == level]
    result.before_place = len([r for r in rows if r.agency not in groups])
    if result.place is not None:
        rows = _in_place(store, rows, result.place, set(groups))
    result.refs = [r.ref for r in rows]
    if not result.refs:
        result.suggestions = suggest(store, gazetteer, text)
    return result


def lookup_rows(
    store: Store,
    gazetteer: Gazetteer,
    query: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> tuple[AgencyLookup, list[AssignmentRow]]:
    """``find_agency`` and all its rows decoded: for lists that are shown whole."""
    found = find_agency(store, gazetteer, query, since=since, until=until)
    return found, found.rows(store)


# --- reading the query ---------------------------------------------------------------------------


def _pick_reading(store: Store, gazetteer: Gazetteer, text: str) -> Reading | None:
    """The longest reading whose place is certain; a bare trailing name only when the store
    knows it as a place; else, as a last resort, the first reading with a bare name."""
    fallback: Reading | None = None
    for reading in readings(gazetteer, text):
        place = reading.place
        if place is None or not place.bare:
            return reading
        if known_place(store, place.name_key or ""):
            return reading
        fallback = fallback or reading
    return fallback


def known_place(store: Store, name_key: str) -> bool:
    """Whether a notice of the store comes from the place ``name_key`` (its issuer or place of
    issue names it) or names it after a place word ('tỉnh Quảng Ngãi', 'xã Tân Phú')."""
    if not name_key:
        return False
    named = store.ids_naming(name_key)
    ids = set(store.ids()) if named is None else named
    if ids and _notices_from(store, ids, name_key, named):
        return True
    for qual, _ in QUALIFIERS:
        found = store.ids_naming(f"{' '.join(qual)} {name_key}")
        if found:
            return True
    return False


def _names(text: str, name_key: str) -> bool:
    """Whether ``text`` holds the place name ``name_key`` as whole words (accents ignored)."""
    return f" {name_key} " in f" {' '.join(w.key for w in words(text))} "


# --- choosing among agencies ---------------------------------------------------------------------


def _choose(store: Store, gazetteer: Gazetteer, reading: Reading, on: dt.date) -> tuple[Agency, list[Agency]]:
    """The agency of a reading and the other candidates (module docstring)."""
    candidates = list(reading.candidates)
    hint = reading.place.level if reading.place is not None else None
    pool = [a for a in candidates if a.level is hint] or candidates
    if len(pool) == 1:
        chosen = pool[0]
    else:
        place = reading.place
        counts = _row_counts(store, pool)
        if place is not None and place.name:
            # 'P.KT Liễu Khê': the one with rows in that place ('Liễu Khê' is a ward)
            counts = {a.id: len(_in_place(store, _own_rows(store, gazetteer, a), place, set())) for a in pool}
        best = max(counts.values(), default=0)
        with_rows = [a for a in pool if counts.get(a.id, 0) == best] if best else pool
        chosen = gazetteer.choose(with_rows, hint, on) or pool[0]
    others = [a for a in (pool if hint is not None else candidates) if a.id != chosen.id]
    return chosen, others


def _own_rows(store: Store, gazetteer: Gazetteer, agency: Agency) -> list[AgencyRowRef]:
    """The rows of one gazetteer agency, of its level where levels share its name."""
    rows = store.agency_refs(names=[agency.name])
    if len(_same_name(gazetteer, agency)) > 1:
        rows = [r for r in rows if r.agency_level == agency.level.value]
    return rows


def _row_counts(store: Store, agencies: list[Agency]) -> dict[str, int]:
    """Rows per agency, told apart by level where levels share a name."""
    tally = store.agency_level_counts([a.name for a in agencies])
    return {a.id: tally.get((a.name, a.level.value), 0) for a in agencies}


def _same_name(gazetteer: Gazetteer, agency: Agency) -> list[Agency]:
    key = match_key(agency.name)
    return [a for a in gazetteer.agencies if match_key(a.name) == key]


def _related_groups(gazetteer: Gazetteer, agency: Agency) -> list[str]:
    """Groups that a place can narrow to this agency: 'UBND các xã, phường' for 'UBND xã'."""
    head = _head_word(agency.name)
    return [g.name for g in gazetteer.agencies if g.is_group and g.level is agency.level and _head_word(g.name) == head]


def _head_word(name: str) -> str:
    key = match_key(name).replace("uy ban nhan dan", "ubnd")
    return key.split()[0] if key else ""


# --- place filter ----------------------------------------------------------------------------------


def _in_place(store: Store, rows: list[AgencyRowRef], place: Place, groups: set[str]) -> list[AgencyRowRef]:
    name = place.name_key
    qual = _same_qualifier(place.qualifier_key)
    if name is None:
        levels = {i: s.level for i, s in store.summaries_of({r.notice_id for r in rows}).items()}
        kept = []
        for row in rows:
            written = _qualifiers_in(row.agency_text)
            if written:
                if qual in written:
                    kept.append(row)
            elif place.level is None or levels.get(row.notice_id) == place.level.value:
                kept.append(row)
        return kept
    decided: dict[int, bool] = {}
    pending: list[int] = []
    for i, row in enumerate(rows):
        before = _qualifier_before(row.agency_text, name)
        if before is not None:
            # 'UBND phường Hà Lam' is not asked for by 'UBND xã Hà Lam'
            decided[i] = qual is None or before in ("", qual)
        elif row.agency in groups or _names_a_place(row.agency_text):
            decided[i] = False
        else:
            pending.append(i)
    if pending:
        from_place = _notices_from(store, {rows[i].notice_id for i in pending}, name, store.ids_naming(name))
        for i in pending:
            decided[i] = rows[i].notice_id in from_place
    return [row for i, row in enumerate(rows) if decided[i]]


def _notices_from(store: Store, ids: set[str], name: str, named: set[str] | None) -> set[str]:
    """Those of ``ids`` whose issuer or place of issue is ``name``; a notice without either
    counts when its text names the place. ``named``: the notices whose words hold ``name``
    (``Store.ids_naming``; None when the index cannot tell)."""
    candidates = ids if named is None else ids & named
    out: set[str] = set()
    unsure: set[str] = set()
    # The issuer column first (cached with the notices' facts): 'UBND TỈNH LAM GIANG' settles
    # it; only an issuer that names no place ('UBND THỊ XÃ') needs the full issuer name.
    for notice_id, summary in store.summaries_of(candidates).items():
        issuer = summary.issuer or ""
        if _names(issuer, name):
            out.add(notice_id)
        elif not _names_a_place(issuer, capitalized=False):
            unsure.add(notice_id)
    if not unsure:
        return out
    localities = store.notice_localities(unsure)
    out.update(i for i in unsure if localities.get(i) and _names(localities[i], name))
    bare = [i for i in unsure if not localities.get(i)]
    if bare:
        if named is not None:
            out.update(bare)
        else:
            texts = store.texts(bare)
            out.update(i for i in bare if f" {name} " in notice_words(texts.get(i, "")))
    return out


def _qualifier_before(text: str, name: str) -> str | None:
    """None when ``text`` does not name the place ``name``; else the place word just before the
    name ('' when there is none: 'UBND các xã: Tân Phú')."""
    ws = words(text)
    target = name.split()
    n = len(target)
    for i in range(len(ws) - n + 1):
        if [w.key for w in ws[i : i + n]] != target:
            continue
        for qual, _ in QUALIFIERS:
            k = len(qual)
            if i >= k and tuple(w.key for w in ws[i - k : i]) == qual:
                return _same_qualifier(" ".join(qual)) or ""
        return ""
    return None


def _same_qualifier(key: str | None) -> str | None:
    return "thanh pho" if key == "tp" else key


def _qualifiers_in(text: str) -> set[str]:
    ws = words(text)
    out: set[str] = set()
    i = 0
    while i < len(ws):
        found = qualifier_at(ws, i)
        if found is None:
            i += 1
            continue
        n, _ = found
        out.add(_same_qualifier(" ".join(w.key for w in ws[i : i + n])) or "")
        i += n
    return out


def _names_a_place(text: str, capitalized: bool = True) -> bool:
    """Whether a mention names a place of its own: a place word followed by a (capitalized)
    name ('UBND xã Cửa Lạch'), not a bare level word ('Công an thị xã', 'UBND các xã, phường')."""
    ws = words(text)
    for i in range(len(ws)):
        found = qualifier_at(ws, i)
        if found is None:
            continue
        n, _ = found
        if i + n < len(ws) and qualifier_at(ws, i + n) is None and (
            not capitalized or ws[i + n].text[:1].isupper()
        ):
            return True
    return False


# --- bodies known only from notices -----------------------------------------------------------------

_UNKNOWN_CACHE: weakref.WeakKeyDictionary[Store, tuple[str, dict[str, tuple[str, int]]]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _unknown(store: Store) -> dict[str, tuple[str, int]]:
    """The store's bodies the gazetteer did not know: key -> (a spelling, rows); read once per
    set of stored notices."""
    stamp = store.fingerprint()
    with _CACHE_LOCK:
        cached = _UNKNOWN_CACHE.get(store)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    table = {key: (text, count) for key, text, count in store.unknown_agencies()}
    with _CACHE_LOCK:
        _UNKNOWN_CACHE[store] = (stamp, table)
    return table


def _exact_unknown(unknown: dict[str, tuple[str, int]], text: str) -> list[str]:
    key = match_key(text)
    return [key] if key in unknown else []


def _containing(unknown: dict[str, tuple[str, int]], text: str) -> list[str]:
    """Stored keys holding the query's words in a row, or held in the query (when specific)."""
    key = f" {match_key(text)} "
    if not key.strip():
        return []
    out = []
    for stored in unknown:
        framed = f" {stored} "
        if key in framed or (len(stored.split()) >= _MIN_CONTAINED_WORDS and framed in key):
            out.append(stored)
    return out


# --- suggestions -----------------------------------------------------------------------------------


def suggest(store: Store, gazetteer: Gazetteer, query: str, limit: int = SUGGESTIONS) -> list[str]:
    """The agencies present in the store whose names (or short forms) come closest to
    ``query``, best first."""
    names = store.agency_names()
    if not names:
        return []
    choices: dict[str, str] = {}
    for i, name in enumerate(names):
        choices[f"{i}"] = match_key(name)
        agency = gazetteer.by_name(name)
        if agency is not None:
            for j, form in enumerate([*written_forms(agency.name), *agency.abbreviations]):
                choices[f"{i}.{j}"] = match_key(form)
    best: dict[int, float] = {}
    found = process.extract(match_key(query), choices, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=_SUGGESTION_CUTOFF)
    for _, score, key in found:
        i = int(str(key).split(".")[0])
        best[i] = max(best.get(i, 0.0), float(score))
    ranked = sorted(best, key=lambda i: (-best[i], names[i]))
    return [names[i] for i in ranked[:limit]]
