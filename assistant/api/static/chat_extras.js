// Chat extras (issue #12): a copy button under each answer, and the conversation kept across a
// page reload — its id in localStorage, its turns read back from GET /api/ask/{id} (the server
// keeps every turn to resolve follow-ups) and shown again, so a follow-up still follows.
(function () {
  "use strict";
  const KEY = "assistant.conversation";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http on an office network is not a secure context: the older way.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  // The answer as a clerk pastes it: the text, then its sources with their notices.
  function plainAnswer(result) {
    const lines = [result.answer || ""];
    const cites = result.citations || [];
    if (cites.length) {
      lines.push("", "Nguồn:");
      for (const c of cites) {
        const title = (c.notice_title || "").replace(/\s+/g, " ").trim();
        lines.push(`[${c.n}] ${title}${c.section ? " — " + c.section.replace(/\s+/g, " ") : ""}`);
      }
    }
    return lines.join("\n");
  }

  function decorate(container, result) {
    const { el } = window.Assistant;
    const button = el("button", { type: "button", class: "ghost small copy-answer", title: "Sao chép câu trả lời và nguồn" }, "Sao chép");
    const text = plainAnswer(result);
    button.dataset.copyText = text;
    button.addEventListener("click", () => {
      copyText(text).then(
        () => { button.textContent = "Đã sao chép"; },
        () => { button.textContent = "Không sao chép được"; },
      );
      setTimeout(() => { button.textContent = "Sao chép"; }, 2500);
    });
    container.append(el("div", { class: "answer-actions" }, button));
  }

  function remember(id) {
    if (id) localStorage.setItem(KEY, id);
  }

  function forget() {
    localStorage.removeItem(KEY);
  }

  // A reload (or back/forward) shows the conversation again; opening the page anew starts a new
  // one (the old turns stay on the server).
  function isReload() {
    const entry = performance.getEntriesByType("navigation")[0];
    return !!entry && (entry.type === "reload" || entry.type === "back_forward");
  }

  async function restore() {
    if (!isReload()) return;
    const id = localStorage.getItem(KEY);
    const hooks = window.chatHooks;
    if (!id || !hooks || document.querySelector("#chat-log .msg")) return;
    try {
      const data = await window.Assistant.getJSON(`/api/ask/${encodeURIComponent(id)}`);
      if (!data.turns.length) return;
      const { el } = window.Assistant;
      for (const turn of data.turns) {
        hooks.addMessage("user", el("div", { class: "answer-text" }, turn.question));
        const answer = hooks.addMessage("assistant", el("div", { class: "answer-text" }, ""));
        hooks.renderAnswer(answer, turn.answer);
        answer.classList.toggle("refused", !!turn.answer.refused);
      }
      hooks.setConversation(id);
    } catch (err) {
      forget(); // an unreadable conversation starts a new one
    }
  }

  window.chatExtras = { decorate, remember, forget, plainAnswer };
  window.addEventListener("load", restore);
})();
