/* Settings: the website (name, origins, chatbox look), its embed code, its operators, the
 * caller's API tokens and their own account. Each page reads and writes through /api/v1. */

import { api } from "./api.js";
import { canAdmin, savePrefs, state, website } from "./store.js";
import { copyBox, el, modal, replace, toast } from "./dom.js";
import { fullTime, roleName } from "./format.js";
import { mailSection } from "./mail.js";
import { webhooksPage } from "./webhooks.js";
import { enableNotifications, notificationsSupported, playTone, unlockAudio } from "./notify.js";
import { labelsPage } from "./labels.js";
import { repliesPage } from "./replies.js";
import { pushSection } from "./push.js";
import { hoursPage, teamsPage } from "./service.js";

const PAGES = [
  ["website", "Website"],
  ["embed", "Embed code"],
  ["operators", "Operators"],
  ["replies", "Canned replies"],
  ["labels", "Labels"],
  ["webhooks", "Webhooks"],
  ["teams", "Teams"],
  ["hours", "Business hours"],
  ["tokens", "API tokens"],
  ["account", "My account"],
];

export function renderSettings(container, page, { onWebsitesChanged }) {
  const known = PAGES.some(([key]) => key === page) || page === "new-website";
  const current = known ? page : "website";
  const content = el("section", { class: "settings-content", "aria-labelledby": "settings-title" });
  const nav = el("nav", { class: "settings-nav", "aria-label": "Settings" },
    el("ul", { class: "plain" }, PAGES.map(([key, label]) => el("li", {},
      el("a", { href: `#/settings/${key}`, "aria-current": key === current ? "page" : false, text: label })))));
  replace(container, el("div", { class: "settings" }, nav, content));
  const pages = { website: websitePage, embed: embedPage, operators: operatorsPage, replies: repliesPage, labels: labelsPage, webhooks: webhooksPage, tokens: tokensPage, account: accountPage, "new-website": newWebsitePage,
    teams: (c) => (state.websiteId ? teamsPage(c) : noWebsite(c)), hours: (c) => (state.websiteId ? hoursPage(c) : noWebsite(c)) };
  pages[current](content, { onWebsitesChanged }).catch((failure) => {
    content.append(el("p", { class: "form-error", role: "alert", text: failure.message }));
  });
}

function title(text, sub) {
  return [el("h1", { id: "settings-title", text }), sub ? el("p", { class: "muted", text: sub }) : null];
}

function field(label, input, hint) {
  if (!input.id) input.id = `s-${input.name || Math.random().toString(36).slice(2)}`;
  return el("div", { class: "field" }, el("label", { for: input.id, text: label }), input,
    hint ? el("p", { class: "hint", text: hint }) : null);
}

function submitting(form, button, error, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      await work();
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      button.disabled = false;
    }
  });
}

function noWebsite(content) {
  replace(content, ...title("No website yet"), el("p", {}, "Create one first: ", el("a", { href: "#/settings/new-website", text: "new website" }), "."));
}

// -- the website ----------------------------------------------------------------------------

