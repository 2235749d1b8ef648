/* The open conversation: its header (assign, resolve or reopen, delete), the messages with
 * private notes set apart, read marks and typing, older messages on demand, and the composer
 * (Enter sends, Shift+Enter is a new line; Reply or Note). */

import { conversationActions } from "./shield.js";
import { canAdmin, emit, on, operatorName, state } from "./store.js";
import { el, modal, replace, richText, toast } from "./dom.js";
import { clockTime, eventText, fullTime, visitorName } from "./format.js";
import {
  assign, deleteConversation, loadOlder, localTyping, markRead, putLabels, reopen, resolve, retry, sendMessage,
} from "./thread-data.js";
import { chipsOf, ensureLabels, labelsButton, openPicker } from "./labels.js";
import { attachSlashMenu, unfilledVariable } from "./replies.js";
import { avatar } from "./list.js";
import { ratingItems, transferControl } from "./service.js";
import { attachFiles, fileBody } from "./files.js";
import { currentLanguage, t } from "./locale.js";

const MAX_BODY = 10000;
const drafts = new Map(); // conversation id -> {text, note}

export function mountThread(container) {
  const off = [
    on("thread", () => render(container)),
    on("messages", (detail) => renderLog(container, detail)),
    on("conversation", () => renderHead(container)),
    on("typing", () => renderTyping(container)),
    on("operators", () => renderHead(container)),
    on("labels", () => renderHead(container)),
  ];
  ensureLabels().catch(() => {});
  render(container);
  return () => off.forEach((f) => f());
}

function render(container) {
  const current = state.current;
  if (!current) {
    replace(container, el("div", { class: "empty-thread" },
      el("h2", { text: t("thread.noConversationOpen") }),
      el("p", { class: "muted", text: t("thread.pickAConversationIn") }),
      shortcutsHelp()));
    return;
  }
  if (current.error) {
    replace(container, el("div", { class: "empty-thread" },
      el("p", { class: "form-error", role: "alert", text: current.error }),
      el("p", {}, el("a", { href: "#/", text: t("thread.backToTheList") }))));
    return;
  }
  if (current.loading) {
    replace(container, el("div", { class: "empty-thread" }, el("p", { class: "muted", role: "status", text: t("thread.loadingTheConversation") })));
    return;
  }
  const head = el("header", { class: "thread-head" });
  const log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("thread.messages"), tabindex: "0" });
  const typing = el("p", { class: "typing", "aria-live": "polite" });
  replace(container, head, log, typing, composer(current));
  renderHead(container);
  renderLog(container, { appended: true });
  renderTyping(container);
}

export function shortcutsHelp() {
  const keys = [["j / ↓", t("thread.keyNext")], ["k / ↑", t("thread.keyPrevious")], [t("thread.keyEnter"), t("thread.keyOpen")],
    [t("thread.esc"), t("thread.keyBack")], ["/", t("thread.keySearch")], [t("thread.keyEnter"), t("thread.sendShiftEnterNew")],
    [t("thread.keySlashInReply"), t("thread.keyReplies")], ["l", t("thread.keyLabels")], [t("thread.ctrlKK"), t("thread.keyPalette")]];
  return el("dl", { class: "shortcuts", "aria-label": t("thread.keyboardShortcuts") },
    keys.map(([k, v]) => [el("dt", {}, el("kbd", { text: k })), el("dd", { text: v })]));
}

// -- the header -----------------------------------------------------------------------

