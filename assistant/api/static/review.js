// Review before download: the draft as an editable form (issuer, meeting, chair, attendees,
// results, shortcomings, task table with agency autocomplete), re-validated by the server as it
// is edited (PUT /api/draft/{id}); the preview and warnings follow. Also the office profile
// (first-run form). Uses the helpers app.js exposes as window.assistantDraft.
(function () {
  "use strict";

  const ROLES = [["thuc_hien", "Thực hiện"], ["chu_tri", "Chủ trì"], ["de_nghi", "Đề nghị (cơ quan cấp trên)"]];
  const DELAY_MS = 500;
  const $ = (id) => document.getElementById(id);
  const api = () => window.assistantDraft;

  let draft = null; // the draft as last returned by the server
  let timer = null;
  let pending = Promise.resolve();

  // --- helpers ----------------------------------------------------------------------------
  function field(label, input) {
    return api().el("div", { class: "field grow" }, api().el("label", { for: input.id }, label), input);
  }
  function input(id, value, attrs) {
    return api().el("input", Object.assign({ id, value: value || "", autocomplete: "off" }, attrs || {}));
  }
  function area(id, value, rows) {
    const node = api().el("textarea", { id, rows: String(rows || 3) });
    node.value = value || "";
    return node;
  }
  function lines(text) {
    return text.split("\n").map((s) => s.trim()).filter(Boolean);
  }

  // --- the form -----------------------------------------------------------------------------
  function readForm() {
    const form = draft.form;
    const tasks = form.tasks.map((task, i) => Object.assign({}, task, {
      agency: $(`review-agency-${i}`).value.trim(),
      role: $(`review-role-${i}`).value,
      coordinators: $(`review-coord-${i}`).value.trim(),
      text: $(`review-text-${i}`).value.trim(),
      deadline: $(`review-deadline-${i}`).value.trim(),
    }));
    return Object.assign({}, form, {
      issuer: $("review-issuer").value.trim(),
      meeting_date: $("review-date").value || null,
      meeting_name: $("review-meeting").value.trim(),
      chair_name: $("review-chair").value.trim() || null,
      chair_position: $("review-chair-position").value.trim() || null,
      attendees: $("review-attendees").value.trim() || null,
      results: lines($("review-results").value),
      shortcomings: lines($("review-shortcomings").value),
      tasks,
    });
  }

  function flagRows(data) {
    for (const cell of document.querySelectorAll("#review-tasks .row-flags")) api().clear(cell);
    for (const row of document.querySelectorAll("#review-tasks tr.flagged")) row.classList.remove("flagged");
    for (const w of data.warnings) {
      if (w.task === null || w.task === undefined || w.severity === "info") continue;
      const cell = $(`review-flags-${w.task}`);
      if (!cell) continue;
      cell.append(api().el("div", { class: w.severity === "error" ? "flag error" : "flag" }, w.message));
      if (w.severity === "error") cell.closest("tr").classList.add("flagged");
    }
  }

  async function save() {
    const form = readForm();
    const status = $("review-status");
    $("draft-review").dataset.state = "saving";
    status.textContent = "Đang kiểm tra lại…";
    try {
      const response = await api().request(`/api/draft/${draft.draft_id}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(form),
      });
      const data = await response.json();
      // keep what the clerk typed since; only the server's verdict and the preview change
      draft = Object.assign(data, { form: Object.assign(data.form, { tasks: data.form.tasks }) });
      api().update(data);
      flagRows(data);
      const errors = data.warnings.filter((w) => w.severity === "error").length;
      status.textContent = errors ? `Đã cập nhật xem trước · ${errors} lỗi cần sửa` : "Đã cập nhật xem trước";
      $("draft-review").dataset.state = "saved";
    } catch (err) {
      status.textContent = "Chưa lưu được: " + err.message;
      $("draft-review").dataset.state = "failed";
      api().toast(err.message);
    }
  }

  function changed() {
    $("draft-review").dataset.state = "dirty";
    clearTimeout(timer);
    timer = setTimeout(() => { pending = pending.then(save); }, DELAY_MS);
  }

  async function flush() {
    if (timer && $("draft-review").dataset.state === "dirty") {
      clearTimeout(timer);
      timer = null;
      pending = pending.then(save);
    }
    await pending;
  }

  async function loadAgencyNames() {
    if ($("review-agency-names").childElementCount) return;
    try {
      const data = await (await api().request("/api/draft-agencies")).json();
      const list = $("review-agency-names");
      for (const name of data.names) list.append(api().el("option", { value: name }));
    } catch (_) { /* autocomplete is a help, the form works without it */ }
  }

  function taskRow(task, i) {
    const el = api().el;
    const role = el("select", { id: `review-role-${i}`, "aria-label": `Vai trò nhiệm vụ ${i + 1}` },
      ...ROLES.map(([value, label]) => el("option", { value, selected: value === task.role }, label)));
    return el("tr", { id: `review-task-${i}` },
      el("td", { "data-label": "Dòng" }, task.lines.length ? `dòng ${task.lines.join(", ")}` : "mới"),
      el("td", { "data-label": "Cơ quan" },
        input(`review-agency-${i}`, task.agency, { list: "review-agency-names", "aria-label": `Cơ quan thực hiện nhiệm vụ ${i + 1}` }),
        role,
        input(`review-coord-${i}`, task.coordinators, { list: "review-agency-names", placeholder: "phối hợp (cách nhau bởi ;)", "aria-label": `Cơ quan phối hợp nhiệm vụ ${i + 1}` })),
      el("td", { "data-label": "Nhiệm vụ" }, area(`review-text-${i}`, task.text, 3)),
      el("td", { "data-label": "Thời hạn" }, input(`review-deadline-${i}`, task.deadline, { "aria-label": `Thời hạn nhiệm vụ ${i + 1}` })),
      el("td", { "data-label": "Kiểm tra", id: `review-flags-${i}`, class: "row-flags" }));
  }

  function show(data) {
    draft = data;
    const box = $("draft-review");
    if (!box || !data.form) return;
    const el = api().el;
    const form = data.form;
    api().clear(box);
    box.dataset.state = "saved";
    box.append(
      el("h2", {}, "Rà soát trước khi tải về"),
      el("p", { class: "muted small" }, "Sửa trực tiếp; dự thảo được kiểm tra lại và bản xem trước cập nhật theo. Tệp .docx tải về là bản đã sửa."),
      el("datalist", { id: "review-agency-names" }),
      el("div", { class: "form-grid" },
        field("Cơ quan ban hành", input("review-issuer", form.issuer, { placeholder: "vd: UBND xã Hòa Thịnh" })),
        field("Ngày họp", input("review-date", form.meeting_date, { type: "date" })),
        field("Cuộc họp", input("review-meeting", form.meeting_name)),
        field("Người chủ trì", input("review-chair", form.chair_name)),
        field("Chức vụ người chủ trì", input("review-chair-position", form.chair_position))),
      field("Thành phần dự họp", area("review-attendees", form.attendees, 2)),
      el("div", { class: "form-grid" },
        field("Kết quả đạt được (mỗi ý một dòng)", area("review-results", form.results.join("\n"), 3)),
        field("Tồn tại, hạn chế (mỗi ý một dòng)", area("review-shortcomings", form.shortcomings.join("\n"), 3))),
      el("table", { class: "trace review-tasks", id: "review-tasks" },
        el("thead", {}, el("tr", {}, el("th", {}, "Ghi chép"), el("th", {}, "Cơ quan, vai trò"), el("th", {}, "Nhiệm vụ"), el("th", {}, "Thời hạn"), el("th", {}, "Kiểm tra"))),
        el("tbody", {}, ...form.tasks.map(taskRow))),
      el("div", { class: "actions-row" },
        // beside the form, so that a phone need not scroll back to the top to download
        el("button", { type: "button", id: "review-download", class: "primary", onclick: () => $("draft-download").click() }, "Tải về .docx (bản đã sửa)"),
        el("p", { id: "review-status", class: "muted small", role: "status" }, "")));
    if (!box.dataset.listening) {
      box.dataset.listening = "1";
      box.addEventListener("input", changed);
      box.addEventListener("change", changed);
    }
    flagRows(data);
    loadAgencyNames();
  }

  // --- office profile (first run) ------------------------------------------------------------
  async function showProfile() {
    const box = $("office-profile");
    if (!box || !api()) return;
    const el = api().el;
    let profile;
    try {
      profile = await (await api().request("/api/office-profile")).json();
    } catch (_) {
      return;
    }
    const details = el("details", { class: "panel", open: !profile.configured },
      el("summary", {}, profile.configured ? `Hồ sơ cơ quan: ${profile.issuer}` : "Hồ sơ cơ quan (khai báo một lần)"),
      profile.configured ? null : el("p", { class: "muted small" }, "Ghi chép không nêu cơ quan ban hành sẽ được soạn cho cơ quan này."),
      el("div", { class: "form-grid" },
        field("Cơ quan ban hành", input("profile-issuer", profile.issuer, { placeholder: "vd: UBND phường Hòa Bình" })),
        field("Người ký", input("profile-signer", profile.signer)),
        field("Thẩm quyền ký", input("profile-authority", profile.authority)),
        field("Chức vụ người ký", input("profile-position", profile.position))),
      field("Nơi nhận thường dùng (mỗi nơi một dòng)", area("profile-recipients", (profile.recipients || []).join("\n"), 2)),
      el("div", { class: "actions-row" }, el("button", { type: "button", id: "profile-save", class: "primary needs-admin" }, "Lưu hồ sơ cơ quan")));
    api().clear(box).append(details);
    $("profile-save").addEventListener("click", async () => {
      try {
        const body = {
          issuer: $("profile-issuer").value.trim() || null,
          signer: $("profile-signer").value.trim() || null,
          authority: $("profile-authority").value.trim() || "TL. CHỦ TỊCH",
          position: $("profile-position").value.trim() || "CHÁNH VĂN PHÒNG",
          recipients: lines($("profile-recipients").value),
        };
        await api().request("/api/office-profile", {
          method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
        api().toast("Đã lưu hồ sơ cơ quan.", "ok");
        showProfile();
      } catch (err) {
        api().toast(err.message);
      }
    });
  }

  window.draftReview = { show, flush };
  document.addEventListener("DOMContentLoaded", () => setTimeout(showProfile, 0));
})();
