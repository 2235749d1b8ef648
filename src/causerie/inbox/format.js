/* Formatting: names, times, short texts. Pure functions, no DOM. */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function parse(value) {
  const date = value ? new Date(value) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/** "14:05" today, "Mar 3" before. */
export function shortTime(value) {
  const date = parse(value);
  if (!date) return "";
  const now = new Date();
  return date.toDateString() === now.toDateString() ? timeFormat.format(date) : dayFormat.format(date);
}

export function fullTime(value) {
  const date = parse(value);
  return date ? fullFormat.format(date) : "—";
}

export function clockTime(value) {
  const date = parse(value);
  return date ? timeFormat.format(date) : "";
}

/** How a visitor is called: their nickname, else their email, else "Visitor" and a short id. */
export function visitorName(profile, sessionId) {
  const nickname = (profile?.nickname || "").trim();
  if (nickname) return nickname;
  const email = (profile?.email || "").trim();
  if (email) return email;
  return `Visitor ${String(sessionId || "").slice(0, 4).toUpperCase()}`.trim();
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
  if (!message) return "No message yet";
  const body = String(message.body || "").replace(/\s+/g, " ").trim();
  const prefix = message.type === "note" ? "Note: " : message.author === "operator" ? "Agent: " : "";
  return prefix + body;
}

/** "in 3 minutes" from a number of seconds. */
export function waitText(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return `${s} second${s === 1 ? "" : "s"}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? "" : "s"}`;
}

export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function roleName(role) {
  return { owner: "Owner", admin: "Admin", agent: "Agent" }[role] || String(role || "");
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