function renderHead(container) {
  const head = container.querySelector(".thread-head");
  const current = state.current;
  if (!head || !current?.conversation) return;
  const conversation = current.conversation;
  const name = visitorName(current.session?.profile, conversation.session_id);
  const me = state.me.operator;
  const select = el("select", { class: "select", "aria-label": t("thread.assignee"), id: "assignee" });
  select.append(el("option", { value: "", text: t("thread.unassigned") }));
  select.append(el("option", { value: me.id, text: t("thread.me", { name: me.name }) }));
  for (const operator of state.operators.get(conversation.website_id) || []) {
    if (operator.id === me.id || operator.pending) continue; // an invitation is no member yet
    select.append(el("option", { value: operator.id, text: operator.name || operator.email }));
  }
  if (conversation.assignee_id && ![...select.options].some((o) => o.value === conversation.assignee_id)) {
    select.append(el("option", { value: conversation.assignee_id, text: operatorName(conversation.assignee_id) || t("thread.anotherOperator") }));
  }
  select.value = conversation.assignee_id || "";
  select.addEventListener("change", () => act(() => assign(select.value || null), select.value ? t("thread.assignedTo", { name: select.selectedOptions[0].text }) : t("thread.unassigned2")));
  const resolved = conversation.state === "resolved";
  const tools = el("div", { class: "tools" },
    el("label", { class: "assign" }, el("span", { class: "label", text: t("thread.assignee") }), select),
    labelsButton(conversation, putLabels),
    transferControl(conversation),
    resolved
      ? el("button", { type: "button", class: "button", id: "reopen", text: t("thread.reopen"), onclick: () => act(reopen, t("thread.reopened")) })
      : el("button", { type: "button", class: "button primary", id: "resolve", text: t("thread.resolve"), onclick: () => act(resolve, t("thread.resolved")) }),
    canAdmin(roleOf(conversation.website_id))
      ? el("button", { type: "button", class: "button danger-subtle", id: "delete", text: t("thread.delete"), onclick: confirmDelete })
      : null,
    conversationActions(current), // spam or not spam, block this visitor (shield.js)
    el("button", {
      type: "button", class: "button subtle panel-toggle", "aria-controls": "panel", id: "panel-toggle",
      "aria-expanded": String(document.body.classList.contains("panel-open")), text: t("thread.visitor"),
      onclick: (event) => {
        const open = document.body.classList.toggle("panel-open");
        event.currentTarget.setAttribute("aria-expanded", String(open));
        if (open) document.getElementById("panel")?.focus();
      },
    }));
  const where = current.session?.page?.title || current.session?.page?.url || "";
  const focused = head.contains(document.activeElement) ? document.activeElement.id : null;
  replace(head,
    el("a", { href: "#/", class: "back", "aria-label": t("thread.backToTheList"), text: "←" }),
    avatar(name, conversation.session_id),
    el("div", { class: "who" },
      el("h2", { class: "thread-title", text: name }),
      el("p", { class: "sub" },
        el("span", { class: `state ${conversation.state}`, text: resolved ? t("thread.resolved2") : t("thread.open") }),
        where ? el("span", { class: "where", text: ` · ${t("thread.onPage", { page: where })}` }) : null),
      chipsOf(conversation, conversation.website_id)),
    tools);
  // The header was rebuilt under the focus: put it back (Resolve and Reopen take each other's place).
  if (focused) (document.getElementById(focused) || document.getElementById({ resolve: "reopen", reopen: "resolve" }[focused]))?.focus();
}

/** The `l` key: the labels of the open conversation. */
export function pickLabels() {
  const conversation = state.current?.conversation;
  if (conversation) openPicker(conversation, putLabels);
}

function roleOf(websiteId) {
  return state.websites.find((w) => w.id === websiteId)?.role;
}

async function act(action, done) {
  try {
    await action();
    toast(done);
  } catch (failure) {
    toast(failure.message, "error");
    emit("conversation");
  }
}

async function confirmDelete() {
  const current = state.current;
  const name = visitorName(current.session?.profile, current.conversation.session_id);
  const body = el("div", { class: "stack" },
    el("p", {}, t("thread.thisPermanentlyDestroysWith")),
    el("ul", { class: "destroyed" },
      el("li", { text: t("thread.theConversationWith", { name }) }),
      el("li", { text: t("thread.everyMessageInIt") }),
      el("li", { text: t("thread.theVisitorSProfile") }),
      el("li", { text: t("thread.theVisitorSIp") })),
    el("p", { class: "muted", text: t("thread.itCannotBeUndone") }));
  const choice = await modal({
    title: t("thread.deleteThisConversation"), body, className: "danger", actions: [
      { value: "", text: t("thread.cancel"), class: "button subtle", autofocus: true },
      { value: "delete", text: t("thread.deleteForever"), class: "button danger" },
    ],
  });
  if (choice !== "delete") return;
  try {
    await deleteConversation();
    location.hash = "#/";
  } catch (failure) {
    toast(failure.message, "error");
  }
}

