/* Causerie chatbox, files (docs/widget.md, "Files"): the visitor attaches files (a button, drag
 * and drop, paste), each uploaded with its progress bar and a cancel; file messages show as an
 * image preview (opening an accessible viewer) or a card downloaded as an attachment.
 * Loaded with privacy.js when the chatbox is first opened: it costs nothing before. Every file is
 * fetched with the session's token and shown from what was fetched (a blob URL): a file's URL
 * alone grants nothing. Only PNG, JPEG, GIF and WebP are ever shown inline, as an <img>; anything
 * else (SVG and HTML included) is only ever downloaded. */

import { el } from "./view.js";
import * as STRINGS from "./strings-chatbox-extras.js";

/** @typedef {import("./chatbox.js").Chatbox} Chatbox */
/** @typedef {{id: string, name: string, size: number, content_type: string, url: string, thumbnail_url?: string, expired?: boolean}} WireFile */


export const INLINE = ["image/png", "image/jpeg", "image/gif", "image/webp"];

const STYLE = `
.attach{flex:none;width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:inherit;cursor:pointer;font-size:18px}
.attach:hover,.attach:focus-visible{background:rgba(0,0,0,.06)}
.uploads{list-style:none;margin:0;padding:0 12px;display:flex;flex-direction:column;gap:6px}
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

/** `1.2 MB`. @param {number} size */
export function humanSize(size) {
  if (size < 1000) return `${size} B`;
  const units = ["kB", "MB", "GB"];
  let value = size / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
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
  /** @type {Map<string, Promise<Blob>>} */
  const fetched = new Map();
  /** @type {Map<string, string>} preview URL -> its blob URL, one per image for the page's life */
  const shown = new Map();
  /** @param {string} url @param {boolean} [keep] kept for the page's life (previews only) */
  const blobOf = (url, keep = true) => {
    let found = fetched.get(url);
    if (!found) {
      found = fetch(app.base + url, { headers: { Authorization: `Bearer ${app.session.token}` }, credentials: "omit", cache: "no-store" })
        .then((response) => {
          if (!response.ok) throw new Error(String(response.status));
          return response.blob();
        });
      if (keep) {
        found.catch(() => fetched.delete(url));
        fetched.set(url, found);
      }
    }
    return found;
  };

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
  const attach = el("button", { type: "button", class: "attach", part: "attach", "aria-label": t("attach") }, el("span", { "aria-hidden": "true", text: "📎" }));
  // A hint for the picker only: the server judges each file by its content.
  if (app.website.settings.file_types === "images") input.accept = INLINE.join(",");
  attach.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    send([...(input.files || [])]);
    input.value = "";
  });
  form.prepend(attach, input);

  /** @param {File[]} chosen */
  const send = (chosen) => {
    if (!chosen.length) return;
    if (app.needsConsent()) return void app.extras(); // P9: nothing is sent before consent
    for (const file of chosen) upload(file, null);
  };

  /** @param {File} file @param {HTMLElement | null} item the line of a retried upload */
  const upload = async (file, item) => {
    const name = file.name || "file";
    const bar = el("progress", { max: "100", value: "0", "aria-label": t("uploading", { name }) });
    const cancel = el("button", { type: "button", class: "cancel", text: t("cancel") });
    const line = el("li", { class: "upload", "data-state": "sending" }, el("span", { class: "name", text: name }), cancel, bar);
    if (item) item.replaceWith(line);
    else list.append(line);
    const request = new XMLHttpRequest();
    cancel.addEventListener("click", () => {
      request.abort();
      line.remove();
    });
    // Once every byte is sent the server has the file: too late to cancel.
    request.upload.addEventListener("load", () => cancel.remove());
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.setAttribute("value", String(Math.round((event.loaded / event.total) * 100)));
    });
    const fail = () => {
      const retryAfter = request.getResponseHeader("Retry-After") || "";
      const status = request.status;
      const why = status === 413 ? t("tooLarge") : status === 415 ? t("refused") : status === 429 ? t("wait", { s: retryAfter || "?" }) : t("failed");
      const retry = el("button", { type: "button", class: "retry", text: t("retry") });
      const remove = el("button", { type: "button", class: "remove", text: t("remove") });
      retry.addEventListener("click", () => upload(file, line));
      remove.addEventListener("click", () => line.remove());
      line.dataset.state = "failed";
      line.dataset.status = String(status);
      line.replaceChildren(el("span", { class: "name", text: name }), retry, remove, el("span", { class: "why", role: "alert", text: why }));
    };
    request.addEventListener("load", () => {
      if (request.status !== 201) return fail();
      line.remove();
      try {
        app.addMessage(JSON.parse(request.responseText).message, false);
      } catch {
        // The message comes on the socket as well.
      }
    });
    request.addEventListener("error", fail);
    // No session (after an erasure): a new one first; a Cancel meanwhile leaves nothing to send.
    if (!app.session.token) await app.ensureSession().then(() => app.refresh(), () => {});
    if (!line.isConnected) return;
    request.open("POST", `${app.base}/api/widget/v1/session/files`);
    request.setRequestHeader("Authorization", `Bearer ${app.session.token}`);
    const body = new FormData();
    body.append("file", file, name);
    request.send(body);
  };

  // Paste (a screenshot) into the composer, drop anywhere on the panel.
  composer.addEventListener("paste", (event) => {
    const pasted = [...(event.clipboardData?.files || [])];
    if (!pasted.length) return;
    event.preventDefault();
    send(pasted);
  });
  panel.addEventListener("dragover", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    panel.classList.add("dropping");
  });
  panel.addEventListener("dragleave", (event) => {
    if (event.target === panel) panel.classList.remove("dropping");
  });
  panel.addEventListener("drop", (event) => {
    panel.classList.remove("dropping");
    const dropped = [...(event.dataTransfer?.files || [])];
    if (!dropped.length) return;
    event.preventDefault();
    send(dropped);
  });
}
