/* The sockets' events applied to the state: one socket per website the operator belongs to,
 * followed from sign-in to sign-out, and each frame it brings (docs/realtime.md). Views
 * re-render on the bus topics emitted (store.js). */

import { firstReady, inFlight, socketOf, sockets } from "./connections.js";
import { visitorName } from "./format.js";
import { fetchSummary, lastOf, listAskedBefore, loadList, onConversation, onSession, removeFromList } from "./list-data.js";
import { announce } from "./notify.js";
import { Socket } from "./socket.js";
import { addToThread, dropUnsent, openConversation, post, refreshThread, resendUnsent, settle } from "./thread-data.js";
import { onWebhookDisabled } from "./webhooks.js";
import { applyRating } from "./service.js";
import { emit, savePrefs, sortList, state } from "./store.js";
import { t } from "./locale.js";

const ACK_TIMEOUT = 8000; // then the message goes again over HTTP, with the same client_id
const PING_EVERY = 25000;
const MAX_DELAY = 15000;
const TYPING_SHOWN = 6000;

const ACCESS_LOST = new Set([4001, 4003, 4010]); // close codes: docs/realtime.md
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
  dropUnsent();
  firstReady.clear();
  state.connection.clear();
}

export function setAvailability(status) {
  savePrefs({ availability: status });
  for (const socket of sockets.values()) socket.send({ type: "availability", status });
  emit("status");
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
      settle(frame.message); // in another conversation than the one open, too
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
    case "conversation.deleted": // a deletion, an erasure, or the retention purge
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
  if (frame.first) {
    // The first `ready` is where this stream starts: a list or a thread of its website read
    // before it (the inbox opened offline, from the worker's cache, or a slow socket) missed
    // what happened in between (a new conversation, a reply sent over HTTP, the visitor's read
    // mark), so it is read again.
    if (websiteId === state.websiteId && listAskedBefore(websiteId)) loadList();
    if (state.current?.conversation?.website_id === websiteId) refreshThread();
  } else if (websiteId === state.websiteId) {
    loadList();
  }
  // Also at the first `ready` of a page opened offline: what was written meanwhile goes now.
  resendUnsent(websiteId);
  // A conversation opened while the server could not be reached showed only that: open it now.
  if (state.current?.unreached) openConversation(state.current.id);
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
  else settle(message);
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
  // The operators' read mark is the team's: a teammate read it, it is read for all (the list,
  // the Inbox link and the tab's title kept counting it unread).
  const summary = frame.by === "operator" ? state.conversations.get(frame.conversation_id) : null;
  if (summary?.unread) {
    summary.unread = 0;
    emit("list");
  }
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
