/* Files in a chat, the part the chatbox (widget/files.js) and the inbox (inbox/files.js) share:
 * each upload a line of a list with its progress bar and a Cancel until every byte is sent, a
 * failed one kept with Retry and Remove; the files a picker, a paste or a drop brings; each file
 * fetched once; sizes in words. Each side says where a file goes, with which credentials, in
 * which words and with which classes (docs/widget.md and docs/inbox.md, "Files"). */

/** The only types ever shown inline, as an <img>; anything else (SVG and HTML included) is only
 * ever downloaded. */
export const INLINE = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** An upload that sends no byte, or then waits for its answer, this long (milliseconds) is given
 * up: aborted and shown failed with Retry, so that the uploads after it go (a server that never
 * answers, a stalled network would hold the queue forever). Progress resets it: a slow upload
 * that moves is never cut. */
export const STALL_MS = 30_000;

/** @typedef {(tag: string, attrs?: Record<string, string>, ...children: (Node | null)[]) => HTMLElement} Make */
/** @typedef {"uploading" | "cancel" | "retry" | "remove"} UploadText */
/**
 * @typedef {object} Uploads
 * @property {HTMLElement} list where each upload's line goes
 * @property {Make} el the side's element builder
 * @property {{name: string, button: string, why: string}} classes of a line's file name, its
 *   buttons (before `cancel`, `retry`, `remove`) and its failure's reason
 * @property {(key: UploadText, values?: Record<string, string>) => string} text
 * @property {(request: XMLHttpRequest) => string} why a failed upload's reason, in words
 * @property {(request: XMLHttpRequest, line: HTMLElement) => Promise<boolean>} open opens the
 *   request with its credentials; false: not to be sent (the line was cancelled meanwhile)
 * @property {(message: any) => void} uploaded the file's message, as the server answered it
 */

/** `upload(file)` for these `options`: the file is posted as the multipart field `file`, with a
 * `client_id` of its own that a Retry sends again, so that an upload whose answer was lost on
 * the way is not stored twice (the server answers 200 with the message stored then).
 *
 * Uploads go one after another, in the order they were given (a Retry at the end): each post
 * stores the file and its message at once, so files sent side by side were stored, and shown,
 * in the order they finished, not the order chosen. They share the sender's bandwidth anyway;
 * a line waiting its turn (`data-state="waiting"`) shows at once and may be cancelled. One
 * stalled for `STALL_MS` fails (Retry sends it again, at the end) and the next one goes.
 * @param {Uploads} options */
export function uploader(options) {
  const { list, el, classes, text } = options;
  /** @param {string} kind @param {string} label @param {() => void} act */
  const button = (kind, label, act) => {
    const made = el("button", { type: "button", class: `${classes.button}${kind}`, text: label });
    made.addEventListener("click", act);
    return made;
  };
  /** @type {Promise<void>} the last upload given, done when it is answered */
  let turn = Promise.resolve();
  /** @param {File} file @param {string} clientId
   * @param {HTMLElement | null} previous the line of a retried upload */
  const upload = (file, clientId, previous) => {
    const name = file.name || "file";
    const request = new XMLHttpRequest();
    const bar = el("progress", { max: "100", value: "0", "aria-label": text("uploading", { name }) });
    const cancel = button("cancel", text("cancel"), () => {
      request.abort();
      line.remove();
    });
    const line = el("li", { class: "upload", "data-state": "waiting" }, el("span", { class: classes.name, text: name }), cancel, bar);
    if (previous) previous.replaceWith(line);
    else list.append(line);
    // Once every byte is sent the server has the file: too late to cancel.
    request.upload.addEventListener("load", () => cancel.remove());
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.setAttribute("value", String(Math.round((event.loaded / event.total) * 100)));
    });
    const fail = () => {
      line.dataset.state = "failed";
      line.dataset.status = String(request.status);
      line.replaceChildren(el("span", { class: classes.name, text: name }),
        button("retry", text("retry"), () => upload(file, clientId, line)),
        button("remove", text("remove"), () => line.remove()),
        el("span", { class: classes.why, role: "alert", text: options.why(request) }));
    };
    request.addEventListener("load", () => {
      if (request.status !== 201 && request.status !== 200) return fail();
      line.remove();
      try {
        options.uploaded(JSON.parse(request.responseText).message);
      } catch {
        // The message comes on the socket as well.
      }
    });
    request.addEventListener("error", fail);
    let timer = 0;
    let stalled = false;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        request.abort();
      }, STALL_MS);
    };
    request.upload.addEventListener("progress", watch);
    request.upload.addEventListener("load", watch); // every byte sent: now its answer
    request.addEventListener("abort", () => stalled && fail()); // a Cancel removed its line
    request.addEventListener("loadend", () => clearTimeout(timer));
    const send = async () => {
      // Cancelled while it waited, or while `open` made a session: nothing to send.
      if (!line.isConnected || !(await options.open(request, line)) || !line.isConnected) return;
      line.dataset.state = "sending";
      const done = new Promise((resolve) => request.addEventListener("loadend", resolve));
      const body = new FormData();
      body.append("client_id", clientId);
      body.append("file", file, name);
      request.send(body);
      watch();
      await done; // answered, failed or cancelled: the next one's turn
    };
    turn = turn.then(send, send);
  };
  /** @param {File} file */
  return (file) => {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    upload(file, `file-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`, null);
  };
}

/** Files chosen with `input`, pasted into `composer` or dropped on `zone` go to `send`, which
 * answers whether it took them (if not, a paste or a drop does what it would have done).
 * `canTake()` false: a drag is not even offered the zone.
 * @param {{input: HTMLInputElement, composer: HTMLElement, zone: HTMLElement}} where
 * @param {(files: File[]) => boolean} send @param {() => boolean} [canTake] */
export function takeFiles({ input, composer, zone }, send, canTake = () => true) {
  input.addEventListener("change", () => {
    send([...(input.files || [])]);
    input.value = "";
  });
  composer.addEventListener("paste", (event) => {
    const pasted = [...(event.clipboardData?.files || [])];
    if (pasted.length && send(pasted)) event.preventDefault();
  });
  zone.addEventListener("dragover", (event) => {
    if (!canTake() || !event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    zone.classList.add("dropping");
  });
  zone.addEventListener("dragleave", (event) => {
    if (event.target === zone) zone.classList.remove("dropping");
  });
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("dropping");
    const dropped = [...(event.dataTransfer?.files || [])];
    if (dropped.length && send(dropped)) event.preventDefault();
  });
}

/** `blobOf(url, keep)`: a file's bytes, fetched by `load`; with `keep` (previews) the answer is
 * kept for the page's life (a message list is drawn again on every change), else (a download,
 * the viewer) fetched anew.
 * @param {(url: string) => Promise<Response>} load */
export function fetchedOnce(load) {
  /** @type {Map<string, Promise<Blob>>} */
  const fetched = new Map();
  /** @param {string} url @param {boolean} [keep] */
  return (url, keep = true) => {
    let found = fetched.get(url);
    if (!found) {
      found = load(url).then((response) => {
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
}

/** `1.2 MB`, or in the words `format` gives a number (as digits) and its unit (`B`, `kB`, `MB`,
 * `GB`). @param {number} size @param {(n: string, unit: string) => string} [format] */
export function humanSize(size, format = (n, unit) => `${n} ${unit}`) {
  if (size < 1000) return format(String(size), "B");
  const units = ["kB", "MB", "GB"];
  let value = size / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return format(value < 10 ? value.toFixed(1) : String(Math.round(value)), units[unit]);
}
