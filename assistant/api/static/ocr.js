// How a notice read by OCR is shown (list row badge, upload result, viewer line): the OcrInfo
// of assistant/model.py as the API sends it under "ocr". Loaded before app.js, which calls
// window.ocrView.badge(info) / window.ocrView.label(info).
"use strict";

(function () {
  // assistant/model.py OCR_REASON_LABELS
  const REASONS = {
    scan: "bản quét không có lớp chữ",
    image: "tệp ảnh",
    broken_layer: "lớp chữ sẵn có bị lỗi (không phải tiếng Việt) nên đã nhận dạng lại",
  };

  // "OCR (tệp ảnh), độ tin cậy 94%; trang có độ tin cậy thấp: 3, 5" (model.ocr_label)
  function label(info) {
    if (!info) return "";
    let text = `OCR (${REASONS[info.reason] || info.reason}), độ tin cậy ${Math.round(info.confidence)}%`;
    if (info.low_confidence_pages && info.low_confidence_pages.length) {
      text += "; trang có độ tin cậy thấp: " + info.low_confidence_pages.join(", ");
    }
    return text;
  }

  // A small badge "OCR 94%" whose title says the rest; null for a notice not read by OCR.
  function badge(info) {
    if (!info) return null;
    const low = info.low_confidence_pages && info.low_confidence_pages.length;
    const node = document.createElement("span");
    node.className = "badge ocr-badge" + (low ? " low" : "");
    node.textContent = `OCR ${Math.round(info.confidence)}%`;
    node.title = label(info);
    return node;
  }

  window.ocrView = { label, badge };
})();
