"""Synthetic meeting-conclusion notices at scale, for speed benchmarks.

    .venv/bin/python scripts/make_scale_corpus.py --n 1000 --seed 7 --out /tmp/scale-1k

Writes ``OUT/notices/NNNNN_<slug>.txt|.md`` and ``OUT/manifest.jsonl`` (one line per notice:
file, issuer, level, meeting date, chair, the agencies given tasks and how many), which the
query benchmark uses to ask questions whose answer is known to exist.

Every notice follows the established structure (header, THÔNG BÁO + trích yếu, opening with
date and chair, I. evaluation, II. tasks grouped by agency or by sector, deadlines, closing,
Nơi nhận, signature). Localities, people, projects and figures are invented; agency names and
abbreviations come from the bundled gazetteer, valid for the level and the meeting date
(provincial Sở merged from 1/3/2025, districts abolished from 1/7/2025). Notice ``i`` depends
only on ``(seed, i)``, so the first 1,000 notices of a 10,000 corpus are the 1,000 corpus.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parents[1]
GAZETTEER = REPO / "assistant" / "data" / "agencies.json"

# --- invented places and people -------------------------------------------------------------

_FIRST = ["Lam", "Vân", "Quế", "Trà", "Khê", "Ngọc", "Tùng", "Liễu", "Sa", "Mộc", "Đan", "Hạ",
          "Thượng", "Bích", "Cẩm", "Diêm", "Lũng", "Nghi", "Phù", "Quy", "Sông", "Tiên", "Xuân", "Yên"]
_SECOND = ["Giang", "Lĩnh", "Xuyên", "Điền", "Lâm", "Khê", "Nguyên", "Trì", "Cương", "Đình",
           "Lạc", "Phố", "Thôn", "Bãi", "Động", "Hồ", "Bồng", "Mẫn", "Vĩ", "Sơn"]
_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
             "Dương", "Lý", "Đinh", "Mai", "Tạ", "Lương", "Kiều"]
_MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Đức", "Thanh", "Hữu", "Ngọc", "Xuân", "Thu", "Công",
           "Bảo", "Kim", "Trọng"]
_GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hùng", "Khánh", "Lan", "Long", "Mai",
          "Nam", "Phong", "Quang", "Sơn", "Tâm", "Thảo", "Trung", "Tuấn", "Vinh", "Yến", "Huệ",
          "Kiên", "Luân", "Nhung", "Oanh", "Phúc", "Quyên", "Thắng", "Uyên"]
_RIVERS = ["sông Lam Khê", "sông Vân Trì", "sông Quế Lạc", "kênh Tiên Hồ", "sông Mộc Bãi"]
_ROMAN = ["I", "II", "III", "IV"]


def _place(rng: random.Random) -> str:
    first = rng.choice(_FIRST)
    second = rng.choice([s for s in _SECOND if s != first])
    return f"{first} {second}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


# --- levels ---------------------------------------------------------------------------------

DISTRICTS_END = dt.date(2025, 7, 1)
MERGER = dt.date(2025, 3, 1)


@dataclass(frozen=True)
class Level:
    key: str  # gazetteer level of the units that receive tasks
    kind: str  # "tỉnh", "huyện", "thị xã", "thành phố", "xã", "phường"
    upper: str  # issuing body in the header, before the place name
    office: str  # the office that signs "TL. CHỦ TỊCH"
    subordinate: str  # group of the level below, as a recipient and as an assignee


def _level(rng: random.Random, day: dt.date) -> Level:
    if day < DISTRICTS_END:
        kind = rng.choices(["tỉnh", "huyện", "thị xã", "thành phố", "xã"], [30, 30, 15, 10, 15])[0]
    else:
        kind = rng.choices(["tỉnh", "xã", "phường"], [40, 40, 20])[0]
    if kind == "tỉnh":
        below = "UBND các huyện, thành phố" if day < DISTRICTS_END else "UBND các xã, phường"
        return Level("tinh", kind, "UBND TỈNH", "Văn phòng UBND tỉnh", below)
    if kind in ("xã", "phường"):
        return Level("xa", kind, f"UBND {kind.upper()}", f"Văn phòng HĐND và UBND {kind}", "các thôn, tổ dân phố")
    return Level("huyen", kind, f"UBND {kind.upper()}", f"Văn phòng HĐND và UBND {kind}", "UBND các xã, phường")


# --- agencies from the gazetteer ------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    name: str
    spellings: tuple[str, ...]  # ways a notice writes it (full name first)
    sector: str


# Which sector's tasks a unit receives, by a word of its name (first match wins).
_SECTOR_OF = [
    ("Tài nguyên", "dat_dai"), ("Nông nghiệp và Môi trường", "nong_nghiep"),
    ("Nông nghiệp", "nong_nghiep"), ("Tài chính", "tai_chinh"), ("Kế hoạch", "dau_tu"),
    ("Giáo dục", "giao_duc"), ("Y tế", "y_te"), ("Lao động", "xa_hoi"), ("Văn hóa", "van_hoa"),
    ("Thông tin", "chuyen_doi_so"), ("Xây dựng", "xay_dung"), ("đô thị", "xay_dung"),
    ("Hạ tầng", "xay_dung"), ("Giao thông", "xay_dung"), ("Kinh tế", "kinh_te"),
    ("Công Thương", "kinh_te"), ("Công an", "an_ninh"), ("Quân sự", "quoc_phong"),
    ("Biên phòng", "quoc_phong"), ("Nội vụ", "hanh_chinh"), ("Tư pháp", "hanh_chinh"),
    ("Thanh tra", "hanh_chinh"), ("Phục vụ hành chính", "hanh_chinh"), ("Dân tộc", "xa_hoi"),
    ("Khoa học", "chuyen_doi_so"), ("bồi thường", "gpmb"), ("quỹ đất", "gpmb"),
    ("dự án", "dau_tu"), ("khu công nghiệp", "dau_tu"), ("Văn phòng", "tong_hop"),
]


def _sector_of(name: str) -> str:
    for word, sector in _SECTOR_OF:
        if word in name:
            return sector
    return "tong_hop"


def _spellings(name: str, abbreviations: Sequence[str], level: str) -> tuple[str, ...]:
    head = name.split()[0]
    out = [name]
    for abbr in abbreviations:
        if head in ("Phòng", "Sở"):
            out.append(f"{head} {abbr}")
        elif level == "huyen" and abbr in ("BQLDA", "HĐGPMB", "BCHQS", "CA", "TTYT"):
            out.append(abbr)
    return tuple(out)


def load_units(path: Path = GAZETTEER) -> list[tuple[dict[str, object], Unit]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    units = []
    for raw in data["agencies"]:
        if raw["is_group"] or raw["level"] not in ("tinh", "huyen", "xa"):
            continue
        name = str(raw["name"])
        if name.startswith("Ủy ban nhân dân"):
            continue
        unit = Unit(name, _spellings(name, list(raw["abbreviations"]), str(raw["level"])), _sector_of(name))
        units.append((raw, unit))
    return units


def _valid(raw: dict[str, object], day: dt.date) -> bool:
    start, end = raw["valid_from"], raw["valid_until"]
    if start and day < dt.date.fromisoformat(str(start)):
        return False
    return not (end and day >= dt.date.fromisoformat(str(end)))


def units_for(units: list[tuple[dict[str, object], Unit]], level: Level, day: dt.date) -> list[Unit]:
    found = [u for raw, u in units if raw["level"] == level.key and _valid(raw, day)]
    if level.key == "xa" and day < DISTRICTS_END:
        # Before the reform a commune had no phòng: officials and the commune's police/militia.
        # Its officials (công chức) are not agencies in the gazetteer, so they get no tasks here.
        found = [u for u in found if u.name.startswith(("Công an", "Ban Chỉ huy"))]
    return found


# --- what tasks say -------------------------------------------------------------------------

SECTOR_TITLES = {
    "nong_nghiep": "Nông nghiệp, phát triển nông thôn", "dat_dai": "Tài nguyên, môi trường",
    "tai_chinh": "Tài chính, ngân sách", "dau_tu": "Đầu tư công", "giao_duc": "Giáo dục và đào tạo",
    "y_te": "Y tế", "xa_hoi": "Lao động, chính sách xã hội", "van_hoa": "Văn hóa, thông tin",
    "chuyen_doi_so": "Chuyển đổi số", "xay_dung": "Xây dựng, giao thông, đô thị",
    "kinh_te": "Công thương, dịch vụ", "an_ninh": "An ninh trật tự", "quoc_phong": "Quốc phòng",
    "hanh_chinh": "Cải cách hành chính, nội vụ", "gpmb": "Giải phóng mặt bằng",
    "tong_hop": "Công tác tổng hợp",
}

# Slots: {place} a commune/ward, {project} a project, {n} a count, {pct} a percentage,
# {river} a river, {crop} a crop season.
TASKS: dict[str, list[str]] = {
    "nong_nghiep": [
        "chỉ đạo gieo cấy {crop} đúng khung thời vụ, bảo đảm diện tích {n} ha",
        "rà soát, củng cố hệ thống đê điều, hồ đập xung yếu trước mùa mưa bão",
        "hướng dẫn các hợp tác xã chuyển đổi {n} ha đất lúa kém hiệu quả sang cây trồng khác",
        "kiểm tra công tác phòng, chống dịch bệnh trên đàn gia súc, gia cầm tại {place}",
        "tham mưu hồ sơ đề nghị công nhận xã {place} đạt chuẩn nông thôn mới nâng cao",
        "tổ chức nạo vét kênh tưới tiêu nội đồng, bảo đảm nước cho {crop}",
    ],
    "dat_dai": [
        "hoàn thành cấp giấy chứng nhận quyền sử dụng đất lần đầu cho {n} hồ sơ tồn đọng",
        "kiểm tra, xử lý dứt điểm các điểm tập kết rác thải tự phát dọc {river}",
        "tham mưu điều chỉnh bảng giá đất tại khu vực {place}, trình cấp có thẩm quyền phê duyệt",
        "cập nhật biến động đất đai năm {year} và chỉnh lý hồ sơ địa chính",
        "kiểm tra hoạt động khai thác cát, sỏi trái phép trên {river}",
        "xác định giá đất cụ thể làm căn cứ bồi thường dự án {project}",
    ],
    "tai_chinh": [
        "đôn đốc thu ngân sách, phấn đấu đạt {pct}% dự toán được giao",
        "thẩm định dự toán mua sắm trang thiết bị cho trường Tiểu học {place}",
        "rà soát các khoản chi thường xuyên, đề xuất tiết kiệm {pct}% để tạo nguồn cải cách tiền lương",
        "quyết toán kinh phí hỗ trợ sản xuất năm {year} cho các hợp tác xã",
        "tham mưu phương án xử lý nợ đọng xây dựng cơ bản của các dự án hoàn thành",
    ],
    "dau_tu": [
        "rà soát tiến độ giải ngân từng dự án, đề xuất điều chuyển vốn của các dự án giải ngân dưới {pct}%",
        "hoàn thiện hồ sơ chủ trương đầu tư dự án {project}",
        "đôn đốc nhà thầu thi công dự án {project} bảo đảm tiến độ, chất lượng",
        "lập kế hoạch đầu tư công trung hạn giai đoạn tiếp theo, gửi cơ quan tổng hợp",
        "nghiệm thu, bàn giao đưa vào sử dụng hạng mục {n} phòng học trường Trung học cơ sở {place}",
    ],
    "giao_duc": [
        "xây dựng kế hoạch tuyển sinh đầu cấp năm học {year} - {year1}",
        "rà soát cơ sở vật chất, bảo đảm đủ phòng học cho {n} học sinh tăng thêm",
        "tổ chức ôn tập cho học sinh lớp 9, lớp 12 chuẩn bị các kỳ thi cuối năm",
        "kiểm tra việc thu, chi đầu năm học tại các trường trên địa bàn {place}",
        "đề xuất sắp xếp các điểm trường lẻ tại {place}",
    ],
    "y_te": [
        "triển khai các biện pháp phòng, chống sốt xuất huyết tại {place}",
        "lập dự toán mua sắm trang thiết bị cho {n} trạm y tế",
        "kiểm tra an toàn thực phẩm tại các bếp ăn tập thể và cơ sở kinh doanh dịp lễ",
        "đẩy mạnh tiêm chủng mở rộng, bảo đảm tỷ lệ trên {pct}%",
        "kiện toàn đội ngũ y tế thôn, tổ dân phố tại {place}",
    ],
    "xa_hoi": [
        "rà soát, đề xuất hỗ trợ nhà ở cho {n} hộ nghèo có hoàn cảnh khó khăn",
        "chi trả đầy đủ, kịp thời chế độ cho người có công và đối tượng bảo trợ xã hội",
        "tổ chức phiên giao dịch việc làm, giới thiệu việc làm cho {n} lao động",
        "tổ chức thăm hỏi, tặng quà các gia đình chính sách nhân dịp lễ, Tết",
        "rà soát hộ cận nghèo, cập nhật cơ sở dữ liệu an sinh xã hội",
    ],
    "van_hoa": [
        "xây dựng kế hoạch tổ chức lễ hội truyền thống {place} năm {year}",
        "tuyên truyền các ngày lễ lớn, sự kiện chính trị của địa phương",
        "kiểm tra hoạt động kinh doanh dịch vụ văn hóa, karaoke trên địa bàn",
        "hướng dẫn xây dựng thiết chế văn hóa thôn, tổ dân phố tại {place}",
        "tổ chức giải thể thao quần chúng chào mừng ngày thành lập địa phương",
    ],
    "chuyen_doi_so": [
        "nâng tỷ lệ hồ sơ thủ tục hành chính trực tuyến toàn trình lên {pct}%",
        "số hóa kết quả giải quyết thủ tục hành chính còn tồn đọng",
        "triển khai ứng dụng định danh điện tử cho người dân tại {place}",
        "bảo đảm an toàn thông tin cho hệ thống quản lý văn bản và điều hành",
    ],
    "xay_dung": [
        "xử lý dứt điểm {n} công trình xây dựng sai phép tại {place}",
        "kiểm tra chất lượng thi công tuyến đường {project}",
        "lập quy hoạch chi tiết khu dân cư mới {place}",
        "rà soát hệ thống chiếu sáng công cộng và cây xanh đô thị",
        "duy tu, sửa chữa các tuyến đường giao thông nông thôn bị hư hỏng tại {place}",
    ],
    "kinh_te": [
        "bình ổn giá cả thị trường, bảo đảm nguồn cung hàng hóa thiết yếu",
        "hỗ trợ doanh nghiệp tại cụm công nghiệp {place} tháo gỡ khó khăn về mặt bằng",
        "kiểm tra, chấn chỉnh hoạt động của các chợ trên địa bàn",
        "phát triển sản phẩm OCOP, hỗ trợ {n} chủ thể hoàn thiện hồ sơ đánh giá",
    ],
    "an_ninh": [
        "bảo đảm an ninh trật tự các lễ hội đầu năm tại {place}",
        "tăng cường tuần tra, kiểm soát, xử lý vi phạm trật tự an toàn giao thông",
        "phối hợp xác minh, giải quyết các vụ việc phức tạp về an ninh nông thôn",
        "đẩy mạnh phong trào toàn dân bảo vệ an ninh Tổ quốc tại {place}",
    ],
    "quoc_phong": [
        "duy trì nghiêm chế độ trực sẵn sàng chiến đấu",
        "tổ chức tuyển chọn, gọi công dân nhập ngũ đạt {n} chỉ tiêu được giao",
        "huấn luyện lực lượng dân quân tự vệ năm {year}",
        "chuẩn bị lực lượng, phương tiện phòng, chống thiên tai, tìm kiếm cứu nạn",
    ],
    "hanh_chinh": [
        "giải quyết dứt điểm {n} hồ sơ thủ tục hành chính quá hạn",
        "tham mưu kiện toàn tổ chức bộ máy theo hướng dẫn của cấp trên",
        "kiểm tra công tác cải cách hành chính tại {place}",
        "rà soát văn bản quy phạm pháp luật do địa phương ban hành",
        "giải quyết đơn thư khiếu nại, tố cáo của công dân đúng thời hạn",
    ],
    "gpmb": [
        "hoàn thành phương án bồi thường, hỗ trợ cho {n} hộ còn lại của dự án {project}",
        "tổ chức đối thoại với các hộ chưa đồng thuận, bàn giao mặt bằng dự án {project}",
        "bố trí quỹ đất tái định cư tại {place} cho các hộ bị thu hồi đất",
        "kiểm đếm, lập hồ sơ thu hồi đất dự án {project}",
    ],
    "tong_hop": [
        "theo dõi, đôn đốc các cơ quan, đơn vị thực hiện các nhiệm vụ tại Thông báo này",
        "tổng hợp kết quả thực hiện nhiệm vụ, báo cáo tại phiên họp tháng sau",
        "chuẩn bị nội dung, tài liệu phục vụ kỳ họp cuối năm",
        "rà soát chương trình công tác, đề xuất điều chỉnh các nội dung chưa phù hợp",
    ],
}

_PROJECT_KINDS = ["đường trục {a} - {b}", "kè bờ {river}", "khu tái định cư {a}",
                  "cầu {a}", "nâng cấp đường tỉnh lộ qua {a}", "trung tâm văn hóa {a}"]
_CROPS = ["vụ Xuân", "vụ Mùa", "vụ Hè Thu", "vụ Đông"]


def _project(rng: random.Random) -> str:
    return rng.choice(_PROJECT_KINDS).format(a=_place(rng), b=_place(rng), river=rng.choice(_RIVERS))


def _task_text(rng: random.Random, sector: str, year: int) -> str:
    template = rng.choice(TASKS[sector])
    return template.format(
        place=_place(rng), project=_project(rng), n=rng.randint(3, 480), pct=rng.choice([5, 10, 15, 30, 85, 90, 95]),
        river=rng.choice(_RIVERS), crop=rng.choice(_CROPS), year=year, year1=year + 1,
    )


def _deadline(rng: random.Random, meeting: dt.date) -> str | None:
    due = meeting + dt.timedelta(days=rng.randint(7, 120))
    kind = rng.choices(range(8), [18, 14, 14, 10, 8, 8, 6, 22])[0]
    if kind == 0:
        return f"trước ngày {due.day:02d}/{due.month:02d}/{due.year}"
    if kind == 1:
        return f"hoàn thành trong tháng {due.month}/{due.year}"
    if kind == 2:
        return f"trước ngày {due.day} tháng {due.month} năm {due.year}"
    if kind == 3:
        return f"trong Quý {_ROMAN[(due.month - 1) // 3]} năm {due.year}"
    if kind == 4:
        return "báo cáo kết quả hàng tuần"
    if kind == 5:
        return "báo cáo định kỳ hằng quý"
    if kind == 6:
        return f"báo cáo kết quả trước ngày {due.day}/{due.month}"
    return None


# Gazetteer name of the office that follows up the notice (section III), by level.
_OFFICE_UNIT = {"tinh": "Văn phòng UBND tỉnh", "huyen": "Văn phòng HĐND và UBND", "xa": "Văn phòng HĐND và UBND xã"}


# --- one notice -----------------------------------------------------------------------------


@dataclass
class Draft:
    lines: list[str] = field(default_factory=list)
    tasks: dict[str, int] = field(default_factory=dict)  # unit name -> tasks given to it

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def count(self, unit: Unit) -> None:
        self.tasks[unit.name] = self.tasks.get(unit.name, 0) + 1


def _with_place(unit: Unit, spelling: str, level: Level, rng: random.Random) -> str:
    """Some notices add the locality kind ('Phòng Tư pháp huyện'); never twice."""
    if level.key == "tinh" or spelling.split()[-1] in ("huyện", "xã", "tỉnh") or len(spelling) < 6:
        return spelling
    return f"{spelling} {level.kind}" if rng.random() < 0.25 else spelling


def _spell(unit: Unit, rng: random.Random) -> str:
    return unit.spellings[0] if len(unit.spellings) == 1 or rng.random() < 0.5 else rng.choice(unit.spellings[1:])


def _sentence(task: str, deadline: str | None) -> str:
    return f"{task}; {deadline}." if deadline else f"{task}."


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def make_notice(seed: int, index: int, units: list[tuple[dict[str, object], Unit]]) -> tuple[str, str, dict[str, object]]:
    """(file name, text, manifest entry) of notice ``index``; depends only on (seed, index)."""
    rng = random.Random(f"scale-corpus:{seed}:{index}")
    start = dt.date(2021, 1, 4)
    meeting = start + dt.timedelta(days=rng.randint(0, (dt.date(2026, 6, 30) - start).days))
    issued = meeting + dt.timedelta(days=rng.randint(1, 6))
    level = _level(rng, meeting)
    place = _place(rng)
    province = _place(rng)
    chair = _person(rng)
    signer = _person(rng)
    chair_role = rng.choices(["Chủ tịch", "Phó Chủ tịch"], [70, 30])[0]
    body = f"UBND {level.kind}"
    pool = units_for(units, level, meeting)
    markdown = rng.random() < 0.15
    draft = Draft()

    def bold(text: str) -> str:
        return f"**{text}**" if markdown else text

    # Header: issuing body, number, Quốc hiệu, place and date.
    if level.key == "tinh":
        draft.add(bold("ỦY BAN NHÂN DÂN" if rng.random() < 0.5 else "VĂN PHÒNG UBND"), bold(f"TỈNH {place.upper()}"))
    else:
        draft.add(bold(f"{level.upper} {place.upper()}"))
        if level.key == "huyen" and rng.random() < 0.5:
            draft.add(bold("VĂN PHÒNG HĐND VÀ UBND"))
    suffix = rng.choice(["TB-UBND", "TB-VP", "TB-VPUBND"])
    draft.add("", f"Số: {rng.randint(1, 420)}/{suffix}", "", bold("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
              bold("Độc lập - Tự do - Hạnh phúc"), "")
    dated = f"{place}, ngày {issued.day:02d} tháng {issued.month:02d} năm {issued.year}"
    draft.add(f"*{dated}*" if markdown else dated, "")

    # Title and trích yếu.
    month = f"tháng {meeting.month} năm {meeting.year}"
    quarter = f"Quý {_ROMAN[(meeting.month - 1) // 3]} năm {meeting.year}"
    topic_sector = rng.choice(list(SECTOR_TITLES))
    meeting_name = rng.choice([
        f"phiên họp thường kỳ {month}",
        f"cuộc họp giao ban {month}",
        f"Hội nghị đánh giá tình hình kinh tế - xã hội {quarter}",
        f"cuộc họp chuyên đề về {SECTOR_TITLES[topic_sector].lower()}",
        f"buổi kiểm tra tiến độ dự án {_project(rng)}",
    ])
    draft.add("# THÔNG BÁO" if markdown else "THÔNG BÁO")
    draft.add(bold(f"Kết luận của đồng chí {chair}, {chair_role} {body} tại {meeting_name}"), "")

    # Opening: date, chair, attendees, what was heard.
    heard = rng.sample(pool, k=min(2, len(pool)))
    draft.add(
        f"Ngày {meeting.day:02d}/{meeting.month:02d}/{meeting.year}, {body} {place} tổ chức {meeting_name} "
        f"dưới sự chủ trì của đồng chí {chair} - {chair_role} {body}. Dự họp có các Phó Chủ tịch, "
        f"Ủy viên {body}; lãnh đạo các cơ quan chuyên môn và đại diện {level.subordinate}. "
        f"Tại cuộc họp, {body} đã nghe " + " và ".join(f"{u.name} báo cáo {SECTOR_TITLES[u.sector].lower()}" for u in heard)
        + f". Sau khi nghe báo cáo và ý kiến của các thành viên dự họp, {chair_role} {body} kết luận như sau:",
        "",
    )

    # I. Evaluation.
    draft.add(f"I. ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN NHIỆM VỤ {('THÁNG ' + str(meeting.month)) if rng.random() < 0.5 else quarter.upper()}")
    draft.add("1. Những kết quả đạt được")
    draft.add(
        f"Thu ngân sách trên địa bàn ước đạt {rng.randint(12, 980)},{rng.randint(0, 9)} tỷ đồng, bằng "
        f"{rng.randint(15, 96)}% dự toán. Sản xuất {rng.choice(_CROPS)} đạt {rng.randint(92, 104)}% kế hoạch; "
        f"tỷ lệ hồ sơ trực tuyến đạt {rng.randint(40, 99)}%. Quốc phòng, an ninh được giữ vững."
    )
    draft.add("2. Những tồn tại, hạn chế")
    for _ in range(rng.randint(1, 3)):
        draft.add(f"- {_cap(rng.choice(['tiến độ', 'công tác']))} {rng.choice(['giải phóng mặt bằng dự án', 'giải ngân vốn dự án', 'thi công dự án'])} {_project(rng)} còn chậm.")
    draft.add("")

    # II. Tasks, grouped by agency or by sector.
    chosen = rng.sample(pool, k=min(len(pool), rng.randint(4, 9)))
    draft.add(f"II. NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM {('THÁNG ' + str(meeting.month % 12 + 1)) if rng.random() < 0.5 else 'THỜI GIAN TỚI'}")
    draft.add("1. Nhiệm vụ chung")
    draft.add(
        f"Các cơ quan, đơn vị và {level.subordinate} bám sát chương trình công tác năm {meeting.year}, "
        f"báo cáo kết quả về {body} (qua {level.office}) trước ngày 25 hằng tháng."
    )
    # that sentence assigns a task to both groups it names
    for group in ("các cơ quan, đơn vị liên quan", level.subordinate):
        draft.tasks[group] = draft.tasks.get(group, 0) + 1
    if rng.random() < 0.5:
        draft.add("2. Nhiệm vụ cụ thể")
        for at, unit in enumerate(chosen, start=1):
            draft.add(f"2.{at}. {_with_place(unit, _spell(unit, rng), level, rng)}")
            for _ in range(rng.randint(1, 3)):
                draft.add(f"- {_cap(_sentence(_task_text(rng, unit.sector, meeting.year), _deadline(rng, meeting)))}")
                draft.count(unit)
    else:
        by_sector: dict[str, list[Unit]] = {}
        for unit in chosen:
            by_sector.setdefault(unit.sector, []).append(unit)
        for at, (sector, members) in enumerate(by_sector.items(), start=2):
            draft.add(f"{at}. {SECTOR_TITLES[sector]}")
            for unit in members:
                others = [u for u in pool if u is not unit]
                if rng.random() < 0.3:
                    draft.add(f"- Giao {_spell(unit, rng)} chủ trì:")
                    for _ in range(rng.randint(2, 3)):
                        draft.add(f"+ {_cap(_sentence(_task_text(rng, sector, meeting.year), _deadline(rng, meeting)))}")
                        draft.count(unit)
                    continue
                for _ in range(rng.randint(1, 2)):
                    partner = f", phối hợp với {_spell(rng.choice(others), rng)}" if others and rng.random() < 0.5 else ""
                    draft.add(f"- {_spell(unit, rng)} chủ trì{partner} "
                              f"{_sentence(_task_text(rng, sector, meeting.year), _deadline(rng, meeting))}")
                    draft.count(unit)
    draft.add("")
    office = _OFFICE_UNIT.get(level.key) if level.key != "xa" or meeting >= DISTRICTS_END else None
    if office and rng.random() < 0.3:
        draft.tasks[office] = draft.tasks.get(office, 0) + 1
        draft.add("III. TỔ CHỨC THỰC HIỆN",
                  f"{level.office} theo dõi, đôn đốc việc thực hiện; tổng hợp, báo cáo {chair_role} {body} kết quả thực hiện.", "")

    # Closing, recipients, signature.
    draft.add(rng.choice([
        f"{level.office} thông báo để các cơ quan, đơn vị biết, tổ chức thực hiện./.",
        f"Trên đây là kết luận của đồng chí {chair}, {chair_role} {body}; {level.office} thông báo để các cơ quan, đơn vị liên quan biết, thực hiện./.",
    ]), "")
    draft.add(bold("Nơi nhận:") if not markdown else "***Nơi nhận:***")
    draft.add(f"- TT {'Tỉnh' if level.key == 'tinh' else 'Đảng'} ủy, TT HĐND {level.kind} (để b/c);",
              f"- Chủ tịch, các PCT UBND {level.kind};", "- Các cơ quan, đơn vị có tên tại mục II;",
              f"- {level.subordinate};", "- Lưu: VT, TH.", "")
    sign = rng.choice([("TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"), ("KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG")])
    draft.add(bold(sign[0]), bold(sign[1]), "", bold(signer))

    slug = f"{meeting.isoformat()}_{level.kind.replace(' ', '-')}-{place}".lower().replace(" ", "-")
    name = f"{index:05d}_{_ascii(slug)}.{'md' if markdown else 'txt'}"
    entry: dict[str, object] = {
        "file": name, "issuer": f"{body} {place}", "province": province, "level": level.key,
        "kind": level.kind, "meeting_date": meeting.isoformat(), "chair": chair, "signer": signer,
        "tasks": draft.tasks, "grouping": "agency" if any(line.startswith("2.1. ") for line in draft.lines) else "sector",
    }
    return name, "\n".join(draft.lines) + "\n", entry


def _ascii(text: str) -> str:
    import unicodedata

    out = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in out if ch.isascii() and (ch.isalnum() or ch in "-_."))


def generate(n: int, seed: int, out: Path) -> int:
    units = load_units()
    folder = out / "notices"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = 0
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for index in range(n):
            name, text, entry = make_notice(seed, index, units)
            (folder / name).write_text(text, encoding="utf-8")
            manifest.write(json.dumps(entry, ensure_ascii=False) + "\n")
            tasks += sum(cast(dict[str, int], entry["tasks"]).values())
    return tasks


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="number of notices")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="output folder (notices/ + manifest.jsonl)")
    args = parser.parse_args(argv)
    tasks = generate(args.n, args.seed, args.out)
    print(f"{args.n} thông báo, {tasks} nhiệm vụ -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
