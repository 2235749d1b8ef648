/* Reports (docs/inbox.md "Reports"; docs/reports.md): a website's figures over a period, from
 * GET /api/v1/websites/{id}/reports. Charts are inline SVG drawn here, each followed by the table
 * of its data (screen readers read the table; the SVG is hidden from them). */

import { api, ApiError } from "./api.js";
import { state, website, operatorName } from "./store.js";
import { download, el, replace, toast } from "./dom.js";
import { currentLanguage, t, tn } from "./locale.js";
import { number, weekdayName } from "./format.js";
import { ensureLabels } from "./labels.js";

const SVG = "http://www.w3.org/2000/svg";
const PRESETS = [[7, "reports.days"], [30, "reports.days"], [90, "reports.days"], [365, "reports.months"]]; // days, how to say it

/** `by`: "" (agents only), "label" or "team": the breakdown shown under the agents.
 * @type {{from: string, to: string, tz: string, by: string}} */
const period = { from: "", to: "", tz: "", by: "" };
const BREAKDOWNS = [["", "reports.agentsOnly"], ["label", "reports.labels"], ["team", "reports.teams"]];

/** @param {string} tag @param {Record<string, string | number>} attrs @param {...Node} children */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

/** @param {Date} day */
function isoDay(day) {
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;
}

/** @param {number} days */
function lastDays(days) {
  const to = new Date();
  const from = new Date(to);
  from.setDate(to.getDate() - (days - 1));
  period.from = isoDay(from);
  period.to = isoDay(to);
}

function zone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** @param {number | null} seconds */
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return t("reports.seconds", { s: seconds });
  if (seconds < 3600) return t("reports.minutesSeconds", { min: Math.floor(seconds / 60), s: seconds % 60 });
  return t("reports.hoursMinutes", { h: Math.floor(seconds / 3600), min: Math.floor((seconds % 3600) / 60) });
}

/** @param {HTMLElement} container */
export function renderReports(container) {
  if (!period.from) lastDays(30);
  if (!period.tz) period.tz = zone();
  const site = website();
  const content = el("section", { class: "reports", "aria-labelledby": "reports-title" });
  replace(container, content);
  if (!site) {
    replace(content, el("h1", { id: "reports-title", text: t("reports.reports") }), el("p", { class: "muted", text: t("reports.noWebsiteYet") }));
    return;
  }
  const from = el("input", { type: "date", id: "report-from", value: period.from, required: true });
  const to = el("input", { type: "date", id: "report-to", value: period.to, required: true });
  const tz = el("input", { type: "text", id: "report-tz", value: period.tz, size: "18", spellcheck: "false" });
  const by = el("select", { id: "report-by" },
    ...BREAKDOWNS.map(([value, key]) => el("option", { value, text: t(key), selected: value === period.by })));
  const results = el("div", { class: "report-results", "aria-live": "polite" });
  const form = el("form", { class: "report-period", "aria-label": t("reports.period") },
    el("label", { for: "report-from", text: t("reports.from") }), from,
    el("label", { for: "report-to", text: t("reports.to") }), to,
    el("label", { for: "report-tz", text: t("reports.timeZone") }), tz,
    el("label", { for: "report-by", text: t("reports.breakdown") }), by,
    el("button", { type: "submit", class: "button primary", text: t("reports.show") }),
    ...PRESETS.map(([days, label]) => el("button", {
      type: "button", class: "button subtle small", text: tn(label, days === 365 ? 12 : days),
      onclick: () => { lastDays(Number(days)); from.value = period.from; to.value = period.to; load(); },
    })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    period.from = from.value;
    period.to = to.value;
    period.tz = tz.value.trim() || "UTC";
    period.by = by.value;
    load();
  });
  const exportCsv = el("button", { type: "button", class: "button", id: "report-csv", text: t("reports.exportCsv"), onclick: () => csv(site.id) });
  replace(content,
    el("div", { class: "report-head" }, el("h1", { id: "reports-title", text: t("reports.reportsOf", { website: site.name }) }), exportCsv),
    form, results);

  async function load() {
    replace(results, el("p", { class: "muted", text: t("reports.loading") }));
    try {
      const report = await api.get(`/websites/${encodeURIComponent(site.id)}/reports`, { ...period });
      const names = await groupNames(site.id, period.by);
      if (state.websiteId !== site.id) return;
      show(results, report, names);
    } catch (failure) {
      const message = failure instanceof ApiError ? failure.message : t("reports.theReportCouldNot");
      replace(results, el("p", { class: "form-error", role: "alert", text: message }));
    }
  }
  load();
}

