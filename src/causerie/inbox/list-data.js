/* The website's list of conversations: selecting a website, loading its list and operators,
 * and applying a changed conversation or session to the list and to the open thread. Views
 * re-render on the bus topics emitted (store.js). */

import { api } from "./api.js";
import { firstReady } from "./connections.js";
import { FILTERS, emit, matchesFilter, savePrefs, sortList, state } from "./store.js";

const FIRST_READY_WAIT = 3000;

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

/** Websites whose list was asked for (data.js reads it again at its stream's first `ready`). */
const listAsked = new Set();

export function listAskedBefore(websiteId) {
  return listAsked.has(websiteId);
}

export async function loadList({ more = false } = {}) {
  const token = more ? listToken : ++listToken;
  const websiteId = state.websiteId;
  if (!websiteId) return;
  listAsked.add(websiteId);
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
    // The open conversation, in sight, is read (thread-data.js markRead): a list asked for
    // before its read mark reached the server (after a reconnection) must not bring back its
    // unread count, which then stayed on it and on the Inbox link while the agent read it.
    const open = state.current?.conversation;
    const listed = open && state.conversations.get(open.id);
    if (listed && !document.hidden && !open.unread) listed.unread = 0;
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
export async function fetchSummary(conversationId) {
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

export function lastOf(message) {
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

export function removeFromList(id) {
  if (!state.conversations.delete(id)) return;
  state.order = state.order.filter((x) => x !== id);
}

export function onConversation(websiteId, conversation) {
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
    // every conversation.updated to agents carries `spam` (a teammate's mark too)
    if (conversation.spam !== undefined) current.spam = conversation.spam;
    emit("conversation");
    emit("messages");
  }
}

export function onSession(_websiteId, session) {
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
