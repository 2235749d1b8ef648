/* The shield page (docs/inbox.md, P18): the current website's block rules for its owners and
 * admins; for the operators CAUSERIE_SHIELD_ADMINS names, the networks most active now (by keyed
 * hash and a label that names no address or country), what was challenged and blocked, the last
 * 24 hours as a chart with its table, and the server-wide rules. */

import { api } from "./api.js";
import { el, replace, toast } from "./dom.js";
import { canAdmin, state, website } from "./store.js";

const KINDS = [["address", "Address"], ["network", "Network (CIDR)"], ["email", "Email or @domain"], ["user_agent", "User agent"]];
const SHOWN = [["loads", "Loads"], ["sessions", "Sessions"], ["messages", "Messages"], ["limited", "Limited"], ["challenged", "Challenged"], ["blocked", "Blocked"], ["flagged", "Flagged"]];

/** @param {HTMLElement} container */
export function renderShield(container) {
  const content = el("section", { class: "settings-content shield", "aria-labelledby": "shield-title" });
  replace(container, el("div", { class: "settings wide" }, el("div"), content));
  replace(content, el("h1", { id: "shield-title", text: "Shield" }),
    el("p", { class: "muted", text: "Networks are shown by a keyed hash, never by address (P18)." }));
  const rules = el("section", { "aria-labelledby": "rules-title" });
  const overview = el("section", { "aria-labelledby": "overview-title" });
  content.append(rules, overview);
  renderRules(rules, state.websiteId).catch((failure) => rules.append(el("p", { class: "form-error", text: failure.message })));
  renderOverview(overview).catch((failure) => overview.append(el("p", { class: "form-error", text: failure.message })));
}

/** The block rules of a website (or, `websiteId` null, the server-wide ones), with a form. */
async function renderRules(section, websiteId) {
  const server = websiteId === null;
  const path = server ? "/blocks" : `/websites/${websiteId}/blocks`;
  const heading = el("h2", { id: server ? "server-rules-title" : "rules-title", text: server ? "Server-wide block rules" : `Block rules of ${website()?.name || "this website"}` });
  if (!server && !canAdmin()) {
    replace(section, heading, el("p", { class: "muted", text: "Only the owners and admins of this website see and change its block rules." }));
    return;
  }
  const { blocks } = await api.get(path);
  const rows = blocks.map((rule) => el("tr", {},
    el("td", { text: rule.kind }), el("td", { text: rule.value }), el("td", { text: rule.reason }),
    el("td", { text: rule.expires_at ? new Date(rule.expires_at).toLocaleString() : "never" }),
    el("td", {}, el("button", { type: "button", class: "button subtle small", text: "Remove", onclick: async () => {
      await api.del(`${path}/${rule.id}`);
      toast("Block rule removed");
      renderRules(section, websiteId);
    } }))));
  const kind = el("select", { name: "kind", "aria-label": "Kind" }, KINDS.map(([value, label]) => el("option", { value, text: label })));
  const value = el("input", { name: "value", required: true, maxlength: "512", "aria-label": "Value", placeholder: "203.0.113.7" });
  const reason = el("input", { name: "reason", required: true, maxlength: "500", "aria-label": "Reason", placeholder: "Why" });
  const expires = el("input", { name: "expires", type: "date", "aria-label": "Expires (optional)" });
  const form = el("form", { class: "inline-form", onsubmit: async (event) => {
    event.preventDefault();
    const body = { kind: kind.value, value: value.value, reason: reason.value };
    if (expires.value) body.expires_at = new Date(`${expires.value}T00:00:00`).toISOString();
    try {
      await api.post(path, body);
      toast("Block rule added");
      renderRules(section, websiteId);
    } catch (failure) {
      toast(failure.message, "error");
    }
  } }, kind, value, reason, expires, el("button", { type: "submit", class: "button primary small", text: "Block" }));
  replace(section, heading,
    blocks.length
      ? el("table", { class: "table" }, el("thead", {}, el("tr", {}, ["Kind", "Value", "Reason", "Expires", ""].map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows))
      : el("p", { class: "muted", text: "No block rules." }),
    form);
}

async function renderOverview(section) {
  let data;
  try {
    data = await api.get("/shield");
  } catch (failure) {
    if (failure.status === 403) {
      replace(section, el("p", { class: "muted", text: "The networks and server-wide rules are shown to the operators CAUSERIE_SHIELD_ADMINS names." }));
      return;
    }
    throw failure;
  }
  const networks = data.networks.map((n) => el("tr", {},
    el("th", { scope: "row", text: n.label, title: n.network }),
    SHOWN.map(([key]) => el("td", { class: "num", text: String(n.counts[key] || 0) })),
    el("td", { class: "num", text: n.score.toFixed(1) }),
    el("td", { text: n.blocked ? "blocked" : n.challenged ? "challenged" : "" })));
  const serverRules = el("section", { "aria-labelledby": "server-rules-title" });
  replace(section,
    el("h2", { id: "overview-title", text: "Networks most active now" }),
    data.networks.length
      ? el("table", { class: "table", id: "shield-networks" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Network" }), SHOWN.map(([, label]) => el("th", { scope: "col", text: label })), el("th", { scope: "col", text: "Score" }), el("th", { scope: "col", text: "State" }))),
        el("tbody", {}, networks))
      : el("p", { class: "muted", text: "No traffic in the last 30 minutes." }),
    el("h2", { text: "The last 24 hours" }),
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
  svg.setAttribute("aria-label", "Chatbox loads and blocked requests per hour; the table below holds the figures");
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
  return el("details", {}, el("summary", { text: "The figures per hour" }),
    el("table", { class: "table", id: "shield-series" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Hour" }), SHOWN.map(([, label]) => el("th", { scope: "col", text: label })))),
      el("tbody", {}, series.map((hour) => el("tr", {},
        el("th", { scope: "row", text: new Date(hour.hour).toLocaleString([], { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" }) }),
        SHOWN.map(([key]) => el("td", { class: "num", text: String(hour[key] || 0) })))))));
}

/** Spam and block, from a conversation (thread.js shows these). @param {string} conversationId */
export function conversationActions(conversationId) {
  const spam = el("button", { type: "button", class: "button subtle small", text: "Mark as spam", onclick: async () => {
    await api.post(`/conversations/${conversationId}/spam`);
    toast("Moved to spam", "info");
  } });
  const notSpam = el("button", { type: "button", class: "button subtle small", text: "Not spam", onclick: async () => {
    await api.del(`/conversations/${conversationId}/spam`);
    toast("Back in the inbox", "info");
  } });
  const block = el("button", { type: "button", class: "button subtle small", text: "Block this visitor", hidden: !canAdmin(), onclick: async () => {
    const reason = window.prompt("Why block this visitor? (their address is blocked on this website)");
    if (!reason) return;
    try {
      await api.post(`/conversations/${conversationId}/block`, { reason });
      toast("Visitor blocked");
    } catch (failure) {
      toast(failure.message, "error");
    }
  } });
  return el("div", { class: "shield-actions" }, spam, notSpam, block);
}
