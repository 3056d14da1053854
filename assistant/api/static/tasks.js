// The task follow-up view ("Theo dõi thực hiện"): /api/tasks with filters, a status change per
// row (recorded with the name typed in "Người cập nhật"), Excel/CSV export, the periodic report
// and a print layout that prints only the list under the office's header (app.css @media print).
// Document text only ever enters the page as text nodes (the helpers of app.js).
"use strict";

(function () {
  const BY_KEY = "assistant.tasks.by";
  const PAGE = 100;
  const STATUS_LABELS = {
    chua_thuc_hien: "chưa thực hiện",
    dang_thuc_hien: "đang thực hiện",
    da_hoan_thanh: "đã hoàn thành",
    khong_thuc_hien: "không thực hiện/điều chỉnh",
  };
  const $ = (id) => document.getElementById(id);
  let ready = false;
  let run = 0; // answers of a superseded request are dropped
  let shownCount = 0;
  let lastParams = null;
  let total = 0;

  function A() { return window.Assistant; }

  function isoToday() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function params() {
    const p = new URLSearchParams();
    const add = (key, id) => { const v = $(id).value.trim(); if (v) p.set(key, v); };
    add("agency", "tasks-agency");
    add("status", "tasks-status");
    add("due_within", "tasks-due-within");
    add("issuer", "tasks-issuer");
    add("role", "tasks-role");
    add("since", "tasks-since");
    add("until", "tasks-until");
    add("notice", "tasks-notice");
    return p;
  }

  function scopeText(data) {
    const parts = [];
    const f = data.filters;
    if (data.lookup && data.lookup.label) parts.push("Cơ quan: " + data.lookup.label);
    if (f.overdue) parts.push("quá hạn");
    if (f.status) parts.push(STATUS_LABELS[f.status] || f.status);
    if (f.due_within !== null && f.due_within !== undefined) parts.push(`đến hạn trong ${f.due_within} ngày`);
    if (f.issuer) parts.push("Địa phương: " + f.issuer);
    if (f.role) parts.push("Vai trò: " + (A().ROLE_LABELS[f.role] || f.role));
    if (f.since || f.until) parts.push(`Họp từ ${A().formatDate(f.since)} đến ${A().formatDate(f.until)}`);
    parts.push("Tính đến ngày " + A().formatDate(data.today));
    return parts.join(" · ");
  }

  function summaryText(data) {
    const c = data.counts;
    return `${data.total} nhiệm vụ: ${c.da_hoan_thanh} đã hoàn thành, ${c.dang_thuc_hien} đang thực hiện, ` +
      `${c.chua_thuc_hien} chưa thực hiện, ${c.khong_thuc_hien} không thực hiện/điều chỉnh; ` +
      `${c.qua_han} quá hạn, ${c.sap_den_han} sắp đến hạn. Hạn sắp tới xếp trước.`;
  }

  function dueCell(item) {
    const { el } = A();
    const cell = el("td", { class: "task-due", "data-label": "Thời hạn" }, item.deadline ? item.deadline.text : "—");
    if (item.due_state === "qua_han") {
      cell.append(el("br"), el("strong", { class: "badge danger" }, `Quá hạn ${item.days_overdue} ngày`));
    } else if (item.due_state === "sap_den_han") {
      cell.append(el("br"), el("strong", { class: "badge warn" }, `Sắp đến hạn (còn ${item.days_left} ngày)`));
    } else if (item.deadline && item.deadline.recurring) {
      cell.append(el("br"), el("span", { class: "badge" }, "định kỳ"));
    }
    return cell;
  }

  function statusForm(item, row) {
    const { el } = A();
    const select = el("select", { class: "task-status-select", "aria-label": "Tình trạng mới" },
      ...Object.entries(STATUS_LABELS).map(([value, label]) =>
        el("option", { value, selected: value === item.status }, label)));
    const note = el("input", { class: "task-note", maxlength: "2000", placeholder: "Ghi chú tiến độ / lý do", "aria-label": "Ghi chú" });
    const report = el("input", { class: "task-report-ref", maxlength: "200", placeholder: "Báo cáo số … (nếu có)", "aria-label": "Văn bản báo cáo" });
    const save = el("button", { type: "button", class: "primary small task-save" }, "Lưu");
    const form = el("div", { class: "task-form no-print" }, select, note, report, save);
    save.addEventListener("click", async () => {
      const body = { status: select.value, by: $("tasks-by").value.trim() || null, note: note.value.trim() || null,
                     report_ref: report.value.trim() || null };
      if (body.by) localStorage.setItem(BY_KEY, body.by);
      save.disabled = true;
      try {
        await A().postJSON(`/api/tasks/${encodeURIComponent(item.task_id)}/status`, body);
        A().toast(`Đã cập nhật: ${STATUS_LABELS[body.status]}.`, "ok");
        row.classList.add("is-saved");
        await load(false);
      } catch (err) {
        A().toast(err.message);
      } finally {
        save.disabled = false;
      }
    });
    return form;
  }

  function taskRow(item, number) {
    const { el, oneLine, sourceButton, formatDate, ROLE_LABELS } = A();
    const row = el("tr", { class: "tracked" + (item.due_state === "qua_han" ? " is-overdue" : ""), dataset: { taskId: item.task_id } });
    const agencies = [
      (item.agency || item.agency_text) + " (" + (ROLE_LABELS[item.role] || item.role) + ")",
      item.partner_agencies.length && item.role !== "phoi_hop" ? "phối hợp: " + item.partner_agencies.join(", ") : null,
    ].filter(Boolean).join("; ");
    const status = el("td", { class: "task-state", "data-label": "Tình trạng" },
      el("span", { class: "status-label status-" + item.status }, item.status_label));
    if (item.done_date) status.append(el("span", { class: "small" }, " ngày " + formatDate(item.done_date)));
    if (item.reason && item.status === "khong_thuc_hien") status.append(el("div", { class: "small" }, "Lý do: " + item.reason));
    if (item.note && item.note !== item.reason) status.append(el("div", { class: "small" }, item.note));
    if (item.report_ref) status.append(el("div", { class: "small" }, item.report_ref));
    if (item.updated_by) status.append(el("div", { class: "small muted no-print" }, "Cập nhật: " + item.updated_by));
    const toggle = el("button", { type: "button", class: "link small no-print task-edit needs-officer" }, "Cập nhật");
    status.append(el("div", {}, toggle));
    toggle.addEventListener("click", () => {
      const open = status.querySelector(".task-form");
      if (open) open.remove(); else status.append(statusForm(item, row));
    });
    row.append(
      el("td", { class: "task-no", "data-label": "STT" }, String(number)),
      el("td", { class: "task-main", "data-label": "Nhiệm vụ" },
        el("p", { class: "task-text" }, item.task),
        el("p", { class: "small muted" }, agencies),
        el("p", { class: "small muted mono no-print" }, "Mã " + item.task_id)),
      dueCell(item),
      el("td", { class: "task-notice", "data-label": "Văn bản giao" },
        el("span", {}, item.notice.label),
        item.notice.title ? el("div", { class: "small muted no-print" }, oneLine(item.notice.title)) : null,
        el("div", { class: "no-print" }, sourceButton("Xem nguồn", item.notice_id, item.start, item.end, "source-link small"))),
      status,
    );
    return row;
  }

  function table() {
    const { el } = A();
    return el("table", { class: "tasks-table", id: "tasks-table" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "STT"), el("th", { scope: "col" }, "Nội dung nhiệm vụ"),
        el("th", { scope: "col" }, "Thời hạn"), el("th", { scope: "col" }, "Văn bản giao"),
        el("th", { scope: "col" }, "Tình trạng"))),
      el("tbody", { id: "tasks-body" }));
  }

  async function load(fresh) {
    const mine = ++run;
    const p = fresh || !lastParams ? params() : lastParams;
    lastParams = p;
    const page = new URLSearchParams(p);
    // a refresh after a change keeps as many rows as were shown
    page.set("limit", String(Math.max(PAGE, fresh ? PAGE : shownCount)));
    let data;
    try {
      data = await A().getJSON("/api/tasks?" + page.toString());
    } catch (err) {
      if (mine === run) A().toast(err.message);
      return;
    }
    if (mine !== run) return;
    total = data.total;
    const result = A().clear($("tasks-result"));
    $("tasks-print-office").textContent = (data.office || "").toUpperCase();
    $("tasks-print-scope").textContent = scopeText(data);
    $("tasks-summary").textContent = summaryText(data);
    $("tasks-status-line").textContent = summaryText(data);
    if (data.lookup && data.lookup.message) result.append(A().el("p", { class: "notice-warn" }, data.lookup.message));
    if (!data.items.length) {
      result.append(A().el("p", { class: "muted empty" }, "Không có nhiệm vụ nào phù hợp."));
      shownCount = 0;
      $("tasks-more").hidden = true;
      return;
    }
    const t = table();
    result.append(t);
    data.items.forEach((item, i) => t.tBodies[0].append(taskRow(item, i + 1)));
    shownCount = data.items.length;
    $("tasks-more").hidden = shownCount >= total;
  }

  async function more() {
    const page = new URLSearchParams(lastParams || params());
    page.set("limit", String(PAGE));
    page.set("offset", String(shownCount));
    try {
      const data = await A().getJSON("/api/tasks?" + page.toString());
      const body = $("tasks-body");
      data.items.forEach((item, i) => body.append(taskRow(item, shownCount + i + 1)));
      shownCount += data.items.length;
      $("tasks-more").hidden = shownCount >= data.total;
    } catch (err) {
      A().toast(err.message);
    }
  }

  async function download(path, fallback) {
    try {
      const response = await A().request(path);
      const blob = await response.blob();
      const m = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
      const url = URL.createObjectURL(blob);
      const a = A().el("a", { href: url, download: m ? m[1] : fallback });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      A().toast(err.message);
    }
  }

  function exportAs(format) {
    const p = new URLSearchParams(lastParams || params());
    p.set("format", format);
    download("/api/tasks/export?" + p.toString(), "nhiem-vu." + format);
  }

  function report() {
    const from = $("tasks-since").value;
    const to = $("tasks-until").value || isoToday();
    if (!from) {
      A().toast("Chọn 'Họp từ ngày' (và 'đến ngày') làm kỳ báo cáo.");
      $("tasks-since").focus();
      return;
    }
    const p = new URLSearchParams({ from, to });
    for (const [key, id] of [["agency", "tasks-agency"], ["issuer", "tasks-issuer"]]) {
      const v = $(id).value.trim();
      if (v) p.set(key, v);
    }
    download("/api/tasks/report?" + p.toString(), "bao-cao-nhiem-vu.docx");
  }

  function setup() {
    if (ready) return;
    ready = true;
    $("tasks-by").value = localStorage.getItem(BY_KEY) || "";
    $("tasks-form").addEventListener("submit", (e) => { e.preventDefault(); load(true); });
    $("tasks-status").addEventListener("change", () => load(true));
    $("tasks-more").addEventListener("click", more);
    $("tasks-xlsx").addEventListener("click", () => exportAs("xlsx"));
    $("tasks-csv").addEventListener("click", () => exportAs("csv"));
    $("tasks-report").addEventListener("click", report);
    $("tasks-print").addEventListener("click", () => window.print());
  }

  window.AssistantTasks = {
    shown() {
      setup();
      if (!lastParams) load(true);
    },
  };
})();
