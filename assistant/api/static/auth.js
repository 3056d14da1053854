// Accounts in the page: who is signed in, sign-in / sign-out, the first-run account, personal
// tokens, and the quản trị view (audit log, accounts). Loaded before app.js, which calls
// window.AssistantAuth on a 401 and when the "admin" view opens.
// What a role may not do is hidden (body class role-*, see app.css); the server refuses it anyway.
// Text from the server is only ever put in the page as text, never parsed as HTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const ROLE_LABELS = { "nguoi-xem": "người xem", "chuyen-vien": "chuyên viên", "quan-tri": "quản trị" };
  let session = null;
  let setupMode = false;
  let ready = null;  // the first /api/session answer

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function call(path, method, body) {
    const options = { method: method || "GET", headers: {}, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (_) {
      throw new Error("Không kết nối được máy chủ.");
    }
    let data = null;
    try { data = await response.json(); } catch (_) { /* an empty or non-JSON body */ }
    if (!response.ok) {
      const message = data && data.error && data.error.message;
      const error = new Error(message || `Máy chủ trả lỗi ${response.status}.`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function toast(message, kind) {
    const box = $("toast");
    box.textContent = message;
    box.className = "toast " + (kind || "error");
    box.hidden = false;
    setTimeout(() => { box.hidden = true; }, 6000);
  }

  // --- who is signed in ----------------------------------------------------------------------
  function shownRole() {
    if (!session) return null;
    // No account but a machine token: as before accounts, every control shows and a write asks
    // for the token (app.js).
    if (!session.accounts && session.token_required) return "quan-tri";
    return session.role;
  }

  function render() {
    const body = document.body;
    for (const cls of [...body.classList]) if (cls.startsWith("role-")) body.classList.remove(cls);
    body.classList.add("role-" + (shownRole() || "none"));
    body.classList.toggle("login-required", Boolean(session && session.login_required));
    const user = session && session.user;
    $("auth-user").hidden = !user;
    $("auth-user").textContent = user ? `${user.name} (${ROLE_LABELS[user.role] || user.role})` : "";
    $("auth-logout").hidden = !(user && user.kind === "user");
    $("auth-tokens").hidden = !(user && user.kind === "user");
    $("auth-setup").hidden = !(session && session.setup_available);
    // The task follow-up's "updated by" defaults to the signed-in account (the audit log keeps
    // the account in any case).
    const by = $("tasks-by");
    if (by && !by.value && user && user.kind === "user") by.value = user.name;
    if (session && session.login_required) showLogin();
  }

  async function loadSession() {
    try {
      session = await call("/api/session");
    } catch (err) {
      session = null;
    }
    // The page's elements exist once the document is parsed.
    if (document.readyState === "loading") {
      await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve));
    }
    render();
  }

  // --- sign-in, first-run account, sign-out -----------------------------------------------------
  function showLogin(asSetup) {
    setupMode = Boolean(asSetup);
    $("login-title").textContent = setupMode ? "Tạo tài khoản quản trị đầu tiên" : "Đăng nhập";
    $("login-hint").textContent = setupMode
      ? "Chỉ làm được trên chính máy chạy Trợ lý. Sau khi có tài khoản, mọi người đều phải đăng nhập."
      : "Máy chủ này dùng tài khoản: đăng nhập để tiếp tục.";
    $("login-submit").textContent = setupMode ? "Tạo tài khoản" : "Đăng nhập";
    $("login-password").autocomplete = setupMode ? "new-password" : "current-password";
    $("login-cancel").hidden = !setupMode;
    $("login-error").hidden = true;
    $("login-screen").hidden = false;
    $("login-username").focus();
  }

  async function submitLogin(event) {
    event.preventDefault();
    const credentials = { username: $("login-username").value.trim(), password: $("login-password").value };
    try {
      await call(setupMode ? "/api/setup" : "/api/login", "POST", credentials);
    } catch (err) {
      $("login-error").textContent = err.message;
      $("login-error").hidden = false;
      $("login-password").value = "";
      return;
    }
    location.reload();  // the page starts over with the account's role
  }

  async function logout() {
    try {
      await call("/api/logout", "POST");
    } finally {
      location.reload();
    }
  }

  // --- personal tokens -------------------------------------------------------------------------
  async function loadTokens() {
    const list = $("tokens-list");
    list.replaceChildren();
    const data = await call("/api/tokens");
    if (!data.items.length) list.append(el("li", { class: "muted small" }, "Chưa có mã nào."));
    for (const token of data.items) {
      list.append(el("li", {},
        `${token.name} — ${token.prefix}… `,
        token.revoked ? el("span", { class: "muted small" }, "(đã thu hồi)")
          : el("button", { type: "button", class: "danger-ghost small", onclick: () => revokeToken(token.id) }, "Thu hồi")));
    }
  }

  async function openTokens() {
    $("token-new").hidden = true;
    $("token-new").value = "";
    $("tokens-dialog").showModal();
    try { await loadTokens(); } catch (err) { toast(err.message); }
  }

  async function createToken() {
    const name = $("token-name").value.trim();
    if (!name) { $("token-name").focus(); return; }
    try {
      const created = await call("/api/tokens", "POST", { name });
      $("token-new").value = created.token;
      $("token-new").hidden = false;
      $("token-new").select();
      $("token-name").value = "";
      await loadTokens();
    } catch (err) {
      toast(err.message);
    }
  }

  async function revokeToken(id) {
    try {
      await call("/api/tokens/" + encodeURIComponent(id), "DELETE");
      await loadTokens();
    } catch (err) {
      toast(err.message);
    }
  }

  // --- quản trị: audit log and accounts ----------------------------------------------------------
  function localTime(iso) {
    const moment = new Date(iso);
    return isNaN(moment) ? iso : moment.toLocaleString("vi-VN");
  }

  function detailText(details) {
    return Object.entries(details || {})
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .map(([key, value]) => `${key}: ${value}`).join(" · ");
  }

  async function loadAudit() {
    const body = $("audit-table").tBodies[0];
    try {
      const data = await call("/api/audit?limit=500");
      body.replaceChildren(...data.items.map((e) => el("tr", { class: "audit-row", dataset: { action: e.action } },
        el("td", {}, localTime(e.at)),
        el("td", {}, e.user, e.role ? el("span", { class: "muted small" }, ` (${ROLE_LABELS[e.role] || e.role})`) : null),
        el("td", {}, e.action_label),
        el("td", { class: "mono" }, e.target || ""),
        el("td", { class: "small" }, e.address || ""),
        el("td", { class: "small" }, detailText(e.details)))));
      if (!data.items.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "Nhật ký trống.")));
    } catch (err) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "error" }, err.message)));
    }
  }

  async function loadUsers() {
    const body = $("users-table").tBodies[0];
    try {
      const data = await call("/api/users");
      body.replaceChildren(...data.items.map((u) => el("tr", { dataset: { user: u.name } },
        el("td", {}, u.name),
        el("td", {}, u.role_label),
        el("td", {}, u.active ? "đang dùng" : "đã khóa"),
        el("td", {}, el("button", {
          type: "button", class: u.active ? "danger-ghost small" : "ghost small",
          onclick: () => setActive(u.name, !u.active),
        }, u.active ? "Khóa" : "Mở lại")))));
    } catch (err) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "error" }, err.message)));
    }
  }

  async function setActive(name, active) {
    try {
      await call(`/api/users/${encodeURIComponent(name)}/${active ? "enable" : "disable"}`, "POST");
      await Promise.all([loadUsers(), loadAudit()]);
    } catch (err) {
      toast(err.message);
    }
  }

  async function addUser(event) {
    event.preventDefault();
    try {
      await call("/api/users", "POST", {
        username: $("user-name").value.trim(), role: $("user-role").value, password: $("user-password").value,
      });
      $("user-name").value = "";
      $("user-password").value = "";
      toast("Đã tạo tài khoản.", "ok");
      await Promise.all([loadUsers(), loadAudit()]);
    } catch (err) {
      toast(err.message);
    }
  }

  function showAdmin() {
    loadAudit();
    if (session && session.accounts) loadUsers();
    $("users-panel").hidden = !(session && session.accounts);
  }

  function start() {
    $("login-form").addEventListener("submit", submitLogin);
    $("login-cancel").addEventListener("click", () => { $("login-screen").hidden = true; });
    $("auth-logout").addEventListener("click", logout);
    $("auth-setup").addEventListener("click", () => showLogin(true));
    $("auth-tokens").addEventListener("click", openTokens);
    $("token-create").addEventListener("click", createToken);
    $("audit-refresh").addEventListener("click", loadAudit);
    $("user-form").addEventListener("submit", addUser);
  }

  // Asked at once (this script runs before app.js), so app.js's first calls can wait for it.
  ready = loadSession();

  window.AssistantAuth = {
    // app.js on a 401: true when it means "sign in" (accounts exist), shown here.
    async handleUnauthorized() {
      await ready;
      if (session && session.accounts) {
        session.login_required = true;
        render();
        return true;
      }
      return false;
    },
    showAdmin,
  };

  document.addEventListener("DOMContentLoaded", start);
})();
