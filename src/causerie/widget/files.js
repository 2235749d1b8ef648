/* Causerie chatbox, files (docs/widget.md, "Files"): the visitor attaches files (a button, drag
 * and drop, paste), each uploaded with its progress bar and a cancel; file messages show as an
 * image preview (opening an accessible viewer) or a card downloaded as an attachment.
 * Loaded with privacy.js when the chatbox is first opened: it costs nothing before. Every file is
 * fetched with the session's token and shown from what was fetched (a blob URL): a file's URL
 * alone grants nothing. Only PNG, JPEG, GIF and WebP are ever shown inline, as an <img>; anything
 * else (SVG and HTML included) is only ever downloaded. */

import { el } from "./view.js";
import * as STRINGS from "./strings-chatbox-extras.js";
import { INLINE, fetchedOnce, humanSize, takeFiles, uploader } from "./uploads.js";

/** @typedef {import("./chatbox.js").Chatbox} Chatbox */
/** @typedef {{id: string, name: string, size: number, content_type: string, url: string, thumbnail_url?: string, expired?: boolean}} WireFile */


const STYLE = `
.attach{flex:none;display:inline-flex;align-items:center;justify-content:center;width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:inherit;cursor:pointer}
.attach:hover,.attach:focus-visible{background:rgba(0,0,0,.06)}
.uploads{list-style:none;margin:0;padding:0 12px;display:flex;flex-direction:column;gap:6px}
.uploads:empty{display:none}
.upload{display:flex;flex-wrap:wrap;align-items:center;gap:6px;font-size:13px}
.upload .name{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.upload progress{width:100%;height:6px}
.upload .why{width:100%;color:#b00020}
.upload button{border:0;background:none;color:var(--accent);cursor:pointer;text-decoration:underline;font:inherit}
.panel.dropping{outline:3px dashed var(--accent);outline-offset:-6px}
.preview{display:block;padding:0;border:0;background:none;cursor:zoom-in;border-radius:8px;overflow:hidden}
.preview img{display:block;max-width:220px;max-height:220px}
.card{display:flex;flex-direction:column;align-items:flex-start;gap:2px;border:1px solid rgba(0,0,0,.15);border-radius:8px;padding:8px 10px;background:rgba(255,255,255,.6);color:inherit;font:inherit;text-align:start;cursor:pointer}
.card .kind{font-size:12px;opacity:.75}
.viewer{border:0;padding:0;background:transparent;max-width:96vw;max-height:96vh}
.viewer::backdrop{background:rgba(0,0,0,.75)}
.viewer img{display:block;max-width:92vw;max-height:88vh;margin:auto}
.viewer .shut{position:absolute;top:6px;right:6px;width:36px;height:36px;border-radius:50%;border:0;background:#fff;color:#000;font-size:20px;cursor:pointer}
`;

/** The attach button's paper clip: inline SVG in the text's colour, hidden from assistive
 * technology (the button has the name). Here, loaded on opening, it weighs nothing before; an
 * emoji showed an empty box where no emoji font is installed. The inbox draws the same path
 * (inbox/dom.js PAPER_CLIP). */
function paperClip() {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const attributes = { viewBox: "0 0 24 24", width: "20", height: "20", fill: "none", stroke: "currentColor",
    "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false" };
  for (const [name, value] of Object.entries(attributes)) svg.setAttribute(name, value);
  const line = document.createElementNS(NS, "path");
  line.setAttribute("d", "M20 11 11.8 19.2a5 5 0 0 1-7-7L13.4 3.6a3.4 3.4 0 0 1 4.8 4.8L9.7 16.9a1.7 1.7 0 0 1-2.4-2.4L15 6.8");
  svg.append(line);
  return svg;
}

/** Called once by privacy.js's install, once the chatbox has its view.
 * @param {Chatbox} app */