/** The names of the website's labels or teams, by id (a deleted one shows its id).
 * @param {string} websiteId @param {string} by @returns {Promise<Map<string, string>>} */
async function groupNames(websiteId, by) {
  if (by === "label") return new Map((await ensureLabels(websiteId)).map((l) => [l.id, l.name]));
  if (by !== "team") return new Map();
  const found = await api.get(`/websites/${encodeURIComponent(websiteId)}/teams`);
  return new Map((found.teams || []).map((/** @type {any} */ team) => [team.id, team.name]));
}

/** @param {string} websiteId */
async function csv(websiteId) {
  const query = new URLSearchParams(period).toString();
  try {
    const response = await fetch(`/api/v1/websites/${encodeURIComponent(websiteId)}/reports?${query}`, {
      headers: { Accept: "text/csv" }, credentials: "same-origin", cache: "no-store",
    });
    if (!response.ok) throw new Error(String(response.status));
    const name = `report-${period.from}-${period.to}${period.by ? `-${period.by}` : ""}.csv`;
    download(name, await response.text(), "text/csv");
  } catch {
    toast(t("reports.theCsvCouldNot"), "error");
  }
}

/** @param {number} now @param {number} before */
function change(now, before) {
  if (!before) return now ? t("reports.new") : t("reports.noChange");
  const percent = Math.round(((now - before) / before) * 100);
  return t("reports.versusPrevious", { change: (percent / 100).toLocaleString(currentLanguage(), { style: "percent", signDisplay: "always" }) });
}

/** @param {HTMLElement} results @param {any} report @param {Map<string, string>} names */
function show(results, report, names) {
  const totals = report.totals;
  const p = report.previous.totals;
  const cards = [
    [t("reports.conversations"), totals.conversations_started, p.conversations_started],
    [t("reports.resolved"), totals.conversations_resolved, p.conversations_resolved],
    [t("reports.visitorMessages"), totals.messages_visitor, p.messages_visitor],
    [t("reports.agentMessages"), totals.messages_operator, p.messages_operator],
    [t("reports.chatboxLoads"), totals.chatbox_loads, p.chatbox_loads],
    [t("reports.newSessions"), totals.sessions_created, p.sessions_created],
  ].map(([label, now, before]) => el("div", { class: "report-card" },
    el("span", { class: "muted", text: String(label) }),
    el("strong", { text: number(now) }),
    el("span", { class: "muted small", text: change(Number(now), Number(before)) })));
  const times = el("dl", { class: "report-times" },
    el("dt", { text: t("reports.firstResponseMedian90") }),
    el("dd", { text: `${duration(totals.first_response_median)} / ${duration(totals.first_response_p90)}` }),
    el("dt", { text: t("reports.resolutionMedian90") }),
    el("dd", { text: `${duration(totals.resolution_median)} / ${duration(totals.resolution_p90)}` }),
    el("dt", { text: t("reports.ratings") }),
    el("dd", { text: totals.ratings_count ? t("reports.ratingsValue", { average: totals.ratings_average, n: totals.ratings_count }) : "–" }));
  replace(results,
    el("div", { class: "report-cards" }, ...cards), times,
    barChart(t("reports.conversationsStartedPerDay"), report.days, "conversations_started", (v) => number(v)),
    barChart(t("reports.firstResponseMedianPer"), report.days, "first_response_median", duration),
    heatmap(report.heatmap),
    figuresTable("agents", report.agents, (a) => operatorName(a.operator_id) || a.operator_id),
    ...(report.labels ? [figuresTable("labels", report.labels, (l) => names.get(l.label_id) || l.label_id)] : []),
    ...(report.teams ? [figuresTable("teams", report.teams, (team) => names.get(team.team_id) || team.team_id)] : []));
}

/** A bar per day, then the same numbers as a table.
 * @param {string} title @param {any[]} days @param {string} key @param {(v: any) => string} label */