// -- the messages ---------------------------------------------------------------------

function renderLog(container, detail = {}) {
  const log = container.querySelector(".log");
  const current = state.current;
  if (!log || !current?.conversation) return;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const fromBottom = log.scrollHeight - log.scrollTop;
  const messages = current.messages;
  const visitorMark = current.conversation.read_up_to?.visitor;
  const readIndex = visitorMark ? messages.findIndex((m) => m.id === visitorMark) : -1;
  let lastReply = -1;
  messages.forEach((m, i) => {
    if (m.author === "operator" && m.type !== "note") lastReply = i;
  });
  const items = [];
  if (current.hasOlder) {
    items.push(el("button", {
      type: "button", class: "button subtle load-older", text: t("thread.loadOlderMessages"),
      onclick: (event) => {
        event.currentTarget.disabled = true;
        loadOlder().catch((failure) => toast(failure.message, "error"));
      },
    }));
  }
  let day = "";
  messages.forEach((m, i) => {
    const thisDay = new Date(m.created_at).toDateString();
    if (thisDay !== day) {
      day = thisDay;
      items.push(el("p", { class: "day", text: new Date(m.created_at).toLocaleDateString(currentLanguage(), { weekday: "long", month: "long", day: "numeric" }) }));
    }
    const mark = i === lastReply ? (readIndex >= i ? t("thread.seen") : t("thread.sent")) : null;
    items.push(messageItem(m, current.session, mark));
  });
  for (const pending of current.pending.values()) items.push(messageItem(pending, current.session, null));
  items.push(...ratingItems(current.ratings));
  if (!items.length) items.push(el("p", { class: "muted center", text: t("thread.noMessageYet") }));
  replace(log, items);
  if (detail.older) log.scrollTop = log.scrollHeight - fromBottom;
  else if (detail.appended || atBottom) log.scrollTop = log.scrollHeight;
}

function messageItem(message, session, mark) {
  if (message.type === "event" || message.author === "system") {
    return el("p", { class: "event", "data-id": message.id, text: eventText(message) });
  }
  const note = message.type === "note";
  const fromVisitor = message.author === "visitor";
  const who = fromVisitor ? visitorName(session?.profile, session?.id) : message.operator?.name || t("thread.agent");
  const classes = ["message", fromVisitor ? "visitor" : "operator"];
  if (note) classes.push("note");
  if (message.state) classes.push(message.state);
  const footer = [];
  if (message.state === "sending") footer.push(el("span", { class: "mark", "data-state": "sending", text: t("thread.sending") }));
  else if (message.state === "failed") {
    footer.push(el("span", { class: "mark failed", "data-state": "failed", text: `${message.error ? t("thread.notSentBecause", { error: message.error.replace(/\.$/, "") }) : t("thread.notSent")} ` }));
    footer.push(el("button", { type: "button", class: "link", text: t("thread.retry"), onclick: () => retry(message.client_id) }));
  } else if (mark) footer.push(el("span", { class: "mark", "data-state": mark.toLowerCase(), text: mark }));
  return el("article", {
    class: classes.join(" "), "data-id": message.id || null, "data-client-id": message.client_id || null,
    "aria-label": t(note ? "thread.privateNoteFrom" : "thread.messageFrom", { who }),
  },
  el("header", { class: "message-head" },
    note ? el("span", { class: "note-label", text: t("thread.note") }) : null,
    el("span", { class: "who", text: who }),
    el("time", { datetime: message.created_at, title: fullTime(message.created_at), text: clockTime(message.created_at) })),
  (message.type === "file" && fileBody(message)) || el("div", { class: "body", dir: "auto" }, richText(String(message.body ?? ""))),
  footer.length ? el("footer", { class: "message-foot" }, footer) : null);
}

