/* The shield page (docs/inbox.md, P18): the current website's block rules for its owners and
 * admins; for the operators CAUSERIE_SHIELD_ADMINS names, the networks most active now (by keyed
 * hash and a label that names no address or country), what was challenged and blocked, the last
 * 24 hours as a chart with its table, and the server-wide rules. */

import { api } from "./api.js";
import { setSpam } from "./thread-data.js";
import { el, replace, toast, trapTab } from "./dom.js";
import { canAdmin, state, website } from "./store.js";
import { currentLanguage, t } from "./locale.js";
import { fullTime, number } from "./format.js";

const KINDS = [["address", "shield.address"], ["network", "shield.networkCidr"], ["email", "shield.emailOrDomain"], ["user_agent", "shield.userAgent"]];
/** What a value of `kind` looks like, shown in the empty field. */
const example = (kind) => ({ address: "203.0.113.7", network: "203.0.113.0/24", email: t("shield.exampleEmail"), user_agent: "curl/*" })[kind] || "";
const SHOWN = [["loads", "shield.loads"], ["sessions", "shield.sessions"], ["messages", "shield.messages"], ["limited", "shield.limited"], ["challenged", "shield.challenged"], ["blocked", "shield.blocked"], ["flagged", "shield.flagged"]];

/** @param {HTMLElement} container */
export function renderShield(container) {
  const content = el("section", { class: "settings-content shield", "aria-labelledby": "shield-title" });
  replace(container, el("div", { class: "settings wide" }, el("div"), content));
  // /api/v1/me says beforehand whether the overview is theirs: it is not asked for otherwise
  // (an owner who is no shield admin once saw its 403 as an error).
  const shieldAdmin = state.me?.shield_admin === true;
  replace(content, el("h1", { id: "shield-title", text: t("shield.shield") }),
    shieldAdmin ? el("p", { class: "muted", text: t("shield.networksAreShownBy") }) : null);
  const rules = el("section", { "aria-labelledby": "rules-title" });
  const overview = el("section", { "aria-labelledby": "overview-title" });
  content.append(rules, overview);
  renderRules(rules, state.websiteId).catch((failure) => rules.append(el("p", { class: "form-error", text: failure.message })));
  if (shieldAdmin) renderOverview(overview).catch((failure) => overview.append(el("p", { class: "form-error", text: failure.message })));
  else notShieldAdmin(overview);
}

/** What an operator CAUSERIE_SHIELD_ADMINS does not name sees in place of the overview. */
function notShieldAdmin(section) {
  const text = canAdmin() ? t("shield.yourPartIsThe", { website: website()?.name || "" }) : t("shield.theNetworksAndServer");
  replace(section, el("p", { class: "callout", id: "shield-not-admin", role: "note", text }));
}

