/* The command palette (docs/inbox.md "Command palette"): Ctrl+K or ⌘K from anywhere in the inbox
 * opens a dialog that searches, as you type, the loaded conversations, the canned replies, the
 * labels and the settings pages. Arrows move, Enter runs, Esc closes and gives the focus back to
 * where it was. A combobox over a listbox, inside a modal dialog. */

import { el, replace, toast } from "./dom.js";
import { state } from "./store.js";
import { visitorName } from "./format.js";
import { conversationHash } from "./list.js";
import { ensureLabels, filterByLabel, labelChip, labelsOf } from "./labels.js";
import { ensureReplies, expand, insertInComposer, repliesOf } from "./replies.js";
import { t, tn } from "./locale.js";

const SETTINGS = [
  ["website", "palette.website"], ["embed", "palette.embedCode"], ["operators", "palette.operators"], ["replies", "palette.cannedReplies"],
  ["labels", "palette.labels"], ["webhooks", "palette.webhooks"], ["tokens", "palette.apiTokens"], ["account", "palette.myAccount"],
];
const LIMIT = 30;

/** @typedef {{kind: string, text: string, detail?: string, run: () => void, chip?: any}} Command */

/** How well `needle` matches `text`: letters in order (a subsequence), earlier and contiguous
 * matches scoring higher; null when some letter is missing. */
export function fuzzyScore(needle, text) {
  const hay = text.toLowerCase();
  if (!needle) return 0;
  const direct = hay.indexOf(needle);
  if (direct >= 0) return 1000 - direct - (hay.length - needle.length) / 100;
  let score = 0;
  let from = 0;
  let last = -2;
  for (const letter of needle) {
    const at = hay.indexOf(letter, from);
    if (at < 0) return null;
    score += at === last + 1 ? 10 : 1;
    if (at === 0 || /[\s/_-]/.test(hay[at - 1])) score += 5;
    last = at;
    from = at + 1;
  }
  return score - hay.length / 100;
}

function commands() {
  /** @type {Command[]} */
  const all = [];
  for (const id of state.order) {
    const summary = state.conversations.get(id);
    if (!summary) continue;
    const name = visitorName(summary.visitor, summary.session_id);
    all.push({ kind: t("palette.conversation"), text: name, detail: summary.last_message?.body || "", run: () => { location.hash = conversationHash(id); } });
  }
  const open = Boolean(state.current?.conversation);
  for (const reply of repliesOf()) {
    all.push({
      kind: t("palette.reply"), text: `/${reply.shortcut} ${reply.title}`, detail: open ? t("palette.insertInTheReply") : t("palette.openAConversationTo"),
      run: () => {
        if (!open || !insertInComposer(expand(reply.body))) toast(t("palette.openAConversationFirst"), "error");
      },
    });
  }
  for (const label of labelsOf()) {
    all.push({
      kind: t("palette.label"), text: label.name, detail: t("palette.showTheConversationsWith"), chip: labelChip(label),
      run: () => filterByLabel(label.id),
    });
  }
  for (const [key, titleKey] of SETTINGS) {
    const title = t(titleKey);
    all.push({ kind: t("palette.settings"), text: title, detail: t("palette.settingsPage", { page: title }), run: () => { location.hash = `#/settings/${key}`; } });
  }
  return all;
}

function search(query) {
  const needle = query.trim().toLowerCase();
  /** @type {{score: number, command: Command}[]} */
  const scored = [];
  for (const command of commands()) {
    const score = fuzzyScore(needle, command.text);
    const detail = score === null && needle ? fuzzyScore(needle, command.detail || "") : null;
    const best = score ?? (detail === null ? null : detail / 2);
    if (best !== null) scored.push({ score: best, command });
  }
  if (needle) scored.sort((a, b) => b.score - a.score);
  return scored.slice(0, LIMIT).map((s) => s.command);
}

let openDialog = null;

export function openPalette() {
  if (openDialog || !state.me) return;
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  const input = el("input", {
    type: "text", class: "input palette-input", id: "palette-input", role: "combobox", "aria-expanded": "true",
    "aria-controls": "palette-list", "aria-autocomplete": "list", "aria-label": t("palette.searchConversationsRepliesLabels"),
    placeholder: t("palette.goToAConversation"), autocomplete: "off", spellcheck: "false",
  });
  const list = el("ul", { class: "palette-list", id: "palette-list", role: "listbox", "aria-label": t("palette.results") });
  const status = el("p", { class: "muted small palette-status", role: "status" });
  const dialog = el("dialog", { class: "dialog palette", "aria-label": t("palette.commandPalette") }, input, list, status);
  openDialog = dialog;
  /** @type {Command[]} */
  let found = [];
  let active = 0;
  const render = () => {
    found = search(input.value);
    active = Math.min(active, Math.max(found.length - 1, 0));
    replace(list, found.map((command, i) => el("li", {
      role: "option", id: `palette-option-${i}`, class: "palette-option", "aria-selected": String(i === active),
      onmousedown: (event) => {
        event.preventDefault();
        run(i);
      },
    }, el("span", { class: "palette-kind", text: command.kind }), command.chip || null,
    el("span", { class: "palette-text", text: command.text }),
    command.detail ? el("span", { class: "palette-detail muted", text: command.detail.slice(0, 80) }) : null)));
    if (found.length) input.setAttribute("aria-activedescendant", `palette-option-${active}`);
    else input.removeAttribute("aria-activedescendant");
    status.textContent = found.length ? tn("palette.resultCount", found.length) : t("palette.nothingMatches");
    list.querySelector("[aria-selected=true]")?.scrollIntoView({ block: "nearest" });
  };
  let ran = null;
  const run = (i) => {
    ran = found[i] || null;
    dialog.close();
  };
  input.addEventListener("input", () => {
    active = 0;
    render();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (found.length) active = (active + (event.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (found.length) run(active);
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    openDialog = null;
    // The focus goes back where it was; a command then moves it where it leads.
    opener?.focus?.();
    if (ran) ran.run();
  });
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
  render();
  // Replies and labels arrive after the first keystrokes at worst: the list then grows.
  Promise.all([ensureReplies(state.websiteId, true).catch(() => []), ensureLabels(state.websiteId, true).catch(() => [])]).then(() => {
    if (openDialog === dialog) render();
  });
}

/** Ctrl+K / ⌘K anywhere, even in a text field. */
export function installPalette() {
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      if (openDialog) openDialog.close();
      else openPalette();
    }
  });
}
