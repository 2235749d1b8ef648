/* Canned replies (docs/inbox.md "Canned replies"): the website's replies, cached per website;
 * the composer's `/` menu, searched as the agent types, which inserts the chosen reply with its
 * variables expanded for editing before sending; and the settings page where admins manage them.
 *
 * Variables: `{visitor_name}`, `{agent_name}`, `{website}`, and those installed plugins declare,
 * whose values for a conversation the server gives (`/conversations/{id}/reply-variables`, fetched
 * once per conversation when the menu opens); one without a value (a visitor who gave no name)
 * stays as written for the agent to see. The server refuses any other `{word}`. */

import { api } from "./api.js";
import { canAdmin, state, website } from "./store.js";
import { el, replace, toast } from "./dom.js";
import { t } from "./locale.js";

/** @typedef {{id: string, shortcut: string, title: string, body: string}} Reply */

/** @type {Map<string, Reply[]>} */
const byWebsite = new Map();
/** @type {Map<string, Record<string, string>>} conversation id -> the plugins' variables */
const pluginValues = new Map();
const VARIABLE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MENU_SIZE = 8;

export function repliesOf(websiteId = state.websiteId) {
  return byWebsite.get(websiteId) || [];
}

/** The website's replies, fetched once (then on `reload`). */
export async function ensureReplies(websiteId = state.websiteId, reload = false) {
  if (!websiteId) return [];
  if (!reload && byWebsite.has(websiteId)) return byWebsite.get(websiteId);
  const data = await api.get(`/websites/${websiteId}/replies`);
  byWebsite.set(websiteId, data.replies || []);
  return byWebsite.get(websiteId);
}

/** The plugins' variables of a conversation, fetched once; none when they cannot be had. */
export async function ensurePluginVariables(conversationId = state.current?.id) {
  if (!conversationId) return {};
  if (!pluginValues.has(conversationId)) {
    try {
      const data = await api.get(`/conversations/${conversationId}/reply-variables`);
      pluginValues.set(conversationId, data.variables || {});
    } catch {
      return {}; // the variables stay as written, for the agent to see
    }
  }
  return pluginValues.get(conversationId);
}

/** The values of the variables for the open conversation (the built-in ones win a name). */
export function variables() {
  const current = state.current;
  return {
    ...(current ? pluginValues.get(current.id) : null),
    visitor_name: (current?.session?.profile?.nickname || "").trim(),
    agent_name: state.me?.operator?.name || "",
    website: website()?.name || "",
  };
}

export function expand(body, values = variables()) {
  return body.replace(VARIABLE, (whole, name) => values[name] || whole);
}

/** The first variable of the canned replies left unfilled in `body` (one that has no value in
 * this conversation, e.g. `{visitor_name}` of a visitor who gave no name), with where it is; null
 * when none is left. Other `{words}` are the agent's own text. */
export function unfilledVariable(body, values = variables()) {
  for (const match of body.matchAll(VARIABLE)) {
    if (match[1] in values && !values[match[1]]) {
      return { text: match[0], start: match.index ?? 0, end: (match.index ?? 0) + match[0].length };
    }
  }
  return null;
}

/** Replies whose shortcut starts with `query`, then those whose shortcut or title contains it. */
export function searchReplies(query, replies = repliesOf()) {
  const needle = query.toLowerCase();
  const starts = replies.filter((r) => r.shortcut.startsWith(needle));
  const contains = replies.filter((r) => !starts.includes(r) && (r.shortcut.includes(needle) || r.title.toLowerCase().includes(needle)));
  return [...starts, ...contains];
}

/** Put `text` in the composer in place of `start..end` (the whole text by default), caret after it. */
export function insertInComposer(text, start = null, end = null) {
  const composer = /** @type {HTMLTextAreaElement | null} */ (document.getElementById("composer"));
  if (!composer) return false;
  const from = start ?? 0;
  const to = end ?? composer.value.length;
  composer.value = composer.value.slice(0, from) + text + composer.value.slice(to);
  const caret = from + text.length;
  composer.focus();
  composer.setSelectionRange(caret, caret);
  composer.dispatchEvent(new Event("input", { bubbles: true }));
  return true;
}

// -- the `/` menu -------------------------------------------------------------------------------

/** The `/word` the caret ends, at the start of the text or after a space or a line break. */
function slashAt(text, caret) {
  const match = /(^|\s)\/([a-z0-9_-]*)$/i.exec(text.slice(0, caret));
  return match ? { start: caret - match[2].length - 1, query: match[2] } : null;
}

/** Attach the `/` menu to the composer's textarea; its keydown runs before the composer's (which
 * leaves an event whose default was prevented alone). */
