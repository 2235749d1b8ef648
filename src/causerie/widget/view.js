/* The chatbox's user interface (docs/widget.md): a shadow root on a <causerie-chatbox> element,
 * which the host page's CSS does not reach, rendering what the chatbox (chatbox.js) holds.
 * Everything is built with createElement and text nodes: nothing is ever parsed as HTML (P19). */

import * as STRINGS from "./strings-chatbox.js";

/** @typedef {import("./chatbox.js").Chatbox} Chatbox */
/** @typedef {import("./chatbox.js").Message} Message */


/** @typedef {keyof typeof STRINGS.en} StringKey */

const TYPING_SHOWN = 6000;
const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** An element with attributes (`text`: its text; false, null and undefined: left out). One
 * given its `text` is isolated for the bidirectional algorithm (`dir="auto"`), so that an
 * override in a name or a message stays inside it.
 * @param {string} tag @param {Record<string, unknown>} [attrs] @param {...(Node | string | false | null | undefined)} children */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  if ("text" in attrs && !("dir" in attrs)) node.setAttribute("dir", "auto");
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Text with its web links made clickable, built from text nodes only: nothing is ever parsed as
 * HTML. Links open in a new tab and carry nothing of the session (P19). @param {string} body */
function richText(body) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of body.matchAll(LINK)) {
    let url = match[0];
    const trailing = /[.,;:!?)\]}'"]+$/.exec(url);
    if (trailing) url = url.slice(0, -trailing[0].length);
    if (match.index > last) fragment.append(body.slice(last, match.index));
    const link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow" });
    link.textContent = url;
    fragment.append(link);
    last = match.index + url.length;
  }
  if (last < body.length) fragment.append(body.slice(last));
  return fragment;
}

