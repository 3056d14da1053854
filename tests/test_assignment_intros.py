"""Section-opening sentences are not tasks (issue #14: the task list counted them). Two forms of
administrative language, whatever the words around them:

* a sentence that only announces the list after it — '… thực hiện các nội dung sau', '… một số
  nhiệm vụ trọng tâm sau đây.', '… cụ thể như sau' — with or without its colon: the items are
  the tasks (eval/README rule 10); the sentence is a task only when no item is one;
* a topic over items of its own — '* Đối với nhiệm vụ …', 'Về công tác …' — naming what the items
  are about, with no agency, no order and no verb of doing.

The fixtures are the team's own sentences (a fictional province, Lam Giang), parsed by the real
pipeline; each also says which tasks must stay, so a rule that drops too much fails here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from assistant.agencies import get_gazetteer
from assistant.model import LoadedDocument, Notice
from assistant.parse import parse_document

HEADER = """ỦY BAN NHÂN DÂN
TỈNH LAM GIANG
Số: 31/TB-UBND
Lam Giang, ngày 20 tháng 4 năm 2026
THÔNG BÁO
Kết luận của Chủ tịch UBND tỉnh tại cuộc họp giao ban tháng 4/2026
Ngày 18/4/2026, Chủ tịch UBND tỉnh chủ trì cuộc họp giao ban. Sau khi nghe báo cáo, Chủ tịch
UBND tỉnh kết luận như sau:
I. ĐÁNH GIÁ CHUNG
Tình hình kinh tế - xã hội trong tháng ổn định.
II. NHIỆM VỤ THỜI GIAN TỚI
"""
FOOTER = """Nơi nhận:
- Như trên;
- Lưu: VT.
"""


@dataclass(frozen=True)
class Case:
    name: str
    body: str
    not_tasks: tuple[str, ...]  # words of sentences that must not be any assignment's task
    tasks: tuple[tuple[str, str], ...]  # (agency, words of its task) that must be there


CASES = [
    Case(
        "an announcement ending with '.' instead of a colon",
        "Yêu cầu các sở, ban, ngành, địa phương thực hiện một số nội dung trọng tâm sau đây.\n"
        "- Sở Công Thương rà soát quy hoạch các cụm công nghiệp.\n"
        "- Sở Nội vụ trình phương án sắp xếp đơn vị sự nghiệp trước ngày 30/5/2026.\n",
        ("nội dung trọng tâm sau đây",),
        (("Sở Công Thương", "rà soát quy hoạch các cụm"), ("Sở Nội vụ", "phương án sắp xếp đơn vị")),
    ),
    Case(
        "a numbered announcement without punctuation over lettered items",
        "1. Giao các cơ quan, đơn vị thực hiện các nội dung cụ thể như sau\n"
        "a) Sở Tài chính cân đối nguồn vốn đối ứng cho các dự án ODA.\n"
        "b) Sở Xây dựng thẩm định thiết kế cầu Bến Lở trong tháng 6/2026.\n",
        ("cụ thể như sau",),
        (("Sở Tài chính", "cân đối nguồn vốn đối ứng"), ("Sở Xây dựng", "thẩm định thiết kế cầu")),
    ),
    Case(
        "'Giao … các nội dung sau' as a paragraph over bullets",
        "Giao các cơ quan, đơn vị thực hiện các nội dung sau\n"
        "- Sở Y tế kiểm tra an toàn thực phẩm các bếp ăn tập thể.\n"
        "- Công an tỉnh bảo đảm an ninh trật tự dịp lễ.\n",
        ("thực hiện các nội dung sau",),
        (("Sở Y tế", "an toàn thực phẩm các bếp"), ("Công an tỉnh", "an ninh trật tự dịp lễ")),
    ),
    Case(
        "a topic bullet ending with '.' over numbered sectors, under an intro",
        "1. Các sở, ngành tập trung thực hiện các nhiệm vụ sau:\n"
        "* Đối với nhiệm vụ phát triển kinh tế - xã hội, quốc phòng, an ninh.\n"
        "1. Lĩnh vực nông nghiệp\n"
        "- Sở Nông nghiệp và Môi trường chỉ đạo gieo cấy vụ Mùa đúng khung thời vụ.\n"
        "2. Lĩnh vực giao thông\n"
        "- Sở Xây dựng sửa chữa mặt đường tỉnh lộ 12 trước mùa mưa.\n",
        ("Đối với nhiệm vụ phát triển kinh tế", "các nhiệm vụ sau"),
        (("Sở Nông nghiệp và Môi trường", "gieo cấy vụ Mùa"), ("Sở Xây dựng", "mặt đường tỉnh lộ 12")),
    ),
    Case(
        "topic bullets ('Đối với công tác …', 'Về công tác …') over items",
        "1. Các sở, ngành cần tập trung thực hiện các nhiệm vụ sau:\n"
        "* Đối với công tác đầu tư công.\n"
        "- Sở Tài chính rà soát nguồn vốn của các dự án chuyển tiếp.\n"
        "* Về công tác chuyển đổi số\n"
        "- Sở Khoa học và Công nghệ triển khai nền tảng dữ liệu dùng chung.\n",
        ("Đối với công tác đầu tư công", "Về công tác chuyển đổi số"),
        (("Sở Tài chính", "nguồn vốn của các dự án chuyển tiếp"),
         ("Sở Khoa học và Công nghệ", "nền tảng dữ liệu dùng chung")),
    ),
]

# What must stay a task: the same words doing work.
KEPT = [
    Case(
        "a topic that goes on to order something is a task",
        "1. Các sở, ngành tập trung thực hiện các nhiệm vụ sau:\n"
        "- Đối với các dự án chậm tiến độ, kiên quyết thu hồi chủ trương đầu tư.\n"
        "- Sở Tài chính rà soát nguồn vốn của các dự án chuyển tiếp.\n",
        (),
        (("các Sở, ngành", "kiên quyết thu hồi chủ trương"), ("Sở Tài chính", "nguồn vốn của các dự án")),
    ),
    Case(
        "a topic with its own sentence below it, no items: the sentence is the task",
        "1. Về công tác cải cách hành chính\n"
        "Sở Nội vụ tổng hợp chỉ số cải cách hành chính của các sở trong quý II.\n",
        (),
        (("Sở Nội vụ", "chỉ số cải cách hành chính"),),
    ),
    Case(
        "'… tuần sau' at the end of a task is not an announcement",
        "- Sở Tài chính báo cáo kết quả giải ngân vào cuộc họp tuần sau.\n",
        (),
        (("Sở Tài chính", "kết quả giải ngân vào cuộc họp"),),
    ),
]


def _notice(body: str) -> Notice:
    return parse_document(
        LoadedDocument(source="mo-dau.txt", format="txt", text=HEADER + body + FOOTER), get_gazetteer()
    )


def _check(case: Case) -> None:
    notice = _notice(case.body)
    for words in case.not_tasks:
        counted = [(a.agency.canonical or a.agency.text, a.task) for a in notice.assignments
                   if words in a.task]
        assert not counted, f"{case.name}: counted as a task: {counted}"
    for agency, words in case.tasks:
        found = [a for a in notice.assignments
                 if words in a.task and (a.agency.canonical or a.agency.text) == agency]
        got = sorted({(a.agency.canonical or a.agency.text, a.task[:50]) for a in notice.assignments})
        assert found, f"{case.name}: lost {agency}: {words}; got {got}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_section_opening_sentence_is_not_a_task(case: Case) -> None:
    _check(case)


@pytest.mark.parametrize("case", KEPT, ids=[c.name for c in KEPT])
def test_the_same_words_doing_work_stay_tasks(case: Case) -> None:
    _check(case)
