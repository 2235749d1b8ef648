/* Files in the open conversation (docs/inbox.md, "Files"): the agent attaches files (a button,
 * drag and drop, paste), each uploaded with its progress bar and a cancel; file messages show as
 * an image preview (opening an accessible viewer) or a card downloaded as an attachment.
 * Every file is fetched with the agent's login (same origin) and shown from what was fetched (a
 * blob URL). Only PNG, JPEG, GIF and WebP are ever shown inline, as an <img>; anything else (SVG
 * and HTML included) is only ever downloaded, as a blob of no renderable type. */

import { csrf } from "./api.js";
import { el } from "./dom.js";
import { addToThread } from "./thread-data.js";
import { t } from "./locale.js";

const INLINE = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** preview URL -> its bytes, fetched once (the log is drawn again on every change). */
const fetched = new Map();
/** thumbnail URL -> its blob URL, kept for the page's life (one per image seen). */
const shown = new Map();

/** `keep`: kept for the page's life (previews); a download or the viewer fetches anew. */
function blobOf(url, keep = true) {
  let found = fetched.get(url);
  if (!found) {
    found = fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "error" }).then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.blob();
    });
    if (keep) {
      found.catch(() => fetched.delete(url));
      fetched.set(url, found);
    }
  }
  return found;
}

export function humanSize(size) {
  if (size < 1000) return t("files.bytes", { n: size });
  const units = ["files.kB", "files.MB", "files.GB"];
  let value = size / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return t(units[unit], { n: Number(value < 10 ? value.toFixed(1) : Math.round(value)) });
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
    type: "button", class: "button subtle attach", id: "attach", "aria-label": t("files.attachFilesForThe"), title: t("files.attachFilesOrPaste"), text: "📎",
    onclick: () => input.click(),
  });
  const noteMode = () => form.classList.contains("note-mode"); // files go to the visitor, never in a note

  const upload = (file, previous) => {
    const name = file.name || "file";
    const bar = el("progress", { max: "100", value: "0", "aria-label": t("files.uploading", { name }) });
    const request = new XMLHttpRequest();
    const cancel = el("button", { type: "button", class: "link cancel", text: t("files.cancel"), onclick: () => { request.abort(); line.remove(); } });
    const line = el("li", { class: "upload", "data-state": "sending" }, el("span", { class: "file-name", text: name }), cancel, bar);
    // Once every byte is sent the server has the file: too late to cancel.
    request.upload.addEventListener("load", () => cancel.remove());
    if (previous) previous.replaceWith(line);
    else list.append(line);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    const fail = () => {
      line.dataset.state = "failed";
      line.dataset.status = String(request.status);
      line.replaceChildren(el("span", { class: "file-name", text: name }),
        el("button", { type: "button", class: "link retry", text: t("files.retry"), onclick: () => upload(file, line) }),
        el("button", { type: "button", class: "link remove", text: t("files.remove"), onclick: () => line.remove() }),
        el("span", { class: "form-error why", role: "alert", text: why(request) }));
    };
    request.addEventListener("load", () => {
      if (request.status !== 201) return fail();
      line.remove();
      try {
        addToThread(JSON.parse(request.responseText).message);
      } catch {
        // It comes on the socket as well.
      }
    });
    request.addEventListener("error", fail);
    request.open("POST", `/api/v1/conversations/${encodeURIComponent(conversationId)}/files`);
    const token = csrf();
    if (token) request.setRequestHeader("X-CSRF-Token", token);
    const body = new FormData();
    body.append("file", file, name);
    request.send(body);
  };
  const send = (files) => {
    if (noteMode()) return false;
    for (const file of files) upload(file, null);
    return files.length > 0;
  };

  input.addEventListener("change", () => {
    send([...input.files]);
    input.value = "";
  });
  text.addEventListener("paste", (event) => {
    const pasted = [...(event.clipboardData?.files || [])];
    if (pasted.length && send(pasted)) event.preventDefault();
  });
  form.addEventListener("dragover", (event) => {
    if (noteMode() || !event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", (event) => {
    if (event.target === form) form.classList.remove("dropping");
  });
  form.addEventListener("drop", (event) => {
    form.classList.remove("dropping");
    const dropped = [...(event.dataTransfer?.files || [])];
    if (dropped.length && send(dropped)) event.preventDefault();
  });
  return { list, button, input };
}