async function websitePage(content, { onWebsitesChanged }) {
  if (!state.websiteId) return noWebsite(content);
  const data = await api.get(`/websites/${state.websiteId}`);
  const site = data.website;
  const settings = site.settings || {};
  const admin = canAdmin(data.role);
  const name = el("input", { name: "name", type: "text", required: true, maxlength: 100, value: site.name });
  const origins = el("textarea", { name: "origins", rows: 3, spellcheck: "false" });
  origins.value = (site.origins || []).join("\n");
  const color = el("input", { name: "color", type: "color", value: settings.color || "#3b5bdb" });
  const position = el("select", { name: "position" },
    el("option", { value: "right", text: "Bottom right" }), el("option", { value: "left", text: "Bottom left" }));
  position.value = settings.position || "right";
  const greeting = el("textarea", { name: "greeting", rows: 2, maxlength: 500 });
  greeting.value = settings.greeting || "";
  const locale = el("select", { name: "locale" },
    el("option", { value: "", text: "The visitor's browser language" }),
    el("option", { value: "en", text: "English" }), el("option", { value: "fr", text: "Français" }));
  locale.value = settings.locale || "";
  const emailPrompt = el("input", { name: "email_prompt", type: "checkbox", id: "s-email_prompt", checked: settings.email_prompt !== false });
  // Privacy: consent before chatting (P9) and shorter retention (P6).
  const consent = el("input", { name: "consent_required", type: "checkbox", id: "s-consent_required", checked: Boolean(settings.consent_required) });
  const notice = el("textarea", { name: "consent_notice", id: "s-consent_notice", rows: 4, maxlength: 4000 });
  notice.value = settings.consent_notice || "";
  const retention = settings.retention || {};
  const days = (name, value) => el("input", { name, id: `s-${name}`, type: "number", min: 1, max: 36500, step: 1, inputmode: "numeric", placeholder: "Server default", value: value ?? "" });
  const chatIps = days("retention_chat_ips", retention.chat_ips);
  const resolvedDays = days("retention_resolved_conversations", retention.resolved_conversations);
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: "Save changes" });
  const fieldset = el("fieldset", { class: "plain-fieldset", disabled: !admin },
    field("Name", name),
    field("Allowed origins", origins, "One per line, like https://www.example.com. The chatbox works only on pages of these origins."),
    el("div", { class: "row" }, field("Colour", color), field("Position", position)),
    field("Greeting", greeting, "Shown when a visitor opens the chatbox. Up to 500 characters; empty for the default."),
    field("Language", locale),
    el("div", { class: "field check" }, emailPrompt, el("label", { for: "s-email_prompt", text: "Ask for the visitor's email when no one is online" })),
    el("h2", { class: "form-section", text: "Privacy" }),
    el("div", { class: "field check" }, consent, el("label", { for: "s-consent_required", text: "Ask visitors to accept a notice before chatting" })),
    field("Consent notice", notice, "What visitors accept before they can write. Up to 4000 characters. Changing it (or starting to ask) makes a new version that every visitor accepts anew."),
    el("p", { class: "muted small" }, "Notice version: ", el("strong", { id: "consent-version", text: String(settings.consent_version || 0) }),
      settings.consent_required ? " (asked now)" : " (not asked)"),
    el("div", { class: "row" },
      field("Keep chat IP addresses (days)", chatIps, "Empty: the server's setting. A website may only shorten it."),
      field("Keep resolved conversations (days)", resolvedDays, "Empty: the server's setting. A website may only shorten it.")),
    el("p", { class: "small" }, el("a", { href: `/privacy/${encodeURIComponent(site.id)}`, target: "_blank", rel: "noopener noreferrer", id: "privacy-notice-link", text: "The public privacy notice of this website" }),
      el("span", { class: "muted", text: " (generated from these settings; the chatbox links to it)" })),
    error, save);
  const form = el("form", { class: "stack settings-form", "aria-label": "Website settings" }, fieldset);
  submitting(form, save, error, async () => {
    const body = {
      name: name.value.trim(),
      origins: origins.value.split(/\s+/).map((o) => o.trim()).filter(Boolean),
      settings: {
        color: color.value, position: position.value, greeting: greeting.value.trim(),
        locale: locale.value || null, email_prompt: emailPrompt.checked,
        consent_required: consent.checked, consent_notice: notice.value.trim(),
      },
    };
    const wanted = { chat_ips: dayCount(chatIps), resolved_conversations: dayCount(resolvedDays) };
    // Sent only when changed: a server limit lowered since must not block saving anything else.
    if (wanted.chat_ips !== (retention.chat_ips ?? null) || wanted.resolved_conversations !== (retention.resolved_conversations ?? null)) {
      body.settings.retention = wanted;
    }
    let saved;
    try {
      saved = await api.patch(`/websites/${state.websiteId}`, body);
    } catch (failure) {
      if (failure.status === 403) throw new Error("Only an admin or an owner of this website can change it.");
      throw failure;
    }
    const entry = state.websites.find((w) => w.id === state.websiteId);
    if (entry && saved?.website) entry.name = saved.website.name;
    onWebsitesChanged();
    toast("Website saved.");
    await websitePage(content, { onWebsitesChanged }); // the new notice version, the stored values
  });
  replace(content, ...title(site.name, admin ? "" : "Only an admin or an owner of this website can change it."), form,
    el("p", { class: "muted small" }, "Website id: ", el("code", { text: site.id }), ` · created ${fullTime(site.created_at)}`),
    el("p", {}, el("a", { href: "#/settings/new-website", text: "Add another website…" })),
    data.role === "owner" ? deleteWebsiteBox(site, { onWebsitesChanged }) : null);
}

