/* The conversation list: filters, search, keyset "load more", live updates, keyboard
 * navigation (j/k or arrows, Enter opens), and the visitors online now. */

import { FILTERS, on, operatorName, state } from "./store.js";
import { el, modal, outsideLink, replace, toast } from "./dom.js";
import { hue, initials, preview, shortTime, visitorName } from "./format.js";
import { loadList } from "./list-data.js";
import { conversationOfSession, writeFirst } from "./thread-data.js";
import { chipsOf, filterByLabel, labelFilter } from "./labels.js";
import { t, tn } from "./locale.js";

let focusedId = null;
let searchTimer = null;

export function conversationHash(id) {
  return `#/c/${encodeURIComponent(id)}`;
}

export function avatar(name, seed) {
  const node = el("span", { class: "avatar", "aria-hidden": "true", text: initials(name) });
  node.style.setProperty("--hue", String(hue(seed)));
  return node;
}

export function mountList(container) {
  const search = el("input", {
    type: "search", id: "search", class: "search", placeholder: t("list.search"), "aria-label": t("list.searchConversations"),
    autocomplete: "off", value: state.q,
  });
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.q = search.value;
      loadList();
    }, 250);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(searchTimer);
      state.q = search.value;
      loadList();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      focusItem(0);
    }
  });
  const filters = el("div", { class: "filters", role: "group", "aria-label": t("list.showConversations") });
  for (const [key, filter] of Object.entries(FILTERS)) {
    filters.append(el("button", {
      type: "button", class: "chip", "data-filter": key, "aria-pressed": String(state.filter === key), text: t(filter.label),
      onclick: () => {
        state.filter = key;
        for (const b of filters.children) b.setAttribute("aria-pressed", String(b.dataset.filter === key));
        loadList();
      },
    }));
  }
  const list = el("ul", { class: "conversations", role: "listbox", "aria-label": t("list.conversations"), id: "conversations" });
  list.addEventListener("keydown", onListKey);
  list.addEventListener("click", (event) => {
    const item = event.target.closest("[role=option]");
    if (item) openItem(item);
  });
  list.addEventListener("focusin", (event) => {
    const item = event.target.closest("[role=option]");
    if (item) setFocused(item.dataset.id);
  });
  const status = el("p", { class: "list-status", role: "status" });
  const more = el("button", { type: "button", class: "button subtle wide load-more", text: t("list.loadMore"), onclick: () => loadList({ more: true }) });
  const visitors = el("details", { class: "visitors", open: true });
  const byLabel = labelFilter(filterByLabel);
  const head = el("div", { class: "list-head" }, search, filters, byLabel.select);
  replace(container, head, el("div", { class: "list-scroll" }, list, status, more), visitors);

  const render = () => renderList(list, status, more);
  const renderVisitors = () => renderVisitorsOnline(visitors);
  const off = [on("list", render), on("visitors", renderVisitors), on("operators", render), on("labels", render), byLabel.off];
  render();
  renderVisitors();
  return () => off.forEach((f) => f());
}

function renderList(list, status, more) {
  const hadFocus = list.contains(document.activeElement);
  const currentId = state.current?.id || null;
  if (!state.order.includes(focusedId)) focusedId = state.order.includes(currentId) ? currentId : state.order[0] || null;
  const items = state.order.map((id) => item(state.conversations.get(id), id === currentId, id === focusedId));
  replace(list, items);
  list.setAttribute("aria-busy", String(state.listLoading));
  more.hidden = !state.nextCursor || state.listLoading;
  if (state.listError) status.textContent = state.listError;
  else if (state.listLoading && !state.order.length) status.textContent = t("list.loading");
  else if (!state.order.length) status.textContent = state.q.trim() ? t("list.noConversationMatchesThis") : emptyText();
  else status.textContent = "";
  status.classList.toggle("error", Boolean(state.listError));
  if (hadFocus && focusedId) document.getElementById(`conv-${focusedId}`)?.focus();
}

function emptyText() {
  return {
    open: t("list.noOpenConversationNew"),
    mine: t("list.noOpenConversationIs"),
    unassigned: t("list.everyOpenConversationHas"),
    resolved: t("list.noResolvedConversation"),
    spam: t("list.noSpamConversation"),
  }[state.filter];
}

function item(summary, selected, focused) {
  const name = visitorName(summary.visitor, summary.session_id);
  const unread = Number(summary.unread || 0);
  const last = summary.last_message;
  const assignee = summary.assignee_id ? operatorName(summary.assignee_id) || t("list.assigned") : null;
  const label = [name, unread ? tn("list.unreadCount", unread) : null, summary.state === "resolved" ? t("list.resolvedState") : null]
    .filter(Boolean).join(", ");
  return el("li", {
    role: "option", id: `conv-${summary.id}`, "data-id": summary.id, class: `conversation${unread ? " unread" : ""}`,
    "aria-selected": String(selected), tabindex: focused ? "0" : "-1", "aria-label": label,
  },
  avatar(name, summary.session_id),
  el("div", { class: "conversation-main" },
    el("div", { class: "conversation-top" },
      el("span", { class: "name", text: name }),
      el("time", { datetime: summary.last_message_at || summary.updated_at || "", text: shortTime(summary.last_message_at || summary.updated_at) })),
    el("div", { class: "conversation-bottom" },
      el("span", { class: `preview${last?.type === "note" ? " is-note" : ""}`, text: preview(last) }),
      unread ? el("span", { class: "badge", text: String(unread > 99 ? "99+" : unread), "aria-hidden": "true" }) : null),
    assignee ? el("span", { class: "assignee", text: `→ ${assignee}` }) : null,
    chipsOf(summary)));
}

