// Review page: talks to /api/v1/moderation with the token kept in sessionStorage.
// Comment text is only ever inserted as the server-sanitised body_html; everything else
// (names, emails, urls, check details) goes in with textContent.
"use strict";

(function () {
  const API = "/api/v1/moderation";
  const TOKEN_KEY = "vetted.token";
  // Which one-click actions each status offers, in button order.
  const ACTIONS = {
    pending: ["approve", "reject", "spam"],
    review: ["approve", "reject", "spam"],
    rejected: [],
    spam: ["ham"],
    approved: ["remove"],
    removed: [],
  };
  const $ = (id) => document.getElementById(id);
  const state = { items: [], current: 0, next: null, selected: new Set() };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  async function api(path, options = {}) {
    const response = await fetch(API + path, {
      ...options,
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json" },
      credentials: "omit",
    });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (response.status === 401) { signOut("Your token was refused; sign in again."); }
    return { ok: response.ok, status: response.status, body: body || {} };
  }

  function say(text, isError = false) {
    const message = $("message");
    message.textContent = text;
    message.classList.toggle("error", isError);
  }

  // ----- sign in / out -----

  async function signIn(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    const me = await api("/me");
    if (!me.ok) {
      sessionStorage.removeItem(TOKEN_KEY);
      $("sign-in-error").textContent = me.body.message || "sign-in failed";
      return;
    }
    $("sign-in-error").textContent = "";
    $("who").textContent = `${me.body.role} · ${me.body.name || "token " + me.body.id}`;
    const select = $("f-site");
    select.replaceChildren();
    for (const slug of me.body.sites) {
      const option = document.createElement("option");
      option.value = option.textContent = slug;
      select.append(option);
    }
    $("sign-in").hidden = true;
    $("review").hidden = false;
    $("sign-out").hidden = false;
    await load(false);
  }

  function signOut(reason) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("review").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    $("who").textContent = "";
    $("queue").replaceChildren();
    $("sign-in-error").textContent = reason || "";
  }

  // ----- queue -----

  function filters() {
    const params = new URLSearchParams();
    for (const [key, id] of [["site", "f-site"], ["status", "f-status"],
      ["article", "f-article"], ["q", "f-q"], ["order", "f-order"]]) {
      const value = $(id).value.trim();
      if (value) params.set(key, value);
    }
    return params;
  }

  async function load(append) {
    const params = filters();
    if (append && state.next) params.set("after", state.next);
    const result = await api("/queue?" + params.toString());
    if (!result.ok) { say(result.body.message || "could not load the queue", true); return; }
    if (!append) {
      state.items = [];
      state.selected.clear();
      state.current = 0;
      $("queue").replaceChildren();
      say("");
    }
    for (const comment of result.body.comments) {
      const element = renderItem(comment);
      state.items.push({ comment, element });
      $("queue").append(element);
    }
    state.next = result.body.next;
    $("more").hidden = !state.next;
    refresh();
  }

  function text(tag, value, className) {
    const element = document.createElement(tag);
    element.textContent = value == null ? "" : String(value);
    if (className) element.className = className;
    return element;
  }

  function safeUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) { return null; }
  }

  function counts(history) {
    if (!history) return "–";
    return `${history.approved} approved · ${history.rejected} rejected · ${history.spam} spam`;
  }

  function renderItem(c) {
    const li = document.createElement("li");
    li.className = "item";
    li.dataset.id = c.id;
    li.tabIndex = -1;

    const head = document.createElement("div");
    head.className = "head";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "pick";
    box.setAttribute("aria-label", `select comment ${c.id}`);
    box.addEventListener("change", () => toggle(c.id, box.checked));
    head.append(box, text("strong", c.author.name, "name"), text("span", c.author.email, "email"));
    const url = c.author.url && safeUrl(c.author.url);
    if (url) {
      const link = text("a", c.author.url, "url");
      link.href = url;
      link.rel = "nofollow noopener noreferrer";
      link.target = "_blank";
      head.append(link);
    }
    head.append(text("span", c.status, "badge status-" + c.status));
    li.append(head);

    const meta = text("div", "", "meta");
    meta.append(text("span", `#${c.id}`), text("span", c.article, "article"),
      text("span", c.created_at), text("span", "IP " + (c.ip || "–")),
      text("span", c.user_agent || "", "ua"));
    if (c.status_reason) meta.append(text("span", "reason: " + c.status_reason, "reason"));
    li.append(meta);

    const body = document.createElement("div");
    body.className = "body";
    body.innerHTML = c.body_html; // sanitised by the server (nh3) at write time
    li.append(body);

    const checks = document.createElement("ul");
    checks.className = "checks";
    for (const r of c.checks) {
      const item = text("li", "", "check verdict-" + r.verdict);
      item.append(text("b", `${r.check}: ${r.verdict}`), text("span", ` ${r.reason}`, "code"));
      if (r.detail) item.append(text("span", ` — ${r.detail}`));
      if (r.score != null) item.append(text("span", ` (${Number(r.score).toFixed(2)})`, "score"));
      checks.append(item);
    }
    li.append(checks);

    const history = text("div", "", "history");
    history.append(text("span", "email: " + counts(c.history.email)),
      text("span", "IP: " + counts(c.history.ip)));
    li.append(history);

    const actions = document.createElement("div");
    actions.className = "actions";
    for (const action of ACTIONS[c.status] || []) {
      const button = text("button", action, "act act-" + action);
      button.type = "button";
      button.addEventListener("click", () => decide(c.id, action));
      actions.append(button);
    }
    li.append(actions);
    li.addEventListener("click", (event) => {
      if (event.target.closest("button, input, a")) return;
      focusIndex(state.items.findIndex((i) => i.comment.id === c.id));
    });
    return li;
  }

  function refresh() {
    state.items.forEach((item, index) => {
      item.element.classList.toggle("current", index === state.current);
      item.element.querySelector(".pick").checked = state.selected.has(item.comment.id);
    });
    $("empty").hidden = state.items.length > 0;
    $("selected-count").textContent = `${state.selected.size} selected`;
    for (const button of document.querySelectorAll("[data-bulk]")) {
      button.disabled = state.selected.size === 0;
    }
    $("select-all").checked = state.items.length > 0 &&
      state.selected.size === state.items.length;
  }

  function focusIndex(index) {
    if (!state.items.length) return;
    state.current = Math.max(0, Math.min(index, state.items.length - 1));
    refresh();
    const element = state.items[state.current].element;
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "nearest" });
  }

  function toggle(id, on) {
    if (on) state.selected.add(id); else state.selected.delete(id);
    refresh();
  }

  function drop(ids) {
    const gone = new Set(ids);
    const currentId = state.items[state.current] && state.items[state.current].comment.id;
    state.items = state.items.filter((item) => {
      if (!gone.has(item.comment.id)) return true;
      item.element.remove();
      state.selected.delete(item.comment.id);
      return false;
    });
    const stillThere = state.items.findIndex((i) => i.comment.id === currentId);
    state.current = stillThere >= 0 ? stillThere : Math.min(state.current, state.items.length - 1);
    state.current = Math.max(state.current, 0);
    refresh();
    if (state.items.length) focusIndex(state.current);
  }

  function replace(comment) {
    const index = state.items.findIndex((i) => i.comment.id === comment.id);
    if (index < 0) return;
    const element = renderItem(comment);
    state.items[index].element.replaceWith(element);
    state.items[index] = { comment, element };
    refresh();
  }

  function keepsShowing(status) {
    const wanted = $("f-status").value;
    return wanted === "all" || wanted === status;
  }

  async function decide(id, action) {
    const result = await api(`/comments/${id}/decision`, {
      method: "POST", body: JSON.stringify({ action }),
    });
    if (result.ok) {
      say(`#${id}: ${action} → ${result.body.status}`);
      if (keepsShowing(result.body.status)) replace(result.body); else drop([id]);
    } else if (result.status === 409) {
      say(result.body.message, true);
      if (result.body.status && !keepsShowing(result.body.status)) drop([id]);
    } else if (result.status !== 401) {
      say(result.body.message || `${action} failed (${result.status})`, true);
    }
  }

  async function decideSelected(action) {
    const ids = [...state.selected];
    if (!ids.length) return;
    const result = await api("/decisions", {
      method: "POST", body: JSON.stringify({ ids, action }),
    });
    if (result.ok) {
      say(`${ids.length} comment(s): ${action}`);
      const statuses = result.body.statuses || {};
      drop(ids.filter((id) => !keepsShowing(statuses[id])));
    } else if (result.status === 409) {
      const list = (result.body.conflicts || []).map((c) => `#${c.id} is ${c.status}`);
      say(`${result.body.message}: ${list.join(", ")}`, true);
    } else if (result.status !== 401) {
      say(result.body.message || `${action} failed (${result.status})`, true);
    }
  }

  // ----- keyboard -----

  const KEYS = { a: "approve", r: "reject", s: "spam" };

  function onKey(event) {
    if ($("review").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea")) return;
    const item = state.items[state.current];
    if (event.key === "j") { focusIndex(state.current + 1); event.preventDefault(); return; }
    if (event.key === "k") { focusIndex(state.current - 1); event.preventDefault(); return; }
    if (!item) return;
    if (event.key === "x") {
      toggle(item.comment.id, !state.selected.has(item.comment.id));
      event.preventDefault();
      return;
    }
    let action = KEYS[event.key];
    if (action === "approve" && item.comment.status === "spam") action = "ham";
    if (action && (ACTIONS[item.comment.status] || []).includes(action)) {
      event.preventDefault();
      decide(item.comment.id, action);
    }
  }

  // ----- wiring -----

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) signIn(value);
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(false); });
    $("f-site").addEventListener("change", () => load(false));
    $("f-status").addEventListener("change", () => load(false));
    $("more").addEventListener("click", () => load(true));
    $("select-all").addEventListener("change", (event) => {
      state.selected = new Set(event.target.checked ? state.items.map((i) => i.comment.id) : []);
      refresh();
    });
    for (const button of document.querySelectorAll("[data-bulk]")) {
      button.addEventListener("click", () => decideSelected(button.dataset.bulk));
    }
    document.addEventListener("keydown", onKey);
    if (token()) signIn(token());
  });
})();
