"""Hand-made notices of a fictional locality (thị xã Bến Lau, tỉnh Lam Sơn) for chunk and
retrieval tests: an outline is laid out as text and the section tree gets exact spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from assistant.model import DateValue, Level, Notice, Section, Signature, Spanned, content_id


@dataclass
class Item:
    marker: str
    text: str
    number: str | None = None
    children: list[Item] = field(default_factory=list)


def build_notice(
    *,
    header: list[str],
    title: str,
    opening: list[str],
    body: list[Item],
    closing: str | None,
    recipients: list[str],
    signature: list[str],
    issuer: str | None = "UBND THỊ XÃ BẾN LAU",
    level: Level = Level.DISTRICT,
    meeting: date | None = date(2024, 1, 15),
    source: str = "ben-lau.txt",
    separator: str = "\n",
) -> Notice:
    parts: list[str] = []
    pos = 0

    def emit(line: str) -> tuple[int, int]:
        nonlocal pos
        start = pos
        parts.append(line + separator)
        pos += len(line) + len(separator)
        return start, start + len(line)

    for line in header:
        emit(line)
    title_span = emit(title)
    opening_spans = [emit(line) for line in opening]

    def lay_out(item: Item) -> Section:
        start, end = emit(f"{item.marker} {item.text}")
        children = [lay_out(child) for child in item.children]
        return Section(
            number=item.number,
            marker=item.marker,
            heading=item.text if item.children else None,
            start=start,
            end=children[-1].end if children else end,
            heading_start=start + len(item.marker) + 1,
            heading_end=end,
            children=children,
        )

    sections = [lay_out(item) for item in body]
    closing_span = emit(closing) if closing else None
    recipient_spans = [emit(line) for line in recipients]
    signature_spans = [emit(line) for line in signature]
    text = "".join(parts)

    def spanned(span: tuple[int, int]) -> Spanned:
        return Spanned(text=text[span[0] : span[1]], start=span[0], end=span[1])

    issuer_span = None
    if issuer is not None and issuer in text:
        at = text.index(issuer)
        issuer_span = Spanned(text=issuer, start=at, end=at + len(issuer))
    return Notice(
        id=content_id(text),
        source=source,
        format="txt",
        text=text,
        issuer=issuer_span,
        level=level,
        title=spanned(title_span),
        meeting_date=(
            DateValue(text=meeting.isoformat(), start=0, end=0, value=meeting) if meeting else None
        ),
        opening=(
            Spanned(
                text=text[opening_spans[0][0] : opening_spans[-1][1]],
                start=opening_spans[0][0],
                end=opening_spans[-1][1],
            )
            if opening_spans
            else None
        ),
        sections=sections,
        closing=spanned(closing_span) if closing_span else None,
        recipients=[spanned(s) for s in recipient_spans],
        signature=(
            Signature(start=signature_spans[0][0], end=signature_spans[-1][1])
            if signature_spans
            else None
        ),
    )


def ben_lau_notice() -> Notice:
    """A complete notice: header, opening, I./II. with agency headings and items, tail."""
    return build_notice(
        header=[
            "UBND THỊ XÃ BẾN LAU",
            "VĂN PHÒNG HĐND VÀ UBND",
            "Số: 07/TB-VP",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "Bến Lau, ngày 17 tháng 01 năm 2024",
            "THÔNG BÁO",
        ],
        title="Kết luận của đồng chí Chủ tịch UBND thị xã tại cuộc họp giao ban tháng 01/2024",
        opening=[
            "Ngày 15/01/2024, đồng chí Lò Văn Thắm, Chủ tịch UBND thị xã chủ trì cuộc họp giao "
            "ban; dự họp có các đồng chí Phó Chủ tịch UBND thị xã, lãnh đạo các phòng, ban.",
        ],
        body=[
            Item(
                "I.",
                "ĐÁNH GIÁ CHUNG",
                number="I",
                children=[
                    Item(
                        "1.",
                        "Thu ngân sách tháng 01 đạt 9% dự toán, cao hơn cùng kỳ.",
                        number="1",
                    ),
                    Item(
                        "2.",
                        "Tiến độ giải phóng mặt bằng dự án kè sông Lau còn chậm.",
                        number="2",
                    ),
                ],
            ),
            Item(
                "II.",
                "NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI",
                number="II",
                children=[
                    Item(
                        "2.1.",
                        "Phòng Tài chính - Kế hoạch",
                        number="2.1",
                        children=[
                            Item(
                                "-",
                                "Tham mưu phân bổ vốn đầu tư công năm 2024, hoàn thành trước "
                                "ngày 31/01/2024.",
                            ),
                            Item("-", "Rà soát các khoản thu phí chợ Đồng Xoan ở xã Phú Ấp."),
                        ],
                    ),
                    Item(
                        "2.2.",
                        "Phòng TNMT, HĐGPMB",
                        number="2.2",
                        children=[
                            Item(
                                "-",
                                "Đẩy nhanh kiểm đếm, bồi thường dự án kè sông Lau; báo cáo "
                                "trước ngày 20/02/2024.",
                            ),
                            Item("-", "Xử lý dứt điểm ý kiến của hộ dân tổ 5 phường Đông Vĩ."),
                        ],
                    ),
                    Item(
                        "2.3.",
                        "Phòng Giáo dục và Đào tạo: mua sắm thiết bị trường Tiểu học Cửa Lau, "
                        "hoàn thành trong tháng 7/2024.",
                        number="2.3",
                    ),
                ],
            ),
        ],
        closing="Văn phòng HĐND và UBND thị xã thông báo để các cơ quan, đơn vị biết, thực hiện./.",
        recipients=[
            "Nơi nhận:",
            "- TT Thị ủy, TT HĐND thị xã;",
            "- Các phòng, ban liên quan;",
            "- Lưu: VT.",
        ],
        signature=["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Hà Thị Mơ"],
    )


def span_of(text: str, part: str) -> tuple[int, int]:
    """Offsets of the first occurrence of ``part`` in ``text`` (a hand-written notice)."""
    at = text.index(part)
    return at, at + len(part)


def spanned(text: str, part: str) -> Spanned:
    start, end = span_of(text, part)
    return Spanned(text=part, start=start, end=end)