function dayCount(input) {
  const text = input.value.trim();
  if (!text) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error("A retention is a whole number of days (1 or more), or empty for the server's setting.");
  return value;
}

/** Owners: destroy the website, after typing its name (docs/api.md "Websites"). */
function deleteWebsiteBox(site, { onWebsitesChanged }) {
  const open = async () => {
    const typed = el("input", { type: "text", id: "delete-website-name", autocomplete: "off", spellcheck: "false", "aria-describedby": "delete-website-help" });
    const confirm = el("button", { type: "submit", value: "delete", class: "button danger", id: "delete-website-confirm", text: "Delete the website forever", disabled: true });
    const cancel = el("button", { type: "button", class: "button subtle", text: "Cancel", autofocus: true });
    const heading = el("h2", { class: "dialog-title", id: "delete-website-title", text: `Delete ${site.name}?` });
    const form = el("form", { method: "dialog", class: "stack" },
      el("p", {}, "This permanently destroys, with no way back:"),
      el("ul", { class: "destroyed" },
        el("li", { text: "the website, its settings and its embed code (the chatbox stops working on its pages)," }),
        el("li", { text: "every visitor session, with their profiles, custom data, IP addresses and consent," }),
        el("li", { text: "every conversation and every message, private notes included," }),
        el("li", { text: "its operators' access to it, and its API tokens' access." })),
      el("p", { class: "muted", text: "It cannot be undone. The audit keeps only ids and counts." }),
      el("label", { for: "delete-website-name", id: "delete-website-help" }, "Type the website's name, ", el("strong", { text: site.name }), ", to confirm:"),
      typed,
      el("div", { class: "dialog-actions" }, cancel, confirm));
    typed.addEventListener("input", () => {
      confirm.disabled = typed.value.trim() !== site.name;
    });
    const dialog = el("dialog", { class: "dialog danger", "aria-labelledby": heading.id }, heading, form);
    cancel.addEventListener("click", () => dialog.close(""));
    document.body.append(dialog);
    const choice = await new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        resolve(dialog.returnValue || "");
        dialog.remove();
      });
      dialog.showModal();
    });
    if (choice !== "delete" || typed.value.trim() !== site.name) return;
    try {
      const data = await api.del(`/websites/${site.id}`);
      const count = data?.deleted?.conversations ?? 0;
      toast(`${site.name} was deleted, with ${count} conversation${count === 1 ? "" : "s"}.`);
      const next = state.websites.find((w) => w.id !== site.id)?.id || null;
      if (!next) state.websiteId = null;
      await onWebsitesChanged(next);
      location.hash = "#/";
    } catch (failure) {
      toast(failure.status === 403 ? "Only an owner of this website can delete it." : failure.message, "error");
    }
  };
  return el("section", { class: "stack settings-form danger-zone", "aria-label": "Delete this website" },
    el("h2", { text: "Delete this website" }),
    el("p", { class: "muted small", text: "Destroys the website with every session, conversation and message. Owners only." }),
    el("div", {}, el("button", { type: "button", class: "button danger-subtle", id: "delete-website", text: "Delete this website…", onclick: open })));
}

async function embedPage(content) {
  if (!state.websiteId) return noWebsite(content);
  const data = await api.get(`/websites/${state.websiteId}`);
  replace(content, ...title("Embed code", `Paste this before </body> on every page of ${data.website.name}.`),
    copyBox(data.snippet || "", { label: "Embed code", multiline: true, name: "snippet" }),
    el("p", { class: "muted small", text: "The page's origin must be one of the website's allowed origins. The chatbox loads from this server only and sets a single first-party cookie." }));
}