export function attachSlashMenu(textarea) {
  const menu = el("ul", { class: "slash-menu", id: "slash-menu", role: "listbox", "aria-label": t("replies.cannedReplies"), hidden: true });
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", "slash-menu");
  textarea.setAttribute("aria-expanded", "false");
  let found = [];
  let active = 0;
  let at = null;
  let fetched = false;

  const closeMenu = () => {
    menu.hidden = true;
    found = [];
    at = null;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  };
  const render = () => {
    replace(menu, found.length ? found.map((reply, i) => el("li", {
      role: "option", id: `reply-option-${i}`, class: "slash-option", "aria-selected": String(i === active), "data-shortcut": reply.shortcut,
      onmousedown: (event) => {
        event.preventDefault();
        choose(i);
      },
    }, el("span", { class: "slash-shortcut", text: `/${reply.shortcut}` }), el("span", { class: "slash-title", text: reply.title })))
      : el("li", { class: "slash-empty muted", role: "option", "aria-disabled": "true", text: repliesOf().length ? t("replies.noReplyMatches") : t("replies.noCannedReplyYet") }));
    menu.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    if (found.length) textarea.setAttribute("aria-activedescendant", `reply-option-${active}`);
    else textarea.removeAttribute("aria-activedescendant");
    menu.querySelector("[aria-selected=true]")?.scrollIntoView({ block: "nearest" });
  };
  const choose = (i) => {
    const reply = found[i];
    const where = at;
    closeMenu();
    if (!reply || !where) return;
    insertInComposer(expand(reply.body), where.start, textarea.selectionStart);
  };
  const update = async () => {
    const caret = textarea.selectionStart;
    const hit = textarea.selectionStart === textarea.selectionEnd ? slashAt(textarea.value, caret) : null;
    if (!hit) return closeMenu();
    if (!fetched) {
      fetched = true;
      try {
        await ensureReplies(state.websiteId, true);
      } catch (failure) {
        toast(failure.message, "error");
      }
    }
    await ensurePluginVariables();
    const again = slashAt(textarea.value, textarea.selectionStart);
    if (!again) return closeMenu();
    at = again;
    found = searchReplies(again.query).slice(0, MENU_SIZE);
    active = Math.min(active, Math.max(found.length - 1, 0));
    render();
  };
  textarea.addEventListener("input", () => {
    active = 0;
    update();
  });
  textarea.addEventListener("click", () => update());
  textarea.addEventListener("blur", () => closeMenu());
  textarea.addEventListener("keydown", (event) => {
    if (menu.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!found.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && found.length && !event.shiftKey) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeMenu();
    }
  });
  return menu;
}

// -- settings -----------------------------------------------------------------------------------

export async function repliesPage(content) {
  const websiteId = state.websiteId;
  if (!websiteId) return;
  const admin = canAdmin();
  await ensureReplies(websiteId, true);
  const rows = el("ul", { class: "plain settings-list", id: "replies-list", "aria-label": t("replies.cannedReplies") });
  const shortcut = el("input", { type: "text", id: "reply-shortcut", class: "input", maxlength: 32, required: true, pattern: "[a-z0-9][a-z0-9_\\-]*", spellcheck: "false", placeholder: "hello" });
  const titleInput = el("input", { type: "text", id: "reply-title", class: "input", maxlength: 100, required: true });
  const body = el("textarea", { id: "reply-body", class: "input", rows: 4, maxlength: 10000, required: true });
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: t("replies.addTheReply") });
  const cancel = el("button", { type: "button", class: "button subtle", text: t("replies.cancel"), hidden: true });
  let editing = null;
  const edit = (reply) => {
    editing = reply;
    shortcut.value = reply?.shortcut || "";
    titleInput.value = reply?.title || "";
    body.value = reply?.body || "";
    save.textContent = reply ? t("replies.saveTheReply") : t("replies.addTheReply");
    cancel.hidden = !reply;
    error.textContent = "";
    if (reply) shortcut.focus();
  };
  cancel.addEventListener("click", () => edit(null));
  const renderRows = () => {
    const replies = repliesOf(websiteId);
    replace(rows, replies.length ? replies.map((reply) => el("li", { class: "settings-row reply-row" },
      el("div", { class: "reply-text" },
        el("strong", { text: `/${reply.shortcut}` }), " ", el("span", { text: reply.title }),
        el("p", { class: "muted small reply-body", text: reply.body })),
      admin ? el("div", { class: "row-actions" },
        el("button", { type: "button", class: "button subtle small", "aria-label": t("replies.editShortcut", { shortcut: reply.shortcut }), text: t("replies.edit"), onclick: () => edit(reply) }),
        el("button", {
          type: "button", class: "button subtle small", "aria-label": t("replies.deleteShortcut", { shortcut: reply.shortcut }), text: t("replies.delete"),
          onclick: async () => {
            try {
              await api.del(`/websites/${websiteId}/replies/${reply.id}`);
              await ensureReplies(websiteId, true);
              renderRows();
              toast(t("replies.deleted", { shortcut: reply.shortcut }));
            } catch (failure) {
              toast(failure.message, "error");
            }
          },
        })) : null)) : el("li", { class: "muted", text: t("replies.noCannedReplyYet2") }));
  };
  renderRows();
  const form = el("form", { class: "stack settings-form", "aria-label": t("replies.cannedReply") },
    el("div", { class: "row" },
      el("div", { class: "field" }, el("label", { for: "reply-shortcut", text: t("replies.shortcut") }), shortcut,
        el("p", { class: "hint", text: t("replies.lowercaseLettersDigitsAnd") })),
      el("div", { class: "field" }, el("label", { for: "reply-title", text: t("replies.title") }), titleInput)),
    el("div", { class: "field" }, el("label", { for: "reply-body", text: t("replies.text") }), body,
      el("p", { class: "hint", text: t("replies.variablesVisitorNameAgent") })),
    error, el("div", { class: "row" }, save, cancel));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const fields = { shortcut: shortcut.value.trim(), title: titleInput.value, body: body.value };
    try {
      if (editing) await api.patch(`/websites/${websiteId}/replies/${editing.id}`, fields);
      else await api.post(`/websites/${websiteId}/replies`, fields);
      await ensureReplies(websiteId, true);
      renderRows();
      toast(editing ? t("replies.theReplyWasSaved") : t("replies.theReplyWasAdded"));
      edit(null);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  replace(content,
    el("h1", { id: "settings-title", text: t("replies.cannedReplies") }),
    el("p", { class: "muted", text: t("replies.preparedAnswersInA") }),
    rows,
    admin ? form : el("p", { class: "muted", text: t("replies.onlyOwnersAndAdmins") }));
}