export function install(app) {
  const view = /** @type {import("./view.js").View} */ (app.view);
  /** @param {keyof typeof STRINGS.en.files} key @param {Record<string, string>} [values] */
  const t = (key, values = {}) => STRINGS[view.locale].files[key].replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  const { root, panel, form, composer, messages } = view.ui;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLE);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];

  // -- fetching with the token, once per URL --------------------------------------------------
  const blobOf = fetchedOnce((url) => fetch(app.base + url, { headers: { Authorization: `Bearer ${app.session.token}` }, credentials: "omit", cache: "no-store" }));
  /** @type {Map<string, string>} preview URL -> its blob URL, one per image for the page's life */
  const shown = new Map();

  /** @param {WireFile} file */
  const saveFile = (file) => blobOf(file.url, false).then((blob) => {
    // Saved, never shown: a blob of no renderable type, through <a download>.
    const url = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
    const link = el("a", { href: url, download: file.name || "file", hidden: true });
    root.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });

  // -- the viewer -----------------------------------------------------------------------------
  /** @param {WireFile} file @param {HTMLElement} opener */
  const openViewer = (file, opener) => blobOf(file.url, false).then((blob) => {
    const url = URL.createObjectURL(new Blob([blob], { type: file.content_type }));
    const shut = el("button", { type: "button", class: "shut", "aria-label": t("close") }, el("span", { "aria-hidden": "true", text: "×" }));
    const dialog = /** @type {HTMLDialogElement} */ (el("dialog", { class: "viewer", part: "viewer", role: "dialog", "aria-modal": "true", "aria-label": t("viewer", { name: file.name }) },
      el("img", { src: url, alt: file.name }), shut));
    shut.addEventListener("click", () => dialog.close());
    dialog.addEventListener("keydown", (event) => {
      // One control inside: Tab stays on it; Esc closes (the dialog's own cancel).
      if (event.key === "Tab") {
        event.preventDefault();
        shut.focus();
      }
      event.stopPropagation(); // not the panel's Esc, which would close the chatbox
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      URL.revokeObjectURL(url);
      const back = opener.isConnected ? opener : messages.querySelector(`[data-file="${CSS.escape(file.id)}"]`);
      /** @type {HTMLElement | null} */ (back)?.focus();
    });
    panel.append(dialog);
    dialog.showModal();
    shut.focus();
  }, () => {});

  // -- file messages --------------------------------------------------------------------------
  /** @param {string} key */
  const decorate = (key) => {
    const message = app.messages.get(key);
    const file = /** @type {WireFile | undefined} */ (message?.type === "file" ? message.file : undefined);
    const body = messages.querySelector(`[data-key="${CSS.escape(key)}"] .body`);
    if (!file || !body) return;
    if (file.expired) {
      body.replaceChildren(el("span", { class: "expired", text: `${file.name} — ${t("expired")}` }));
      return;
    }
    if (INLINE.includes(file.content_type)) {
      const img = /** @type {HTMLImageElement} */ (el("img", { alt: file.name }));
      const button = el("button", { type: "button", class: "preview", "data-file": file.id, "aria-label": t("open", { name: file.name }) }, img);
      button.addEventListener("click", () => openViewer(file, button));
      const source = file.thumbnail_url || file.url;
      blobOf(source).then((blob) => {
        img.src = shown.get(source) || URL.createObjectURL(blob);
        shown.set(source, img.src);
      }, () => {});
      body.replaceChildren(button);
    } else {
      const card = el("button", { type: "button", class: "card", "data-file": file.id, "aria-label": t("download", { name: file.name }) },
        el("span", { class: "name", text: file.name }),
        el("span", { class: "kind", text: `${humanSize(file.size)} · ${file.content_type}` }));
      card.addEventListener("click", () => saveFile(file).catch(() => {}));
      body.replaceChildren(card);
    }
  };
  const render = view.renderMessage.bind(view);
  view.renderMessage = (key) => {
    render(key);
    decorate(key);
  };
  for (const key of app.order) decorate(key);

  // -- uploads --------------------------------------------------------------------------------
  const list = el("ul", { class: "uploads", part: "uploads", "aria-live": "polite" });
  form.before(list);
  const input = /** @type {HTMLInputElement} */ (el("input", { type: "file", multiple: true, hidden: true, tabindex: "-1" }));
  const attach = el("button", { type: "button", class: "attach", part: "attach", "aria-label": t("attach") }, paperClip());
  // A hint for the picker only: the server judges each file by its content.
  if (app.website.settings.file_types === "images") input.accept = INLINE.join(",");
  attach.addEventListener("click", () => input.click());
  form.prepend(attach, input);

  const upload = uploader({
    list,
    el,
    classes: { name: "name", button: "", why: "why" },
    text: t,
    why: (request) => {
      const status = request.status;
      const retryAfter = request.getResponseHeader("Retry-After") || "";
      return status === 413 ? t("tooLarge") : status === 415 ? t("refused") : status === 429 ? t("wait", { s: retryAfter || "?" }) : t("failed");
    },
    open: async (request, line) => {
      // No session (after an erasure): a new one first; a Cancel meanwhile leaves nothing to send.
      if (!app.session.token) await app.ensureSession().then(() => app.refresh(), () => {});
      if (!line.isConnected) return false;
      request.open("POST", `${app.base}/api/widget/v1/session/files`);
      request.setRequestHeader("Authorization", `Bearer ${app.session.token}`);
      return true;
    },
    // Stored: as a typed message's ack, the host page hears of it (docs/widget.md, "Events").
    uploaded: (message) => {
      app.addMessage(message, false);
      app.emit("message:sent", message);
    },
  });
  // Chosen, pasted (a screenshot) into the composer, dropped anywhere on the panel.
  takeFiles({ input, composer, zone: panel }, (chosen) => {
    if (!chosen.length) return false;
    if (app.needsConsent()) app.extras(); // P9: nothing is sent before consent
    else for (const file of chosen) upload(file);
    return true;
  });
}
