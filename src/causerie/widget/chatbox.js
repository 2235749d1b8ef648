/* Causerie chatbox (docs/widget.md): a shadow-rooted chat panel, its session cookie, its socket
 * and the $causerie SDK. No dependency, no build step, no request to any host but Causerie. */

const STRINGS = {
  en: {
    open: "Open chat", close: "Close chat", title: "Chat", message: "Message",
    placeholder: "Write a message…", send: "Send", online: "We're online",
    offline: "We'll reply as soon as we can", greeting: "Hi! How can we help?",
    typing: "is typing…", someone: "Someone", sending: "Sending…", sent: "Sent",
    seen: "Seen", failed: "Not sent.", retry: "Retry", you: "You",
    emailAsk: "No one is online right now. Leave your email and we'll reply there.",
    emailLabel: "Your email", emailSave: "Save", emailSaved: "Thanks, we'll reply to {email}.",
    reconnecting: "Reconnecting…", unread: "{n} unread messages", menu: "Chat options",
  },
  fr: {
    open: "Ouvrir la discussion", close: "Fermer la discussion", title: "Discussion",
    message: "Message", placeholder: "Écrivez un message…", send: "Envoyer",
    online: "Nous sommes en ligne", offline: "Nous répondrons dès que possible",
    greeting: "Bonjour ! Comment pouvons-nous vous aider ?", typing: "écrit…",
    someone: "Quelqu'un", sending: "Envoi…", sent: "Envoyé", seen: "Vu",
    failed: "Non envoyé.", retry: "Réessayer", you: "Vous",
    emailAsk: "Personne n'est en ligne pour le moment. Laissez votre e-mail, nous vous répondrons.",
    emailLabel: "Votre e-mail", emailSave: "Enregistrer",
    emailSaved: "Merci, nous répondrons à {email}.", reconnecting: "Reconnexion…",
    unread: "{n} messages non lus", menu: "Options de la discussion",
  },
};

const ACK_TIMEOUT = 15000;
const PING_EVERY = 30000;
const TYPING_IDLE = 3000;
const TYPING_SHOWN = 6000;
const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Text with its web links made clickable, built from text nodes only: nothing is ever parsed as
 * HTML. Links open in a new tab and carry nothing of the session (P19). */
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

class Sdk {
  constructor() {
    this.handlers = new Map();
    this.app = null;
    this.early = [];
  }
  push(command) {
    if (!Array.isArray(command)) return 0;
    if (this.app) this.app.command(command);
    else this.early.push(command);
    return 0;
  }
  attach(app, queued) {
    this.app = app;
    for (const command of [...queued, ...this.early]) app.command(command);
    this.early = [];
  }
  is(name) {
    return this.app ? this.app.is(name) : false;
  }
  get(name) {
    return this.app ? this.app.get(name) : undefined;
  }
  on(name, handler) {
    if (typeof handler !== "function") return;
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(handler);
  }
  off(name, handler) {
    if (handler) this.handlers.get(name)?.delete(handler);
    else this.handlers.delete(name);
  }
  emit(name, value) {
    for (const handler of this.handlers.get(name) || []) {
      try {
        handler(value);
      } catch (error) {
        console.error("Causerie: a $causerie handler failed", error);
      }
    }
  }
}

class Chatbox {
  constructor({ base, websiteId, version, sessionStart, temporaryTtl }, sdk) {
    this.base = base;
    // Strict mode (CAUSERIE_SESSION_START=open): no session, no cookie until the chatbox is opened.
    this.strict = sessionStart === "open";
    this.ttl = temporaryTtl;
    this.websiteId = websiteId;
    this.version = version;
    this.sdk = sdk;
    this.cookieName = `causerie_session_${websiteId}`;
    this.token = null;
    this.session = null;
    this.website = null;
    this.seq = 0;
    this.messages = new Map(); // id or client id -> message
    this.order = []; // keys in display order
    this.pending = new Map(); // client id -> {body, timer}
    this.operatorReadUpTo = null;
    this.opened = false;
    this.online = false;
    this.unread = 0;
    this.socket = null;
    this.attempt = 0;
    this.ready = false;
    this.profileQueue = Promise.resolve();
    // Profile fields the host page set before consent (P9): in this page's memory only.
    this.held = new Map();
    this.emailAsked = false;
    this.hasSession = new Promise((resolve) => (this.gotSession = resolve));
  }

