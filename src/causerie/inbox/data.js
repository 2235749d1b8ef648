/* Loading data from /api/v1 and applying the sockets' events to the state. Views call these
 * functions and re-render on the bus topics they emit (store.js). */

import { api } from "./api.js";
import { toast } from "./dom.js";
import { randomId, visitorName } from "./format.js";
import { announce } from "./notify.js";
import { Socket } from "./socket.js";
import { onWebhookDisabled } from "./webhooks.js";
import { applyRating } from "./service.js";
import { FILTERS, emit, matchesFilter, savePrefs, sortList, state } from "./store.js";
import { t } from "./locale.js";

const ACK_TIMEOUT = 8000; // then the message goes again over HTTP, with the same client_id
const PING_EVERY = 25000;
const MAX_DELAY = 15000;
const TYPING_SHOWN = 6000;
const TYPING_REPEAT = 2000;
const TYPING_IDLE = 3000;
const FIRST_READY_WAIT = 3000;

const ACCESS_LOST = new Set([4001, 4003, 4010]); // close codes: docs/realtime.md
const sockets = new Map(); // website id -> Socket (socket.js, shared with the chatbox)
const inFlight = new Map(); // client id -> a pending message sent over a socket, until its ack
const firstReady = new Map(); // website id -> Promise resolved at the socket's first `ready`
/** @type {{onAuthFailed(): void, onOpen(conversationId: string): void}} */
let hooks = { onAuthFailed: () => {}, onOpen: () => {} };

export function setHooks(value) {
  hooks = { ...hooks, ...value };
}

// -- sockets: one per website the operator belongs to ---------------------------------------------

export function follow(websites) {
  for (const [id, socket] of sockets) {
    if (!websites.some((w) => w.id === id)) {
      socket.close();
      sockets.delete(id);
      firstReady.delete(id);
    }
  }
  for (const website of websites) {
    if (sockets.has(website.id)) continue;
    let resolve;
    firstReady.set(website.id, new Promise((r) => { resolve = r; }));
    // The login cookie rides on the handshake (same origin): the first frame names the website.
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    sockets.set(website.id, new Socket({
      url: `${scheme}//${location.host}/ws/agent`,
      auth: (after) => ({ type: "auth", website_id: website.id, status: state.prefs.availability, ...(after === null ? {} : { after }) }),
      onFrame: (frame) => {
        if (frame.type === "ready") resolve();
        applyFrame(website.id, frame);
      },
      onState: (value, closed) => {
        state.connection.set(website.id, value);
        emit("status");
        // Refused (4001), or its access ended (4010 credential, 4003 website): reload the websites.
        if (ACCESS_LOST.has(closed?.code)) hooks.onAuthFailed();
      },
      onLate: (clientId) => {
        const pending = inFlight.get(clientId);
        socketOf(website.id)?.forget(clientId);
        inFlight.delete(clientId);
        if (pending) post(pending);
      },
      pingEvery: PING_EVERY,
      maxDelay: MAX_DELAY,
      ackTimeout: ACK_TIMEOUT,
    }));
  }
}

export function unfollowAll() {
  for (const socket of sockets.values()) socket.close();
  sockets.clear();
  inFlight.clear();
  firstReady.clear();
  state.connection.clear();
}

function socketOf(websiteId) {
  return sockets.get(websiteId) || null;
}

export function setAvailability(status) {
  savePrefs({ availability: status });
  for (const socket of sockets.values()) socket.send({ type: "availability", status });
  emit("status");
}

// -- the website and its list ----------------------------------------------------------------------

let listToken = 0;

export async function selectWebsite(websiteId) {
  if (state.websiteId !== websiteId) state.label = null; // labels are per website
  state.websiteId = websiteId;
  savePrefs({ websiteId });
  state.unreadElsewhere.delete(websiteId);
  state.conversations.clear();
  state.order = [];
  state.nextCursor = null;
  emit("websites");
  emit("visitors");
  // Follow the stream before reading the list, so that nothing said in between is missed.
  const ready = firstReady.get(websiteId);
  if (ready) await Promise.race([ready, new Promise((r) => setTimeout(r, FIRST_READY_WAIT))]);
  await Promise.all([loadList(), loadOperators(websiteId)]);
}

