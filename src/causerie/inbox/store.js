/* The inbox's state, in one object, and a tiny bus: views subscribe to a topic and re-render
 * what it covers. Topics: "me", "websites", "list", "thread", "panel", "visitors", "status",
 * "typing". */

const PREFS_KEY = "causerie.inbox.prefs";

export const FILTERS = {
  open: { label: "store.open", query: { state: "open" } },
  mine: { label: "store.mine", query: { state: "open", assignee: "me" } },
  unassigned: { label: "store.unassigned", query: { state: "open", assignee: "none" } },
  resolved: { label: "store.resolved", query: { state: "resolved" } },
  spam: { label: "store.spam", query: { state: "spam" } },
};

function loadPrefs() {
  try {
    return { availability: "online", notify: false, sound: true, websiteId: null, ...JSON.parse(localStorage.getItem(PREFS_KEY) || "{}") };
  } catch {
    return { availability: "online", notify: false, sound: true, websiteId: null };
  }
}

export const state = {
  me: null, // {operator, websites, csrf_token, via}
  websites: [], // [{id, name, role}]
  websiteId: null,
  prefs: loadPrefs(),
  filter: "open",
  q: "",
  label: null, // a label id: the list shows only the conversations with it (labels.js)
  conversations: new Map(), // id -> SUMMARY of the current website's list
  order: [], // ids, newest activity first
  nextCursor: null,
  listLoading: false,
  listError: null,
  operators: new Map(), // website id -> [{id, name, email, role, pending}]
  visitors: new Map(), // website id -> Map(session id -> visitor)
  unreadElsewhere: new Set(), // website ids with a visitor message not seen in the list
  connection: new Map(), // website id -> "connecting" | "online" | "offline"
  current: null, // {id, conversation, session, messages, assignee, hasOlder, pending, typing}
};

export function savePrefs(changes) {
  Object.assign(state.prefs, changes);
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(state.prefs));
  } catch {
    /* storage full or disabled: preferences last this tab only */
  }
}

const listeners = new Map();

export function on(topic, handler) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(handler);
  return () => listeners.get(topic)?.delete(handler);
}

export function emit(topic, detail) {
  for (const handler of listeners.get(topic) || []) {
    try {
      handler(detail);
    } catch (error) {
      console.error(`inbox: a "${topic}" view failed`, error);
    }
  }
}

export function website() {
  return state.websites.find((w) => w.id === state.websiteId) || null;
}

export function canAdmin(role = website()?.role) {
  return role === "owner" || role === "admin";
}

export function operatorName(id) {
  if (!id) return null;
  if (id === state.me?.operator?.id) return state.me.operator.name;
  const found = (state.operators.get(state.websiteId) || []).find((o) => o.id === id);
  return found ? found.name || found.email : null;
}

/** Whether a conversation belongs in the list under the current filter. */
export function matchesFilter(conversation) {
  const query = FILTERS[state.filter].query;
  if (conversation.website_id && conversation.website_id !== state.websiteId) return false;
  // Every agent view of a conversation carries `spam` (docs/api.md); a summary built from a
  // frame without it (a message.created alone) leaves it unknown, and the caller fetches.
  if (conversation.spam !== undefined && conversation.spam !== (query.state === "spam")) return false;
  if (query.state !== "spam" && conversation.state !== query.state) return false;
  if (query.assignee === "me" && conversation.assignee_id !== state.me?.operator?.id) return false;
  if (query.assignee === "none" && conversation.assignee_id) return false;
  if (state.label && !(conversation.labels || []).includes(state.label)) return false;
  return true;
}

/** Keep `order` newest activity first. */
export function sortList() {
  const at = (id) => {
    const c = state.conversations.get(id);
    return (c && (c.last_message_at || c.updated_at)) || "";
  };
  state.order.sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
}
