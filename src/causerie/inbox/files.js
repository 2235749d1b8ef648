/* Files in the open conversation (docs/inbox.md, "Files"): the agent attaches files (a button,
 * drag and drop, paste), each uploaded with its progress bar and a cancel; file messages show as
 * an image preview (opening an accessible viewer) or a card downloaded as an attachment.
 * Every file is fetched with the agent's login (same origin) and shown from what was fetched (a
 * blob URL). Only PNG, JPEG, GIF and WebP are ever shown inline, as an <img>; anything else (SVG
 * and HTML included) is only ever downloaded, as a blob of no renderable type. */

import { csrf } from "./api.js";
import { PAPER_CLIP, el, icon } from "./dom.js";
import { addToThread } from "./thread-data.js";
import { t } from "./locale.js";
import { INLINE, fetchedOnce, humanSize as sizeIn, takeFiles, uploader } from "./uploads.js";

/** A file's bytes, fetched with the agent's login (same origin); previews' kept for the page. */
const blobOf = fetchedOnce((url) => fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "error" }));
/** thumbnail URL -> its blob URL, kept for the page's life (one per image seen). */
const shown = new Map();

const UNITS = { B: "files.bytes", kB: "files.kB", MB: "files.MB", GB: "files.GB" };
const UPLOAD_TEXTS = { uploading: "files.uploading", cancel: "files.cancel", retry: "files.retry", remove: "files.remove" };

export function humanSize(size) {
  return sizeIn(size, (n, unit) => t(UNITS[unit], { n: Number(n) }));
}

async function save(file) {
  const blob = await blobOf(file.url, false);
  const url = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
  const link = el("a", { href: url, download: file.name || "file", hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function openViewer(file, opener) {
  const blob = await blobOf(file.url, false);
  const url = URL.createObjectURL(new Blob([blob], { type: file.content_type }));
  const shut = el("button", { type: "button", class: "button viewer-close", "aria-label": t("files.close"), text: "×" });
  const dialog = el("dialog", { class: "viewer", role: "dialog", "aria-modal": "true", "aria-label": t("files.image", { name: file.name }) },
    el("img", { src: url, alt: file.name }), shut);
  shut.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Tab") {
      event.preventDefault(); // one control inside: focus stays on it
      shut.focus();
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    URL.revokeObjectURL(url);
    // The log may have been drawn again meanwhile: the same file's preview, then.
    const back = opener.isConnected ? opener : document.querySelector(`.preview[data-file="${CSS.escape(file.id)}"]`);
    back?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  shut.focus();
}

/** What a message of type `file` shows in place of its body. */
export function fileBody(message) {
  const file = message.file;
  if (!file) return null;
  if (file.expired) return el("div", { class: "body file-expired", text: t("files.deletedByRetention", { name: file.name }) });
  if (INLINE.includes(file.content_type)) {
    const img = el("img", { alt: file.name });
    const source = file.thumbnail_url || file.url;
    const ready = shown.get(source);
    if (ready) img.src = ready;
    else {
      blobOf(source).then((blob) => {
        const url = shown.get(source) || URL.createObjectURL(blob);
        shown.set(source, url);
        img.src = url;
      }, () => img.replaceWith(el("span", { class: "muted", text: t("files.notAvailable", { name: file.name }) })));
    }
    const button = el("button", { type: "button", class: "preview", "data-file": file.id, "aria-label": t("files.openTheImage", { name: file.name }) }, img);
    button.addEventListener("click", () => openViewer(file, button).catch(() => {}));
    return el("div", { class: "body file" }, button);
  }
  const card = el("button", { type: "button", class: "file-card", "data-file": file.id, "aria-label": t("files.download", { name: file.name }) },
    el("span", { class: "file-name", text: file.name }),
    el("span", { class: "file-kind", text: `${humanSize(file.size)} · ${file.content_type}` }));
  card.addEventListener("click", () => save(file).catch(() => {}));
  return el("div", { class: "body file" }, card);
}

function why(request) {
  const status = request.status;
  if (status === 413) return t("files.notSentTheFile");
  if (status === 415) return t("files.notSentThisWebsite");
  if (status === 429) {
    const seconds = Number(request.getResponseHeader("Retry-After"));
    return seconds > 0 ? t("files.tooManyRetryIn", { s: seconds }) : t("files.tooMany");
  }
  let message = "";
  try {
    message = JSON.parse(request.responseText).error.message;
  } catch {
    message = "";
  }
  return message ? t("files.notSentBecause", { message }) : t("files.notSent");
}

/** The composer's files: its button, paste in `text`, drop on `form`; uploads listed above. */
export function attachFiles(form, text, conversationId) {
  const list = el("ul", { class: "uploads", "aria-live": "polite" });
  const input = el("input", { type: "file", multiple: true, hidden: true, tabindex: "-1", id: "attach-input" });
  const button = el("button", {
    type: "button", class: "button subtle attach", id: "attach", "aria-label": t("files.attachFilesForThe"), title: t("files.attachFilesOrPaste"),
    onclick: () => input.click(),
  }, icon(PAPER_CLIP));
  const noteMode = () => form.classList.contains("note-mode"); // files go to the visitor, never in a note
  const upload = uploader({
    list,
    el,
    classes: { name: "file-name", button: "link ", why: "form-error why" },
    text: (key, values) => t(UPLOAD_TEXTS[key], values),
    why,
    open: async (request) => {
      request.open("POST", `/api/v1/conversations/${encodeURIComponent(conversationId)}/files`);
      const token = csrf();
      if (token) request.setRequestHeader("X-CSRF-Token", token);
      return true;
    },
    uploaded: addToThread,
  });
  const send = (files) => {
    if (noteMode()) return false;
    for (const file of files) upload(file);
    return files.length > 0;
  };
  takeFiles({ input, composer: text, zone: form }, send, () => !noteMode());
  return { list, button, input };
}
