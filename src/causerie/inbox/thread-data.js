/* The open conversation: opening it, older messages, read marks, sending (over its website's
 * socket, or HTTP), the agent's typing, and the changes made to it (assign, resolve, labels,
 * spam, delete, the visitor's profile). Views re-render on the bus topics emitted (store.js). */

import { api } from "./api.js";
import { inFlight, socketOf, sockets } from "./connections.js";
import { toast } from "./dom.js";
import { randomId } from "./format.js";
import { fetchSummary, onConversation, onSession, removeFromList, selectWebsite } from "./list-data.js";
import { emit, matchesFilter, state } from "./store.js";
import { t } from "./locale.js";

const TYPING_REPEAT = 2000;
const TYPING_IDLE = 3000;

let threadToken = 0;

/** The agent's messages not stored yet, per conversation (conversation id -> client id ->
 * message): kept when the agent opens another conversation, so that one that failed is still
 * there, with its Retry, when they come back (it was dropped), and sent again by itself when
 * the connection comes back (resendUnsent). */
const unsent = new Map();

function pendingOf(conversationId) {
  if (!unsent.has(conversationId)) unsent.set(conversationId, new Map());
  return unsent.get(conversationId);
}

/** Signing out: what was not sent is not sent later, nor shown to whoever signs in next. */
export function dropUnsent() {
  unsent.clear();
}

/** A message the server stored: no longer waiting, whichever conversation is open. */
export function settle(message) {
  const waiting = unsent.get(message?.conversation_id);
  const pending = waiting?.get(message.client_id);
  if (!pending || message.author !== "operator") return;
  waiting.delete(message.client_id);
  inFlight.delete(message.client_id);
  socketOf(pending.website_id)?.forget(pending.client_id);
}

/** Back online on `websiteId`'s socket: the messages that failed for want of a connection go
 * again (with their client ids: one stored meanwhile is not stored twice). */
export function resendUnsent(websiteId) {
  for (const waiting of unsent.values()) {
    for (const pending of waiting.values()) {
      if (pending.website_id === websiteId && pending.state === "failed" && pending.offline) transmit(pending);
    }
  }
}

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
  state.current = { id, loading: true, pending: pendingOf(id), messages: [] };
  emit("thread");
  emit("panel");
  emit("list");
  let data;
  try {
    data = await api.get(`/conversations/${id}`);
  } catch (failure) {
    if (token !== threadToken) return;
    const gone = failure.status === 404;
    // Not reached (offline): opened again as the connection comes back (data.js, onReady).
    state.current = { id, error: gone ? t("data.thisConversationDoesNot") : failure.message, unreached: failure.status === 0, pending: pendingOf(id), messages: [] };
    emit("thread");
    emit("panel");
    return;
  }
  if (token !== threadToken) return;
  const pending = pendingOf(id);
  for (const message of data.messages || []) settle(message); // stored, its answer lost
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
    pending,
    typing: null,
    loading: false,
  };
  emit("thread");
  emit("panel");
  emit("list");
  markRead();
}

/** The open thread read again and merged into what is shown (its website's stream began after
 * it was first read: data.js, onReady). The new read's messages in its order; those shown that
 * it lacks stay where they were: older ones (loadOlder) before it, later ones after. */
export async function refreshThread() {
  const current = state.current;
  if (!current?.conversation) return;
  let data;
  try {
    data = await api.get(`/conversations/${current.id}`);
  } catch {
    return; // the thread shown stays; a deletion reaches it as an event
  }
  if (state.current !== current) return;
  const fresh = data.messages || [];
  const inFresh = new Set(fresh.map((/** @type {any} */ m) => m.id));
  const first = current.messages.findIndex((m) => inFresh.has(m.id));
  const older = first < 0 ? [] : current.messages.slice(0, first).filter((m) => !inFresh.has(m.id));
  const later = current.messages.slice(Math.max(first, 0)).filter((m) => !inFresh.has(m.id));
  current.messages = [...older, ...fresh, ...later];
  current.conversation = data.conversation;
  current.session = data.session;
  current.assignee = data.assignee || null;
  emit("messages");
  emit("panel");
  emit("list");
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
  settle(message);
  const current = state.current;
  if (!current?.conversation || message.conversation_id !== current.id) return;
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
  pendingOf(current.id).set(pending.client_id, pending);
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
  pending.offline = false;
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

export async function post(pending) {
  try {
    const data = await api.post(`/conversations/${pending.conversation_id}/messages`, {
      client_id: pending.client_id, type: pending.type, body: pending.body,
    });
    addToThread(data.message);
  } catch (failure) {
    pending.state = "failed";
    pending.error = failure.message;
    pending.offline = failure.status === 0; // the server not reached: sent again once it is
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