function renderTyping(container) {
  const line = container.querySelector(".typing");
  const current = state.current;
  if (!line || !current?.conversation) return;
  const who = current.typing === "visitor" ? visitorName(current.session?.profile, current.session?.id) : current.typing;
  line.textContent = who ? t("thread.isTyping", { who }) : "";
  line.classList.toggle("on", Boolean(who));
}

// -- the composer ---------------------------------------------------------------------

function composer(current) {
  const draft = drafts.get(current.id) || { text: "", note: false };
  const text = el("textarea", { class: "composer-text", id: "composer", rows: 3, maxlength: MAX_BODY, "aria-label": t("thread.replyToTheVisitor") });
  text.value = draft.text;
  const reply = el("input", { type: "radio", name: "mode", value: "reply", checked: !draft.note });
  const note = el("input", { type: "radio", name: "mode", value: "note", checked: draft.note });
  const send = el("button", { type: "submit", class: "button primary", id: "send" });
  const error = el("p", { class: "form-error", role: "alert" });
  const slashMenu = attachSlashMenu(text); // its keys run before the composer's own
  const form = el("form", { class: "composer", "aria-label": t("thread.writeAMessage") },
    slashMenu,
    el("div", { class: "modes", role: "radiogroup", "aria-label": t("thread.messageType") },
      el("label", { class: "mode" }, reply, el("span", { text: t("thread.reply") })),
      el("label", { class: "mode mode-note" }, note, el("span", { text: t("thread.note") }))),
    text,
    el("div", { class: "composer-foot" },
      el("p", { class: "hint", id: "composer-hint" }),
      error,
      send));
  const files = attachFiles(form, text, current.id);
  text.before(files.list);
  form.querySelector(".composer-foot").prepend(files.button, files.input);
  const hint = form.querySelector("#composer-hint");
  const setMode = () => {
    const isNote = note.checked;
    form.classList.toggle("note-mode", isNote);
    text.placeholder = isNote ? t("thread.privateNoteOnlyYour") : t("thread.replyToTheVisitor");
    text.setAttribute("aria-label", isNote ? t("thread.privateNote") : t("thread.replyToTheVisitor"));
    send.textContent = isNote ? t("thread.addNote") : t("thread.send");
    hint.textContent = isNote ? t("thread.theVisitorNeverSees") : t("thread.enterSendsShiftEnter");
    drafts.set(current.id, { text: text.value, note: isNote });
    if (isNote) localTyping(false);
  };
  reply.addEventListener("change", setMode);
  note.addEventListener("change", setMode);
  text.addEventListener("input", () => {
    error.textContent = "";
    drafts.set(current.id, { text: text.value, note: note.checked });
    if (!note.checked) localTyping(text.value.trim().length > 0);
  });
  text.addEventListener("keydown", (event) => {
    if (event.defaultPrevented) return; // the `/` menu took it
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  text.addEventListener("blur", () => localTyping(false));
  text.addEventListener("focus", () => markRead());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) return;
    if (body.length > MAX_BODY) {
      error.textContent = t("thread.tooLong", { n: MAX_BODY });
      return;
    }
    // A canned reply's variable with no value stays as written for the agent to replace: it
    // is never sent to the visitor as is.
    const unfilled = note.checked ? null : unfilledVariable(text.value);
    if (unfilled) {
      error.textContent = t("thread.replaceTheVariable", { variable: unfilled.text });
      text.focus();
      text.setSelectionRange(unfilled.start, unfilled.end);
      return;
    }
    sendMessage(body, note.checked);
    text.value = "";
    drafts.set(current.id, { text: "", note: note.checked });
    text.focus();
  });
  setMode();
  return form;
}
