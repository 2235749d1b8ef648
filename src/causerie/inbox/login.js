/* Signing in, and the one-time links: the first owner's setup and an invitation's acceptance.
 * Their token stays in the URL's fragment (`#/setup?token=`), which never reaches the server's
 * logs, and is removed from the address bar once used. */

import { api, setCsrf } from "./api.js";
import { el, replace } from "./dom.js";
import { roleName, waitText } from "./format.js";

function field(label, input, hint) {
  const id = `f-${input.name}`;
  input.id = id;
  return el("div", { class: "field" },
    el("label", { for: id, text: label }),
    input,
    hint ? el("p", { class: "hint", text: hint }) : null);
}

function card(title, subtitle, ...content) {
  return el("main", { class: "auth" },
    el("section", { class: "auth-card", "aria-labelledby": "auth-title" },
      el("p", { class: "brand", text: "Causerie" }),
      el("h1", { id: "auth-title", text: title }),
      subtitle ? el("p", { class: "muted", text: subtitle }) : null,
      ...content));
}

export function loginMessage(error) {
  if (error.status === 429) {
    const wait = error.retryAfter ? ` Try again in ${waitText(error.retryAfter)}.` : " Try again later.";
    return `Too many attempts.${wait}`;
  }
  if (error.code === "invalid_credentials") return "Wrong email or password.";
  return error.message;
}

export function renderLogin(root, { onLoggedIn, notice = "" }) {
  const email = el("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary wide", text: "Sign in" });
  const form = el("form", { class: "stack", "aria-label": "Sign in" },
    field("Email", email), field("Password", password), error, submit);
  if (notice) error.textContent = notice;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const data = await api.post("/auth/login", { email: email.value.trim(), password: password.value }, { quiet401: true });
      setCsrf(data.csrf_token);
      password.value = "";
      await onLoggedIn();
    } catch (failure) {
      error.textContent = loginMessage(failure);
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, card("Sign in to your inbox", "", form));
  email.focus();
}

/** `#/setup?token=...` (a fresh install's first owner) and `#/invite?token=...`. */
export async function renderAcceptLink(root, { token, onLoggedIn }) {
  replace(root, card("Checking your link…", ""));
  let link;
  try {
    link = await api.post("/auth/link", { token }, { quiet401: true });
  } catch (failure) {
    const text = failure.code === "invalid_link"
      ? "This link cannot be used any more: it was already used, or it expired. Ask for a new one."
      : failure.message;
    replace(root, card("Link not valid", "",
      el("p", { class: "form-error", role: "alert", text }),
      el("p", {}, el("a", { href: "#/login", text: "Go to sign in" }))));
    return;
  }
  const setup = link.purpose === "setup";
  if (link.has_account) return renderJoinByLogin(root, { token, link, onLoggedIn });
  const name = el("input", { name: "name", type: "text", autocomplete: "name", required: true, maxlength: 100 });
  const email = el("input", { name: "email", type: "email", autocomplete: "username", required: setup, maxlength: 320 });
  if (link.email) {
    email.value = link.email;
    email.readOnly = true;
  }
  const password = el("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 10, maxlength: 200 });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary wide", text: setup ? "Create my account" : "Join" });
  const websites = (link.websites || []).map((w) => el("li", {}, el("strong", { text: w.name }), ` · ${roleName(w.role)}`));
  const form = el("form", { class: "stack", "aria-label": setup ? "Create the first owner" : "Accept the invitation", novalidate: true },
    websites.length ? el("ul", { class: "plain" }, websites) : null,
    field("Your name", name),
    field("Email", email),
    field("Password", password, "10 to 200 characters."),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const problem = !name.value.trim() ? ["Enter your name.", name]
      : setup && !email.value.trim() ? ["Enter your email.", email]
        : password.value.length < 10 || password.value.length > 200 ? ["Choose a password of 10 to 200 characters.", password]
          : null;
    if (problem) {
      error.textContent = problem[0];
      problem[1].focus();
      return;
    }
    submit.disabled = true;
    const body = { token, name: name.value.trim(), password: password.value };
    if (setup) body.email = email.value.trim();
    try {
      const data = await api.post("/auth/accept", body, { quiet401: true });
      setCsrf(data.csrf_token);
      history.replaceState(null, "", `${location.pathname}#/`); // the used token leaves the address bar
      await onLoggedIn();
    } catch (failure) {
      error.textContent = failure.code === "weak_password" ? "Choose a password of 10 to 200 characters." : failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, card(
    setup ? "Create the first owner" : "Join your team on Causerie",
    setup ? "This one-time link sets up the account that owns this Causerie server." : "Choose your name and a password to start answering visitors.",
    form));
  name.focus();
}

/** An invitation for someone who already has an account: their password proves it (it is
 * never changed here), and they join the invitation's website. */
function renderJoinByLogin(root, { token, link, onLoggedIn }) {
  const email = el("input", { name: "email", type: "email", autocomplete: "username", readOnly: true, value: link.email || "" });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password", required: true, maxlength: 200 });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary wide", text: "Sign in and join" });
  const websites = (link.websites || []).map((w) => el("li", {}, el("strong", { text: w.name }), ` · ${roleName(w.role)}`));
  const form = el("form", { class: "stack", "aria-label": "Accept the invitation", novalidate: true },
    el("ul", { class: "plain" }, websites),
    field("Email", email),
    field("Password", password),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!password.value) {
      error.textContent = "Enter your password.";
      password.focus();
      return;
    }
    submit.disabled = true;
    try {
      const data = await api.post("/auth/accept", { token, password: password.value }, { quiet401: true });
      setCsrf(data.csrf_token);
      history.replaceState(null, "", `${location.pathname}#/`); // the used token leaves the address bar
      await onLoggedIn();
    } catch (failure) {
      error.textContent = failure.code === "invalid_credentials" ? "Wrong password." : failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, card("Join your team on Causerie",
    "You already have an account: sign in with your password to accept this invitation.", form));
  password.focus();
}