  // -- the session (P13-P15) ---------------------------------------------------------------

  readCookie() {
    const prefix = `${this.cookieName}=`;
    const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : null;
  }

  writeCookie(token, maxAge) {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${this.cookieName}=${encodeURIComponent(token)}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
  }

  saveCookie() {
    // In strict mode a temporary session's cookie lives no longer than the session (P15).
    const temporary = this.strict && this.session?.state !== "permanent";
    this.writeCookie(this.token, temporary ? Math.min(this.maxAge, this.ttl) : this.maxAge);
  }

  permanent() {
    if (this.session && this.session.state !== "permanent") {
      this.session = { ...this.session, state: "permanent" };
      this.saveCookie();
    }
  }

  /** The session, opened once: on load, or in strict mode (and after an erasure) when used. */
  ensureSession() {
    this.starting ||= this.openSession().then(() => this.connect(), (error) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  async openSession() {
    const locale = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(navigator.language || "")
      ? navigator.language
      : undefined;
    const body = {
      token: this.readCookie() || undefined,
      page: {
        url: location.href.slice(0, 2048),
        title: document.title.slice(0, 500),
        referrer: document.referrer.slice(0, 2048),
      },
      locale,
      timezone: (Intl.DateTimeFormat().resolvedOptions().timeZone || "").slice(0, 64) || undefined,
    };
    const response = await fetch(`${this.base}/api/widget/v1/websites/${this.websiteId}/session`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" }, // JSON as text: no CORS preflight per page view
      body: JSON.stringify(body),
      credentials: "omit",
    });
    if (!response.ok) throw new Error(`session: HTTP ${response.status}`);
    const data = await response.json();
    this.token = data.token;
    this.maxAge = data.cookie.max_age;
    this.session = data.session;
    this.saveCookie(); // rewritten on every load (P14)
    this.website = data.website;
    this.online = data.website.availability.online;
    this.seq = data.seq || 0;
    for (const message of data.messages) this.addMessage(message, true);
    this.gotSession();
    return data;
  }

  async api(method, path, body) {
    const response = await fetch(`${this.base}/api/widget/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(data.error?.message || `HTTP ${response.status}`), { code: data.error?.code });
    return data;
  }

  // -- the socket (docs/realtime.md) ------------------------------------------------------

  connect() {
    const url = `${this.base.replace(/^http/, "ws")}/ws/visitor?website_id=${encodeURIComponent(this.websiteId)}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: this.token, after: this.seq }));
    socket.onmessage = (event) => {
      try {
        this.onFrame(JSON.parse(event.data));
      } catch (error) {
        console.error("Causerie: bad frame", error);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.ready = false;
      this.socket = null;
      clearInterval(this.pinger);
      const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
      this.attempt += 1;
      this.renderStatus();
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    };
  }

  reconnectNow() {
    if (this.ready) return;
    clearTimeout(this.reconnectTimer);
    if (!this.socket) this.connect();
  }

