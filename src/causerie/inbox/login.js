/* Signing in, and the one-time links: the first owner's setup and an invitation's acceptance.
 * Their token stays in the URL's fragment (`#/setup?token=`), which never reaches the server's
 * logs, and is removed from the address bar once used. */

import { api, setCsrf } from "./api.js";
import { el, replace } from "./dom.js";
import { roleName, waitText } from "./format.js";
import { t } from "./locale.js";

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
    return error.retryAfter ? t("login.tooManyTryAgainIn", { wait: waitText(error.retryAfter) }) : t("login.tooManyTryLater");
  }
  if (error.code === "invalid_credentials") return t("login.wrongEmailOrPassword");
  return error.message;
}

export function renderLogin(root, { onLoggedIn, notice = "" }) {
  const email = el("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary wide", text: t("login.signIn") });
  const form = el("form", { class: "stack", "aria-label": t("login.signIn") },
    field(t("login.email"), email), field(t("login.password"), password), error, submit);
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
  replace(root, card(t("login.signInToYour"), "", form));
  email.focus();
}

/** `#/setup?token=...` (a fresh install's first owner) and `#/invite?token=...`. */
export async function renderAcceptLink(root, { token, setupLink = false, onLoggedIn }) {
  replace(root, card(t("login.checkingYourLink"), ""));
  let link;
  try {
    link = await api.post("/auth/link", { token }, { quiet401: true });
  } catch (failure) {
    // A setup link has no one to ask for a new one: each start of a server no one owns yet
    // prints a new link, which replaces the one before (a restart is the usual way to meet this).
    const text = failure.code === "invalid_link"
      ? t(setupLink ? "login.thisSetupLinkCannot" : "login.thisLinkCannotBe")
      : failure.message;
    replace(root, card(t("login.linkNotValid"), "",
      el("p", { class: "form-error", role: "alert", text }),
      el("p", {}, el("a", { href: "#/login", text: t("login.goToSignIn") }))));
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
  const submit = el("button", { type: "submit", class: "button primary wide", text: setup ? t("login.createMyAccount") : t("login.join") });
  const websites = (link.websites || []).map((w) => el("li", {}, el("strong", { text: w.name }), ` · ${roleName(w.role)}`));
  const form = el("form", { class: "stack", "aria-label": setup ? t("login.createTheFirstOwner") : t("login.acceptTheInvitation"), novalidate: true },
    websites.length ? el("ul", { class: "plain" }, websites) : null,
    field(t("login.yourName"), name),
    field(t("login.email"), email),
    field(t("login.password"), password, "10 to 200 characters."),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const problem = !name.value.trim() ? [t("login.enterYourName"), name]
      : setup && !email.value.trim() ? [t("login.enterYourEmail"), email]
        : password.value.length < 10 || password.value.length > 200 ? [t("login.chooseAPasswordOf"), password]
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
      error.textContent = failure.code === "weak_password" ? t("login.chooseAPasswordOf") : failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, card(
    setup ? t("login.createTheFirstOwner") : t("login.joinYourTeamOn"),
    setup ? t("login.thisOneTimeLink") : t("login.chooseYourNameAnd"),
    form));
  name.focus();
}

/** An invitation for someone who already has an account: their password proves it (it is
 * never changed here), and they join the invitation's website. */
function renderJoinByLogin(root, { token, link, onLoggedIn }) {
  const email = el("input", { name: "email", type: "email", autocomplete: "username", readOnly: true, value: link.email || "" });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password", required: true, maxlength: 200 });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary wide", text: t("login.signInAndJoin") });
  const websites = (link.websites || []).map((w) => el("li", {}, el("strong", { text: w.name }), ` · ${roleName(w.role)}`));
  const form = el("form", { class: "stack", "aria-label": t("login.acceptTheInvitation"), novalidate: true },
    el("ul", { class: "plain" }, websites),
    field(t("login.email"), email),
    field(t("login.password"), password),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!password.value) {
      error.textContent = t("login.enterYourPassword");
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
      error.textContent = failure.code === "invalid_credentials" ? t("login.wrongPassword") : failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, card(t("login.joinYourTeamOn"),
    t("login.youAlreadyHaveAn"), form));
  password.focus();
}
