"""Trợ lý Thông báo kết luận: an assistant over Vietnamese meeting-conclusion notices."""

__version__ = "0.1.0"
