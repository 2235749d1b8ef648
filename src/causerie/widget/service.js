/* Causerie chatbox, what the website's team tells the visitor (docs/widget.md): outside its
 * business hours, when it is back and its away message; once the conversation is resolved, a
 * rating (1 to 5 stars and an optional comment); with no agent online, a field for an email to
 * reply to. Loaded by privacy.js when the chatbox is first opened (the email's field by view.js,
 * when it is asked), so that it costs nothing before. */

import { el } from "./view.js";
import * as STRINGS from "./strings-chatbox-extras.js";


/** Asks the visitor for an email to reply to, below the messages (no agent online after their
 * message); `save` stores it and says whether it was.
 * @param {import("./view.js").View} view @param {(email: string) => Promise<boolean>} save */
export function askEmail(view, save) {
  const words = STRINGS[view.locale].email;
  const input = /** @type {HTMLInputElement} */ (el("input", { type: "email", "aria-label": words.label, placeholder: words.label, required: true, autocomplete: "email" }));
  const form = el("form", { class: "email" }, el("p", { text: words.ask }), input,
    el("button", { type: "submit", text: words.save }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = input.value.trim();
    if (email) save(email).then((saved) => saved && form.replaceChildren(el("p", { text: words.saved.replace("{email}", email) })));
  });
  view.ui.messages.append(form);
  view.scrollDown(); // under the message just sent: in sight
}

/** Called once with the chatbox, once it has its view and its session.
 * @param {import("./chatbox.js").Chatbox} app */