  sendFrame(frame) {
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  onFrame(frame) {
    if (typeof frame.seq === "number" && frame.seq > this.seq) this.seq = frame.seq;
    switch (frame.type) {
      case "ready":
        this.ready = true;
        this.attempt = 0;
        this.online = frame.availability.online;
        this.session = frame.session;
        this.pinger = setInterval(() => this.sendFrame({ type: "ping" }), PING_EVERY);
        for (const clientId of this.pending.keys()) this.transmit(clientId);
        this.renderStatus();
        this.markRead();
        break;
      case "message.created":
        this.addMessage(frame.message, false);
        break;
      case "message.ack":
        this.acked(frame.client_id, frame.message);
        break;
      case "typing":
        if (frame.from === "operator") this.showTyping(frame.on ? frame.operator?.name : null);
        break;
      case "read":
        if (frame.by === "operator") {
          this.operatorReadUpTo = frame.up_to;
          this.renderMarks();
        }
        break;
      case "presence":
        if (typeof frame.online === "boolean") {
          this.online = frame.online;
          this.renderStatus();
        }
        break;
      case "session.updated":
        this.session = frame.session;
        this.saveCookie();
        this.refresh();
        break;
      case "error":
        this.onError(frame);
        break;
      default:
        break;
    }
  }

  onError(frame) {
    if (frame.code === "invalid_session") {
      // The session is gone (expired, or deleted by the website): start a new one.
      this.socket?.close();
      this.socket = null;
      this.ready = false;
      this.openSession().then(() => this.connect(), () => this.renderStatus());
      return;
    }
    if (frame.code === "consent_required") {
      // The notice changed since this page loaded: read it again, and show it.
      this.openSession().then(() => this.refresh(), () => {});
      return;
    }
    const clientId = frame.client_id;
    if (!clientId || !this.pending.has(clientId)) return;
    if (frame.code === "rate_limited") {
      setTimeout(() => this.transmit(clientId), 1000);
    } else {
      this.failed(clientId);
    }
  }

  // -- messages ---------------------------------------------------------------------------

  addMessage(message, initial) {
    const pendingKey = `c:${message.client_id}`;
    if (message.author === "visitor" && this.messages.has(pendingKey)) {
      this.messages.set(pendingKey, { ...message, state: "sent" });
      this.renderMessage(pendingKey);
      return;
    }
    if (this.messages.has(message.id)) return;
    this.messages.set(message.id, { ...message, state: "sent" });
    this.order.push(message.id);
    this.renderMessage(message.id);
    if (!initial) this.permanent();
    if (message.author === "operator" && !initial) {
      this.showTyping(null);
      if (!this.opened || document.visibilityState !== "visible") {
        this.unread += 1;
        this.renderBadge();
      }
      this.markRead();
      this.sdk.emit("message:received", message);
    }
  }

  send(text) {
    const body = String(text ?? "").trim();
    if (!body || body.length > 10000) return;
    if (!this.token) return void this.ensureSession().then(() => this.send(body));
    if (this.needsConsent()) return void this.extras(); // P9: nothing is sent before consent
    const clientId = randomId();
    const key = `c:${clientId}`;
    this.messages.set(key, {
      client_id: clientId, author: "visitor", type: "text", body,
      created_at: new Date().toISOString(), state: "sending",
    });
    this.order.push(key);
    this.pending.set(clientId, { body, timer: null });
    this.renderMessage(key);
    this.transmit(clientId);
    this.stopTyping();
  }

  transmit(clientId) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    const key = `c:${clientId}`;
    const message = this.messages.get(key);
    if (message.state === "failed") {
      message.state = "sending";
      this.renderMessage(key);
    }
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.failed(clientId), ACK_TIMEOUT);
    this.sendFrame({ type: "message.send", client_id: clientId, body: pending.body });
  }

  acked(clientId, message) {
    const pending = this.pending.get(clientId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(clientId);
    const key = `c:${clientId}`;
    this.messages.set(key, { ...message, state: "sent" });
    this.renderMessage(key);
    this.permanent();
    this.sdk.emit("message:sent", message);
    this.maybeAskEmail();
  }

  failed(clientId) {
    const key = `c:${clientId}`;
    const message = this.messages.get(key);
    if (!message || !this.pending.has(clientId)) return;
    message.state = "failed";
    this.renderMessage(key);
  }

  markRead() {
    if (!this.opened || document.visibilityState !== "visible") return;
    const last = [...this.order].reverse().map((k) => this.messages.get(k)).find((m) => m.author === "operator" && m.id);
    this.unread = 0;
    this.renderBadge();
    if (last && last.id !== this.readSent) {
      if (this.sendFrame({ type: "read", up_to: last.id })) this.readSent = last.id;
    }
  }

  // -- typing -----------------------------------------------------------------------------

  typed() {
    if (!this.typingOn) {
      this.typingOn = true;
      this.sendFrame({ type: "typing", on: true });
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingOn) {
      this.typingOn = false;
      this.sendFrame({ type: "typing", on: false });
    }
  }

  showTyping(name) {
    clearTimeout(this.typingShown);
    const line = this.ui.typing;
    if (!name) {
      line.hidden = true;
      return;
    }
    line.textContent = `${name || this.t("someone")} ${this.t("typing")}`;
    line.hidden = false;
    this.typingShown = setTimeout(() => (line.hidden = true), TYPING_SHOWN);
  }

  // -- profile and SDK --------------------------------------------------------------------

  setProfile(fields) {
    // In order, after the session exists; a failure is reported, never thrown at the page.
    // Without consent (P9) nothing is sent: the fields wait in `held` (see hold).
    this.profileQueue = this.profileQueue
      .then(() => this.hasSession)
      .then(() => this.needsConsent() ? this.hold(fields) : this.api("PATCH", "/session/profile", fields).then((data) => (this.session = data.session), (error) => {
        if (error.code !== "consent_required") throw error;
        // The notice changed since this page loaded: hold the fields, and read it again.
        this.hold(fields);
        return this.openSession().then(() => this.refresh());
      }))
      .catch((error) => console.warn("Causerie: profile not saved:", error.message));
    return this.profileQueue;
  }

  /** Keeps profile fields until the visitor decides (P9): in memory, never in the browser's
   * storage, never sent. A later value replaces a held one (custom data merges key by key, as
   * the server merges it). Accepting sends them (release), refusing drops them; after a refusal
   * (or a withdrawal) fields set are dropped until the visitor accepts. */
  hold(fields) {
    if (this.refused) return;
    for (const [name, value] of Object.entries(fields)) this.held.set(name, name === "data" ? { ...this.held.get(name), ...value } : value);
  }

  /** Sends (`send` true, once consent is given) or drops what was held. */
  release(send) {
    const held = [...this.held];
    this.held.clear();
    this.refused = !send;
    if (send) for (const [name, value] of held) this.setProfile({ [name]: value });
  }

  command([verb, name, value]) {
    if (verb === "set") {
      const field = { "user:email": "email", "user:nickname": "nickname", "user:phone": "phone" }[name];
      if (field) this.setProfile({ [field]: value ?? null });
      else if (name === "session:data" && value && typeof value === "object") this.setProfile({ data: value });
    } else if (verb === "do") {
      if (name === "chat:open") this.open();
      else if (name === "chat:close") this.close();
      else if (name === "chat:toggle") (this.opened ? this.close() : this.open());
      else if (name === "message:send") this.booted.then(() => this.send(value));
    } else if (verb === "on") this.sdk.on(name, value);
    else if (verb === "off") this.sdk.off(name, value);
  }

  is(name) {
    if (name === "chat:opened") return this.opened;
    if (name === "chat:closed") return !this.opened;
    if (name === "session:ongoing") return this.session?.state === "permanent";
    return false;
  }

  get(name) {
    const profile = this.session?.profile || {};
    return {
      "session:id": this.session?.id,
      "user:email": profile.email,
      "user:nickname": profile.nickname,
      "user:phone": profile.phone,
      "session:data": profile.data,
      "chat:unread:count": this.unread,
    }[name];
  }

  maybeAskEmail() {
    const settings = this.website?.settings || {};
    if (this.emailAsked || this.online || !settings.email_prompt || this.session?.profile?.email) return;
    this.emailAsked = true;
    const input = el("input", { type: "email", "aria-label": this.t("emailLabel"), placeholder: this.t("emailLabel"), required: true, autocomplete: "email" });
    const form = el("form", { class: "email" }, el("p", { text: this.t("emailAsk") }), input,
      el("button", { type: "submit", text: this.t("emailSave") }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const email = input.value.trim();
      if (!email) return;
      this.setProfile({ email }).then(() => {
        if (this.session?.profile?.email) form.replaceChildren(el("p", { text: this.t("emailSaved").replace("{email}", email) }));
      });
    });
    this.ui.messages.append(form);
  }

  // -- privacy: consent (P9), the menu; loaded when the chatbox is first opened (privacy.js) --

  needsConsent() {
    const settings = this.website?.settings || {};
    return !!settings.consent_required && this.session?.consent?.version !== settings.consent_version;
  }

  extras() {
    this.ext ||= import(`${this.base}/widget/${this.version}/privacy.js`).then((m) => m.install(this));
    return this.refresh();
  }

  refresh() {
    return this.ext?.then((ext) => this.token && ext.render()).catch((error) => console.error("Causerie:", error));
  }

  // -- the user interface -----------------------------------------------------------------

  t(key) {
    return (STRINGS[this.locale] || STRINGS.en)[key] || STRINGS.en[key];
  }

  mount(css) {
    const settings = this.website.settings;
    const wanted = (settings.locale || navigator.language || "en").slice(0, 2).toLowerCase();
    this.locale = STRINGS[wanted] ? wanted : "en";
    const host = document.createElement("causerie-chatbox");
    for (const [name, value] of [["display", "block"], ["position", "fixed"], ["z-index", "2147483000"], ["inset", "auto"], ["width", "0"], ["height", "0"], ["margin", "0"], ["padding", "0"], ["border", "0"], ["opacity", "1"], ["visibility", "visible"], ["transform", "none"], ["filter", "none"]]) {
      host.style.setProperty(name, value, "important");
    }
    const root = host.attachShadow({ mode: "open" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    const accent = /^#[0-9a-fA-F]{3,8}$/.test(settings.color || "") ? settings.color : "#3b5bdb";
    const side = settings.position === "left" ? "left" : "right";
    const name = this.website.name || this.t("title");

    const badge = el("span", { class: "badge", part: "badge", hidden: true, "aria-hidden": "true" });
    const launcher = el("button", { class: "launcher", part: "launcher", type: "button", "aria-label": this.t("open"), "aria-expanded": "false", "aria-controls": "causerie-panel" },
      el("span", { class: "icon", "aria-hidden": "true" }), badge);
    const status = el("p", { class: "status", "aria-live": "polite" });
    const closer = el("button", { class: "close", type: "button", "aria-label": this.t("close") }, el("span", { "aria-hidden": "true", text: "×" }));
    // The privacy menu's button; the menu itself comes with privacy.js, loaded on opening.
    const menuButton = el("button", { class: "menu-button", part: "menu-button", type: "button", "aria-label": this.t("menu"), "aria-haspopup": "menu", "aria-expanded": "false" }, el("span", { "aria-hidden": "true", text: "⋯" }));
    const messages = el("div", { class: "messages", part: "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": name });
    const typing = el("p", { class: "typing", "aria-live": "polite", hidden: true });
    const composer = el("textarea", { class: "composer", part: "composer", rows: "1", "aria-label": this.t("message"), placeholder: this.t("placeholder"), maxlength: "10000" });
    const sendButton = el("button", { class: "send", part: "send", type: "submit", "aria-label": this.t("send") }, el("span", { "aria-hidden": "true", text: "➤" }));
    const form = el("form", { class: "compose" }, composer, sendButton);
    const panel = el("section", { class: "panel", part: "panel", id: "causerie-panel", role: "dialog", "aria-modal": "false", "aria-label": name, hidden: true },
      el("header", {}, el("div", {}, el("h2", { text: name }), status), menuButton, closer), messages, typing, form);
    const frame = el("div", { class: `frame ${side}`, style: `--accent: ${accent}` }, panel, launcher);
    root.append(frame);
    this.ui = { host, root, launcher, badge, panel, status, messages, typing, composer, form, menuButton };

    const greeting = (settings.greeting || "").trim() || this.t("greeting");
    messages.append(el("p", { class: "greeting", text: greeting }));
    for (const key of this.order) this.renderMessage(key);

    launcher.addEventListener("click", () => (this.opened ? this.close() : this.open()));
    closer.addEventListener("click", () => this.close());
    menuButton.addEventListener("click", () => this.extras().then(() => this.ext.then((ext) => ext.toggleMenu())));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(composer.value);
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
      if (composer.value.trim()) this.typed();
      else this.stopTyping();
    });
    messages.addEventListener("click", (event) => {
      const retry = event.target.closest?.("button.retry");
      if (retry) this.transmit(retry.dataset.clientId);
    });
    document.addEventListener("visibilitychange", () => this.markRead());
    window.addEventListener("online", () => this.reconnectNow());
    // Beside <body>, not in it: a transform or filter on the page's body cannot move it.
    document.documentElement.append(host);
    this.renderStatus();
  }

  autosize() {
    const box = this.ui.composer;
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight, 120)}px`;
  }

  open() {
    if (this.opened || !this.ui) return;
    this.opened = true;
    this.ui.panel.hidden = false;
    this.ui.launcher.setAttribute("aria-expanded", "true");
    this.ui.launcher.setAttribute("aria-label", this.t("close"));
    this.ui.composer.focus();
    this.scrollDown();
    this.markRead();
    this.ensureSession().then(() => this.extras(), (error) => console.error("Causerie:", error));
    this.sdk.emit("chat:opened");
  }

  close() {
    if (!this.opened || !this.ui) return;
    this.opened = false;
    this.ui.panel.hidden = true;
    this.ui.launcher.setAttribute("aria-expanded", "false");
    this.ui.launcher.setAttribute("aria-label", this.t("open"));
    this.ui.launcher.focus();
    this.sdk.emit("chat:closed");
  }

  scrollDown() {
    const box = this.ui.messages;
    box.scrollTop = box.scrollHeight;
  }

  renderStatus() {
    if (!this.ui) return;
    const text = !this.ready && this.attempt > 0
      ? this.t("reconnecting")
      : this.t(this.online ? "online" : "offline");
    this.ui.status.textContent = text;
    this.ui.status.classList.toggle("online", this.online);
  }

  renderBadge() {
    if (!this.ui) return;
    const badge = this.ui.badge;
    badge.hidden = this.unread === 0;
    badge.textContent = this.unread > 9 ? "9+" : String(this.unread);
    this.ui.launcher.setAttribute("aria-label", this.unread
      ? `${this.t(this.opened ? "close" : "open")} (${this.t("unread").replace("{n}", this.unread)})`
      : this.t(this.opened ? "close" : "open"));
  }

  renderMessage(key) {
    if (!this.ui) return;
    const message = this.messages.get(key);
    const time = new Date(message.created_at);
    const stamp = el("time", { datetime: message.created_at, text: Number.isNaN(time.getTime()) ? "" : time.toLocaleTimeString(this.locale, { hour: "2-digit", minute: "2-digit" }) });
    const who = message.author === "operator" ? message.operator?.name || this.t("someone") : this.t("you");
    const bubble = el("div", { class: "body" });
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

  renderMarks() {
    if (!this.ui) return;
    for (const seen of this.ui.messages.querySelectorAll(".seen")) seen.remove();
    if (!this.operatorReadUpTo) return;
    const index = this.order.findIndex((k) => this.messages.get(k).id === this.operatorReadUpTo);
    if (index < 0) return;
    const lastSeen = this.order.slice(0, index + 1).reverse().find((k) => this.messages.get(k).author === "visitor");
    const item = lastSeen && this.ui.messages.querySelector(`[data-key="${CSS.escape(lastSeen)}"] .meta`);
    if (item) item.append(el("span", { class: "seen", text: this.t("seen") }));
  }
}

/** Entry point, called by widget.js with where Causerie lives and which website this is. */
export async function start(config) {
  const queued = Array.isArray(window.$causerie) ? window.$causerie : [];
  const sdk = new Sdk();
  const api = {
    push: (command) => sdk.push(command),
    is: (name) => sdk.is(name),
    get: (name) => sdk.get(name),
    on: (name, handler) => sdk.on(name, handler),
    off: (name, handler) => sdk.off(name, handler),
  };
  window.$causerie = api;
  const app = new Chatbox(config, sdk);
  let resolveBooted;
  app.booted = new Promise((resolve) => (resolveBooted = resolve));
  const cssUrl = `${config.base}/widget/${config.version}/chatbox.css`;
  // Strict mode, first visit: only what the launcher looks like; the session waits for a click.
  const look = app.strict && !app.readCookie()
    ? fetch(`${config.base}/widget/websites/${config.websiteId}/look`, { credentials: "omit" }).then((r) => r.json()).then((w) => (app.website = { settings: {}, ...w }))
    : app.openSession();
  const [css] = await Promise.all([fetch(cssUrl, { credentials: "omit" }).then((r) => r.text()), look]);
  app.mount(css);
  if (app.token) app.starting = Promise.resolve(app.connect());
  sdk.attach(app, queued);
  resolveBooted();
}