async function newWebsitePage(content, { onWebsitesChanged }) {
  const name = el("input", { name: "name", type: "text", required: true, maxlength: 100 });
  const origin = el("input", { name: "origin", type: "url", required: true, placeholder: "https://www.example.com" });
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: "Create the website" });
  const form = el("form", { class: "stack settings-form", "aria-label": "New website" },
    field("Name", name), field("Origin", origin, "Where the chatbox will be embedded; more can be added later."), error, save);
  submitting(form, save, error, async () => {
    const data = await api.post("/websites", { name: name.value.trim(), origins: [origin.value.trim()] });
    await onWebsitesChanged(data.website.id);
    location.hash = "#/settings/embed";
  });
  replace(content, ...title("New website", "You will be its owner."), form);
}

// -- operators ------------------------------------------------------------------------------

async function operatorsPage(content) {
  if (!state.websiteId) return noWebsite(content);
  const websiteId = state.websiteId;
  const role = website()?.role;
  const admin = canAdmin(role);
  const me = state.me.operator.id;
  const { operators } = await api.get(`/websites/${websiteId}/operators`);
  const roles = role === "owner" ? ["agent", "admin", "owner"] : ["agent", "admin"];
  const reload = () => operatorsPage(content).catch((f) => toast(f.message, "error"));
  const rows = operators.map((operator) => {
    const mayChange = admin && (role === "owner" || operator.role !== "owner");
    const select = el("select", { class: "select", "aria-label": `Role of ${operator.name || operator.email}`, disabled: !mayChange });
    for (const r of mayChange ? roles : [operator.role]) select.append(el("option", { value: r, text: roleName(r) }));
    select.value = operator.role;
    select.addEventListener("change", async () => {
      try {
        await api.patch(`/websites/${websiteId}/operators/${operator.id}`, { role: select.value });
        toast(`${operator.name || operator.email} is now ${roleName(select.value).toLowerCase()}.`);
      } catch (failure) {
        toast(failure.message, "error");
      }
      reload();
    });
    const self = operator.id === me;
    const remove = (mayChange || self) ? el("button", {
      type: "button", class: "button danger-subtle small", text: self ? "Leave" : "Remove",
      onclick: async () => {
        const who = self ? "yourself" : operator.name || operator.email;
        const choice = await modal({ title: self ? "Leave this website?" : `Remove ${who}?`,
          body: el("p", { text: `${self ? "You" : who} will no longer see ${website()?.name || "this website"}. Conversations assigned to ${self ? "you" : "them"} there become unassigned.` }),
          actions: [{ value: "", text: "Cancel", class: "button subtle", autofocus: true }, { value: "remove", text: self ? "Leave" : "Remove", class: "button danger" }] });
        if (choice !== "remove") return;
        try {
          await api.del(`/websites/${websiteId}/operators/${operator.id}`);
          toast(self ? "You left." : `${who} was removed.`);
        } catch (failure) {
          toast(failure.message, "error");
        }
        reload();
      },
    }) : null;
    return el("tr", {},
      el("td", {}, el("strong", { text: operator.name || "—" }), self ? el("span", { class: "muted", text: " (you)" }) : null,
        el("div", { class: "muted small", text: operator.email })),
      el("td", {}, select),
      el("td", {}, operator.pending ? el("span", { class: "pill", text: "Invited" }) : el("span", { class: "pill ok", text: "Active" })),
      el("td", { class: "right" }, remove));
  });
  const table = el("table", { class: "table", "aria-label": "Operators" },
    el("thead", {}, el("tr", {}, el("th", { text: "Operator" }), el("th", { text: "Role" }), el("th", { text: "Status" }), el("th", {}))),
    el("tbody", {}, rows));
  const parts = [...title("Operators", `Who answers the visitors of ${website()?.name || "this website"}.`), table];
  if (admin) parts.push(inviteForm(websiteId, roles, reload));
  replace(content, ...parts);
}