export class View {
  /** @param {Chatbox} app @param {string} css @param {import("./session.js").Website} website */
  constructor(app, css, website) {
    this.app = app;
    const settings = website.settings;
    const wanted = (settings.locale || navigator.language || "en").slice(0, 2).toLowerCase();
    /** @type {keyof typeof STRINGS} */
    this.locale = wanted in STRINGS ? /** @type {keyof typeof STRINGS} */ (wanted) : "en";
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.typingShown = undefined;
    const host = document.createElement("causerie-chatbox");
    host.style.cssText = "display:block;position:fixed;z-index:2147483000;inset:auto;width:0;height:0;margin:0;padding:0;border:0;opacity:1;visibility:visible;transform:none;filter:none;".replaceAll(";", "!important;");
    const root = host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    const accent = /^#[0-9a-fA-F]{3,8}$/.test(settings.color || "") ? settings.color : "#3b5bdb";
    const side = settings.position === "left" ? "left" : "right";
    const name = website.name || this.t("title");

    const badge = el("span", { class: "badge", part: "badge", hidden: true, "aria-hidden": "true" });
    const launcher = el("button", { class: "launcher", part: "launcher", type: "button", "aria-label": this.t("open"), "aria-expanded": "false", "aria-controls": "causerie-panel" },
      el("span", { class: "icon", "aria-hidden": "true" }), badge);
    const status = el("p", { class: "status", "aria-live": "polite" });
    const closer = el("button", { class: "close", type: "button", "aria-label": this.t("close") }, el("span", { "aria-hidden": "true", text: "×" }));
    // The privacy menu's button; the menu itself comes with privacy.js, loaded on opening.
    const menuButton = el("button", { class: "menu-button", part: "menu-button", type: "button", "aria-label": this.t("menu"), "aria-haspopup": "menu", "aria-expanded": "false" }, el("span", { "aria-hidden": "true", text: "⋯" }));
    const messages = el("div", { class: "messages", part: "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": name });
    const typing = el("p", { class: "typing", "aria-live": "polite", hidden: true });
    const composer = /** @type {HTMLTextAreaElement} */ (el("textarea", { class: "composer", part: "composer", rows: "1", "aria-label": this.t("message"), placeholder: this.t("placeholder"), maxlength: "10000" }));
    const sendButton = el("button", { class: "send", part: "send", type: "submit", "aria-label": this.t("send") }, el("span", { "aria-hidden": "true", text: "➤" }));
    const form = /** @type {HTMLFormElement} */ (el("form", { class: "compose" }, composer, sendButton));
    const panel = el("section", { class: "panel", part: "panel", id: "causerie-panel", role: "dialog", "aria-label": name, hidden: true },
      el("header", {}, el("div", {}, el("h2", { text: name }), status), menuButton, closer), messages, typing, form);
    // The unread count, said by screen readers while the chatbox is closed (once it is open, the
    // log says each new message); the badge shows it to the eye.
    const said = el("p", { class: "sr", role: "status" });
    // The chatbox speaks its own language, written left to right, whatever the page's: on a
    // right-to-left page it was mirrored ("...Write a message"), and a page in another language
    // had screen readers read its words with the wrong voice. Messages still set their own
    // direction (`dir="auto"`).
    const frame = el("div", { class: `frame ${side}`, dir: "ltr", lang: this.locale, style: `--accent: ${accent}` }, panel, launcher, said);
    root.append(frame);
    this.ui = { host, root, launcher, badge, panel, status, messages, typing, composer, form, menuButton, said };
    /** The page behind is inert: the panel fills a phone's screen. */
    this.modal = false;
    // chatbox.css: under it the open panel fills the screen; a turned phone crosses it.
    this.phone = matchMedia("(max-width:480px)");
    this.phone.onchange = () => this.fit();

    const greeting = (settings.greeting || "").trim() || this.t("greeting");
    messages.append(el("p", { class: "greeting", text: greeting }));
    for (const key of app.order) this.renderMessage(key);
    this.renderBadge();

    launcher.addEventListener("click", () => (app.opened ? app.close() : app.open()));
    closer.addEventListener("click", () => app.close());
    menuButton.addEventListener("click", () => app.extras()?.then(() => app.ext?.then((ext) => ext.toggleMenu())));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") app.close();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      app.send(composer.value);
      composer.value = "";
      this.autosize();
    });
    composer.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    composer.addEventListener("input", () => {
      this.autosize();
      if (composer.value.trim()) app.typed();
      else app.stopTyping();
    });
    messages.addEventListener("click", (event) => {
      const retry = /** @type {HTMLElement | null} */ (/** @type {Element} */ (event.target).closest("button.retry"));
      if (retry?.dataset.clientId) app.transmit(retry.dataset.clientId);
    });
    document.addEventListener("visibilitychange", () => app.markRead());
    // Beside <body>, not in it: a transform or filter on the page's body cannot move it.
    document.documentElement.append(host);
    this.renderStatus();
  }

  /** @param {StringKey} key */
  t(key) {
    return STRINGS[this.locale][key];
  }

  autosize() {
    const box = this.ui.composer;
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight, 120)}px`;
  }

  /** Shows or hides the panel. @param {boolean} opened */
  show(opened) {
    const { panel, launcher, composer } = this.ui;
    panel.hidden = !opened;
    this.fit();
    launcher.setAttribute("aria-expanded", String(opened));
    launcher.setAttribute("aria-label", this.t(opened ? "close" : "open"));
    if (opened) {
      composer.focus();
      this.scrollDown();
    } else {
      launcher.focus();
    }
  }

  /** On a phone the open panel covers the page: as behind a modal dialog, the page is then out
   * of reach of the keyboard and of screen readers (the chatbox sits beside <body>, not in it);
   * again as the phone turns. Only an inertness the chatbox set is lifted: the page's own is
   * left alone. */
  fit() {
    const full = this.app.opened && this.phone.matches;
    if (full || this.modal) document.body.inert = this.modal = full;
    this.ui.panel.setAttribute("aria-modal", String(full));
  }

  scrollDown() {
    const box = this.ui.messages;
    box.scrollTop = box.scrollHeight;
  }

  renderStatus() {
    const { online, socket } = this.app;
    const reconnecting = !!socket && !socket.ready && socket.attempt > 0;
    this.ui.status.textContent = this.t(reconnecting ? "reconnecting" : online ? "online" : "offline");
    // The dot follows what the line says: green only when connected and someone is there.
    this.ui.status.classList.toggle("online", online && !reconnecting);
    this.ui.status.classList.toggle("reconnecting", reconnecting);
  }

  renderBadge() {
    const { unread, opened } = this.app;
    const { badge, launcher, said } = this.ui;
    const count = unread ? this.t("unread").replace("{n}", String(unread)) : "";
    badge.hidden = !unread;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    launcher.setAttribute("aria-label", this.t(opened ? "close" : "open") + (count && ` (${count})`));
    said.textContent = opened ? "" : count;
  }

  /** @param {string} key */
  renderMessage(key) {
    const message = /** @type {Message} */ (this.app.messages.get(key));
    const time = new Date(message.created_at);
    const stamp = el("time", { datetime: message.created_at, text: Number.isNaN(time.getTime()) ? "" : time.toLocaleTimeString(this.locale, { hour: "2-digit", minute: "2-digit" }) });
    const who = message.author === "operator" ? message.operator?.name || this.t("someone") : this.t("you");
    const bubble = el("div", { class: "body", dir: "auto" });
    bubble.append(richText(message.body));
    const meta = el("p", { class: "meta" }, el("span", { class: "who", text: who }), stamp);
    if (message.author === "visitor") {
      const state = el("span", { class: `state ${message.state}`, "data-state": message.state });
      if (message.state === "failed") {
        state.append(this.t("failed"), " ", el("button", { type: "button", class: "retry", "data-client-id": message.client_id, text: this.t("retry") }));
      } else {
        state.textContent = this.t(message.state === "sending" ? "sending" : "sent");
      }
      meta.append(state);
    }
    const item = el("article", { class: `message ${message.author}`, "data-key": key, "data-id": message.id || "", "aria-label": who }, bubble, meta);
    const existing = this.ui.messages.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (existing) existing.replaceWith(item);
    else this.ui.messages.append(item);
    this.renderMarks();
    this.scrollDown();
  }

  /** "Seen" under the visitor's last message the operators have read. */
  renderMarks() {
    const { messages, order, operatorReadUpTo } = this.app;
    for (const seen of this.ui.messages.querySelectorAll(".seen")) seen.remove();
    if (!operatorReadUpTo) return;
    const index = order.findIndex((k) => messages.get(k)?.id === operatorReadUpTo);
    if (index < 0) return;
    const lastSeen = order.slice(0, index + 1).reverse().find((k) => messages.get(k)?.author === "visitor");
    const item = lastSeen && this.ui.messages.querySelector(`[data-key="${CSS.escape(lastSeen)}"] .meta`);
    if (item) item.append(el("span", { class: "seen", text: this.t("seen") }));
  }

  /** An operator's name while they type; null hides the line. @param {string | null | undefined} name */
  showTyping(name) {
    clearTimeout(this.typingShown);
    const line = this.ui.typing;
    if (!name) {
      line.hidden = true;
      return;
    }
    line.replaceChildren(el("bdi", { text: name }), ` ${this.t("typing")}`);
    line.hidden = false;
    this.typingShown = setTimeout(() => (line.hidden = true), TYPING_SHOWN);
  }

  /** Asks for an email to reply to; `save` stores it and says whether it was.
   * @param {(email: string) => Promise<boolean>} save */
  askEmail(save) {
    // Shown once a message is sent: its form and texts (service.js) are fetched then.
    import("./service.js").then((service) => service.askEmail(this, save));
  }

  /** After an erasure: no message on screen. */
  clear() {
    for (const item of this.ui.messages.querySelectorAll("article, form")) item.remove();
    this.renderBadge();
    this.renderStatus();
  }
}