export async function loadList({ more = false } = {}) {
  const token = more ? listToken : ++listToken;
  const websiteId = state.websiteId;
  if (!websiteId) return;
  state.listLoading = true;
  state.listError = null;
  emit("list");
  try {
    const query = { ...FILTERS[state.filter].query, q: state.q.trim(), label: state.label, limit: 25 };
    if (more) query.cursor = state.nextCursor;
    const data = await api.get(`/websites/${websiteId}/conversations`, query);
    if (token !== listToken || websiteId !== state.websiteId) return;
    if (!more) {
      state.conversations.clear();
      state.order = [];
    }
    for (const summary of data.conversations) {
      if (!state.conversations.has(summary.id)) state.order.push(summary.id);
      state.conversations.set(summary.id, summary);
    }
    state.nextCursor = data.next_cursor || null;
  } catch (failure) {
    if (token === listToken) state.listError = failure.message;
  } finally {
    if (token === listToken) {
      state.listLoading = false;
      emit("list");
    }
  }
}

export async function loadOperators(websiteId) {
  try {
    const data = await api.get(`/websites/${websiteId}/operators`);
    state.operators.set(websiteId, data.operators);
  } catch {
    state.operators.set(websiteId, []);
  }
  emit("operators");
}

const fetching = new Set();

/** A conversation the list does not hold yet (new, reopened, assigned): read it, show it. */
async function fetchSummary(conversationId) {
  if (fetching.has(conversationId)) return;
  fetching.add(conversationId);
  try {
    const data = await api.get(`/conversations/${conversationId}`);
    const summary = summaryOf(data);
    if (!matchesFilter(summary) || state.q.trim() || state.conversations.has(summary.id)) return;
    state.conversations.set(summary.id, summary);
    state.order.push(summary.id);
    sortList();
    emit("list");
  } catch {
    /* deleted meanwhile, or not ours: nothing to show */
  } finally {
    fetching.delete(conversationId);
  }
}

function lastOf(message) {
  if (!message) return null;
  const { id, author, type, created_at: createdAt } = message;
  return { id, author, type, body: String(message.body || "").slice(0, 200), created_at: createdAt };
}

function summaryOf(data) {
  const last = [...(data.messages || [])].reverse().find((m) => m.type !== "event") || null;
  return {
    ...data.conversation,
    visitor: { nickname: data.session?.profile?.nickname ?? null, email: data.session?.profile?.email ?? null },
    last_message: lastOf(last),
    spam: Boolean(data.spam),
  };
}

function removeFromList(id) {
  if (!state.conversations.delete(id)) return;
  state.order = state.order.filter((x) => x !== id);
}

// -- events from the sockets (docs/realtime.md) -----------------------------------------------

function applyFrame(websiteId, frame) {
  switch (frame.type) {
    case "ready":
      onReady(websiteId, frame);
      break;
    case "message.created":
      onMessage(websiteId, frame.message);
      break;
    case "message.ack":
      inFlight.delete(frame.client_id);
      if (state.current?.id === frame.message?.conversation_id) addToThread(frame.message);
      break;
    case "conversation.updated":
      onConversation(websiteId, frame.conversation);
      break;
    case "session.updated":
      onSession(websiteId, frame.session);
      break;
    case "typing":
      onTyping(frame);
      break;
    case "read":
      onRead(frame);
      break;
    case "presence":
      onPresence(websiteId, frame);
      break;
    case "conversation.rated":
      if (applyRating(state.current, frame)) emit("messages");
      break;
    case "conversation.deleted": // not sent by the server yet: ready for when it is
      onDeleted(frame.conversation_id);
      break;
    case "webhook.disabled":
      onWebhookDisabled(websiteId, frame);
      break;
    case "error":
      onError(websiteId, frame);
      break;
    default:
      break;
  }
}

function visitorInfo(info) {
  return {
    session_id: info.session_id,
    page_url: info.page_url ?? info.page?.url ?? null,
    page_title: info.page_title ?? info.page?.title ?? null,
    locale: info.locale ?? null,
    since: info.since ?? null,
  };
}