/** The block rules of a website (or, `websiteId` null, the server-wide ones), with a form. */
async function renderRules(section, websiteId) {
  const server = websiteId === null;
  const path = server ? "/blocks" : `/websites/${websiteId}/blocks`;
  const heading = el("h2", { id: server ? "server-rules-title" : "rules-title", text: server ? t("shield.serverWideBlockRules") : t("shield.blockRulesOf", { website: website()?.name || "" }) });
  if (!server && !canAdmin()) {
    replace(section, heading, el("p", { class: "muted", text: t("shield.onlyTheOwnersAnd") }));
    return;
  }
  const { blocks } = await api.get(path);
  const rows = blocks.map((rule) => el("tr", {},
    el("td", { text: rule.kind }), el("td", { text: rule.value }), el("td", { text: rule.reason }),
    el("td", { text: rule.expires_at ? fullTime(rule.expires_at) : t("shield.never") }),
    el("td", {}, el("button", { type: "button", class: "button subtle small", text: t("shield.remove"), onclick: async () => {
      await api.del(`${path}/${rule.id}`);
      toast(t("shield.blockRuleRemoved"));
      renderRules(section, websiteId);
    } }))));
  const kind = el("select", { name: "kind", "aria-label": t("shield.kind") }, KINDS.map(([value, label]) => el("option", { value, text: t(label) })));
  const value = el("input", { name: "value", type: "text", required: true, maxlength: "512", "aria-label": t("shield.value"), placeholder: example("address") });
  kind.addEventListener("change", () => { value.placeholder = example(kind.value); });
  const reason = el("input", { name: "reason", type: "text", required: true, maxlength: "500", "aria-label": t("shield.reason"), placeholder: t("shield.why") });
  const expires = el("input", { name: "expires", type: "date", "aria-label": t("shield.expiresOptional") });
  const form = el("form", { class: "inline-form", onsubmit: async (event) => {
    event.preventDefault();
    const body = { kind: kind.value, value: value.value, reason: reason.value };
    if (expires.value) body.expires_at = new Date(`${expires.value}T00:00:00`).toISOString();
    try {
      await api.post(path, body);
      toast(t("shield.blockRuleAdded"));
      renderRules(section, websiteId);
    } catch (failure) {
      toast(failure.message, "error");
    }
  } }, kind, value, reason, expires, el("button", { type: "submit", class: "button primary small", text: t("shield.block") }));
  replace(section, heading,
    blocks.length
      ? el("table", { class: "table" }, el("thead", {}, el("tr", {}, [t("shield.kind"), t("shield.value"), t("shield.reason"), t("shield.expires"), ""].map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows))
      : el("p", { class: "muted", text: t("shield.noBlockRules") }),
    form);
}

async function renderOverview(section) {
  let data;
  try {
    data = await api.get("/shield");
  } catch (failure) {
    if (failure.status === 403) return notShieldAdmin(section); // the rights changed since /me
    throw failure;
  }
  const networks = data.networks.map((n) => el("tr", {},
    el("th", { scope: "row", text: n.label, title: n.network }),
    SHOWN.map(([key]) => el("td", { class: "num", text: number(n.counts[key]) })),
    el("td", { class: "num", text: number(n.score, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }),
    el("td", { text: n.blocked ? t("shield.blocked") : n.challenged ? t("shield.challenged") : "" })));
  const serverRules = el("section", { "aria-labelledby": "server-rules-title" });
  replace(section,
    el("h2", { id: "overview-title", text: t("shield.networksMostActiveNow") }),
    data.networks.length
      ? el("table", { class: "table", id: "shield-networks" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("shield.network") }), SHOWN.map(([, label]) => el("th", { scope: "col", text: t(label) })), el("th", { scope: "col", text: t("shield.score") }), el("th", { scope: "col", text: t("shield.state") }))),
        el("tbody", {}, networks))
      : el("p", { class: "muted", text: t("shield.noTrafficInThe") }),
    el("h2", { text: t("shield.theLast24Hours") }),
    chart(data.series),
    seriesTable(data.series),
    serverRules);
  await renderRules(serverRules, null);
}

/** Loads and blocked requests per hour, as bars: inline SVG, no library. */
function chart(series) {
  const NS = "http://www.w3.org/2000/svg";
  const width = 720, height = 160, bar = width / Math.max(1, series.length);
  const top = Math.max(1, ...series.map((h) => h.loads || 0), ...series.map((h) => h.blocked || 0));
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + (height + 4));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("shield.chatboxLoadsAndBlocked"));
  svg.setAttribute("class", "shield-chart");
  series.forEach((hour, i) => {
    /** @type {Array<[string, number, string]>} */
    const bars = [["loads", 0, "#3b5bdb"], ["blocked", bar / 2, "#c92a2a"]];
    for (const [key, offset, color] of bars) {
      const h = Math.round(((hour[key] || 0) / top) * height);
      const rect = document.createElementNS(NS, "rect");
      rect.setAttribute("x", String(i * bar + offset));
      rect.setAttribute("y", String(height - h));
      rect.setAttribute("width", String(Math.max(1, bar / 2 - 1)));
      rect.setAttribute("height", String(h));
      rect.setAttribute("fill", color);
      svg.append(rect);
    }
  });
  return svg;
}

