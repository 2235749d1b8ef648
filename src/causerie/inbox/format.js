/* Formatting: names, times, short texts, in the inbox's language (locale.js). Pure functions, no
 * DOM. Dates and times are Intl's, in that language's way ("3 mars 2026 à 14:05"). */

import { currentLanguage, t, tn } from "./locale.js";

const formats = new Map();

/** Intl's formatters for the inbox's language now, made once per language. */
function formatters() {
  const language = currentLanguage();
  let made = formats.get(language);
  if (!made) {
    made = {
      time: new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit" }),
      day: new Intl.DateTimeFormat(language, { month: "short", day: "numeric" }),
      full: new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" }),
    };
    formats.set(language, made);
  }
  return made;
}

/** A number in the inbox's language (1,234.5 or 1 234,5). */
export function number(value, options = undefined) {
  return Number(value || 0).toLocaleString(currentLanguage(), options);
}

/** The name of a weekday in the inbox's language: 0 is Monday.
 * @param {number} day @param {"short" | "long"} [width] */
export function weekdayName(day, width = "short") {
  // 2024-01-01 was a Monday.
  return new Intl.DateTimeFormat(currentLanguage(), { weekday: width, timeZone: "UTC" }).format(Date.UTC(2024, 0, 1 + day));
}

function parse(value) {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/** "14:05" today, "Mar 3" before. */
export function shortTime(value) {
  const date = parse(value);
  if (!date) return "";
  const now = new Date();
  return date.toDateString() === now.toDateString() ? formatters().time.format(date) : formatters().day.format(date);
}

export function fullTime(value) {
  const date = parse(value);
  return date ? formatters().full.format(date) : "—";
}

export function clockTime(value) {
  const date = parse(value);
  return date ? formatters().time.format(date) : "";
}

/** How a visitor is called: their nickname, else their email, else "Visitor" and a short id. */
export function visitorName(profile, sessionId) {
  const nickname = (profile?.nickname || "").trim();
  if (nickname) return nickname;
  const email = (profile?.email || "").trim();
  if (email) return email;
  return t("format.visitor", { id: String(sessionId || "").slice(0, 4).toUpperCase() }).trim();
}

/** One or two letters for an avatar. */
export function initials(name) {
  const words = String(name || "?").replace(/[^\p{L}\p{N}\s]/gu, " ").trim().split(/\s+/);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || "?").slice(0, 2);
  return (letters || "?").toUpperCase();
}

/** A stable hue per visitor, for their avatar. */
export function hue(seed) {
  let h = 0;
  for (const c of String(seed || "")) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

export function preview(message) {
  if (!message) return t("format.noMessageYet");
  if (message.type === "event") return eventText(message);
  const body = String(message.body || "").replace(/\s+/g, " ").trim();
  const prefix = message.type === "note" ? t("format.note") : message.author === "operator" ? t("format.agent") : "";
  return prefix + body;
}

/** "in 3 minutes" from a number of seconds. */
export function waitText(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  return s < 60 ? tn("format.seconds", s) : tn("format.minutes", Math.ceil(s / 60));
}

export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An event line's words in the inbox's language, from its kind and parameters (`event`); a line
 * stored before events had them, or of a kind this inbox does not know, shows its English body. */
export function eventText(message) {
  const event = message.event;
  if (event?.kind === "transferred" && event.to) {
    return event.by ? t("format.transferredBy", { to: event.to, by: event.by }) : t("format.transferred", { to: event.to });
  }
  if (event?.kind === "auto_resolved" && Number.isFinite(event.minutes)) return tn("format.autoResolved", event.minutes);
  return String(message.body || "");
}

export function roleName(role) {
  return { owner: t("format.owner"), admin: t("format.admin"), agent: t("format.agent2") }[role] || String(role || "");
}

/** A value of the visitor's custom data, as text. */
export function dataText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
