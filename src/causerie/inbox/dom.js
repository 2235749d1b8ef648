/* DOM helpers. Every element is built with createElement and every piece of data goes in as
 * text (textContent, setAttribute): no message, nickname, email, page title or session data is
 * ever parsed as HTML, so none of it can run (docs/inbox.md, "Security").
 * An element given its `text` is isolated for the bidirectional algorithm (`dir="auto"`): a
 * right-to-left override in a nickname or a title stays inside it, and does not reverse the
 * time, the preview or the words beside it. */

import { t } from "./locale.js";

/** `el("button", {class: "x", text: "Save", onclick: fn, "aria-label": "..."}, child, ...)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  if ("text" in attrs && !("dir" in attrs)) node.setAttribute("dir", "auto");
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "value") node.value = String(value);
    else if (name === "checked" || name === "selected" || name === "disabled") node[name] = Boolean(value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** A paper clip, drawn as one stroke in a 24-unit square (the attach buttons). */
export const PAPER_CLIP = "M20 11 11.8 19.2a5 5 0 0 1-7-7L13.4 3.6a3.4 3.4 0 0 1 4.8 4.8L9.7 16.9a1.7 1.7 0 0 1-2.4-2.4L15 6.8";

/** An inline SVG icon of one stroked `path`, in the text's colour: drawn by the browser, not a
 * font (an emoji showed an empty box where no emoji font is installed). Hidden from assistive
 * technology: the control it sits in carries the name. */
export function icon(path, size = 18) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  for (const [name, value] of Object.entries({ viewBox: "0 0 24 24", width: size, height: size, fill: "none", stroke: "currentColor",
    "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false", class: "icon" })) {
    svg.setAttribute(name, String(value));
  }
  const line = document.createElementNS(NS, "path");
  line.setAttribute("d", path);
  svg.append(line);
  return svg;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replace every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Only http(s) URLs become links; anything else (javascript:, data:, ...) stays text. */
export function safeUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A link to an outside page when the URL is http(s), plain text otherwise. */
export function outsideLink(href, label) {
  const url = safeUrl(href);
  if (!url) return el("span", { class: "url", text: label ?? href ?? "" });
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", class: "url", text: label ?? url });
}

const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;

/** A message body: text nodes, with web links made clickable (never parsed as HTML). */
export function richText(body) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of String(body).matchAll(LINK)) {
    let url = match[0];
    const trailing = /[.,;:!?)\]}'"]+$/.exec(url);
    if (trailing) url = url.slice(0, -trailing[0].length);
    if (match.index > last) fragment.append(body.slice(last, match.index));
    fragment.append(outsideLink(url, url));
    last = match.index + url.length;
  }
  if (last < body.length) fragment.append(body.slice(last));
  return fragment;
}

let toastTimer = null;

/** A short message at the bottom of the screen (errors of background actions, confirmations). */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = el("p", { class: `toast ${kind}`, text });
  box.replaceChildren(item);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

/** A modal `<dialog>`; resolves with the value of the button that closed it ("" on Escape).
 * @param {{title: string, body: any, actions: {value: string, text: string, class?: string, autofocus?: boolean}[], label?: string, className?: string}} options */
export function modal({ title, body, actions, label, className = "" }) {
  const heading = el("h2", { class: "dialog-title", text: title, id: `dialog-${Math.random().toString(36).slice(2)}` });
  const form = el("form", { method: "dialog", class: "dialog-actions" });
  for (const action of actions) {
    form.append(el("button", {
      value: action.value, class: action.class || "button", text: action.text, autofocus: action.autofocus || false,
    }));
  }
  const dialog = el("dialog", { class: `dialog ${className}`, "aria-labelledby": heading.id, "aria-label": label }, heading, body, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue || "");
      dialog.remove();
    });
    dialog.showModal();
  });
}

/** Tab from the last field goes to the first, Shift+Tab from the first to the last: the focus
 * never leaves an open dialog (showModal makes the page inert, but not the browser's own bar). */
export function trapTab(dialog, event) {
  if (event.key !== "Tab") return;
  const focusable = [...dialog.querySelectorAll("input, button, select, textarea, a[href]")].filter((node) => !node.disabled && node.getClientRects().length);
  // A group of radio buttons is one stop: only the checked one is reached by Tab.
  const stops = focusable.filter((node) => node.type !== "radio" || node.checked);
  const first = stops[0], last = stops[stops.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/** Copy text to the clipboard; falls back to selecting it in `field` for the user to copy. */
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("dom.copiedToTheClipboard"));
    return true;
  } catch {
    if (field) {
      field.focus();
      field.select?.();
    }
    toast(t("dom.pressCtrlCC"));
    return false;
  }
}

/** A read-only field with its "Copy" button: for secrets and links shown once, and the snippet. */
export function copyBox(value, { label, multiline = false, name = "copy" }) {
  const field = multiline
    ? el("textarea", { class: "copy-field", readonly: true, rows: 4, "aria-label": label, "data-copy": name, spellcheck: "false" })
    : el("input", { class: "copy-field", readonly: true, type: "text", "aria-label": label, "data-copy": name, spellcheck: "false" });
  field.value = value;
  const button = el("button", { type: "button", class: "button", text: t("dom.copy"), onclick: () => copyText(value, field) });
  return el("div", { class: "copy-box" }, field, button);
}

export function isEditable(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

/** Save `text` as a file named `filename`, made in the browser (a Blob): nothing is fetched again. */
export function download(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
