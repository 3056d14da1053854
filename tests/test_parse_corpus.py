"""Facts read by hand from each real notice in the corpus (short anchors, never passages)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_parse_header import assert_spans

from assistant.load import load_path
from assistant.model import DocumentKind, Level, Notice
from assistant.parse import parse_document
from assistant.text import collapse_spaces
from tests.conftest import seed_corpus_files

pytestmark = pytest.mark.corpus


@dataclass(frozen=True)
class Facts:
    kind: DocumentKind
    level: Level
    issuer: str  # start of the issuer as written (or as inferred from the text)
    meeting: dt.date
    chair: str  # name, or the position when the notice names none
    signer: str | None
    sections: tuple[str, ...]  # first words of each top-level heading
    number: str | None = None


N, NEWS = DocumentKind.NOTICE, DocumentKind.NEWS_ARTICLE
TW, TINH, HUYEN = Level.CENTRAL, Level.PROVINCE, Level.DISTRICT

FACTS: dict[str, Facts] = {
    "2021-04-05_tp-nam-dinh_quy-I_bai-bao.txt": Facts(
        NEWS, HUYEN, "UBND thành phố", dt.date(2021, 4, 5), "Phạm Duy Hưng", None, ()
    ),
    "2021-08-10_tx-duy-tien_so-ket.txt": Facts(
        N,
        HUYEN,
        "UBND thị xã Duy Tiên",
        dt.date(2021, 8, 10),
        "Ngô Văn Liên",
        "Nguyễn Thanh Bình",
        ("Đối với công tác", "Đối với nhiệm vụ"),
    ),
    "2022-04-06_tinh-nam-dinh_quy-I.txt": Facts(
        N,
        TINH,
        "UBND tỉnh",
        dt.date(2022, 4, 6),
        "Phạm Đình Nghị",
        None,
        ("ĐÁNH GIÁ TÌNH HÌNH", "NHIỆM VỤ, GIẢI PHÁP"),
    ),
    "2023-12-27_tx-hoang-mai_thang-12.txt": Facts(
        N,
        HUYEN,
        "UBND thị xã",
        dt.date(2023, 12, 27),
        "Nguyễn Hữu An",
        None,
        ("Kết quả đạt được", "Nhiệm vụ, giải pháp", "Các nội dung", "Tổ chức thực hiện"),
    ),
    "2024-03-01_tp-nam-dinh_thang-02.txt": Facts(
        N,
        HUYEN,
        "UBND thành phố",
        dt.date(2024, 3, 1),
        "Phạm Duy Hưng",
        "Nguyễn Hồng Đức",
        ("ĐÁNH GIÁ TÌNH HÌNH", "NHIỆM VỤ, GIẢI PHÁP"),
    ),
    "extra/01_laocai_ccn_chu_tich_ubnd_tinh.docx": Facts(
        N,
        TINH,
        "UBND TỈNH LÀO CAI",
        dt.date(2026, 6, 19),
        "Nguyễn Tuấn Anh",
        "Lê Trí Hà",
        ("ĐÁNH GIÁ CHUNG", "NHIỆM VỤ, GIẢI PHÁP"),
        "/TB-VP",
    ),
    "extra/03_quangngai_tb393_bang_gia_dat.txt": Facts(
        N,
        TINH,
        "UBND tỉnh Quảng Ngãi",
        dt.date(2025, 11, 18),
        "Phó Chủ tịch UBND tỉnh Quảng Ngãi",
        None,
        ("Công tác xây dựng", "Thực hiện quy định", "Yêu cầu đối với"),
        "393/TB-UBND",
    ),
    "extra/05_vpcp636_ptt_phu_tho.txt": Facts(
        N,
        TW,
        "VĂN PHÒNG CHÍNH PHỦ",
        dt.date(2025, 11, 14),
        "Bùi Thanh Sơn",
        "Phạm Mạnh Cường",
        ("ĐÁNH GIÁ CHUNG", "MỘT SỐ NHIỆM VỤ", "VỀ MỘT SỐ"),
        "636/TB-VPCP",
    ),
    "extra/06_vpcp623_ptt_dak_lak.txt": Facts(
        N,
        TW,
        "VĂN PHÒNG CHÍNH PHỦ",
        dt.date(2025, 11, 9),
        "Mai Văn Chính",
        "Trịnh Mạnh Linh",
        ("ĐÁNH GIÁ CHUNG", "MỘT SỐ NHIỆM VỤ", "VỀ MỘT SỐ"),
        "623/TB-VPCP",
    ),
    "extra/07_vpcp641_ptt_da_nang.txt": Facts(
        N,
        TW,
        "VĂN PHÒNG CHÍNH PHỦ",
        dt.date(2025, 11, 18),
        "Phạm Thị Thanh Trà",
        "Trịnh Mạnh Linh",
        ("ĐÁNH GIÁ CHUNG", "VỀ CÁC ĐỀ XUẤT"),
        "641/TB-VPCP",
    ),
    "extra/08_vpcp634_ttg_thanh_hoa.txt": Facts(
        N,
        TW,
        "VĂN PHÒNG CHÍNH PHỦ",
        dt.date(2025, 11, 8),
        "Phạm Minh Chính",
        "Trịnh Mạnh Linh",
        ("ĐÁNH GIÁ CHUNG", "NHIỆM VỤ, GIẢI PHÁP", "VỀ MỘT SỐ"),
        "634/TB-VPCP",
    ),
}

_cache: dict[str, Notice] = {}


def _notice(corpus_dir: Path, name: str) -> Notice:
    if name not in _cache:
        _cache[name] = parse_document(load_path(corpus_dir / name))
    return _cache[name]


def test_table_covers_the_whole_seed_corpus(corpus_dir: Path) -> None:
    # the dev corpus (dev/) is measured against its own gold: eval/dev/, scripts/eval.py --sets dev
    assert seed_corpus_files(corpus_dir) == set(FACTS)


@pytest.mark.parametrize("name", sorted(FACTS))
def test_corpus_facts(corpus_dir: Path, name: str) -> None:
    facts = FACTS[name]
    notice = _notice(corpus_dir, name)
    assert notice.kind == facts.kind
    assert notice.level == facts.level
    assert notice.issuer is not None and notice.issuer.text.startswith(facts.issuer)
    assert notice.meeting_date is not None and notice.meeting_date.value == facts.meeting
    assert notice.chair is not None
    assert (notice.chair.name or notice.chair.position) == facts.chair
    if facts.signer is None:
        assert notice.signature is None or notice.signature.signer is None
    else:
        assert notice.signature is not None and notice.signature.signer == facts.signer
    headings = [collapse_spaces(s.heading or "") for s in notice.sections]
    assert len(headings) == len(facts.sections), headings
    for heading, anchor in zip(headings, facts.sections, strict=True):
        assert heading.startswith(anchor)
    if facts.number is not None:
        assert notice.number is not None and notice.number.text == facts.number


@pytest.mark.parametrize("name", sorted(FACTS))
def test_corpus_spans_are_exact(corpus_dir: Path, name: str) -> None:
    assert_spans(_notice(corpus_dir, name))


def test_corpus_quirks(corpus_dir: Path) -> None:
    # 2022 tỉnh Nam Định: TL. CHỦ TỊCH / KT. CHÁNH VĂN PHÒNG / PHÓ CHÁNH VĂN PHÒNG, no name.
    sig = _notice(corpus_dir, "2022-04-06_tinh-nam-dinh_quy-I.txt").signature
    assert sig is not None and sig.position == "PHÓ CHÁNH VĂN PHÒNG" and sig.signer is None
    # 2023 Hoàng Mai: no signature block; numbering skips III; tasks grouped 2.1 … 2.15.
    hoang_mai = _notice(corpus_dir, "2023-12-27_tx-hoang-mai_thang-12.txt")
    assert hoang_mai.signature is None
    assert [s.number for s in hoang_mai.sections] == ["I", "II", "IV", "V"]
    groups = hoang_mai.sections[1].children[1].children
    assert [g.number for g in groups][::14] == ["2.1", "2.15"] and len(groups) == 15
    # 2024 thành phố Nam Định: "10.Công tác …" (no space) is item 10 of section II.
    nam_dinh = _notice(corpus_dir, "2024-03-01_tp-nam-dinh_thang-02.txt")
    assert [c.number for c in nam_dinh.sections[1].children][-2:] == ["10", "11"]
    heading = nam_dinh.sections[0].heading or ""
    assert "\n" in heading and heading.endswith("NĂM 2024")  # wrapped caps heading
    assert nam_dinh.closing is not None and nam_dinh.closing.text.endswith("./.")
    assert nam_dinh.recipients[-1].text.startswith("Lưu")
    # Lào Cai docx: number and day left blank before signing.
    lao_cai = _notice(corpus_dir, "extra/01_laocai_ccn_chu_tich_ubnd_tinh.docx")
    assert lao_cai.issue_date is not None and lao_cai.issue_date.value is None
    assert lao_cai.place is not None and lao_cai.place.text == "Lào Cai"
    # Central notices: authority over two lines.
    phu_tho = _notice(corpus_dir, "extra/05_vpcp636_ptt_phu_tho.txt")
    assert phu_tho.signature is not None
    assert phu_tho.signature.authority == "KT. BỘ TRƯỞNG, CHỦ NHIỆM"
    assert phu_tho.signature.position == "PHÓ CHỦ NHIỆM"