function onReady(websiteId, frame) {
  const online = new Map();
  for (const info of frame.visitors_online || []) online.set(info.session_id, visitorInfo(info));
  state.visitors.set(websiteId, online);
  emit("visitors");
  // Back after a disconnection: the replay brought what was missed; a fresh read of the open
  // thread covers ephemeral state (typing) and anything older than the event log.
  if (!frame.first && websiteId === state.websiteId) loadList();
}

function onMessage(websiteId, message) {
  const current = websiteId === state.websiteId;
  const summary = current ? state.conversations.get(message.conversation_id) : null;
  if (summary) {
    summary.last_message = lastOf(message);
    summary.last_message_at = message.created_at;
    sortList();
    emit("list");
  } else if (current) {
    fetchSummary(message.conversation_id);
  }
  if (state.current?.id === message.conversation_id) addToThread(message);
  if (message.author !== "visitor") return;
  if (!current) {
    state.unreadElsewhere.add(websiteId);
    emit("websites");
  }
  const name = summary ? visitorName(summary.visitor, summary.session_id) : t("data.aVisitor");
  announce({
    title: t("data.newMessageFrom", { name }),
    body: String(message.body || ""),
    conversationId: message.conversation_id,
    onOpen: () => hooks.onOpen(message.conversation_id),
  });
}

function onConversation(websiteId, conversation) {
  if (websiteId === state.websiteId) {
    const known = state.conversations.get(conversation.id);
    if (known) {
      Object.assign(known, conversation);
      if (!matchesFilter(known)) removeFromList(known.id);
      sortList();
      emit("list");
    } else if (matchesFilter({ website_id: websiteId, ...conversation })) {
      fetchSummary(conversation.id);
    }
  }
  const current = state.current;
  if (current?.conversation && current.id === conversation.id) {
    Object.assign(current.conversation, conversation);
    emit("conversation");
    emit("messages");
  }
}

function onSession(_websiteId, session) {
  let changed = false;
  for (const summary of state.conversations.values()) {
    if (summary.session_id === session.id) {
      summary.visitor = { nickname: session.profile?.nickname ?? null, email: session.profile?.email ?? null };
      changed = true;
    }
  }
  if (changed) emit("list");
  const current = state.current;
  if (current?.session && current.session.id === session.id) {
    current.session = session;
    emit("panel");
    emit("conversation");
  }
}

let typingTimer = null;

function onTyping(frame) {
  const current = state.current;
  if (!current || frame.conversation_id !== current.id) return;
  if (frame.from === "operator" && frame.operator?.id === state.me?.operator?.id) return;
  clearTimeout(typingTimer);
  current.typing = frame.on ? (frame.from === "visitor" ? "visitor" : frame.operator?.name || t("data.anAgent")) : null;
  if (current.typing) {
    typingTimer = setTimeout(() => {
      current.typing = null;
      emit("typing");
    }, TYPING_SHOWN);
  }
  emit("typing");
}

function onRead(frame) {
  const current = state.current;
  if (!current?.conversation || frame.conversation_id !== current.id) return;
  current.conversation.read_up_to = { ...(current.conversation.read_up_to || {}), [frame.by]: frame.up_to };
  emit("messages");
}

function onPresence(websiteId, frame) {
  if (!frame.visitor?.session_id) return;
  const online = state.visitors.get(websiteId) || new Map();
  state.visitors.set(websiteId, online);
  if (frame.online) online.set(frame.visitor.session_id, visitorInfo(frame.visitor));
  else online.delete(frame.visitor.session_id);
  emit("visitors");
}

function onDeleted(conversationId) {
  removeFromList(conversationId);
  emit("list");
  if (state.current?.id === conversationId) {
    state.current = { id: conversationId, error: t("data.thisConversationWasDeleted"), pending: new Map(), messages: [] };
    emit("thread");
    emit("panel");
  }
}

function onError(websiteId, frame) {
  // (`rate_limited` is not seen here: the socket sends the message again itself.)
  inFlight.delete(frame.client_id);
  const pending = frame.client_id ? state.current?.pending.get(frame.client_id) : null;
  if (pending) {
    pending.state = "failed";
    pending.error = frame.message;
    emit("messages");
    return;
  }
  if (frame.code === "not_found" || frame.code === "unauthenticated" || frame.code === "invalid_token") return;
  console.warn("inbox: socket error", websiteId, frame.code, frame.message);
}

// -- the open conversation --------------------------------------------------------------------------

