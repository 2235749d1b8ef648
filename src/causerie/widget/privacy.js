/* Causerie chatbox, the visitor's privacy controls (docs/widget.md, P8, P9): the consent gate and
 * the menu (download my data, delete this conversation, privacy notice, withdraw consent), and
 * the conversation by mail on request (docs/notifications.md).
 * Loaded by chatbox.js when the chatbox is first opened, so that it costs nothing before. */

import { el } from "./view.js";
import * as STRINGS from "./strings-chatbox-extras.js";
import { install as installFiles } from "./files.js";
// Imported by files.js; named here too so that the browser fetches it beside files.js, not one
// round trip after.
import "./uploads.js";


/** @typedef {Node | string} Child */

/** Called once with the chatbox, once it has its view; returns what it calls back.
 * @param {import("./chatbox.js").Chatbox} app */
export async function install(app) {
  const view = /** @type {import("./view.js").View} */ (app.view);
  // What the team tells the visitor (business hours, the rating): loaded on opening too.
  import("./service.js").then((m) => m.install(app)).catch((error) => console.error("Causerie:", error));
  /** @param {keyof typeof STRINGS.en.privacy} key */
  const t = (key) => STRINGS[view.locale].privacy[key];
  const { root, panel, form, composer } = view.ui;
  const css = await fetch(new URL("privacy.css", import.meta.url), { credentials: "omit" }).then((r) => r.text());
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];

  // -- the sheet: what replaces the composer (the consent gate, a confirmation, a notice) ----
  const box = el("div", { class: "sheet", part: "privacy", "aria-live": "polite", hidden: true });
  form.before(box);
  /** @type {string | null} */
  let shown = null; // what the sheet shows: "gate", "confirm", "erased" or null
  let busy = false;

  const noticeUrl = () => `${app.base}/privacy/${encodeURIComponent(app.websiteId)}?lang=${view.locale === "fr" ? "fr" : "en"}`;
  /** @param {string} text @param {Record<string, unknown>} [attrs] */
  const noticeLink = (text, attrs = {}) => el("a", { href: noticeUrl(), target: "_blank", rel: "noopener noreferrer", text, ...attrs });

  /** @param {string | null} what @param {...Child} children */
  function show(what, ...children) {
    const was = shown;
    shown = what;
    box.replaceChildren(...children);
    box.hidden = !what;
    // The erasure's notice leaves the composer usable (the next message opens a new session),
    // unless the website asks for consent: its notice comes first, once the visitor starts again.
    form.hidden = !!what && !(what === "erased" && !app.website.settings.consent_required);
    if (!form.hidden && what && app.opened) composer.focus();
    else if (what && what !== was && app.opened) /** @type {HTMLElement | null} */ (box.querySelector(".cancel") || box.querySelector("button"))?.focus();
    if (!what && was && app.opened) composer.focus();
  }

  /** @param {string} text @param {() => unknown} onClick */
  function button(text, onClick, kind = "") {
    const node = el("button", { type: "button", class: kind, text });
    node.addEventListener("click", () => run(onClick));
    return node;
  }

  /** @param {() => unknown} action */
  async function run(action) {
    if (busy) return;
    busy = true;
    try {
      await action();
    } catch (error) {
      console.warn("Causerie:", /** @type {Error} */ (error).message);
      box.append(el("p", { class: "error", role: "alert", text: t("failed") }));
    } finally {
      busy = false;
    }
  }

  /** @param {...Child} before */
  function gate(...before) {
    const settings = app.website.settings;
    const version = settings.consent_version;
    const text = String(settings.consent_notice || "").trim() || t("consentDefault");
    // Refuse is offered until the visitor refused (or withdrew): it drops what the host page set.
    show("gate", ...before, el("p", { class: "notice-text", text }), noticeLink(t("readNotice"), { class: "notice-link" }),
      el("div", { class: "actions" }, button(t("accept"), () => accept(version), "primary"), !app.refused && button(t("refuse"), refuse)));
  }

  /** The visitor says no: what the host page set through the SDK is dropped, never sent, and so
   * is what it sets until they accept. Nothing is recorded (a refusal is no consent). */
  function refuse() {
    release(false);
    render();
    box.querySelector("button")?.focus(); // Refuse is gone: Accept
  }

  /** @param {number} version */
  async function accept(version) {
    try {
      const data = await app.session.api("POST", "/session/consent", { version });
      app.session.data = data.session;
    } catch (error) {
      if (/** @type {{code?: string}} */ (error).code !== "stale_notice") throw error;
      await app.openSession(); // the notice changed meanwhile: show the new one
    }
    withdrawn = false;
    render();
    if (app.needsConsent()) return;
    // What the host page set before consent goes now, before anything set after it.
    release(true);
    for (const clientId of app.unacked) app.transmit(clientId);
  }

  let withdrawn = false;

  function render() {
    if (shown === "confirm") return; // (after "erased", a render means a new session)
    if (!app.needsConsent()) return show(null);
    if (withdrawn) return gate(el("p", { class: "withdrawn", text: t("withdrawn") }), button(t("erase"), confirmErase));
    if (app.refused) return gate(el("p", { class: "refused", text: t("refused") }));
    gate();
  }

  function confirmErase() {
    const back = () => {
      shown = null;
      render();
    };
    show("confirm", el("p", { text: t("confirm") }), el("div", { class: "actions" }, button(t("confirmYes"), erase, "danger"), button(t("cancel"), back, "cancel")));
  }

  async function erase() {
    // The server ends this session's sockets as it erases it: this tab forgets, and does not
    // start a new session on that `invalid_session` (chatbox.js, onError).
    app.erasing = true;
    try {
      await app.session.api("DELETE", "/session");
    } finally {
      app.erasing = false;
    }
    // After an erasure the chatbox knows nothing: no token, no cookie, no socket, no message.
    // It starts afresh when the visitor writes again (or starts again, where consent is asked),
    // or opens it again, as on a first visit.
    app.forget();
    withdrawn = false;
    const again = app.website.settings.consent_required && button(t("again"), () => app.ensureSession().then(() => app.refresh()));
    show("erased", el("p", { class: "erased", text: t("erased") }), again || "");
  }

  /** Sends (`send` true, once consent is given) or drops what the host page set before it
   * (chatbox.js, hold). @param {boolean} send */
  function release(send) {
    const held = [...app.held];
    app.held.clear();
    app.refused = !send;
    if (send) for (const [name, value] of held) app.setProfile({ [name]: value });
  }

  async function download() {
    const data = await app.session.api("GET", "/session/export");
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const link = el("a", { href: url, download: "my-chat-data.json", hidden: true });
    root.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // The composer back, with the focus (or the consent gate, if it is due).
  const closeSheet = () => {
    show(null);
    render();
  };

  /** The conversation by mail, to the email the visitor left; none yet, asked for here (the
   * chatbox asks for one after a first message only while no one is online). */
  async function transcript() {
    if (!app.session.data?.profile?.email) return askEmail();
    /** @type {keyof typeof STRINGS.en.privacy} */
    let said = "transcriptSent";
    try {
      await app.session.api("POST", "/session/transcript");
    } catch (error) {
      const code = /** @type {{code?: string}} */ (error).code;
      if (code === "email_missing") return askEmail();
      if (code === "mail_not_configured") said = "noMail";
      else throw error;
    }
    show("transcript", el("p", { text: t(said) }), el("div", { class: "actions" }, button(t("close"), closeSheet, "cancel")));
  }

  function askEmail() {
    const words = STRINGS[view.locale].email;
    const input = /** @type {HTMLInputElement} */ (el("input", { type: "email", "aria-label": words.label, placeholder: words.label, required: true, autocomplete: "email" }));
    const ask = el("form", { class: "email" }, el("p", { text: t("needEmail") }), input, el("button", { type: "submit", text: t("send") }));
    ask.addEventListener("submit", (event) => {
      event.preventDefault();
      run(async () => {
        const data = await app.session.api("PATCH", "/session/profile", { email: input.value.trim() });
        app.session.data = data.session;
        await transcript();
      });
    });
    show("transcript", ask, el("div", { class: "actions" }, button(t("cancel"), closeSheet, "cancel")));
    input.focus();
  }

  async function withdraw() {
    const data = await app.session.api("DELETE", "/session/consent");
    app.session.data = data.session;
    // As a refusal: nothing the host page sets from now on is kept for a later acceptance.
    release(false);
    withdrawn = true;
    render();
  }

  // -- the menu, in the panel's header ------------------------------------------------------
  const toggle = view.ui.menuButton;
  toggle.setAttribute("aria-controls", "causerie-menu");
  const menu = el("div", { class: "menu", part: "menu", id: "causerie-menu", role: "menu", "aria-label": t("menu"), hidden: true });
  panel.querySelector("header")?.append(menu);

  const items = () => [.../** @type {NodeListOf<HTMLElement>} */ (menu.querySelectorAll('[role="menuitem"]'))];

  function openMenu() {
    const consented = app.website.settings.consent_required && !app.needsConsent();
    const entries = [];
    /** @param {string} text @param {() => unknown} action */
    const item = (text, action) => {
      const node = el("button", { type: "button", role: "menuitem", tabindex: "-1", text });
      node.addEventListener("click", () => {
        closeMenu(false);
        run(action);
      });
      entries.push(node);
    };
    if (app.session.token) {
      item(t("download"), download);
      if (app.website.mail !== false) item(t("transcript"), transcript); // none without mail
      item(t("erase"), confirmErase);
    }
    const link = noticeLink(t("notice"), { role: "menuitem", tabindex: "-1" });
    link.addEventListener("click", () => closeMenu(false));
    entries.push(link);
    if (app.session.token && consented) item(t("withdraw"), withdraw);
    menu.replaceChildren(...entries);
    menu.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    entries[0].focus();
  }

  function closeMenu(refocus = true) {
    if (menu.hidden) return;
    menu.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (refocus) toggle.focus();
  }

  menu.addEventListener("keydown", (event) => {
    const list = items();
    const at = list.indexOf(/** @type {HTMLElement} */ (root.activeElement));
    const move = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      list[(move + list.length) % list.length].focus();
    } else if (event.key === "Escape") {
      event.stopPropagation(); // closes the menu, not the chat
      closeMenu();
    } else if (event.key === "Tab") {
      closeMenu(false);
    }
  });
  root.addEventListener("pointerdown", (event) => {
    const target = /** @type {Node} */ (event.target);
    if (!menu.hidden && !menu.contains(target) && !toggle.contains(target)) closeMenu(false);
  });

  installFiles(app); // files come with the privacy controls: loaded on opening (docs/widget.md)
  return { render, toggleMenu: () => (menu.hidden ? openMenu() : closeMenu()) };
}