export async function install(app) {
  const view = /** @type {import("./view.js").View} */ (app.view);
  /** @param {keyof typeof STRINGS.en.service} key */
  const t = (key) => STRINGS[view.locale].service[key];
  const { messages, form } = view.ui;

  // The messages keep their newest line in sight when what is around them takes room (the
  // rating, the away notice, a composer growing); a visitor who scrolled up stays where they are.
  let atEnd = true;
  messages.addEventListener("scroll", () => (atEnd = messages.scrollHeight - messages.scrollTop - messages.clientHeight <= 2), { passive: true });
  new ResizeObserver(() => atEnd && view.scrollDown()).observe(messages);

  // -- outside business hours: a notice above the messages ---------------------------------
  const away = el("div", { class: "away", part: "away", role: "status", hidden: true });
  messages.before(away);

  function renderAway() {
    /** @type {{open: boolean, back_at: string | null, away_message: string} | undefined} */
    const hours = /** @type {any} */ (app.website.availability)?.hours;
    const closed = !!hours && !hours.open && !app.online;
    away.hidden = !closed;
    if (!closed || !hours) return;
    const when = hours.back_at && new Date(hours.back_at).toLocaleString(view.locale, { weekday: "long", hour: "2-digit", minute: "2-digit" });
    away.replaceChildren(
      el("p", { class: "back", text: when ? t("back").replace("{when}", when) : t("closed") }),
      hours.away_message ? el("p", { text: hours.away_message }) : "",
      el("p", { class: "leave", text: t("leave") }),
    );
  }

  // -- a resolved conversation: the rating -------------------------------------------------
  const box = /** @type {HTMLFormElement} */ (el("form", { class: "rating", part: "rating", hidden: true }));
  form.before(box);
  let resolved = false;
  /** @type {{rating: number, comment: string | null} | null} */
  let rated = null;
  let editing = false;
  let chosen = 0;

  /** Draws the rating; `focus` ("star" or "change") says what takes the focus once drawn, as
   * what had it was just replaced (a keyboard user was sent back to the top of the page). */
  function renderRating(focus = "") {
    box.hidden = !resolved;
    if (!resolved) return;
    if (rated && !editing) {
      const change = el("button", { type: "button", class: "link", text: t("change") });
      change.addEventListener("click", () => {
        editing = true;
        renderRating("star");
      });
      // The stars are for the eye; screen readers hear the rating in words.
      box.replaceChildren(el("p", { class: "thanks" }, el("span", { "aria-hidden": "true", text: "★".repeat(rated.rating) }),
        el("span", { class: "sr", text: `${t("star").replace("{n}", String(rated.rating))}.` }), ` ${t("thanks")}`), change);
      if (focus) change.focus();
      return;
    }
    // A radio group: one stop for Tab (the chosen star, else the first), arrows to move.
    const stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t("ask") });
    for (let n = 1; n <= 5; n += 1) {
      const star = el("button", { type: "button", class: "star", role: "radio", "aria-checked": String(n === chosen), tabindex: n === (chosen || 1) ? "0" : "-1", "aria-label": t("star").replace("{n}", String(n)), "data-rating": String(n), text: n <= chosen ? "★" : "☆" });
      star.addEventListener("click", () => choose(n));
      stars.append(star);
    }
    stars.addEventListener("keydown", (event) => {
      const at = chosen || 1;
      const next = { ArrowRight: at + 1, ArrowUp: at + 1, ArrowLeft: at - 1, ArrowDown: at - 1, Home: 1, End: 5 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      choose(Math.min(5, Math.max(1, next)));
    });
    const comment = el("textarea", { class: "comment", rows: "2", maxlength: "1000", "aria-label": t("comment"), placeholder: t("comment") });
    box.replaceChildren(el("p", { text: t("ask") }), stars, comment, el("button", { type: "submit", class: "send-rating", text: t("send"), disabled: !chosen }), el("p", { class: "error", role: "alert", hidden: true }));
    if (focus) /** @type {HTMLElement | null} */ (stars.querySelector('[tabindex="0"]'))?.focus();
  }

  /** The visitor picks `n` stars: drawn again, with the comment written so far kept. @param {number} n */
  function choose(n) {
    chosen = n;
    const kept = /** @type {HTMLTextAreaElement | null} */ (box.querySelector("textarea"))?.value || "";
    renderRating("star");
    const again = /** @type {HTMLTextAreaElement | null} */ (box.querySelector("textarea"));
    if (again) again.value = kept;
  }

  box.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen || !conversationId) return;
    const comment = /** @type {HTMLTextAreaElement} */ (box.querySelector("textarea")).value.trim();
    try {
      const data = await app.session.api("POST", `/session/conversations/${encodeURIComponent(conversationId)}/rating`, { rating: chosen, comment: comment || null });
      rated = data.rating;
      editing = false;
      renderRating("change");
    } catch {
      const error = /** @type {HTMLElement} */ (box.querySelector(".error"));
      error.textContent = t("failed");
      error.hidden = false;
    }
  });

  /** @type {string | null} */
  let conversationId = null;

  /** @param {any} conversation the visitor's view of their conversation */
  function follow(conversation) {
    conversationId = conversation.id;
    const now = conversation.state === "resolved";
    // Other changes (an assignment, a label) leave the rating as it is: drawn again, it would
    // lose a comment being written and the focus.
    if (now === resolved) return;
    if (now) {
      // A new resolution (or the first one this page sees): ask again.
      rated = null;
      chosen = 0;
      editing = false;
    }
    resolved = now;
    renderRating();
  }

  // The chatbox hands every frame to `onFrame`; this module listens too.
  const onFrame = app.onFrame.bind(app);
  app.onFrame = (frame) => {
    onFrame(frame);
    if (frame.type === "conversation.updated" && frame.conversation) follow(frame.conversation);
    else if (frame.type === "conversation.rated") {
      const rating = Number(frame.rating), comment = frame.comment ?? null;
      // This page's own rating comes back as an event too, often after its answer was drawn
      // with the focus on "Change my rating": drawn again only when another tab changed it, the
      // focus kept where it was.
      if (rated && !editing && rated.rating === rating && rated.comment === comment) return;
      rated = { rating, comment };
      editing = false;
      renderRating(box.contains(/** @type {ShadowRoot} */ (box.getRootNode()).activeElement) ? "change" : "");
    } else if (frame.type === "ready" || frame.type === "presence") {
      if (frame.type === "ready" && frame.availability) app.website.availability = frame.availability;
      renderAway();
    }
  };

  renderAway();
  if (!app.session.token) return;
  try {
    const state = await app.session.api("GET", "/session/rating");
    if (state.conversation_id) {
      conversationId = state.conversation_id;
      resolved = !!state.resolved;
      rated = state.rating;
      renderRating();
    }
  } catch (error) {
    console.error("Causerie:", error);
  }
}
