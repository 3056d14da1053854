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

  // A random id for one upload request (crypto.getRandomValues works on plain http too).
  function newId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // While an upload runs, ask the server every second how far it got and write it into
  // `node` ('Đang nạp 3 tệp… (1/3 xong) — nhận dạng chữ (OCR) «quet.pdf»: trang 4/12').
  // Returns the function that stops asking.
  function watch(id, node) {
    const base = node ? node.textContent : "";
    let stopped = false;
    const timer = setInterval(async () => {
      try {
        const response = await fetch("/api/uploads/" + encodeURIComponent(id));
        if (stopped || !response.ok || !node) return;
        const p = await response.json();
        let text = `${base} (${p.done_files}/${p.files} tệp xong)`;
        if (p.pages_total && p.pages_done < p.pages_total) {
          text += ` — nhận dạng chữ (OCR) «${p.current}»: trang ${p.pages_done + 1}/${p.pages_total}`;
        }
        node.textContent = text;
      } catch (err) {
        // progress is a courtesy: the upload itself reports any failure
      }
    }, 1000);
    return () => { stopped = true; clearInterval(timer); };
  }

  window.ocrView = { label, badge, newId, watch };
})();
