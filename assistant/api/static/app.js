// Web page of the assistant. Plain JS, no dependencies, works offline.
// Document text is only ever put in the page with textContent / text nodes, never parsed as HTML.
"use strict";

(function () {
  // The top bar wraps when the sign-in controls or many tabs appear; the sticky viewer starts
  // below its real height, or the bar would cover the viewer's close button.
  const topbar = document.querySelector("header.topbar");
  if (topbar && "ResizeObserver" in window) {
    new ResizeObserver(() => {
      document.documentElement.style.setProperty("--topbar-height", `${topbar.offsetHeight}px`);
    }).observe(topbar);
  }
  const TOKEN_KEY = "assistant.token";
  // Document kinds in Vietnamese (assistant/model.py KIND_LABELS).
  const KIND_LABELS = {
    news_article: "bài báo", minutes: "biên bản", speech: "bài phát biểu",
    directive: "công văn", routing_slip: "phiếu trình", other: "văn bản khác",
  };
  const ROLE_LABELS = { chu_tri: "chủ trì", phoi_hop: "phối hợp", thuc_hien: "thực hiện", de_nghi: "đề nghị" };
  const LEVEL_LABELS = { tinh: "cấp tỉnh", huyen: "cấp huyện", xa: "cấp xã", trung_uong: "trung ương" };

  const $ = (id) => document.getElementById(id);

  // --- DOM helper: el("div", {class: "x"}, "text", child) -------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function oneLine(text) {
    return (text || "").replace(/\s+/g, " ").trim();
  }

  function formatDate(iso) {
    if (!iso) return "—";
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
  }

  let toastTimer = null;
  function toast(message, kind) {
    const box = $("toast");
    box.textContent = message;
    box.className = "toast " + (kind || "error");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // --- API ---------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function authHeaders() {
    const token = localStorage.getItem(TOKEN_KEY);
    return token ? { Authorization: "Bearer " + token } : {};
  }

  async function errorFrom(response) {
    let code = "http_" + response.status;
    let message = `Máy chủ trả lỗi ${response.status}.`;
    try {
      const data = await response.json();
      if (data && data.error) {
        code = data.error.code || code;
        message = data.error.message || message;
      }
    } catch (_) {
      if (response.status === 413) message = "Dữ liệu gửi lên quá lớn.";
    }
    return new ApiError(response.status, code, message);
  }

  // fetch with the token; on 401 asks for the token once and retries.
  async function request(path, options, retried) {
    const opts = Object.assign({}, options || {});
    opts.headers = Object.assign({}, opts.headers || {}, authHeaders());
    let response;
    try {
      response = await fetch(path, opts);
    } catch (_) {
      throw new ApiError(0, "network", "Không kết nối được máy chủ. Kiểm tra dịch vụ còn chạy không.");
    }
    // With accounts, a 401 means "sign in" (static/auth.js), not "type the machine token".
    if (response.status === 401 && window.AssistantAuth && await window.AssistantAuth.handleUnauthorized()) {
      throw await errorFrom(response);
    }
    if (response.status === 401 && !retried) {
      const saved = await askToken();
      if (saved) return request(path, options, true);
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  async function getJSON(path) {
    return (await request(path)).json();
  }

  async function postJSON(path, body) {
    const response = await request(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return response.json();
  }

  // --- token dialog -------------------------------------------------------------------------
  function askToken() {
    return new Promise((resolve) => {
      const dialog = $("token-dialog");
      $("token-input").value = localStorage.getItem(TOKEN_KEY) || "";
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (dialog.returnValue === "save" && $("token-input").value.trim()) {
          localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
          resolve(true);
        } else {
          if (dialog.returnValue === "clear") localStorage.removeItem(TOKEN_KEY);
          resolve(false);
        }
      });
      dialog.showModal();
      $("token-input").focus();
    });
  }

  // --- views --------------------------------------------------------------------------------
  const VIEWS = ["chat", "agency", "tasks", "notices", "draft", "admin"];
  const loaded = {};

  function showView(name) {
    if (!VIEWS.includes(name)) name = "chat";
    closeViewer();
    for (const view of VIEWS) {
      $("view-" + view).hidden = view !== name;
      const tab = $("tab-" + view);
      tab.classList.toggle("active", view === name);
      tab.setAttribute("aria-current", view === name ? "page" : "false");
    }
    if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
    if (name === "notices" && !loaded.notices) loadNotices();
    if ((name === "agency" || name === "tasks") && !loaded.agencies) loadAgencyNames();
    if (name === "tasks" && window.AssistantTasks) window.AssistantTasks.shown();
    if (name === "admin" && window.AssistantAuth) window.AssistantAuth.showAdmin();
  }

  async function loadHealth() {
    try {
      const h = await getJSON("/health");
      const parts = [`${h.counts.notices} thông báo`, `${h.counts.assignments} nhiệm vụ`];
      if (h.llm_configured) parts.push("có mô hình ngôn ngữ");
      if (h.status !== "ok") parts.push("chỉ mục cần dựng lại");
      $("health").textContent = parts.join(" · ");
      $("token-button").hidden = !h.auth_required;
    } catch (err) {
      $("health").textContent = err.message;
    }
  }

  // --- notice viewer ------------------------------------------------------------------------
  const noticeCache = new Map();

  async function fetchNotice(id) {
    if (!noticeCache.has(id)) noticeCache.set(id, getJSON("/api/notices/" + encodeURIComponent(id)));
    try {
      return await noticeCache.get(id);
    } catch (err) {
      noticeCache.delete(id);
      throw err;
    }
  }

  async function openNotice(id, start, end) {
    let notice;
    try {
      notice = await fetchNotice(id);
    } catch (err) {
      toast(err.message);
      return;
    }
    const viewer = $("viewer");
    $("viewer-title").textContent = oneLine(notice.title) || notice.source;
    const meta = [oneLine(notice.issuer), notice.number, "họp " + formatDate(notice.meeting_date), notice.source]
      .filter((x) => x && x !== "—");
    if (notice.ocr) meta.push(window.ocrView.label(notice.ocr));
    $("viewer-meta").textContent = meta.join(" · ");
    const box = clear($("viewer-text"));
    const text = notice.text || "";
    let mark = null;
    if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= text.length) {
      mark = el("mark", { class: "quote", id: "viewer-mark" }, text.slice(start, end));
      box.append(document.createTextNode(text.slice(0, start)), mark, document.createTextNode(text.slice(end)));
    } else {
      box.append(document.createTextNode(text));
    }
    viewer.hidden = false;
    document.body.classList.add("viewer-open");
    if (mark) {
      // after layout, so the passage lands in the middle of the panel
      requestAnimationFrame(() => mark.scrollIntoView({ block: "center" }));
    } else {
      box.scrollTop = 0;
    }
  }

  function closeViewer() {
    $("viewer").hidden = true;
    document.body.classList.remove("viewer-open");
  }

  function sourceButton(label, noticeId, start, end, extraClass) {
    return el("button", {
      type: "button",
      class: "link " + (extraClass || ""),
      onclick: () => openNotice(noticeId, start, end),
    }, label);
  }

  // --- chat ---------------------------------------------------------------------------------
  let conversationId = null;
  let asking = false;
  // static/chat_extras.js (copy button, history across reloads) uses these.
  window.chatHooks = {
    addMessage: (...args) => addMessage(...args),
    renderAnswer: (...args) => renderAnswer(...args),
    setConversation: (id) => { conversationId = id; },
  };

  function addMessage(kind, ...children) {
    $("chat-empty").hidden = true;
    const msg = el("div", { class: "msg " + kind }, ...children);
    $("chat-log").append(msg);
    msg.scrollIntoView({ block: "end" });
    return msg;
  }

  // The verified answer: text with each [n] as a button opening its passage.
  function renderAnswer(container, result) {
    clear(container);
    const byNumber = new Map((result.citations || []).map((c) => [c.n, c]));
    const body = el("div", { class: "answer-text" });
    const pattern = /\[(\d+)\]/g;
    const text = result.answer || "";
    let at = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      const citation = byNumber.get(Number(match[1]));
      if (!citation) continue;
      body.append(document.createTextNode(text.slice(at, match.index)));
      body.append(el("button", {
        type: "button",
        class: "cite",
        title: `${oneLine(citation.notice_title) || citation.source} — ${citation.section || ""}`,
        "aria-label": `Nguồn ${citation.n}: mở đoạn trích trong thông báo`,
        onclick: () => openNotice(citation.notice_id, citation.start, citation.end),
      }, `[${citation.n}]`));
      at = match.index + match[0].length;
    }
    body.append(document.createTextNode(text.slice(at)));
    container.append(body);

    if (result.citations && result.citations.length) {
      const list = el("ol", { class: "sources" });
      const related = new Set(result.related_citations || []);
      for (const c of result.citations) {
        list.append(el("li", { value: c.n },
          sourceButton(`[${c.n}] ${oneLine(c.notice_title) || c.source}`, c.notice_id, c.start, c.end),
          el("span", { class: "muted small" }, ` — họp ${formatDate(c.meeting_date)}${c.section ? " · " + oneLine(c.section) : ""}`),
          related.has(c.n) ? el("span", { class: "badge related-badge" }, RELATED_HEADING.toLowerCase()) : null,
        ));
      }
      container.append(el("details", { class: "sources-box" }, el("summary", {}, `Nguồn (${result.citations.length})`), list));
    }
    if (result.refused && result.closest && result.closest.length) {
      const list = el("ul", { class: "sources" });
      for (const n of result.closest) {
        list.append(el("li", {}, sourceButton(oneLine(n.notice_title) || n.source, n.notice_id), el("span", { class: "muted small" }, ` — họp ${formatDate(n.meeting_date)}`)));
      }
      container.append(el("div", { class: "closest" }, el("p", { class: "muted small" }, "Các thông báo gần nhất với câu hỏi:"), list));
    }
    if (result.dropped_claims) {
      container.append(el("p", { class: "muted small" }, `Đã bỏ ${result.dropped_claims} ý không kiểm chứng được trong nguồn.`));
    }
    if (window.chatExtras) window.chatExtras.decorate(container, result);
  }

  function parseSSE(buffer, onEvent) {
    // Returns what is left of the buffer after the complete events.
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(event, JSON.parse(data.join("\n")));
    }
    return buffer;
  }

  async function ask(question) {
    if (asking || !question.trim()) return;
    asking = true;
    $("chat-send").disabled = true;
    addMessage("user", el("div", { class: "answer-text" }, question));
    const answer = addMessage("assistant", el("div", { class: "answer-text streaming" }, ""));
    answer.setAttribute("aria-busy", "true");
    const live = answer.firstChild;
    let final = null;
    try {
      const response = await request("/api/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ question, conversation_id: conversationId }),
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      const onEvent = (event, data) => {
        if (event === "start") conversationId = data.conversation_id;
        else if (event === "delta") {
          live.textContent += data.text;
          answer.scrollIntoView({ block: "end" });
        } else if (event === "final") final = data;
        else if (event === "error") throw new ApiError(500, data.error.code, data.error.message);
      };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseSSE(buffer + decoder.decode(value, { stream: true }), onEvent);
      }
      parseSSE(buffer + decoder.decode() + "\n\n", onEvent);
      if (!final) throw new ApiError(0, "incomplete", "Câu trả lời bị ngắt giữa chừng. Hãy hỏi lại.");
      conversationId = final.conversation_id || conversationId;
      if (window.chatExtras) window.chatExtras.remember(conversationId);
      renderAnswer(answer, final);
      answer.classList.toggle("refused", !!final.refused);
    } catch (err) {
      clear(answer).append(el("div", { class: "answer-text error-text" }, err.message));
    } finally {
      answer.removeAttribute("aria-busy");
      answer.scrollIntoView({ block: "end" });
      asking = false;
      $("chat-send").disabled = false;
    }
  }

  function setupChat() {
    const input = $("chat-input");
    $("chat-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const q = input.value;
      input.value = "";
      ask(q);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        $("chat-form").requestSubmit();
      }
    });
    for (const chip of document.querySelectorAll("#suggestions .chip")) {
      chip.addEventListener("click", () => ask(chip.textContent));
    }
    $("chat-new").addEventListener("click", () => {
      conversationId = null;
      if (window.chatExtras) window.chatExtras.forget();
      for (const msg of document.querySelectorAll("#chat-log .msg")) msg.remove();
      $("chat-empty").hidden = false;
      input.focus();
    });
  }

  // --- agency view --------------------------------------------------------------------------
  async function loadAgencyNames() {
    loaded.agencies = true;
    try {
      const data = await getJSON("/api/agencies");
      const list = clear($("agency-names"));
      for (const name of data.names) list.append(el("option", { value: name }));
    } catch (_) {
      loaded.agencies = false;
    }
  }

  function deadlineChip(item) {
    if (!item.deadline) return null;
    const chip = el("span", { class: "deadline" + (item.overdue ? " overdue" : "") }, "Hạn: " + item.deadline.text);
    if (item.overdue) chip.append(el("strong", { class: "badge danger" }, "Quá hạn"));
    else if (item.deadline.recurring) chip.append(el("span", { class: "badge" }, "định kỳ"));
    return chip;
  }

  // Passages that name the agency but that no extracted task quotes (the server's
  // prompts.RELATED_HEADING / RELATED_NOTE): shown once, under the tasks, set apart from them.
  const RELATED_HEADING = "Đoạn có thể liên quan";
  const RELATED_NOTE = "Các đoạn nêu tên cơ quan nhưng chưa được trích thành nhiệm vụ; cần đọc nguyên văn để xác nhận.";

  function relatedSection(passages) {
    if (!passages || !passages.length) return null;
    const list = el("ul", { class: "related-list" });
    for (const p of passages) {
      list.append(el("li", { class: "related-item" },
        el("p", { class: "related-quote" }, oneLine(p.quote)),
        el("div", { class: "task-foot muted small" },
          el("span", {}, [oneLine(p.notice_title) || p.source, p.meeting_date ? "họp " + formatDate(p.meeting_date) : null,
            oneLine(p.section)].filter(Boolean).join(" · ")),
          sourceButton("Xem nguồn", p.notice_id, p.start, p.end, "source-link"))));
    }
    return el("section", { class: "panel related", id: "agency-related", "aria-labelledby": "agency-related-title" },
      el("h3", { id: "agency-related-title" }, RELATED_HEADING),
      el("p", { class: "muted small" }, RELATED_NOTE),
      list);
  }

  function taskRow(item, withAgency) {
    return el("li", { class: "task" + (item.overdue ? " is-overdue" : "") },
      el("div", { class: "task-head" },
        withAgency ? el("strong", {}, item.agency || item.agency_text) : null,
        el("span", { class: "badge role-" + item.role }, ROLE_LABELS[item.role] || item.role),
        deadlineChip(item)),
      el("p", { class: "task-text" }, item.task),
      el("div", { class: "task-foot muted small" },
        // a list that mixes notices names each row's notice (issuer, number, date)
        withAgency && item.notice ? el("span", { class: "task-notice-label" }, item.notice.label) : null,
        item.section ? el("span", {}, oneLine(item.section)) : null,
        sourceButton("Xem nguồn", item.notice_id, item.start, item.end, "source-link")),
    );
  }

  // Rows per request: an agency can hold thousands of tasks, each sent with its quoted
  // passage, so the view asks for one page at a time (the notices list builds its rows a
  // page at a time too). ?page_size=N in the page address
  // overrides it (tests, very slow links); the API takes at most 1000.
  const PAGE_SIZE = (() => {
    const asked = Number(new URLSearchParams(location.search).get("page_size"));
    return Number.isInteger(asked) && asked >= 1 && asked <= 1000 ? asked : 100;
  })();

  function formatCount(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  // Screen readers hear a short status line, not every appended row.
  function announce(message) {
    $("agency-status").textContent = message;
  }

  let agencyList = null; // the list shown (one agency's tasks, or deadlines): query, counts, button
  let agencyShown = null; // "search" or "deadlines": what the filter menu re-runs
  let agencyRun = 0; // answers of a superseded request are dropped

  function isoDay(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  }

  function listTotalsText(s) {
    const overdue = `quá hạn (tính đến ${formatDate(s.today)})`;
    let text;
    if (s.kind === "deadlines") {
      text = `${formatCount(s.total)} nhiệm vụ ${s.mode === "overdue" ? overdue : "có thời hạn"}, hạn sắp tới trước`;
      if (s.mode !== "overdue" && s.overdue) text += `; ${formatCount(s.overdue)} ${overdue}`;
    } else {
      // The agency's name is the heading just above: the line starts after it.
      text = `Được giao ${formatCount(s.total)} nhiệm vụ`;
      if (s.mode === "overdue") text += " " + overdue;
      else {
        if (s.mode === "deadline") text += " có thời hạn";
        if (s.overdue) text += `, ${formatCount(s.overdue)} ${overdue}`;
      }
    }
    if (s.offset < s.total) {
      text += ` — đang hiển thị ${formatCount(s.shown)} nhiệm vụ ${s.kind === "deadlines" ? "hạn sắp tới trước" : "mới nhất"}`;
    } else if (s.pages > 1) text += " — đã hiển thị tất cả";
    return text;
  }

  function updateListMore(s) {
    s.summary.textContent = listTotalsText(s);
    const left = s.total - s.offset;
    s.moreRow.hidden = left <= 0;
    s.more.textContent = `Xem thêm (còn ${formatCount(left)} nhiệm vụ)`;
  }

  // Appends rows; in an agency's list under their notice, where a notice already shown (a
  // group cut by the previous page) keeps its one heading. Returns the first row added.
  function appendListRows(s, items) {
    let first = null;
    for (const item of items) {
      // Rows shift if notices are added or deleted between two pages: never show one twice.
      const key = [item.notice_id, item.start, item.end, item.agency_text, item.role].join("|");
      if (s.seen.has(key)) continue;
      s.seen.add(key);
      let list = s.kind === "deadlines" ? s.flat : s.groups.get(item.notice_id);
      if (!list) {
        list = el("ul", { class: "tasks" });
        s.rowsBox.append(el("section", { class: "panel notice-group", dataset: { notice: item.notice_id } },
          el("h3", {}, sourceButton(oneLine(item.notice_title) || item.source, item.notice_id)),
          el("p", { class: "muted small" }, `Họp ngày ${formatDate(item.meeting_date)} · ${item.source}`),
          list));
        s.groups.set(item.notice_id, list);
      }
      const row = taskRow(item, s.kind === "deadlines");
      list.append(row);
      s.shown += 1;
      first = first || row;
    }
    return first;
  }

  function listPath(s, offset) {
    const params = new URLSearchParams(s.params);
    params.set("limit", String(PAGE_SIZE));
    if (offset) params.set("offset", String(offset));
    return `${s.endpoint}?${params}`;
  }

  // Shows the first page of a list and its true totals. spec: kind ("search" or
  // "deadlines"), endpoint, params, overdueParams (null: no overdue count asked), mode,
  // heading(result), warning(result).
  async function showList(spec) {
    const run = ++agencyRun;
    agencyShown = spec.kind;
    agencyList = null;
    const box = clear($("agency-result"));
    box.append(el("p", { class: "muted" }, "Đang tải…"));
    try {
      const s = Object.assign({}, spec, { params: spec.params.toString(), offset: 0, shown: 0, pages: 0, seen: new Set(), groups: new Map() });
      const first = getJSON(listPath(s, 0));
      // Only the total of this one is used: how many of all the rows are overdue.
      const overdue = spec.overdueParams
        ? getJSON(`${spec.endpoint}?${spec.overdueParams}`).then((r) => r.total, () => null)
        : null;
      const result = await first;
      s.overdue = await overdue;
      if (run !== agencyRun) return;
      s.today = result.today;
      s.total = result.total;
      s.heading = spec.heading(result);
      s.summary = el("p", { class: "muted", id: "agency-summary" });
      s.rowsBox = el("div", { class: "list-rows" });
      if (s.kind === "deadlines") {
        s.flat = el("ul", { class: "tasks panel" });
        s.rowsBox.append(s.flat);
      }
      s.more = el("button", { type: "button", id: "agency-more", class: "more", onclick: () => loadMoreList(s) }, "Xem thêm");
      s.moreRow = el("div", { class: "more-row" }, s.more);
      clear(box);
      const warning = spec.warning(result);
      if (warning) box.append(el("p", { class: "notice-warning" }, warning));
      const suggestions = suggestionButtons(result);
      if (suggestions) box.append(suggestions);
      box.append(el("div", { class: "result-head" }, el("h2", {}, s.heading), s.summary), s.rowsBox, s.moreRow);
      // Only the first page carries them; "Xem thêm" adds tasks above, never passages again.
      const related = relatedSection(result.related);
      if (related) box.append(related);
      if (!result.items.length) s.rowsBox.replaceChildren(el("p", { class: "empty" }, spec.empty));
      s.offset = result.items.length;
      s.pages = 1;
      appendListRows(s, result.items);
      agencyList = s;
      updateListMore(s);
      announce(`${s.heading}: ${s.summary.textContent}`);
    } catch (err) {
      if (run !== agencyRun) return;
      clear(box).append(el("p", { class: "error-text" }, err.message));
      announce(err.message);
    }
  }

  async function loadMoreList(s) {
    if (s.busy || s !== agencyList || s.offset >= s.total) return;
    s.busy = true;
    // aria-disabled rather than disabled: a disabled button drops the keyboard focus.
    s.more.setAttribute("aria-disabled", "true");
    s.more.setAttribute("aria-busy", "true");
    s.more.textContent = "Đang tải thêm…";
    let first = null;
    try {
      const page = await getJSON(listPath(s, s.offset));
      if (s !== agencyList) return;
      s.total = page.total;
      s.offset += page.items.length;
      s.pages += 1;
      // The list shrank since the first page (a notice deleted): nothing more to ask for.
      if (!page.items.length) s.total = s.offset;
      first = appendListRows(s, page.items);
    } catch (err) {
      toast(err.message);
    } finally {
      s.busy = false;
      s.more.removeAttribute("aria-disabled");
      s.more.removeAttribute("aria-busy");
      if (s === agencyList) {
        const hadFocus = document.activeElement === s.more;
        updateListMore(s);
        announce(`${s.heading}: ${listTotalsText(s)}`);
        // The button is gone once everything is shown: focus moves to the first new row,
        // where reading goes on, instead of falling back to the top of the page.
        if (first && s.moreRow.hidden && hadFocus) {
          first.setAttribute("tabindex", "-1");
          first.focus({ preventScroll: true });
        }
      }
    }
  }

  // The server reads the agency as typed (short forms, a place, bodies known only from the
  // notices) and says how: the level it chose, or, when nothing matched, the closest names.
  function lookupHeading(result, fallback) {
    const lookup = result.lookup;
    if (!lookup || !lookup.matched) return fallback;
    let heading = lookup.label;
    if (result.agency && LEVEL_LABELS[result.agency.level]) heading += ` (${LEVEL_LABELS[result.agency.level]})`;
    return heading;
  }

  function suggestionButtons(result) {
    const names = result.lookup && !result.total ? result.lookup.suggestions : [];
    if (!names || !names.length) return null;
    return el("p", { class: "suggestions" }, "Tìm: ", ...names.map((name) => el("button", {
      type: "button", class: "chip",
      onclick: () => { $("agency-input").value = name; agencyFilterChanged(); },
    }, name)));
  }

  function searchAgency(e) {
    if (e) e.preventDefault();
    const query = $("agency-input").value.trim();
    const params = new URLSearchParams({ agency: query });
    if ($("agency-since").value) params.set("since", $("agency-since").value);
    if ($("agency-until").value) params.set("until", $("agency-until").value);
    // Filtered by the server, so that the total and the pages agree with the filter.
    const mode = $("agency-filter").value;
    const overdueParams = new URLSearchParams(params);
    overdueParams.set("only", "overdue");
    overdueParams.set("limit", "1");
    if (mode === "deadline" || mode === "overdue") params.set("only", mode);
    return showList({
      kind: "search", endpoint: "/api/assignments", params, mode,
      overdueParams: mode === "overdue" ? null : overdueParams,
      empty: "Không có nhiệm vụ nào phù hợp.",
      heading: (result) => lookupHeading(result, result.query),
      warning: (result) => result.lookup ? result.lookup.message : null,
    });
  }

  function showDeadlines() {
    const params = new URLSearchParams();
    const agency = $("agency-input").value.trim();
    if (agency) params.set("agency", agency);
    const mode = $("agency-filter").value;
    // Overdue: a dated deadline before today (recurring duties carry no date).
    const yesterday = new Date();
    yesterday.setDate(yesterday.getDate() - 1);
    const overdueParams = new URLSearchParams(params);
    overdueParams.set("before", isoDay(yesterday));
    overdueParams.set("limit", "1");
    if (mode === "overdue") params.set("before", isoDay(yesterday));
    return showList({
      kind: "deadlines", endpoint: "/api/deadlines", params, mode,
      overdueParams: mode === "overdue" ? null : overdueParams,
      empty: "Không có nhiệm vụ nào có thời hạn.",
      heading: (result) => "Nhiệm vụ có thời hạn"
        + (agency ? " — " + lookupHeading(result, `“${agency}”`) : ""),
      warning: (result) => result.lookup ? result.lookup.message : null,
    });
  }

  // The filter menu re-runs what is shown, so the list never disagrees with the menu.
  function agencyFilterChanged() {
    if (agencyShown === "deadlines") showDeadlines();
    else if (agencyShown === "search" && $("agency-input").value.trim()) searchAgency();
  }

  // --- notices ------------------------------------------------------------------------------
  let noticeItems = [];

  async function loadNotices() {
    loaded.notices = true;
    const box = clear($("notices-list"));
    box.append(el("p", { class: "muted" }, "Đang tải…"));
    try {
      const data = await getJSON("/api/notices");
      noticeItems = data.items;
      renderNotices();
    } catch (err) {
      loaded.notices = false;
      clear(box).append(el("p", { class: "error-text" }, err.message));
    }
  }

  // The list comes whole (the filter runs on it here) but only a page of rows is built at a
  // time: at 10k notices building every row took seconds, and again on each keystroke.
  let noticeMatches = [];
  let noticeRendered = 0;

  function renderNotices() {
    const box = clear($("notices-list"));
    const query = $("notices-filter").value.trim().toLowerCase();
    noticeMatches = noticeItems.filter((n) => !query ||
      [n.title, n.issuer, n.number, n.source, n.chair].join(" ").toLowerCase().includes(query));
    $("notices-title").textContent = `Thông báo đã lưu (${formatCount(noticeItems.length)})`;
    if (!noticeMatches.length) {
      box.append(el("p", { class: "empty" }, noticeItems.length ? "Không có thông báo nào khớp." : "Kho chưa có thông báo nào. Hãy tải lên ở trên."));
      return;
    }
    noticeRendered = 0;
    box.append(el("div", { id: "notices-rows" }),
      el("p", { id: "notices-count", class: "muted small" }),
      el("div", { id: "notices-more-row", class: "more-row" },
        el("button", { type: "button", id: "notices-more", class: "more", onclick: moreNotices }, "Xem thêm")));
    appendNotices();
  }

  function appendNotices() {
    const rows = $("notices-rows");
    let first = null;
    for (const n of noticeMatches.slice(noticeRendered, noticeRendered + PAGE_SIZE)) {
      const row = noticeRow(n);
      rows.append(row);
      first = first || row;
    }
    noticeRendered = Math.min(noticeMatches.length, noticeRendered + PAGE_SIZE);
    const left = noticeMatches.length - noticeRendered;
    $("notices-more-row").hidden = left <= 0;
    $("notices-more").textContent = `Xem thêm (còn ${formatCount(left)} thông báo)`;
    $("notices-count").textContent = left > 0
      ? `Đang hiển thị ${formatCount(noticeRendered)} trên ${formatCount(noticeMatches.length)} thông báo${$("notices-filter").value.trim() ? " khớp" : ""}.`
      : "";
    return first;
  }

  function moreNotices() {
    const hadFocus = document.activeElement === $("notices-more");
    const first = appendNotices();
    // As in the agency view: when the button goes, focus goes on to the first new row.
    if (first && hadFocus && $("notices-more-row").hidden) {
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
    }
  }

  function noticeRow(n) {
    const kind = n.kind === "notice" ? null : el("span", { class: "badge" }, KIND_LABELS[n.kind] || n.kind);
    return el("article", { class: "notice-row", dataset: { id: n.id } },
      el("div", { class: "notice-main" },
        el("h3", {}, sourceButton(oneLine(n.title) || n.source, n.id), kind, window.ocrView.badge(n.ocr)),
        el("p", { class: "muted small" },
          [oneLine(n.issuer), n.number, "họp " + formatDate(n.meeting_date), `${n.assignments} nhiệm vụ`].filter(Boolean).join(" · ")),
        el("p", { class: "muted small mono" }, `${n.source} · mã ${n.id}`)),
      el("div", { class: "notice-actions" },
        el("button", { type: "button", class: "ghost", onclick: () => openNotice(n.id) }, "Mở"),
        // Shown to quản trị only (static/auth.js); the server refuses others regardless.
        el("button", { type: "button", class: "danger-ghost needs-admin", onclick: () => deleteNotice(n) }, "Xóa")),
    );
  }

  async function deleteNotice(n) {
    if (!confirm(`Xóa thông báo “${oneLine(n.title) || n.source}” khỏi kho?`)) return;
    try {
      await request("/api/notices/" + encodeURIComponent(n.id), { method: "DELETE" });
      noticeCache.delete(n.id);
      toast("Đã xóa thông báo.", "ok");
      await Promise.all([loadNotices(), loadHealth()]);
      loaded.agencies = false;
    } catch (err) {
      toast(err.message);
    }
  }

  const STATUS_LABELS = { added: "đã nạp", replaced: "đã cập nhật", unchanged: "không đổi (đã có)", failed: "lỗi", skipped: "bỏ qua" };

  // The server answers a result per file; only a request it refuses as a whole (too large in
  // total, too many files) has no per-file answer, and then each file is sent on its own so one
  // bad file never keeps the others out.
  const UPLOAD_BATCH = 20;

  async function sendFiles(files) {
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    // progress of long files (scans read page by page), shown in the status line (ocr.js)
    const progressId = window.ocrView.newId();
    form.append("progress_id", progressId);
    const stop = window.ocrView.watch(progressId, $("upload-status"));
    try {
      return (await (await request("/api/notices", { method: "POST", body: form })).json()).results;
    } finally {
      stop();
    }
  }

  async function uploadBatch(files) {
    try {
      return await sendFiles(files);
    } catch (err) {
      // Network, token, store busy: the same for every file, so reported once.
      if (!(err instanceof ApiError) || (err.status !== 413 && err.status !== 400)) throw err;
      if (files.length === 1) return [{ source: files[0].name, status: "failed", message: err.message }];
      const rows = [];
      for (const f of files) rows.push(...await uploadBatch([f]));
      return rows;
    }
  }

  async function upload(files) {
    if (!files.length) {
      toast("Hãy chọn ít nhất một tệp.");
      return;
    }
    const results = clear($("upload-results"));
    results.append(el("li", { class: "muted", id: "upload-status" }, `Đang nạp ${files.length} tệp…`));
    $("upload-button").disabled = true;
    try {
      const rows = [];
      for (let i = 0; i < files.length; i += UPLOAD_BATCH) rows.push(...await uploadBatch(files.slice(i, i + UPLOAD_BATCH)));
      clear(results);
      for (const r of rows) {
        const ok = r.status !== "failed";
        results.append(el("li", { class: ok ? "ok" : "failed" },
          el("strong", {}, (ok ? "✓ " : "✗ ") + (STATUS_LABELS[r.status] || r.status)),
          " ", r.source.replace(/^uploads\//, ""),
          ok ? ` — ${r.assignments} nhiệm vụ` + (r.kind && r.kind !== "notice" ? " (không phải thông báo kết luận)" : "")
            + (r.ocr ? ` — ${window.ocrView.label(r.ocr)}` : "") : `: ${r.message}`,
          ok && r.notice_id ? el("span", {}, " ", sourceButton("Mở", r.notice_id)) : null));
      }
      $("upload-input").value = "";
      await Promise.all([loadNotices(), loadHealth()]);
      loaded.agencies = false;
    } catch (err) {
      clear(results).append(el("li", { class: "failed" }, err.message));
    } finally {
      $("upload-button").disabled = false;
    }
  }

  function setupNotices() {
    $("upload-form").addEventListener("submit", (e) => {
      e.preventDefault();
      upload(Array.from($("upload-input").files));
    });
    const zone = $("drop-zone");
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      upload(Array.from(e.dataTransfer.files));
    });
    $("notices-filter").addEventListener("input", renderNotices);
  }

  // --- drafting -----------------------------------------------------------------------------
  let currentDraft = null;

  function outline(items, depth) {
    const list = el("div", { class: "outline depth-" + depth });
    for (const item of items) {
      const line = el("p", { class: item.heading ? "ol-heading" : "ol-item" });
      line.append(el("span", { class: "marker" }, item.marker + " "));
      if (item.heading) line.append(el("strong", {}, item.heading));
      if (item.heading && item.text) line.append(" ");
      if (item.text) line.append(item.text);
      list.append(line);
      if (item.children && item.children.length) list.append(outline(item.children, depth + 1));
    }
    return list;
  }

  function renderPreview(doc) {
    const paper = clear($("draft-preview"));
    paper.append(el("div", { class: "paper-header" },
      el("div", { class: "paper-left" },
        doc.issuer_parent ? el("p", {}, doc.issuer_parent) : null,
        el("p", { class: "bold" }, doc.issuer),
        el("p", {}, doc.number)),
      el("div", { class: "paper-right" },
        el("p", { class: "bold" }, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        el("p", { class: "bold" }, "Độc lập - Tự do - Hạnh phúc"),
        el("p", { class: "italic" }, doc.place_date))));
    paper.append(el("p", { class: "doc-type" }, doc.doc_type));
    paper.append(el("p", { class: "doc-title" }, doc.title));
    for (const p of doc.opening || []) paper.append(el("p", { class: "para" }, p));
    paper.append(outline(doc.body || [], 0));
    if (doc.closing) paper.append(el("p", { class: "para" }, doc.closing));
    const recipients = el("div", { class: "paper-left small-print" }, el("p", { class: "bold italic" }, "Nơi nhận:"));
    for (const r of doc.recipients || []) recipients.append(el("p", {}, r));
    paper.append(el("div", { class: "paper-footer" }, recipients,
      el("div", { class: "paper-right" },
        doc.authority ? el("p", { class: "bold" }, doc.authority) : null,
        doc.position ? el("p", { class: "bold" }, doc.position) : null,
        el("p", { class: "signature-space" }, ""),
        el("p", { class: "bold" }, doc.signer || "(chưa có người ký)"))));
  }

  // The preview, warnings and trace of a draft; the review form (review.js) calls it after each edit.
  function renderDraftParts(data) {
    currentDraft = data;
    renderPreview(data.document);
    const warnings = clear($("draft-warnings"));
    if (!data.warnings.length) warnings.append(el("li", { class: "ok" }, "Không có cảnh báo: mọi nhiệm vụ trong ghi chép đều có trong dự thảo."));
    for (const w of data.warnings) {
      warnings.append(el("li", { class: w.severity === "error" ? "error" : w.severity === "info" ? "info" : null }, w.message, w.lines && w.lines.length ? el("span", { class: "muted small" }, ` (dòng ${w.lines.join(", ")})`) : null));
    }
    const table = el("table", { class: "trace" },
      el("thead", {}, el("tr", {}, el("th", {}, "Mục"), el("th", {}, "Nhiệm vụ trong dự thảo"), el("th", {}, "Cơ quan"), el("th", {}, "Hạn"), el("th", {}, "Ghi chép gốc"))));
    const tbody = el("tbody");
    for (const t of data.trace) {
      tbody.append(el("tr", {},
        el("td", { "data-label": "Mục" }, t.item),
        el("td", { "data-label": "Nhiệm vụ" }, t.text),
        el("td", { "data-label": "Cơ quan" }, t.agencies.map((a, i) => `${a}${t.roles[i] && t.roles[i] !== "thuc_hien" ? " (" + (ROLE_LABELS[t.roles[i]] || t.roles[i]) + ")" : ""}`).join("; ")),
        el("td", { "data-label": "Hạn" }, t.deadline || "—"),
        el("td", { "data-label": "Ghi chép" }, ...t.source.map((s, i) => el("div", { class: "note-line" }, el("span", { class: "muted small" }, `dòng ${t.lines[i] ?? "?"}: `), s)))));
    }
    table.append(tbody);
    clear($("draft-trace")).append(table);
    $("draft-summary").textContent = `${data.trace.length} nhiệm vụ · ${data.warnings.length} cảnh báo` + (data.llm_used ? " · có dùng mô hình ngôn ngữ" : "");
  }

  function renderDraft(data) {
    renderDraftParts(data);
    if (window.draftReview) window.draftReview.show(data);
    $("draft-result").hidden = false;
    $("draft-result").scrollIntoView({ block: "start" });
  }
  window.assistantDraft = { update: renderDraftParts, request, el, clear, toast };

  async function makeDraft(e) {
    e.preventDefault();
    const form = new FormData();
    const file = $("draft-file").files[0];
    const notes = $("draft-notes").value;
    if (file) form.append("file", file, file.name);
    else if (notes.trim()) form.append("notes", notes);
    else {
      toast("Hãy dán ghi chép hoặc chọn một tệp ghi chép.");
      return;
    }
    for (const [field, id] of [["issuer", "draft-issuer"], ["chair", "draft-chair"], ["group_by", "draft-group"]]) {
      if ($(id).value.trim()) form.append(field, $(id).value.trim());
    }
    $("draft-button").disabled = true;
    $("draft-button").textContent = "Đang soạn…";
    try {
      renderDraft(await (await request("/api/draft", { method: "POST", body: form })).json());
    } catch (err) {
      toast(err.message);
    } finally {
      $("draft-button").disabled = false;
      $("draft-button").textContent = "Soạn dự thảo";
    }
  }

  async function downloadDraft() {
    if (!currentDraft) return;
    try {
      if (window.draftReview) await window.draftReview.flush();  // the last edit first
      const response = await request(currentDraft.docx_url);
      const blob = await response.blob();
      const disposition = response.headers.get("Content-Disposition") || "";
      const m = /filename="([^"]+)"/.exec(disposition);
      const url = URL.createObjectURL(blob);
      const a = el("a", { href: url, download: m ? m[1] : "du-thao-thong-bao.docx" });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      toast(err.message);
    }
  }

  // --- start --------------------------------------------------------------------------------
  function start() {
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => showView(tab.dataset.view));
    }
    window.addEventListener("hashchange", () => showView(location.hash.slice(1)));
    $("viewer-close").addEventListener("click", closeViewer);
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("viewer").hidden) closeViewer(); });
    $("token-button").addEventListener("click", () => askToken());
    $("agency-form").addEventListener("submit", searchAgency);
    $("deadlines-button").addEventListener("click", showDeadlines);
    $("agency-filter").addEventListener("change", agencyFilterChanged);
    $("draft-form").addEventListener("submit", makeDraft);
    $("draft-download").addEventListener("click", downloadDraft);
    setupChat();
    setupNotices();
    showView(location.hash.slice(1) || "chat");
    loadHealth();
  }

  // What static/tasks.js (the task follow-up view) borrows from this page.
  window.Assistant = { el, clear, oneLine, formatDate, toast, request, getJSON, postJSON, sourceButton, ROLE_LABELS };

  document.addEventListener("DOMContentLoaded", start);
})();