function inviteForm(websiteId, roles, reload) {
  const email = el("input", { name: "invite-email", type: "email", required: true, id: "invite-email", autocomplete: "off" });
  const role = el("select", { name: "invite-role", id: "invite-role" }, roles.map((r) => el("option", { value: r, text: roleName(r) })));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: "Invite" });
  const result = el("div", { class: "once", "aria-live": "polite" });
  const form = el("form", { class: "stack settings-form", "aria-label": "Invite an operator" },
    el("h2", { text: "Invite someone" }),
    el("div", { class: "row" }, field("Email", email), field("Role", role)), error, submit);
  submitting(form, submit, error, async () => {
    const data = await api.post(`/websites/${websiteId}/operators`, { email: email.value.trim(), role: role.value });
    email.value = "";
    await reload();
    const box = document.querySelector(".settings-content");
    replace(result, el("p", { class: "strong", text: "Send this invitation link to them. It is shown only this once and works for 7 days. They join when they open it (with their password, if they already have an account)." }),
      copyBox(data.invitation_url, { label: "Invitation link", name: "invitation" }));
    box?.append(result);
  });
  return form;
}

// -- API tokens -----------------------------------------------------------------------------

async function tokensPage(content) {
  const { tokens } = await api.get("/tokens");
  const names = new Map(state.websites.map((w) => [w.id, w.name]));
  const reload = () => tokensPage(content).catch((f) => toast(f.message, "error"));
  const rows = tokens.map((token) => el("tr", {},
    el("td", {}, el("strong", { text: token.name })),
    el("td", { text: (token.scopes || []).join(", ") }),
    el("td", { text: token.website_ids?.length ? token.website_ids.map((id) => names.get(id) || id).join(", ") : "All my websites" }),
    el("td", { class: "small", text: fullTime(token.created_at) }),
    el("td", { class: "small", text: token.last_used_at ? fullTime(token.last_used_at) : "Never" }),
    el("td", { class: "right" }, el("button", {
      type: "button", class: "button danger-subtle small", text: "Revoke",
      onclick: async () => {
        const choice = await modal({ title: `Revoke “${token.name}”?`, body: el("p", { text: "Whatever uses this token stops working at once." }),
          actions: [{ value: "", text: "Cancel", class: "button subtle", autofocus: true }, { value: "revoke", text: "Revoke", class: "button danger" }] });
        if (choice !== "revoke") return;
        try {
          await api.del(`/tokens/${token.id}`);
          toast("Token revoked.");
        } catch (failure) {
          toast(failure.message, "error");
        }
        reload();
      },
    }))));
  const table = tokens.length
    ? el("table", { class: "table", "aria-label": "API tokens" },
      el("thead", {}, el("tr", {}, ["Name", "Scopes", "Websites", "Created", "Last used", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows))
    : el("p", { class: "muted", text: "No API token yet." });
  replace(content, ...title("API tokens", "For integrations and scripts: a token acts as you, within its scopes and websites."), table, tokenForm(reload));
}

function tokenForm(reload) {
  const name = el("input", { name: "token-name", type: "text", required: true, maxlength: 100, id: "token-name" });
  const read = el("input", { type: "checkbox", id: "scope-read", checked: true });
  const write = el("input", { type: "checkbox", id: "scope-write" });
  const sites = state.websites.map((w) => el("label", { class: "check" }, el("input", { type: "checkbox", value: w.id, class: "token-site" }), ` ${w.name}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: "Create the token" });
  const result = el("div", { class: "once", "aria-live": "polite" });
  const form = el("form", { class: "stack settings-form", "aria-label": "New API token" },
    el("h2", { text: "New token" }),
    field("Name", name, "What it is for, e.g. “CRM sync”."),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: "Scopes" }),
      el("label", { class: "check", for: "scope-read" }, read, " read"),
      el("label", { class: "check", for: "scope-write" }, write, " write")),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: "Websites (none ticked: all of mine)" }), sites),
    error, submit, result);
  submitting(form, submit, error, async () => {
    const scopes = [read.checked ? "read" : null, write.checked ? "write" : null].filter(Boolean);
    const websiteIds = [...form.querySelectorAll(".token-site:checked")].map((i) => i.value);
    const body = { name: name.value.trim(), scopes };
    if (websiteIds.length) body.website_ids = websiteIds;
    const data = await api.post("/tokens", body);
    await reload();
    const box = document.querySelector(".settings-content");
    replace(result, el("p", { class: "strong", text: `The secret of “${data.token.name}”, shown only this once: copy it now.` }),
      copyBox(data.secret, { label: "Token secret", name: "secret" }));
    box?.append(result);
  });
  return form;
}

// -- my account -----------------------------------------------------------------------------

async function accountPage(content) {
  const me = state.me.operator;
  const name = el("input", { name: "my-name", type: "text", required: true, maxlength: 100, value: me.name, id: "my-name" });
  const nameError = el("p", { class: "form-error", role: "alert" });
  const nameSave = el("button", { type: "submit", class: "button", text: "Save" });
  const nameForm = el("form", { class: "stack settings-form", "aria-label": "Your name" },
    el("h2", { text: "Profile" }), field("Name (visitors see it)", name), el("p", { class: "muted small", text: `Email: ${me.email}` }), nameError, nameSave);
  submitting(nameForm, nameSave, nameError, async () => {
    const data = await api.patch("/me", { name: name.value.trim() });
    state.me.operator = { ...state.me.operator, ...data.operator };
    document.querySelector(".me-name")?.replaceChildren(state.me.operator.name);
    toast("Name saved.");
  });

  const current = el("input", { name: "current-password", type: "password", autocomplete: "current-password", required: true, id: "current-password" });
  const fresh = el("input", { name: "new-password", type: "password", autocomplete: "new-password", required: true, minlength: 10, maxlength: 200, id: "new-password" });
  const passwordError = el("p", { class: "form-error", role: "alert" });
  const passwordSave = el("button", { type: "submit", class: "button", text: "Change the password" });
  const passwordForm = el("form", { class: "stack settings-form", "aria-label": "Change your password" },
    el("h2", { text: "Password" }), field("Current password", current), field("New password", fresh, "10 to 200 characters. Your other sessions are signed out."),
    passwordError, passwordSave);
  passwordForm.noValidate = true;
  submitting(passwordForm, passwordSave, passwordError, async () => {
    if (fresh.value.length < 10 || fresh.value.length > 200) throw new Error("Choose a new password of 10 to 200 characters.");
    try {
      await api.post("/me/password", { current_password: current.value, new_password: fresh.value }, { quiet401: true });
    } catch (failure) {
      if (failure.code === "invalid_credentials") throw new Error("The current password is wrong.");
      if (failure.code === "weak_password") throw new Error("Choose a new password of 10 to 200 characters.");
      throw failure;
    }
    current.value = "";
    fresh.value = "";
    toast("Password changed. Your other sessions were signed out.");
  });

  const notify = el("input", { type: "checkbox", id: "pref-notify", checked: state.prefs.notify, disabled: !notificationsSupported() });
  const sound = el("input", { type: "checkbox", id: "pref-sound", checked: state.prefs.sound });
  const status = el("p", { class: "muted small", role: "status" });
  notify.addEventListener("change", async () => {
    const granted = await enableNotifications(notify.checked);
    notify.checked = granted;
    if (!granted && Notification.permission === "denied") status.textContent = "Your browser blocks notifications for this site: allow them in its site settings.";
  });
  sound.addEventListener("change", () => savePrefs({ sound: sound.checked }));
  const alerts = el("section", { class: "stack settings-form", "aria-label": "Alerts" },
    el("h2", { text: "Alerts" }),
    el("p", { class: "muted small", text: "When a visitor writes while this tab is hidden." }),
    el("div", { class: "field check" }, notify, el("label", { for: "pref-notify", text: "Desktop notification" })),
    el("div", { class: "field check" }, sound, el("label", { for: "pref-sound", text: "A short sound" })),
    el("div", {}, el("button", { type: "button", class: "button subtle", text: "Play the sound", onclick: () => { unlockAudio(); playTone(); } })),
    status);
  replace(content, ...title("My account"), nameForm, passwordForm, alerts, pushSection());
  content.append(await mailSection());
}