function seriesTable(series) {
  return el("details", {}, el("summary", { text: t("shield.theFiguresPerHour") }),
    el("table", { class: "table", id: "shield-series" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("shield.hour") }), SHOWN.map(([, label]) => el("th", { scope: "col", text: t(label) })))),
      el("tbody", {}, series.map((hour) => el("tr", {},
        el("th", { scope: "row", text: new Date(hour.hour).toLocaleString(currentLanguage(), { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" }) }),
        SHOWN.map(([key]) => el("td", { class: "num", text: number(hour[key]) })))))));
}

/** Spam or not spam (whichever applies), and block, from a conversation (thread.js shows these).
 * @param {{id: string, spam?: boolean}} current the open conversation */
export function conversationActions(current) {
  const spam = current.spam
    ? el("button", { type: "button", class: "button subtle small", id: "not-spam", text: t("shield.notSpam"), onclick: () => spamAction(false) })
    : el("button", { type: "button", class: "button subtle small", id: "mark-spam", text: t("shield.markAsSpam"), onclick: () => spamAction(true) });
  const block = el("button", { type: "button", class: "button subtle small", id: "block-visitor", "aria-haspopup": "dialog", text: t("shield.blockThisVisitor"), hidden: !canAdmin() });
  block.addEventListener("click", () => blockDialog(current.id, block));
  return el("div", { class: "shield-actions" }, spam, block);
}

/** "Block this visitor": a modal dialog asking what to block (the address, or the network around
 * it), why, and until when. The rest of the page is inert while it is open and Tab cycles through
 * its fields; Escape or Cancel close it; the focus goes back to `opener`. A refusal is said in it,
 * and it stays open. */
function blockDialog(conversationId, opener) {
  const heading = el("h2", { class: "dialog-title", id: "block-title", text: t("shield.blockThisVisitor") });
  const explain = el("p", { class: "muted", id: "block-explain", text: t("shield.blockDialogExplain", { website: website()?.name || "" }) });
  const choice = (value, label, checked) => el("label", { class: "check" },
    el("input", { type: "radio", name: "block-kind", value, checked }), ` ${label}`);
  const reason = el("input", { type: "text", id: "block-reason", name: "reason", maxlength: "500", autocomplete: "off", "aria-describedby": "block-reason-hint" });
  const tomorrow = new Date(Date.now() + 86400000);
  const expires = el("input", { type: "date", id: "block-expires", name: "expires", min: tomorrow.toLocaleDateString("sv"), "aria-describedby": "block-expires-hint" });
  const error = el("p", { class: "form-error", role: "alert", id: "block-error" });
  const cancel = el("button", { type: "button", class: "button subtle", text: t("shield.cancel") });
  const submit = el("button", { type: "submit", class: "button danger", text: t("shield.block") });
  const form = el("form", { class: "stack", novalidate: true },
    explain,
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: t("shield.whatToBlock") }),
      choice("address", t("shield.theirAddress"), true), choice("network", t("shield.theirNetwork"), false)),
    el("div", { class: "field" }, el("label", { for: "block-reason", text: t("shield.reason") }), reason,
      el("p", { class: "hint", id: "block-reason-hint", text: t("shield.reasonHint") })),
    el("div", { class: "field" }, el("label", { for: "block-expires", text: t("shield.expiresOptional") }), expires,
      el("p", { class: "hint", id: "block-expires-hint", text: t("shield.emptyUntilRemoved") })),
    error,
    el("div", { class: "dialog-actions" }, cancel, submit));
  const dialog = el("dialog", { class: "dialog danger", id: "block-dialog", "aria-labelledby": heading.id, "aria-describedby": explain.id }, heading, form);
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => trapTab(dialog, event));
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!reason.value.trim()) {
      error.textContent = t("shield.giveAReason");
      reason.focus();
      return;
    }
    const kind = /** @type {HTMLInputElement} */ (form.querySelector("input[name=block-kind]:checked")).value;
    const body = { reason: reason.value.trim(), kind };
    if (expires.value) {
      const end = new Date(`${expires.value}T00:00:00`);
      if (!(end.getTime() > Date.now())) {
        error.textContent = t("shield.endInTheFuture");
        expires.focus();
        return;
      }
      body.expires_at = end.toISOString();
    }
    submit.disabled = true;
    try {
      await api.post(`/conversations/${conversationId}/block`, body);
      dialog.close();
      toast(t("shield.visitorBlocked"));
    } catch (failure) {
      // The refusals a person can act on, in the inbox's language; others as the API says them.
      const known = { address_unknown: "shield.addressUnknown", address_not_blockable: "shield.addressNotBlockable", invalid_block_expiry: "shield.endInTheFuture" }[failure.code];
      error.textContent = known ? t(known) : failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();
}

/** @param {boolean} spam */
async function spamAction(spam) {
  try {
    await setSpam(spam);
    toast(t(spam ? "shield.movedToSpam" : "shield.backInTheInbox"), "info");
  } catch (failure) {
    toast(failure.message, "error");
  }
}