function barChart(title, days, key, label) {
  const width = 720;
  const height = 160;
  const values = days.map((d) => Number(d[key] || 0));
  const top = Math.max(1, ...values);
  const step = width / Math.max(1, days.length);
  const bars = days.map((d, i) => {
    const h = Math.round((values[i] / top) * (height - 20));
    return svg("rect", { x: (i * step + 1).toFixed(1), y: height - h, width: Math.max(1, step - 2).toFixed(1), height: h, class: "bar" },
      svg("title", {}, document.createTextNode(`${d.date}: ${label(d[key])}`)));
  });
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", "aria-hidden": "true", focusable: "false" },
    svg("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "axis" }), ...bars);
  const id = `chart-${key}`;
  const table = el("table", { class: "report-table" },
    el("caption", { class: "visually-hidden", text: title }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("reports.day") }), el("th", { scope: "col", text: title }))),
    el("tbody", {}, ...days.map((d) => el("tr", {}, el("th", { scope: "row", text: d.date }), el("td", { text: label(d[key] ?? null) })))));
  return el("figure", { class: "report-chart", "aria-labelledby": id },
    el("figcaption", { id, text: title }), chart,
    el("details", {}, el("summary", { text: t("reports.dataTable") }), table));
}

/** Conversations started by local weekday and hour.
 * @param {number[][]} grid */
function heatmap(grid) {
  const cell = 24;
  const top = Math.max(1, ...grid.flat());
  const rects = [];
  grid.forEach((row, day) => row.forEach((count, hour) => {
    rects.push(svg("rect", {
      x: 40 + hour * cell, y: day * cell, width: cell - 2, height: cell - 2, class: "heat",
      "fill-opacity": (0.08 + 0.92 * (count / top)).toFixed(2),
    }, svg("title", {}, document.createTextNode(`${weekdayName(day)} ${hour}:00 – ${number(count)}`))));
  }));
  const labels = [0, 1, 2, 3, 4, 5, 6].map((day) => weekdayName(day)).map((name, day) => svg("text", { x: 0, y: day * cell + 16, class: "label" }, document.createTextNode(name)));
  const chart = svg("svg", { viewBox: `0 0 ${40 + 24 * cell} ${7 * cell}`, class: "chart heatmap", "aria-hidden": "true", focusable: "false" },
    ...labels, ...rects);
  const table = el("table", { class: "report-table" },
    el("caption", { class: "visually-hidden", text: t("reports.conversationsStartedByWeekday") }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: t("reports.day") }),
      ...Array.from({ length: 24 }, (_, h) => el("th", { scope: "col", text: String(h) })))),
    el("tbody", {}, ...grid.map((row, day) => el("tr", {}, el("th", { scope: "row", text: weekdayName(day) }),
      ...row.map((count) => el("td", { text: number(count) }))))));
  return el("figure", { class: "report-chart", "aria-labelledby": "chart-heatmap" },
    el("figcaption", { id: "chart-heatmap", text: t("reports.whenConversationsStartWeekday") }), chart,
    el("details", {}, el("summary", { text: t("reports.dataTable") }), table));
}

const TABLES = {
  agents: { title: "reports.agents", first: "reports.agent", none: "reports.noAgentActivityIn" },
  labels: { title: "reports.labels", first: "reports.label", none: "reports.noLabelActivityIn" },
  teams: { title: "reports.teams", first: "reports.team", none: "reports.noTeamActivityIn" },
};

/** A table of figures per agent, label or team (an agent starts no conversation: no column).
 * @param {"agents" | "labels" | "teams"} kind @param {any[]} rows @param {(row: any) => string} nameOf */
function figuresTable(kind, rows, nameOf) {
  const words = TABLES[kind];
  const id = `report-${kind}-title`;
  const started = kind !== "agents";
  const body = rows.map((r) => el("tr", {},
    el("th", { scope: "row", text: nameOf(r) }),
    started ? el("td", { text: number(r.conversations_started) }) : null,
    el("td", { text: number(r.messages_operator) }),
    el("td", { text: number(r.conversations_resolved) }),
    el("td", { text: duration(r.first_response_median) }),
    el("td", { text: duration(r.resolution_median) }),
    el("td", { text: r.ratings_count ? number(r.ratings_average) : "–" })));
  const head = [t(words.first), ...(started ? [t("reports.conversations")] : []), t("reports.agentMessages"),
    t("reports.resolved"), t("reports.firstResponseMedian"), t("reports.resolutionMedian"), t("reports.rating")];
  return el("section", { class: `report-${kind}`, "aria-labelledby": id },
    el("h2", { id, text: t(words.title) }),
    rows.length ? el("table", { class: "report-table" },
      el("thead", {}, el("tr", {}, ...head.map((text) => el("th", { scope: "col", text })))),
      el("tbody", {}, ...body)) : el("p", { class: "muted", text: t(words.none) }));
}
