/* Causerie chatbox (docs/widget.md): what the visitor's conversation holds, the $causerie SDK, and
 * the glue between the session (session.js), the socket (socket.js, shared with the inbox) and
 * the shadow-DOM view (view.js). No dependency, no build step, no request to any host but
 * Causerie. */

import { Session } from "./session.js";
import { Socket } from "./socket.js";
import { View } from "./view.js";

/**
 * @typedef {{id?: string, client_id?: string, author: string, body: string, created_at: string, state: string, operator?: {name?: string} | null, [field: string]: any}} Message
 * @typedef {import("./socket.js").Frame} Frame
 * @typedef {import("./session.js").Website} Website
 * @typedef {(value?: any) => void} Handler
 * @typedef {{base: string, websiteId: string, version: string, sessionStart: string, temporaryTtl: number}} Config
 */

const TYPING_IDLE = 3000;
const EVENTS = ["message:received", "message:sent", "chat:opened", "chat:closed"];

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Chatbox {
  /** @param {Config} config */
  constructor({ base, websiteId, version, sessionStart, temporaryTtl }) {
    this.base = base;
    this.websiteId = websiteId;
    this.version = version;
    /** The host page's $causerie handlers. @type {Map<string, Set<Handler>>} */
    this.handlers = new Map();
    this.session = new Session(base, websiteId, sessionStart === "open", temporaryTtl);
    /** @type {Website} */
    this.website = { settings: {} };
    /** The position of the session's stream the last load gave. */
    this.seq = 0;
    /** @type {Map<string, Message>} id, or `c:` + client id -> message */
    this.messages = new Map();
    /** @type {string[]} keys in display order */
    this.order = [];
    /** @type {Set<string>} client ids of the visitor's messages not acknowledged yet */
    this.unacked = new Set();
    /** @type {string | null} */
    this.operatorReadUpTo = null;
    /** @type {string | null} */
    this.readSent = null;
    this.opened = false;
    this.online = false;
    this.unread = 0;
    /** @type {Socket | null} */
    this.socket = null;
    /** @type {View | null} */
    this.view = null;
    /** @type {Promise<void> | null} */
    this.starting = null;
    /** @type {Promise<unknown>} */
    this.profileQueue = Promise.resolve();
    /** Profile fields the host page set before consent (P9): in this page's memory only.
     * @type {Map<string, any>} */
    this.held = new Map();
    this.refused = false;
    /** The visitor's erasure is under way. */
    this.erasing = false;
    this.emailAsked = false;
    this.typingOn = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.typingTimer = undefined;
    /** @type {Promise<{render(): void, toggleMenu(): void}> | null} privacy.js, once opened */
    this.ext = null;
    /** @type {() => void} */
    this.gotSession = () => {};
    /** @type {Promise<void>} */
    this.hasSession = new Promise((resolve) => (this.gotSession = resolve));
  }

  // -- the session (P13-P15) and the socket (docs/realtime.md) ----------------------------

  /** The session, opened once: on load, or in strict mode (and after an erasure) when used. */
  ensureSession() {
    this.starting ||= this.openSession().then(() => this.connect(), (error) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  async openSession() {
    const data = await this.session.load();
    this.website = data.website;
    this.online = !!data.website.availability?.online;
    this.seq = data.seq || 0;
    // The operators' read mark as the server knows it, so that "Seen" survives a reload.
    this.operatorReadUpTo = data.read_up_to?.operator || null;
    for (const message of data.messages) this.addMessage(message, true);
    this.readUpTo(data.read_up_to?.visitor);
    this.view?.renderMarks();
    this.gotSession();
    return data;
  }

  /** @param {import("./socket.js").MessageFrame[]} carried messages still waiting for an ack */
  connect(carried = []) {
    this.socket = new Socket({
      url: `${this.base.replace(/^http/, "ws")}/ws/visitor?website_id=${encodeURIComponent(this.websiteId)}`,
      seq: this.seq,
      auth: (after) => ({ type: "auth", token: this.session.token, after }),
      onFrame: (frame) => this.onFrame(frame),
      onState: () => this.view?.renderStatus(),
      onLate: (clientId) => this.failed(clientId),
    });
    for (const frame of carried) this.socket.sendMessage(frame);
  }

  /** @param {Frame} frame */
  onFrame(frame) {
    switch (frame.type) {
      case "ready":
        this.online = frame.availability.online;
        this.session.data = frame.session;
        // The socket sends every unacknowledged message again.
        for (const clientId of this.socket?.pending.keys() || []) this.sending(clientId);
        this.view?.renderStatus();
        this.markRead();
        break;
      case "message.created":
        this.addMessage(frame.message, false);
        break;
      case "message.ack":
        if (frame.client_id) this.acked(frame.client_id, frame.message);
        break;
      case "typing":
        if (frame.from === "operator") this.view?.showTyping(frame.on ? frame.operator?.name : null);
        break;
      case "read":
        if (frame.by === "operator") {
          this.operatorReadUpTo = frame.up_to;
          this.view?.renderMarks();
        } else if (this.order.includes(frame.up_to)) this.readUpTo(frame.up_to);
        break;
      case "presence":
        if (typeof frame.online === "boolean") {
          this.online = frame.online;
          this.view?.renderStatus();
        }
        break;
      case "session.updated":
        this.session.data = frame.session;
        this.session.save();
        this.refresh();
        break;
      case "error":
        this.onError(frame);
        break;
      default:
        break;
    }
  }

  /** @param {Frame} frame */
  onError(frame) {
    if (frame.code === "invalid_session") {
      if (this.erasing) return; // privacy.js forgets
      // The session is gone (expired, purged, or deleted by the website). Nothing waiting: its
      // thread goes too (P20), and the next session opens when the visitor acts, so an idle tab
      // does not open one every time the last expires. Else a new one carries what was waiting.
      const carried = [...(this.socket?.pending.values() || [])].map((pending) => pending.frame);
      if (!carried.length) return this.forget();
      this.socket?.close();
      this.socket = null;
      this.openSession().then(() => this.connect(carried), () => this.view?.renderStatus());
      return;
    }
    if (frame.code === "consent_required") {
      // The notice changed since this page loaded: read it again, and show it.
      this.openSession().then(() => this.refresh(), () => {});
      return;
    }
    if (frame.client_id) this.failed(frame.client_id);
  }

  /** This tab drops its session (erased, or ended with nothing waiting): no token, no socket;
   * a new session opens when the visitor acts (ensureSession), and profile fields wait for it. */
  forget() {
    this.socket?.close();
    this.session.forget();
    Object.assign(this, { socket: null, seq: 0, starting: null, operatorReadUpTo: null, emailAsked: false, refused: false });
    this.held.clear();
    this.hasSession = new Promise((resolve) => (this.gotSession = resolve));
    this.clearThread();
  }

  /** The thread on screen goes: its session is gone. */
  clearThread() {
    this.messages.clear();
    this.unacked.clear();
    this.order.length = this.unread = 0;
    this.readSent = null;
    this.view?.clear();
  }

  // -- messages ---------------------------------------------------------------------------

  /** @param {Message} message @param {boolean} initial from the session's load */
  addMessage(message, initial) {
    const pendingKey = `c:${message.client_id}`;
    if (message.author === "visitor" && this.messages.has(pendingKey)) {
      this.messages.set(pendingKey, { ...message, state: "sent" });
      this.view?.renderMessage(pendingKey);
      return;
    }
    if (!message.id || this.messages.has(message.id)) return;
    this.messages.set(message.id, { ...message, state: "sent" });
    this.order.push(message.id);
    this.view?.renderMessage(message.id);
    if (!initial) this.session.permanent();
    if (message.author === "operator" && !initial) {
      this.view?.showTyping(null);
      if (!this.opened || document.visibilityState !== "visible") {
        this.unread += 1;
        this.view?.renderBadge();
      }
      this.markRead();
      this.emit("message:received", message);
    }
  }

  /** @param {unknown} text */
  send(text) {
    const body = String(text ?? "").trim();
    if (!body || body.length > 10000) return;
    if (!this.session.token) {
      // No session (strict mode, or after an erasure): a new one, whose sheet replaces the old.
      return void this.ensureSession().then(() => {
        this.refresh();
        this.send(body);
      });
    }
    if (this.needsConsent()) return void this.extras(); // P9: nothing is sent before consent
    const clientId = randomId();
    const key = `c:${clientId}`;
    this.messages.set(key, {
      client_id: clientId, author: "visitor", type: "text", body,
      created_at: new Date().toISOString(), state: "sending",
    });
    this.order.push(key);
    this.unacked.add(clientId);
    this.view?.renderMessage(key);
    this.transmit(clientId);
    this.stopTyping();
  }

  /** (Again, for "Retry" or after consent) a message of the visitor's not acknowledged yet.
   * @param {string} clientId */
  transmit(clientId) {
    const message = this.messages.get(`c:${clientId}`);
    if (!message || !this.unacked.has(clientId)) return;
    this.sending(clientId);
    if (!this.socket) return this.failed(clientId);
    this.socket.sendMessage({ type: "message.send", client_id: clientId, body: message.body });
  }

  /** @param {string} clientId */
  sending(clientId) {
    const key = `c:${clientId}`;
    const message = this.messages.get(key);
    if (message?.state === "failed") {
      message.state = "sending";
      this.view?.renderMessage(key);
    }
  }

  /** @param {string} clientId @param {Message} message */
  acked(clientId, message) {
    if (!this.unacked.delete(clientId)) return;
    const key = `c:${clientId}`;
    this.messages.set(key, { ...message, state: "sent" });
    this.view?.renderMessage(key);
    this.session.permanent();
    this.emit("message:sent", message);
    this.maybeAskEmail();
  }

  /** @param {string} clientId */
  failed(clientId) {
    const key = `c:${clientId}`;
    const message = this.messages.get(key);
    if (!message || !this.unacked.has(clientId)) return;
    message.state = "failed";
    this.view?.renderMessage(key);
  }

  /** The badge counts the replies after the visitor's read mark `id`, read on any page or tab
   * (none: all). @param {any} id */
  readUpTo(id) {
    this.unread = this.order.slice(this.order.indexOf(id) + 1).filter((k) => this.messages.get(k)?.author == "operator").length;
    this.view?.renderBadge();
  }

  markRead() {
    if (!this.opened || document.visibilityState !== "visible") return;
    const last = [...this.order].reverse().map((k) => this.messages.get(k)).find((m) => m?.author === "operator" && m.id);
    this.readUpTo(last?.id); // nothing after the last reply: no badge
    if (last?.id && last.id !== this.readSent) {
      if (this.socket?.send({ type: "read", up_to: last.id })) this.readSent = last.id;
    }
  }

  // -- typing -----------------------------------------------------------------------------

  typed() {
    if (!this.typingOn) {
      this.typingOn = true;
      this.socket?.send({ type: "typing", on: true });
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingOn) {
      this.typingOn = false;
      this.socket?.send({ type: "typing", on: false });
    }
  }

  // -- profile and SDK --------------------------------------------------------------------

  /** @param {Record<string, any>} fields */
  setProfile(fields) {
    // In order, after the session exists; a failure is reported, never thrown at the page.
    // Without consent (P9) nothing is sent: the fields wait in `held` (see hold).
    this.profileQueue = this.profileQueue
      .then(() => this.hasSession)
      .then(() => this.needsConsent() ? this.hold(fields) : this.session.api("PATCH", "/session/profile", fields).then((data) => (this.session.data = data.session), (error) => {
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
   * the server merges it). Accepting sends them (privacy.js, release), refusing drops them;
   * after a refusal (or a withdrawal) fields set are dropped until the visitor accepts.
   * @param {Record<string, any>} fields */
  hold(fields) {
    if (this.refused) return;
    for (const [name, value] of Object.entries(fields)) this.held.set(name, name === "data" ? { ...this.held.get(name), ...value } : value);
  }

  /** Runs one SDK command, or warns in the console of what is wrong with it and does nothing.
   * @param {unknown} command */
  command(command) {
    const [verb, name, value] = Array.isArray(command) ? command : [];
    // Every name has a colon, and no key of Object.prototype has: the tables find ours only.
    const key = typeof name == "string" && name.includes(":") ? name : "";
    const field = /** @type {Record<string, string>} */ ({ "user:email": "email", "user:nickname": "nickname", "user:phone": "phone", "session:data": "data" })[key];
    const wrong = verb === "set"
      ? !field ? "unknown name" : (field === "data" ? !value || typeof value != "object" || Array.isArray(value) : value != null && typeof value != "string") && (field === "data" ? "an object" : "a string")
      : verb === "do"
        ? !["chat:open", "chat:close", "chat:toggle", "message:send"].includes(key) ? "unknown name" : key === "message:send" && !(value?.trim?.() && value.trim().length <= 1e4) && "a text of 1-10000 characters"
        : verb === "on" || verb === "off"
          ? !EVENTS.includes(key) ? "unknown event" : typeof value != "function" && (verb === "on" || value != null) && "not a function"
          : "unknown verb";
    // What a name takes ("a string") is told with the name; the other reasons stand alone.
    if (wrong) return console.warn(`Causerie: $causerie command ignored (${/^an? /.test(wrong) ? name + " takes " + wrong : wrong}):`, command);
    if (field) this.setProfile({ [field]: value ?? null });
    else if (verb === "on") this.handlers.set(key, (this.handlers.get(key) || new Set()).add(/** @type {Handler} */ (value)));
    else if (verb === "off") value ? this.handlers.get(key)?.delete(/** @type {Handler} */ (value)) : this.handlers.delete(key);
    else if (key === "chat:toggle") this.opened ? this.close() : this.open();
    else if (key === "message:send") this.send(value);
    else key === "chat:open" ? this.open() : this.close();
  }

  /** @param {string} name @param {unknown} [value] */
  emit(name, value) {
    for (const handler of this.handlers.get(name) || []) {
      try {
        handler(value);
      } catch (error) {
        console.error("Causerie: a $causerie handler failed", error);
      }
    }
  }

  /** @param {string} name */
  is(name) {
    if (name === "chat:opened") return this.opened;
    if (name === "chat:closed") return !this.opened;
    if (name === "session:ongoing") return this.session.data?.state === "permanent";
    console.warn("Causerie: $causerie.is of an unknown name:", name);
    return false;
  }

  /** @param {string} name */
  get(name) {
    const session = this.session.data;
    const profile = session?.profile || {};
    /** @type {Record<string, unknown>} */
    const answers = {
      "session:id": session?.id,
      "user:email": profile.email,
      "user:nickname": profile.nickname,
      "user:phone": profile.phone,
      "session:data": profile.data,
      "chat:unread:count": this.unread,
    };
    // As in command: the colon keeps Object.prototype's keys out.
    if (typeof name == "string" && name.includes(":") && name in answers) return answers[name];
    console.warn("Causerie: $causerie.get of an unknown name:", name);
  }

  maybeAskEmail() {
    const settings = this.website.settings;
    if (this.emailAsked || this.online || !settings.email_prompt || this.session.data?.profile?.email) return;
    this.emailAsked = true;
    this.view?.askEmail((email) => this.setProfile({ email }).then(() => !!this.session.data?.profile?.email));
  }

  // -- privacy: consent (P9), the menu; loaded when the chatbox is first opened (privacy.js) --

  needsConsent() {
    const settings = this.website.settings;
    return !!settings.consent_required && this.session.data?.consent?.version !== settings.consent_version;
  }

  extras() {
    this.ext ||= import(`${this.base}/widget/${this.version}/privacy.js`).then((m) => m.install(this));
    return this.refresh();
  }

  refresh() {
    return this.ext?.then((ext) => this.session.token && ext.render()).catch((error) => console.error("Causerie:", error));
  }

  open() {
    if (this.opened || !this.view) return;
    this.opened = true;
    this.view.show(true);
    this.markRead();
    this.ensureSession().then(() => this.extras(), (error) => console.error("Causerie:", error));
    this.emit("chat:opened");
  }

  close() {
    if (!this.opened || !this.view) return;
    this.opened = false;
    this.view.show(false);
    this.emit("chat:closed");
  }
}

/** Entry point, called by widget.js with where Causerie lives and which website this is.
 * @param {Config} config */
export async function start(config) {
  const app = new Chatbox(config);
  // Strict mode, first visit: only what the launcher looks like; the session waits for a click.
  const look = app.session.strict && !app.session.readCookie()
    ? fetch(`${config.base}/widget/websites/${config.websiteId}/look`, { credentials: "omit" }).then((r) => r.json()).then((w) => (app.website = { settings: {}, ...w }))
    : app.openSession();
  const [css] = await Promise.all([fetch(`${config.base}/widget/${config.version}/chatbox.css`, { credentials: "omit" }).then((r) => r.text()), look]);
  app.view = new View(app, css, app.website);
  if (app.session.token) app.starting = Promise.resolve(app.connect());
  // Until now the host page queued its commands in the array; they run in order, then the live
  // object runs each at once.
  const queued = window.$causerie;
  window.$causerie = {
    push: (...commands) => commands.map((command) => app.command(command)) && 0,
    is: (name) => app.is(name),
    get: (name) => app.get(name),
    on: (name, handler) => app.command(["on", name, handler]),
    off: (name, handler) => app.command(["off", name, handler]),
  };
  if (Array.isArray(queued)) window.$causerie.push(...queued);
}