let threadToken = 0;

export function closeConversation() {
  threadToken += 1;
  localTyping(false);
  state.current = null;
  emit("thread");
  emit("panel");
  emit("list");
}

export async function openConversation(id) {
  if (state.current?.id === id && state.current.conversation) return;
  const token = ++threadToken;
  localTyping(false);
  state.current = { id, loading: true, pending: new Map(), messages: [] };
  emit("thread");
  emit("panel");
  emit("list");
  let data;
  try {
    data = await api.get(`/conversations/${id}`);
  } catch (failure) {
    if (token !== threadToken) return;
    const gone = failure.status === 404;
    state.current = { id, error: gone ? t("data.thisConversationDoesNot") : failure.message, pending: new Map(), messages: [] };
    emit("thread");
    emit("panel");
    return;
  }
  if (token !== threadToken) return;
  const websiteId = data.conversation.website_id;
  if (websiteId && websiteId !== state.websiteId && state.websites.some((w) => w.id === websiteId)) {
    selectWebsite(websiteId);
  }
  state.current = {
    id,
    conversation: data.conversation,
    session: data.session,
    assignee: data.assignee || null,
    messages: data.messages || [],
    ratings: data.ratings || [],
    spam: Boolean(data.spam),
    hasOlder: (data.messages || []).length >= 50,
    pending: new Map(),
    typing: null,
    loading: false,
  };
  emit("thread");
  emit("panel");
  emit("list");
  markRead();
}

export async function loadOlder() {
  const current = state.current;
  if (!current?.conversation || !current.messages.length) return;
  const before = current.messages[0].id;
  const data = await api.get(`/conversations/${current.id}/messages`, { before, limit: 50 });
  if (state.current !== current) return;
  const known = new Set(current.messages.map((m) => m.id));
  current.messages = [...data.messages.filter((m) => !known.has(m.id)), ...current.messages];
  current.hasOlder = data.messages.length >= 50;
  emit("messages", { older: true });
}

export function addToThread(message) {
  const current = state.current;
  if (!current?.conversation || message.conversation_id !== current.id) return;
  const pending = current.pending.get(message.client_id);
  if (pending && message.author === "operator") {
    current.pending.delete(message.client_id);
    inFlight.delete(message.client_id);
    socketOf(pending.website_id)?.forget(pending.client_id);
  }
  if (!current.messages.some((m) => m.id === message.id)) {
    current.messages.push(message);
    if (message.author === "visitor" && current.typing === "visitor") current.typing = null;
  }
  emit("messages", { appended: true });
  emit("typing");
  if (message.author === "visitor") markRead();
}

/** The operators' read mark moves to the last message when the agent can see it. */
export function markRead() {
  const current = state.current;
  if (!current?.conversation || document.hidden) return;
  const last = current.messages[current.messages.length - 1];
  if (!last) return;
  const marks = current.conversation.read_up_to || {};
  if (marks.operator === last.id && !current.conversation.unread) return;
  if (last.author !== "visitor" && !current.conversation.unread) return;
  current.conversation.read_up_to = { ...marks, operator: last.id };
  current.conversation.unread = 0;
  const sent = socketOf(current.conversation.website_id)?.send({ type: "read", up_to: last.id, conversation_id: current.id });
  if (!sent) api.post(`/conversations/${current.id}/read`, { up_to: last.id }).catch(() => {});
  const summary = state.conversations.get(current.id);
  if (summary && summary.unread) {
    summary.unread = 0;
    emit("list");
  }
}

export function sendMessage(body, note) {
  const current = state.current;
  if (!current?.conversation) return;
  localTyping(false);
  const pending = {
    client_id: randomId(),
    conversation_id: current.id,
    website_id: current.conversation.website_id,
    author: "operator",
    operator: { id: state.me.operator.id, name: state.me.operator.name },
    type: note ? "note" : "text",
    body,
    created_at: new Date().toISOString(),
    state: "sending",
  };
  current.pending.set(pending.client_id, pending);
  emit("messages", { appended: true });
  transmit(pending);
}

export function retry(clientId) {
  const pending = state.current?.pending.get(clientId);
  if (pending) transmit(pending);
}