function options() {
  return [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("#conversations [role=option]"))];
}

function setFocused(id) {
  if (focusedId === id) return;
  focusedId = id;
  for (const option of options()) option.tabIndex = option.dataset.id === id ? 0 : -1;
}

export function focusItem(index) {
  const all = options();
  if (!all.length) return false;
  const target = all[Math.max(0, Math.min(all.length - 1, index))];
  setFocused(target.dataset.id);
  target.focus();
  target.scrollIntoView({ block: "nearest" });
  return true;
}

/** j/k from anywhere that is not a text field: the next or previous conversation. From outside
 * the list, the step is from the open conversation; with none open, the first `j` lands on the
 * newest conversation (the roving `focusedId` is only where Tab enters the list, not a position
 * the agent chose). */
export function moveFocus(step) {
  const all = options();
  if (!all.length) return;
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const from = active?.closest?.("#conversations [role=option]") ? active.dataset.id : state.current?.id;
  const at = all.findIndex((o) => o.dataset.id === from);
  focusItem(at < 0 ? 0 : at + step);
}

/** Escape from the thread: back to the conversation in the list. */
export function focusCurrent() {
  const id = state.current?.id;
  const all = options();
  const at = all.findIndex((o) => o.dataset.id === id);
  return focusItem(at < 0 ? 0 : at);
}

function openItem(option) {
  setFocused(option.dataset.id);
  location.hash = conversationHash(option.dataset.id);
}

function onListKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const all = options();
  const at = all.indexOf(event.target.closest("[role=option]"));
  switch (event.key) {
    case "ArrowDown":
    case "j":
      event.preventDefault();
      event.stopPropagation();
      focusItem(at + 1);
      break;
    case "ArrowUp":
    case "k":
      event.preventDefault();
      event.stopPropagation();
      if (at <= 0) document.getElementById("search")?.focus();
      else focusItem(at - 1);
      break;
    case "Home":
      event.preventDefault();
      focusItem(0);
      break;
    case "End":
      event.preventDefault();
      focusItem(all.length - 1);
      break;
    case "Enter":
    case " ":
      if (at >= 0) {
        event.preventDefault();
        openItem(all[at]);
      }
      break;
    default:
      break;
  }
}

// -- visitors online now ------------------------------------------------------------------

function renderVisitorsOnline(details) {
  const online = [...(state.visitors.get(state.websiteId)?.values() || [])];
  const items = online.map((v) => el("li", { class: "visitor-online" },
    el("button", {
      type: "button", class: "visitor-button", "aria-label": v.page_title || v.page_url ? t("list.visitorOn", { page: v.page_title || v.page_url }) : t("list.visitorOnAPage"),
      onclick: () => openVisitor(v),
    },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span", { class: "visitor-page", text: v.page_title || v.page_url || t("list.unknownPage") }),
    el("span", { class: "since", text: v.since ? t("list.since", { time: shortTime(v.since) }) : "" }))));
  replace(details,
    el("summary", { text: t("list.visitorsOnlineNowCount", { n: online.length }) }),
    items.length ? el("ul", { class: "plain visitors-list", "aria-label": t("list.visitorsOnlineNow") }, items)
      : el("p", { class: "muted small", text: t("list.noVisitorIsOn") }));
}

async function openVisitor(visitor) {
  try {
    const conversationId = await conversationOfSession(visitor.session_id);
    if (conversationId) {
      location.hash = conversationHash(conversationId);
      return;
    }
  } catch (failure) {
    toast(failure.message, "error");
    return;
  }
  const text = el("textarea", { rows: 3, class: "input", "aria-label": t("list.yourFirstMessage"), maxlength: 10000 });
  const body = el("div", { class: "stack" },
    el("p", {}, t("list.thisVisitorHasNot"), outsideLink(visitor.page_url, visitor.page_title || visitor.page_url || t("list.aPage")), "."),
    text);
  setTimeout(() => text.focus(), 0);
  const choice = await modal({ title: t("list.writeToThisVisitor"), body, actions: [
    { value: "", text: t("list.cancel"), class: "button subtle" },
    { value: "send", text: t("list.send"), class: "button primary" },
  ] });
  if (choice !== "send" || !text.value.trim()) return;
  try {
    const conversationId = await writeFirst(visitor.session_id, text.value.trim());
    location.hash = conversationHash(conversationId);
  } catch (failure) {
    toast(failure.message, "error");
  }
}
