/* Vetted comments widget. Embed with:
 *   <div id="vetted-comments" data-site="SITE" data-article="/path"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * Optional: data-lang="en|de", data-theme="light|dark", data-max-depth="5", data-css="none".
 * Only body_html (sanitised by the server) is ever inserted as HTML; everything else is text.
 */
(() => {
  "use strict";

  // Captured at top level: an async script's currentScript is gone once it yields.
  const SCRIPT = document.currentScript;
  const BASE = new URL(SCRIPT && SCRIPT.src ? SCRIPT.src : "/", location.href).origin;
  const API = BASE + "/api/v1";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MAX_BODY = 10000;
  const MAX_NAME = 100;
  const POLL_FIRST_MS = 2000;
  const POLL_MAX_MS = 30000;

  const STRINGS = {
    en: {
      count: { zero: "No comments yet", one: "{n} comment", other: "{n} comments" },
      loading: "Loading comments…",
      loadFailed: "Comments could not be loaded.",
      retry: "Try again",
      loadMore: "Load more comments",
      reply: "Reply",
      replyTo: "Reply to {name}",
      cancelReply: "Cancel reply",
      leaveReply: "Leave a Reply",
      note: "Your email address will not be published. Required fields are marked ",
      body: "Comment",
      name: "Name",
      email: "Email",
      url: "Website",
      hp: "Leave this field empty",
      submit: "Post Comment",
      sending: "Posting…",
      bodyRequired: "Please write your comment.",
      nameRequired: "Please enter your name.",
      emailRequired: "Please enter your email address.",
      emailInvalid: "Please enter a valid email address, like name@example.com.",
      urlInvalid: "Please enter a web address starting with http:// or https://.",
      tooLong: "This is too long: at most {max} characters.",
      fixFields: "Please correct the marked fields.",
      sendFailed: "Your comment could not be sent. Please check your connection and try again.",
      rateLimited: "You are posting too quickly. Please wait a minute and try again.",
      tooLarge: "Your comment is too long.",
      notAllowed: "Comments cannot be posted from this page.",
      awaiting: "Awaiting moderation",
      held: "Held for review",
      pendingMsg: "Thank you! Your comment is awaiting moderation.",
      publishedMsg: "Your comment has been published.",
      heldMsg: "Your comment is being held for review. {reason}",
      refusedMsg: "Your comment was not published. {reason}",
      removedMsg: "Your comment has been removed.",
      heldFallback: "A moderator will look at it soon.",
      refusedFallback: "It does not meet this site's guidelines.",
      reasons: {
        "links.too_many": "It contains several links.",
        "spam.model": "It looks like spam.",
        "spam.model_review": "It might be spam.",
        "duplicate.exact": "The same comment was already posted.",
        "duplicate.near": "It is almost identical to other comments.",
        "flood.ip": "Many comments came from your network in a short time.",
        "flood.email": "Many comments came from your email address in a short time.",
        "honeypot.filled": "It appears to have been sent by an automated program.",
        "site.review_all": "This site reviews every comment before publishing it.",
        blocklist: "It contains words or addresses this site does not accept.",
        moderation_keys: "It contains words that this site checks by hand.",
        offensive: "It may contain offensive language.",
      },
    },
    de: {
      count: { zero: "Noch keine Kommentare", one: "{n} Kommentar", other: "{n} Kommentare" },
      loading: "Kommentare werden geladen …",
      loadFailed: "Die Kommentare konnten nicht geladen werden.",
      retry: "Erneut versuchen",
      loadMore: "Weitere Kommentare laden",
      reply: "Antworten",
      replyTo: "Antwort an {name}",
      cancelReply: "Antworten abbrechen",
      leaveReply: "Schreibe einen Kommentar",
      note: "Deine E-Mail-Adresse wird nicht veröffentlicht. Erforderliche Felder sind mit ",
      noteEnd: " markiert",
      body: "Kommentar",
      name: "Name",
      email: "E-Mail",
      url: "Website",
      hp: "Dieses Feld leer lassen",
      submit: "Kommentar abschicken",
      sending: "Wird gesendet …",
      bodyRequired: "Bitte schreibe deinen Kommentar.",
      nameRequired: "Bitte gib deinen Namen ein.",
      emailRequired: "Bitte gib deine E-Mail-Adresse ein.",
      emailInvalid: "Bitte gib eine gültige E-Mail-Adresse ein, z. B. name@example.com.",
      urlInvalid: "Bitte gib eine Webadresse ein, die mit http:// oder https:// beginnt.",
      tooLong: "Das ist zu lang: höchstens {max} Zeichen.",
      fixFields: "Bitte korrigiere die markierten Felder.",
      sendFailed: "Dein Kommentar konnte nicht gesendet werden. Bitte prüfe deine Verbindung und versuche es erneut.",
      rateLimited: "Du schreibst zu schnell. Bitte warte eine Minute und versuche es erneut.",
      tooLarge: "Dein Kommentar ist zu lang.",
      notAllowed: "Von dieser Seite können keine Kommentare gesendet werden.",
      awaiting: "Wartet auf Freischaltung",
      held: "Wird geprüft",
      pendingMsg: "Danke! Dein Kommentar wartet auf Freischaltung.",
      publishedMsg: "Dein Kommentar wurde veröffentlicht.",
      heldMsg: "Dein Kommentar wird von einer Moderatorin oder einem Moderator geprüft. {reason}",
      refusedMsg: "Dein Kommentar wurde nicht veröffentlicht. {reason}",
      removedMsg: "Dein Kommentar wurde entfernt.",
      heldFallback: "Das geschieht in Kürze.",
      refusedFallback: "Er entspricht nicht den Regeln dieser Website.",
      reasons: {
        "links.too_many": "Er enthält mehrere Links.",
        "spam.model": "Er sieht nach Spam aus.",
        "spam.model_review": "Er könnte Spam sein.",
        "duplicate.exact": "Derselbe Kommentar wurde bereits gesendet.",
        "duplicate.near": "Er gleicht anderen Kommentaren fast vollständig.",
        "flood.ip": "Aus deinem Netz kamen in kurzer Zeit viele Kommentare.",
        "flood.email": "Mit deiner E-Mail-Adresse kamen in kurzer Zeit viele Kommentare.",
        "honeypot.filled": "Er scheint von einem automatischen Programm zu stammen.",
        "site.review_all": "Diese Website prüft jeden Kommentar vor der Veröffentlichung.",
        blocklist: "Er enthält Wörter oder Adressen, die diese Website nicht annimmt.",
        moderation_keys: "Er enthält Wörter, die diese Website von Hand prüft.",
        offensive: "Er könnte beleidigende Sprache enthalten.",
      },
    },
  };

  let instances = 0;

  /** An element with attributes (all via setAttribute) and text or element children. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) el.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== "") el.append(child);
    }
    return el;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
  }

  function pickLang(root) {
    const wanted = (root.dataset.lang || document.documentElement.lang || "en").toLowerCase().split("-")[0];
    return Object.prototype.hasOwnProperty.call(STRINGS, wanted) ? wanted : "en";
  }

  function safeHttpUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  /** A 5x5 mirrored identicon drawn from the keyed avatar seed: no third-party service. */
  function identicon(seed, fallbackText) {
    let hex = typeof seed === "string" && /^[0-9a-f]{18,}$/i.test(seed) ? seed.toLowerCase() : "";
    if (!hex) {
      let hash = 2166136261;
      for (const ch of String(fallbackText || "")) hash = Math.imul(hash ^ ch.codePointAt(0), 16777619) >>> 0;
      hex = (hash.toString(16).padStart(8, "0")).repeat(3);
    }
    const svg = document.createElementNS(SVG_NS, "svg");
    const set = (el, attrs) => { for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v)); return el; };
    set(svg, { viewBox: "-1 -1 7 7", width: 40, height: 40, class: "vetted-avatar", "aria-hidden": "true", focusable: "false" });
    svg.append(set(document.createElementNS(SVG_NS, "rect"), { x: -1, y: -1, width: 7, height: 7, class: "vetted-avatar-bg" }));
    const hue = parseInt(hex.slice(0, 3), 16) % 360;
    const color = `hsl(${hue}, 55%, 48%)`;
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if (parseInt(hex[3 + row * 3 + col], 16) % 2) continue;
        for (const x of new Set([col, 4 - col])) {
          svg.append(set(document.createElementNS(SVG_NS, "rect"), { x, y: row, width: 1, height: 1, fill: color }));
        }
      }
    }
    return svg;
  }

  const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function relativeTime(date, format) {
    const seconds = Math.min(0, Math.round((date.getTime() - Date.now()) / 1000));
    for (const [unit, size] of UNITS) {
      if (-seconds >= size) return format.format(Math.round(seconds / size), unit);
    }
    return format.format(0, "second");
  }

  async function api(path, options) {
    // credentials "omit": the widget never sends or sets cookies.
    const init = Object.assign({ credentials: "omit", headers: { Accept: "application/json" } }, options);
    const response = await fetch(API + path, init);
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    return { status: response.status, ok: response.ok, data, headers: response.headers };
  }

  function ensureStylesheet(root) {
    if (root.dataset.css === "none") return;
    const href = BASE + "/embed.css";
    const present = [...document.querySelectorAll('link[rel="stylesheet"]')].some((link) => link.href === href);
    if (!present) document.head.append(h("link", { rel: "stylesheet", href }));
  }

  class Widget {
    constructor(root) {
      this.root = root;
      this.site = root.dataset.site || "";
      this.article = root.dataset.article || location.pathname;
      this.lang = pickLang(root);
      this.t = STRINGS[this.lang];
      this.maxDepth = parseInt(root.dataset.maxDepth, 10) || 5;
      this.uid = "vetted-" + ++instances;
      this.storeKey = ["vetted", BASE, this.site, this.article].join("|");
      this.nodes = new Map();
      this.times = [];
      this.total = 0;
      this.next = null;
      this.fields = {};
      this.parentId = null;
      this.busy = false;
      this.relative = new Intl.RelativeTimeFormat(this.lang, { numeric: "auto" });
      this.plural = new Intl.PluralRules(this.lang);
      this.build();
    }

    build() {
      const t = this.t;
      this.section = h("section", { class: "vetted", lang: this.lang, "data-theme": this.root.dataset.theme || null });
      this.count = h("h2", { class: "vetted-count", id: this.uid + "-count" }, t.loading);
      this.list = h("ol", { class: "vetted-list", "aria-labelledby": this.uid + "-count" });
      this.more = h("button", { type: "button", class: "vetted-more", hidden: "" }, t.loadMore);
      this.more.addEventListener("click", () => this.loadPage());
      this.retry = h("button", { type: "button", class: "vetted-link", hidden: "" }, t.retry);
      this.retry.addEventListener("click", () => this.start());
      this.status = h("div", { class: "vetted-status", role: "status", "aria-live": "polite" });
      this.respond = this.buildForm();
      this.section.append(this.count, this.retry, this.list, this.more, this.status, this.respond);
      this.root.replaceChildren(this.section);
      setInterval(() => this.refreshTimes(), 60000);
    }

    buildForm() {
      const t = this.t;
      const id = (name) => `${this.uid}-${name}`;
      const field = (name, control, required) => {
        const error = h("span", { class: "vetted-error", id: id(name + "-error"), hidden: "" });
        Object.assign(control, { id: id(name), name });
        if (required) { control.required = true; control.setAttribute("aria-required", "true"); }
        const star = required ? h("span", { class: "vetted-req", "aria-hidden": "true" }, " *") : null;
        this.fields[name] = { control, error };
        return h("p", { class: `vetted-field vetted-field-${name}` }, h("label", { for: id(name) }, t[name], star), control, error);
      };
      this.title = h("span", {}, t.leaveReply);
      this.cancel = h("button", { type: "button", class: "vetted-link", hidden: "" }, t.cancelReply);
      this.cancel.addEventListener("click", () => { this.cancelReply(); this.fields.body.control.focus(); });
      this.formError = h("p", { class: "vetted-form-error", role: "alert" });
      this.button = h("button", { type: "submit", class: "vetted-submit" }, t.submit);
      this.hp = h("input", { id: id("hp"), name: "hp", type: "text", tabindex: "-1", autocomplete: "off" });
      this.form = h("form", { class: "vetted-form", novalidate: "" },
        h("p", { class: "vetted-note" }, t.note, h("span", { class: "vetted-req" }, "*"), t.noteEnd || ""),
        field("body", h("textarea", { rows: 6, maxlength: MAX_BODY }), true),
        field("name", h("input", { type: "text", maxlength: MAX_NAME, autocomplete: "name" }), true),
        field("email", h("input", { type: "email", maxlength: 320, autocomplete: "email" }), true),
        field("url", h("input", { type: "url", maxlength: 500, autocomplete: "url" }), false),
        h("div", { class: "vetted-hp", "aria-hidden": "true" }, h("label", { for: id("hp") }, t.hp), this.hp),
        this.formError,
        h("p", { class: "vetted-actions" }, this.button));
      this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
      return h("div", { class: "vetted-respond" }, h("h3", { class: "vetted-respond-title" }, this.title, this.cancel), this.form);
    }

    async start() {
      this.retry.hidden = true;
      this.count.textContent = this.t.loading;
      if (!(await this.loadPage())) return;
      for (const own of this.stored()) {
        const node = this.nodes.get(own.id);
        if (node && !node.own) this.forget(own.id);  // already public: nothing left to follow
        else this.track(own, 0);
      }
    }

    async loadPage() {
      const query = new URLSearchParams({ site: this.site, article: this.article });
      if (this.next) query.set("after", this.next);
      this.more.disabled = true;
      let result = null;
      try { result = await api("/comments?" + query); } catch (error) { result = null; }
      this.more.disabled = false;
      const data = result && result.ok ? result.data : null;
      if (!data || !Array.isArray(data.comments)) {
        this.count.textContent = this.t.loadFailed;
        this.retry.hidden = false;
        return false;
      }
      for (const comment of data.comments) this.addComment(comment, null);
      this.total = Number(data.total) || 0;
      this.next = data.next || null;
      this.more.hidden = !this.next;
      this.updateCount();
      return true;
    }

    updateCount() {
      const forms = this.t.count;
      const n = this.total;
      this.count.textContent = n === 0 ? forms.zero : fill(forms[this.plural.select(n)] || forms.other, { n });
    }

    /** Render one comment (own: {status, reason} for the submitter's unpublished one). */
    addComment(comment, own) {
      if (!comment || typeof comment.id !== "number" || this.nodes.has(comment.id)) return;
      const parent = comment.parent_id ? this.nodes.get(comment.parent_id) : null;
      const depth = parent ? parent.depth + 1 : 1;
      const author = comment.author || {};
      const name = String(author.name || "");
      const url = safeHttpUrl(author.url);
      const who = url ? h("a", { class: "vetted-author", href: url, rel: "nofollow ugc noopener" }, name)
        : h("span", { class: "vetted-author" }, name);
      const created = new Date(comment.created_at);
      const time = h("time", { datetime: String(comment.created_at || "") });
      if (!Number.isNaN(created.getTime())) {
        time.title = created.toLocaleString(this.lang);
        this.times.push([time, created]);
        time.textContent = relativeTime(created, this.relative);
      }
      const body = h("div", { class: "vetted-body" });
      body.innerHTML = String(comment.body_html || "");  // sanitised by the server (nh3), never raw user text
      const badge = h("p", { class: "vetted-badge", hidden: "" });
      const footer = h("footer", { class: "vetted-actions" });
      const article = h("article", {}, h("header", { class: "vetted-meta" },
        identicon(author.avatar, name), h("div", { class: "vetted-who" }, who, time)), badge, body, footer);
      const replies = h("ol", { class: "vetted-replies" });
      const li = h("li", { class: "vetted-comment", id: `vetted-comment-${comment.id}` }, article, replies);
      const node = { id: comment.id, name, depth, li, replies, badge, footer, own: null };
      this.nodes.set(comment.id, node);
      if (own) this.markOwn(node, own.status, own.reason);
      else this.addReplyButton(node);
      const container = parent ? parent.replies : this.list;
      // Published comments go before the reader's own unpublished ones at the end of a thread.
      const firstOwn = own ? null : [...container.children].find((child) => child.classList.contains("vetted-own"));
      container.insertBefore(li, firstOwn || null);
    }

    addReplyButton(node) {
      if (node.depth >= this.maxDepth || node.footer.firstChild) return;
      const button = h("button", { type: "button", class: "vetted-link vetted-reply", "aria-label": fill(this.t.replyTo, { name: node.name }) }, this.t.reply);
      button.addEventListener("click", () => this.replyTo(node));
      node.footer.append(button);
    }

    markOwn(node, status, reason) {
      node.own = status;
      node.li.classList.add("vetted-own");
      node.badge.hidden = false;
      node.badge.textContent = status === "review"
        ? `${this.t.held}. ${this.reasonText(reason, this.t.heldFallback)}` : this.t.awaiting;
    }

    publishOwn(comment) {
      const node = this.nodes.get(comment.id);
      if (!node) { this.addComment(comment, null); return; }
      if (!node.own) return;
      node.own = null;
      node.li.classList.remove("vetted-own");
      node.badge.textContent = "";
      node.badge.hidden = true;
      this.addReplyButton(node);
      this.total += 1;
      this.updateCount();
      this.announce(this.t.publishedMsg);
    }

    removeNode(id) {
      const node = this.nodes.get(id);
      if (node && node.own) { node.li.remove(); this.nodes.delete(id); }
    }

    replyTo(node) {
      this.parentId = node.id;
      this.title.textContent = fill(this.t.replyTo, { name: node.name });
      this.cancel.hidden = false;
      node.li.insertBefore(this.respond, node.replies);
      this.fields.body.control.focus();
    }

    cancelReply() {
      this.parentId = null;
      this.title.textContent = this.t.leaveReply;
      this.cancel.hidden = true;
      this.section.append(this.respond);
    }

    announce(message) {
      // Cleared first so that the same message is announced again.
      this.status.textContent = "";
      setTimeout(() => { this.status.textContent = message; }, 50);
    }

    reasonText(reason, fallback) {
      const reasons = this.t.reasons;
      const code = typeof reason === "string" ? reason : "";
      return reasons[code] || reasons[code.split(".")[0]] || fallback;
    }

    values() {
      const value = (name) => this.fields[name].control.value;
      return { body: value("body"), name: value("name").trim(), email: value("email").trim(), url: value("url").trim(), hp: this.hp.value };
    }

    validate(values) {
      const t = this.t;
      const errors = {};
      if (!values.body.trim()) errors.body = t.bodyRequired;
      else if (values.body.length > MAX_BODY) errors.body = fill(t.tooLong, { max: MAX_BODY });
      if (!values.name) errors.name = t.nameRequired;
      else if (values.name.length > MAX_NAME) errors.name = fill(t.tooLong, { max: MAX_NAME });
      if (!values.email) errors.email = t.emailRequired;
      else if (!/^[^\s@]+@[^\s@]+$/.test(values.email)) errors.email = t.emailInvalid;
      if (values.url && (/\s/.test(values.url) || /^(?!https?:)[a-z][a-z0-9+.-]*:(?!\d)/i.test(values.url))) {
        errors.url = t.urlInvalid;
      }
      return errors;
    }

    /** Show each field's message next to it (aria-invalid + aria-describedby); focus the first. */
    showErrors(errors, summary) {
      let first = null;
      for (const [name, { control, error }] of Object.entries(this.fields)) {
        const message = errors[name];
        error.textContent = message || "";
        error.hidden = !message;
        if (message) {
          control.setAttribute("aria-invalid", "true");
          control.setAttribute("aria-describedby", error.id);
          first = first || control;
        } else {
          control.removeAttribute("aria-invalid");
          control.removeAttribute("aria-describedby");
        }
      }
      this.formError.textContent = summary || "";
      if (first) first.focus();
    }

    async submit() {
      if (this.busy) return;
      const t = this.t;
      const values = this.values();
      const errors = this.validate(values);
      if (Object.keys(errors).length) { this.showErrors(errors, t.fixFields); return; }
      this.showErrors({}, "");
      const payload = { site: this.site, article: this.article, name: values.name, email: values.email, body: values.body, hp: values.hp };
      if (values.url) payload.url = values.url;
      if (this.parentId) payload.parent_id = this.parentId;
      this.busy = true;
      this.button.disabled = true;
      this.button.textContent = t.sending;
      let result = null;
      try {
        result = await api("/comments", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(payload) });
      } catch (error) {
        result = null;
      } finally {
        this.busy = false;
        this.button.disabled = false;
        this.button.textContent = t.submit;
      }
      this.handleSubmitted(result, payload);
    }

    handleSubmitted(result, payload) {
      const t = this.t;
      const data = result && result.data;
      if (result && result.status === 202 && data && typeof data.id === "number" && data.token) {
        const own = { id: data.id, token: String(data.token), parent_id: payload.parent_id || null };
        this.remember(own);
        this.fields.body.control.value = "";
        this.cancelReply();
        this.announce(t.pendingMsg);
        this.track(own, 0);
        return;
      }
      if (result && result.status === 422 && data && data.fields) {
        const shown = {};
        const other = [];
        for (const [name, message] of Object.entries(data.fields)) {
          if (this.fields[name]) shown[name] = String(message);
          else other.push(String(message));
        }
        this.showErrors(shown, other.join(" ") || t.fixFields);
        return;
      }
      const messages = { 429: t.rateLimited, 413: t.tooLarge, 403: t.notAllowed, 404: t.notAllowed };
      this.formError.textContent = (result && messages[result.status]) || t.sendFailed;
    }

    /** Follow the reader's own comment until it is published, held, refused or gone. */
    async track(own, delay) {
      let result = null;
      try { result = await api(`/comments/${own.id}/status?token=${encodeURIComponent(own.token)}`); } catch (error) { result = null; }
      const data = result && result.ok ? result.data : null;
      if (result && result.status === 404) { this.forget(own.id); this.removeNode(own.id); return; }
      if (!data || !data.comment) { this.schedule(own, delay); return; }
      const t = this.t;
      if (data.status === "approved") {
        this.forget(own.id);
        this.publishOwn(data.comment);
      } else if (data.status === "pending" || data.status === "review") {
        const node = this.nodes.get(own.id);
        if (!node) this.addComment(data.comment, { status: data.status, reason: data.reason });
        else if (node.own && node.own !== data.status) this.markOwn(node, data.status, data.reason);
        if (data.status === "review" && (!node || node.own !== "review")) {
          this.announce(fill(t.heldMsg, { reason: this.reasonText(data.reason, t.heldFallback) }));
        }
        this.schedule(own, delay);
      } else {
        this.forget(own.id);
        this.removeNode(own.id);
        const refused = data.status === "rejected" || data.status === "spam";
        this.announce(refused ? fill(t.refusedMsg, { reason: this.reasonText(data.reason, t.refusedFallback) }) : t.removedMsg);
      }
    }

    schedule(own, delay) {
      const next = Math.min(delay ? delay * 1.5 : POLL_FIRST_MS, POLL_MAX_MS);
      setTimeout(() => this.track(own, next), next);
    }

    stored() {
      try {
        const list = JSON.parse(localStorage.getItem(this.storeKey) || "[]");
        return Array.isArray(list) ? list.filter((x) => x && Number.isInteger(x.id) && typeof x.token === "string") : [];
      } catch (error) {
        return [];
      }
    }

    save(list) {
      try {
        if (list.length) localStorage.setItem(this.storeKey, JSON.stringify(list));
        else localStorage.removeItem(this.storeKey);
      } catch (error) {
        // Storage may be disabled; the comment is then followed for this page view only.
      }
    }

    remember(own) { this.save([...this.stored().filter((x) => x.id !== own.id), own]); }

    forget(id) { this.save(this.stored().filter((x) => x.id !== id)); }

    refreshTimes() {
      for (const [time, date] of this.times) time.textContent = relativeTime(date, this.relative);
    }
  }

  function mount() {
    for (const root of document.querySelectorAll("#vetted-comments, [data-vetted-comments]")) {
      if (root.dataset.vettedMounted || !root.dataset.site) continue;
      root.dataset.vettedMounted = "1";
      ensureStylesheet(root);
      new Widget(root).start();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