function transmit(pending) {
  pending.state = "sending";
  pending.error = null;
  emit("messages");
  const frame = {
    type: "message.send",
    client_id: pending.client_id,
    body: pending.body,
    conversation_id: pending.conversation_id,
    note: pending.type === "note",
  };
  // Over the socket, which waits for the ack (and sends again after a reconnection); over HTTP,
  // with the same client_id, if the socket is down or no ack comes within ACK_TIMEOUT.
  const socket = socketOf(pending.website_id);
  if (socket?.sendMessage(frame)) {
    inFlight.set(pending.client_id, pending);
  } else {
    socket?.forget(pending.client_id);
    inFlight.delete(pending.client_id);
    post(pending);
  }
}

async function post(pending) {
  try {
    const data = await api.post(`/conversations/${pending.conversation_id}/messages`, {
      client_id: pending.client_id, type: pending.type, body: pending.body,
    });
    addToThread(data.message);
  } catch (failure) {
    pending.state = "failed";
    pending.error = failure.message;
    emit("messages");
  }
}

let typingOn = null; // the conversation id the agent is typing in, or null
let typingSentAt = 0;
let typingIdle = null;

/** The agent's own typing, sent to the visitor: "on" repeated at most every 2 s, "off" after
 * 3 s without a keystroke, on send, or when leaving the conversation. */
export function localTyping(active) {
  const current = state.current;
  clearTimeout(typingIdle);
  if (active && current?.conversation) {
    const now = Date.now();
    if (typingOn !== current.id || now - typingSentAt >= TYPING_REPEAT) {
      if (typingOn && typingOn !== current.id) localTyping(false);
      socketOf(current.conversation.website_id)?.send({ type: "typing", on: true, conversation_id: current.id });
      typingOn = current.id;
      typingSentAt = now;
    }
    typingIdle = setTimeout(() => localTyping(false), TYPING_IDLE);
  } else if (typingOn) {
    for (const socket of sockets.values()) socket.send({ type: "typing", on: false, conversation_id: typingOn });
    typingOn = null;
  }
}

// -- changes: each answers with the new conversation, which is applied at once ---------------------

async function change(path, body) {
  const data = await api.post(path, body);
  if (data?.conversation) onConversation(data.conversation.website_id || state.websiteId, data.conversation);
  return data;
}

export const assign = (operatorId) => change(`/conversations/${state.current.id}/assign`, { operator_id: operatorId });
export const resolve = () => change(`/conversations/${state.current.id}/resolve`, {});
export const reopen = () => change(`/conversations/${state.current.id}/reopen`, {});

/** Give the open conversation exactly these labels; answers it as it now is. */
export async function putLabels(labelIds) {
  const data = await api.put(`/conversations/${state.current.id}/labels`, { labels: labelIds });
  if (data?.conversation) onConversation(data.conversation.website_id || state.websiteId, data.conversation);
  return data?.conversation;
}

/** Mark the open conversation as spam, or not (docs/api.md "Shield"): it moves to the Spam
 * folder, or back to the inbox's other lists. */
export async function setSpam(spam) {
  const id = state.current.id;
  if (spam) await api.post(`/conversations/${id}/spam`);
  else await api.del(`/conversations/${id}/spam`);
  if (state.current?.id === id) {
    state.current.spam = spam;
    emit("conversation");
  }
  const known = state.conversations.get(id);
  if (known) {
    known.spam = spam;
    if (!matchesFilter(known)) removeFromList(id);
    emit("list");
  } else {
    fetchSummary(id);
  }
}

export async function deleteConversation() {
  const id = state.current.id;
  const data = await api.del(`/conversations/${id}`);
  removeFromList(id);
  closeConversation();
  toast(t("data.theConversationWasDeleted"));
  return data;
}

export async function saveProfile(sessionId, profile) {
  const data = await api.patch(`/sessions/${sessionId}/profile`, profile);
  if (data?.session) onSession(state.websiteId, data.session);
  return data;
}

/** A visitor online now: their conversation, or null when they have not written yet. */
export async function conversationOfSession(sessionId) {
  const data = await api.get(`/sessions/${sessionId}`);
  return data.conversation_id || null;
}

export async function writeFirst(sessionId, body) {
  const data = await api.post(`/sessions/${sessionId}/messages`, { client_id: randomId(), type: "text", body });
  return data.message.conversation_id;
}
