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
import { chosenLanguage, setLanguage, t, tn } from "./locale.js";

const PAGES = [
  ["website", "settings.website"],
  ["embed", "settings.embedCode"],
  ["operators", "settings.operators"],
  ["replies", "settings.cannedReplies"],
  ["labels", "settings.labels"],
  ["webhooks", "settings.webhooks"],
  ["teams", "settings.teams"],
  ["hours", "settings.businessHours"],
  ["tokens", "settings.apiTokens"],
  ["account", "settings.myAccount"],
];

export function renderSettings(container, page, { onWebsitesChanged }) {
  const known = PAGES.some(([key]) => key === page) || page === "new-website";
  const current = known ? page : "website";
  const content = el("section", { class: "settings-content", "aria-labelledby": "settings-title" });
  const nav = el("nav", { class: "settings-nav", "aria-label": t("settings.settings") },
    el("ul", { class: "plain" }, PAGES.map(([key, label]) => el("li", {},
      el("a", { href: `#/settings/${key}`, "aria-current": key === current ? "page" : false, text: t(label) })))));
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
  replace(content, ...title(t("settings.noWebsiteYet")), el("p", {}, t("settings.createOneFirst"), el("a", { href: "#/settings/new-website", text: t("settings.newWebsiteLink") }), "."));
}

// -- the website ----------------------------------------------------------------------------

/** The contrast of white on `hex` (#rrggbb), as WCAG 2 counts it: the chatbox writes white on the
 * website's colour (its header, launcher, send button and the visitor's own messages).
 * @param {string} hex */
function contrastWithWhite(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255)
    .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}

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
  const contrast = el("p", { class: "hint warn", id: "s-color-contrast", "aria-live": "polite" });
  const judgeColour = () => {
    const ratio = Math.round(contrastWithWhite(color.value) * 10) / 10;
    contrast.textContent = ratio < 4.5 ? t("settings.whiteTextOnThis", { ratio }) : "";
  };
  color.addEventListener("input", judgeColour);
  judgeColour();
  const position = el("select", { name: "position" },
    el("option", { value: "right", text: t("settings.bottomRight") }), el("option", { value: "left", text: t("settings.bottomLeft") }));
  position.value = settings.position || "right";
  const greeting = el("textarea", { name: "greeting", rows: 2, maxlength: 500 });
  greeting.value = settings.greeting || "";
  const locale = el("select", { name: "locale" },
    el("option", { value: "", text: t("settings.theVisitorSBrowser") }),
    el("option", { value: "en", text: t("settings.english") }), el("option", { value: "fr", text: t("settings.franAis") }));
  locale.value = settings.locale || "";
  const emailPrompt = el("input", { name: "email_prompt", type: "checkbox", id: "s-email_prompt", checked: settings.email_prompt !== false });
  // Privacy: consent before chatting (P9) and shorter retention (P6).
  const consent = el("input", { name: "consent_required", type: "checkbox", id: "s-consent_required", checked: Boolean(settings.consent_required) });
  const notice = el("textarea", { name: "consent_notice", id: "s-consent_notice", rows: 4, maxlength: 4000 });
  notice.value = settings.consent_notice || "";
  const retention = settings.retention || {};
  const days = (name, value) => el("input", { name, id: `s-${name}`, type: "number", min: 1, max: 36500, step: 1, inputmode: "numeric", placeholder: t("settings.serverDefault"), value: value ?? "" });
  const chatIps = days("retention_chat_ips", retention.chat_ips);
  const resolvedDays = days("retention_resolved_conversations", retention.resolved_conversations);
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: t("settings.saveChanges") });
  const fieldset = el("fieldset", { class: "plain-fieldset", disabled: !admin },
    field(t("settings.name"), name),
    field(t("settings.allowedOrigins"), origins, t("settings.onePerLineLike")),
    el("div", { class: "row" }, field(t("settings.colour"), color), field(t("settings.position"), position)),
    contrast,
    field(t("settings.greeting"), greeting, t("settings.shownWhenAVisitor")),
    field(t("settings.language"), locale),
    el("div", { class: "field check" }, emailPrompt, el("label", { for: "s-email_prompt", text: t("settings.askForTheVisitor") })),
    el("h2", { class: "form-section", text: t("settings.privacy") }),
    el("div", { class: "field check" }, consent, el("label", { for: "s-consent_required", text: t("settings.askVisitorsToAccept") })),
    field(t("settings.consentNotice"), notice, t("settings.whatVisitorsAcceptBefore")),
    el("p", { class: "muted small" }, t("settings.noticeVersion"), el("strong", { id: "consent-version", text: String(settings.consent_version || 0) }),
      " ", settings.consent_required ? t("settings.askedNow") : t("settings.notAsked")),
    el("div", { class: "row" },
      field(t("settings.keepChatIpAddresses"), chatIps, t("settings.emptyTheServerS")),
      field(t("settings.keepResolvedConversationsDays"), resolvedDays, t("settings.emptyTheServerS"))),
    el("p", { class: "small" }, el("a", { href: `/privacy/${encodeURIComponent(site.id)}`, target: "_blank", rel: "noopener noreferrer", id: "privacy-notice-link", text: t("settings.thePublicPrivacyNotice") }),
      el("span", { class: "muted", text: ` ${t("settings.generatedFromThese")}` })),
    error, save);
  const form = el("form", { class: "stack settings-form", "aria-label": t("settings.websiteSettings") }, fieldset);
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
      if (failure.status === 403) throw new Error(t("settings.onlyAnAdminOr"));
      throw failure;
    }
    const entry = state.websites.find((w) => w.id === state.websiteId);
    if (entry && saved?.website) entry.name = saved.website.name;
    onWebsitesChanged();
    toast(t("settings.websiteSaved"));
    await websitePage(content, { onWebsitesChanged }); // the new notice version, the stored values
  });
  replace(content, ...title(site.name, admin ? "" : t("settings.onlyAnAdminOr")), form,
    el("p", { class: "muted small" }, t("settings.websiteId"), el("code", { text: site.id }), ` · ${t("settings.createdAt", { time: fullTime(site.created_at) })}`),
    el("p", {}, el("a", { href: "#/settings/new-website", text: t("settings.addAnotherWebsite") })),
    data.role === "owner" ? deleteWebsiteBox(site, { onWebsitesChanged }) : null);
}

function dayCount(input) {
  const text = input.value.trim();
  if (!text) return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(t("settings.aRetentionIsA"));
  return value;
}

/** Owners: destroy the website, after typing its name (docs/api.md "Websites"). */
function deleteWebsiteBox(site, { onWebsitesChanged }) {
  const open = async () => {
    const typed = el("input", { type: "text", id: "delete-website-name", autocomplete: "off", spellcheck: "false", "aria-describedby": "delete-website-help" });
    const confirm = el("button", { type: "submit", value: "delete", class: "button danger", id: "delete-website-confirm", text: t("settings.deleteTheWebsiteForever"), disabled: true });
    const cancel = el("button", { type: "button", class: "button subtle", text: t("settings.cancel"), autofocus: true });
    const heading = el("h2", { class: "dialog-title", id: "delete-website-title", text: t("settings.deleteWebsite", { name: site.name }) });
    const form = el("form", { method: "dialog", class: "stack" },
      el("p", {}, t("settings.thisPermanentlyDestroysWith")),
      el("ul", { class: "destroyed" },
        el("li", { text: t("settings.theWebsiteItsSettings") }),
        el("li", { text: t("settings.everyVisitorSessionWith") }),
        el("li", { text: t("settings.everyConversationAndEvery") }),
        el("li", { text: t("settings.itsOperatorsAccessTo") })),
      el("p", { class: "muted", text: t("settings.itCannotBeUndone") }),
      el("label", { for: "delete-website-name", id: "delete-website-help" }, t("settings.typeTheWebsiteS"), el("strong", { text: site.name }), t("settings.toConfirm")),
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
      toast(tn("settings.websiteDeleted", count, { name: site.name }));
      const next = state.websites.find((w) => w.id !== site.id)?.id || null;
      if (!next) state.websiteId = null;
      await onWebsitesChanged(next);
      location.hash = "#/";
    } catch (failure) {
      toast(failure.status === 403 ? t("settings.onlyAnOwnerOf") : failure.message, "error");
    }
  };
  return el("section", { class: "stack settings-form danger-zone", "aria-label": t("settings.deleteThisWebsite") },
    el("h2", { text: t("settings.deleteThisWebsite") }),
    el("p", { class: "muted small", text: t("settings.destroysTheWebsiteWith") }),
    el("div", {}, el("button", { type: "button", class: "button danger-subtle", id: "delete-website", text: t("settings.deleteThisWebsite2"), onclick: open })));
}

async function embedPage(content) {
  if (!state.websiteId) return noWebsite(content);
  const data = await api.get(`/websites/${state.websiteId}`);
  const snippet = data.snippet || "";
  // A snippet naming a loopback address (CAUSERIE_PUBLIC_URL left at its default) works on this
  // computer only: said before it is pasted on a public website, where no visitor would see a chatbox.
  const server = /src="([^"]+)\/widget\.js"/.exec(snippet)?.[1] || "";
  const local = /^https?:\/\/(localhost|127\.[\d.]+|\[::1\])(:|\/|$)/.test(server);
  replace(content, ...title(t("settings.embedCode"), t("settings.pasteThis", { website: data.website.name })),
    copyBox(snippet, { label: t("settings.embedCode"), multiline: true, name: "snippet" }),
    local && el("p", { class: "callout warn", role: "note", id: "embed-local", text: t("settings.thisCodeNamesAnAddress", { url: server }) }),
    el("p", { class: "muted small", id: "embed-origins" }, t("settings.theChatboxShowsOnly", { origins: data.website.origins.join(", ") }), " ",
      el("a", { href: "#/settings/website", text: t("settings.changeThem") }), " ", t("settings.itLoadsFromThis")));
}

async function newWebsitePage(content, { onWebsitesChanged }) {
  const name = el("input", { name: "name", type: "text", required: true, maxlength: 100 });
  const origin = el("input", { name: "origin", type: "url", required: true, placeholder: t("settings.httpsWwwExampleCom") });
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: t("settings.createTheWebsite") });
  const form = el("form", { class: "stack settings-form", "aria-label": t("settings.newWebsite") },
    field(t("settings.name"), name), field(t("settings.origin"), origin, t("settings.whereTheChatboxWill")), error, save);
  submitting(form, save, error, async () => {
    const data = await api.post("/websites", { name: name.value.trim(), origins: [origin.value.trim()] });
    await onWebsitesChanged(data.website.id);
    location.hash = "#/settings/embed";
  });
  replace(content, ...title(t("settings.newWebsite"), t("settings.youWillBeIts")), form);
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
    const select = el("select", { class: "select", "aria-label": t("settings.roleOf", { name: operator.name || operator.email }), disabled: !mayChange });
    for (const r of mayChange ? roles : [operator.role]) select.append(el("option", { value: r, text: roleName(r) }));
    select.value = operator.role;
    select.addEventListener("change", async () => {
      try {
        await api.patch(`/websites/${websiteId}/operators/${operator.id}`, { role: select.value });
        toast(t("settings.isNow", { name: operator.name || operator.email, role: roleName(select.value).toLowerCase() }));
      } catch (failure) {
        toast(failure.message, "error");
      }
      reload();
    });
    const self = operator.id === me;
    const remove = (mayChange || self) ? el("button", {
      type: "button", class: "button danger-subtle small", text: self ? t("settings.leave") : t("settings.remove"),
      onclick: async () => {
        const who = operator.name || operator.email;
        const choice = await modal({ title: self ? t("settings.leaveThisWebsite") : t("settings.removeWho", { who }),
          body: el("p", { text: self ? t("settings.youWillNoLongerSee", { website: website()?.name || "" }) : t("settings.willNoLongerSee", { who, website: website()?.name || "" }) }),
          actions: [{ value: "", text: t("settings.cancel"), class: "button subtle", autofocus: true }, { value: "remove", text: self ? t("settings.leave") : t("settings.remove"), class: "button danger" }] });
        if (choice !== "remove") return;
        try {
          await api.del(`/websites/${websiteId}/operators/${operator.id}`);
          toast(self ? t("settings.youLeft") : t("settings.wasRemoved", { who }));
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
      el("td", {}, operator.pending ? el("span", { class: "pill", text: t("settings.invited") }) : el("span", { class: "pill ok", text: t("settings.active") })),
      el("td", { class: "right" }, remove));
  });
  const table = el("table", { class: "table", "aria-label": t("settings.operators") },
    el("thead", {}, el("tr", {}, el("th", { text: t("settings.operator") }), el("th", { text: t("settings.role") }), el("th", { text: t("settings.status") }), el("th", {}))),
    el("tbody", {}, rows));
  const parts = [...title(t("settings.operators"), t("settings.whoAnswers", { website: website()?.name || "" })), table];
  if (admin) parts.push(inviteForm(websiteId, roles, reload));
  replace(content, ...parts);
}

function inviteForm(websiteId, roles, reload) {
  const email = el("input", { name: "invite-email", type: "email", required: true, id: "invite-email", autocomplete: "off" });
  const role = el("select", { name: "invite-role", id: "invite-role" }, roles.map((r) => el("option", { value: r, text: roleName(r) })));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: t("settings.invite") });
  const result = el("div", { class: "once", "aria-live": "polite" });
  const form = el("form", { class: "stack settings-form", "aria-label": t("settings.inviteAnOperator") },
    el("h2", { text: t("settings.inviteSomeone") }),
    el("div", { class: "row" }, field(t("settings.inviteEmail"), email), field(t("settings.role"), role)), error, submit);
  submitting(form, submit, error, async () => {
    const data = await api.post(`/websites/${websiteId}/operators`, { email: email.value.trim(), role: role.value });
    email.value = "";
    await reload();
    const box = document.querySelector(".settings-content");
    replace(result, el("p", { class: "strong", text: t("settings.sendThisInvitationLink") }),
      copyBox(data.invitation_url, { label: t("settings.invitationLink"), name: "invitation" }));
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
    el("td", { text: token.website_ids?.length ? token.website_ids.map((id) => names.get(id) || id).join(", ") : t("settings.allMyWebsites") }),
    el("td", { class: "small", text: fullTime(token.created_at) }),
    el("td", { class: "small", text: token.last_used_at ? fullTime(token.last_used_at) : t("settings.never") }),
    el("td", { class: "right" }, el("button", {
      type: "button", class: "button danger-subtle small", text: t("settings.revoke"),
      onclick: async () => {
        const choice = await modal({ title: t("settings.revokeToken", { name: token.name }), body: el("p", { text: t("settings.whateverUsesThisToken") }),
          actions: [{ value: "", text: t("settings.cancel"), class: "button subtle", autofocus: true }, { value: "revoke", text: t("settings.revoke"), class: "button danger" }] });
        if (choice !== "revoke") return;
        try {
          await api.del(`/tokens/${token.id}`);
          toast(t("settings.tokenRevoked"));
        } catch (failure) {
          toast(failure.message, "error");
        }
        reload();
      },
    }))));
  const table = tokens.length
    ? el("table", { class: "table", "aria-label": t("settings.apiTokens") },
      el("thead", {}, el("tr", {}, [t("settings.name"), t("settings.scopes"), t("settings.websites"), t("settings.created"), t("settings.lastUsed"), ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows))
    : el("p", { class: "muted", text: t("settings.noApiTokenYet") });
  replace(content, ...title(t("settings.apiTokens"), t("settings.forIntegrationsAndScripts")), table, tokenForm(reload));
}

function tokenForm(reload) {
  const name = el("input", { name: "token-name", type: "text", required: true, maxlength: 100, id: "token-name" });
  const read = el("input", { type: "checkbox", id: "scope-read", checked: true });
  const write = el("input", { type: "checkbox", id: "scope-write" });
  const sites = state.websites.map((w) => el("label", { class: "check" }, el("input", { type: "checkbox", value: w.id, class: "token-site" }), ` ${w.name}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: t("settings.createTheToken") });
  const result = el("div", { class: "once", "aria-live": "polite" });
  const form = el("form", { class: "stack settings-form", "aria-label": t("settings.newApiToken") },
    el("h2", { text: t("settings.newToken") }),
    field(t("settings.name"), name, t("settings.whatItIsFor")),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: t("settings.scopes") }),
      el("label", { class: "check", for: "scope-read" }, read, " read"),
      el("label", { class: "check", for: "scope-write" }, write, " write")),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: t("settings.websitesNoneTickedAll") }), sites),
    error, submit, result);
  submitting(form, submit, error, async () => {
    const scopes = [read.checked ? "read" : null, write.checked ? "write" : null].filter(Boolean);
    const websiteIds = [...form.querySelectorAll(".token-site:checked")].map((i) => i.value);
    const body = { name: name.value.trim(), scopes };
    if (websiteIds.length) body.website_ids = websiteIds;
    const data = await api.post("/tokens", body);
    await reload();
    const box = document.querySelector(".settings-content");
    replace(result, el("p", { class: "strong", text: t("settings.tokenSecretOnce", { name: data.token.name }) }),
      copyBox(data.secret, { label: t("settings.tokenSecret"), name: "secret" }));
    box?.append(result);
  });
  return form;
}

// -- my account -----------------------------------------------------------------------------

async function accountPage(content) {
  const me = state.me.operator;
  const name = el("input", { name: "my-name", type: "text", required: true, maxlength: 100, value: me.name, id: "my-name" });
  const nameError = el("p", { class: "form-error", role: "alert" });
  const nameSave = el("button", { type: "submit", class: "button", text: t("settings.save") });
  const nameForm = el("form", { class: "stack settings-form", "aria-label": t("settings.yourName") },
    el("h2", { text: t("settings.profile") }), field(t("settings.nameVisitorsSeeIt"), name), el("p", { class: "muted small", text: t("settings.email", { email: me.email }) }), nameError, nameSave);
  submitting(nameForm, nameSave, nameError, async () => {
    const data = await api.patch("/me", { name: name.value.trim() });
    state.me.operator = { ...state.me.operator, ...data.operator };
    document.querySelector(".me-name")?.replaceChildren(state.me.operator.name);
    toast(t("settings.nameSaved"));
  });

  // The inbox's language: the operator's own choice, on every device they sign in from.
  const language = el("select", { name: "my-language", id: "my-language" },
    el("option", { value: "", text: t("settings.browserLanguage") }),
    el("option", { value: "en", lang: "en", text: t("settings.english") }),
    el("option", { value: "fr", lang: "fr", text: t("settings.franAis") }));
  language.value = chosenLanguage() || "";
  language.addEventListener("change", async () => {
    try {
      const data = await api.patch("/me", { language: language.value || null });
      state.me.language = data.language;
      setLanguage(data.language); // the page is built again in it: the toast says so in it
      toast(t("settings.languageSaved"));
    } catch (failure) {
      toast(failure.message, "error");
    }
  });
  const languageForm = el("section", { class: "stack settings-form", "aria-label": t("settings.inboxLanguage") },
    el("h2", { text: t("settings.language") }), field(t("settings.inboxLanguage"), language));

  const current = el("input", { name: "current-password", type: "password", autocomplete: "current-password", required: true, id: "current-password" });
  const fresh = el("input", { name: "new-password", type: "password", autocomplete: "new-password", required: true, minlength: 10, maxlength: 200, id: "new-password" });
  const passwordError = el("p", { class: "form-error", role: "alert" });
  const passwordSave = el("button", { type: "submit", class: "button", text: t("settings.changeThePassword") });
  const passwordForm = el("form", { class: "stack settings-form", "aria-label": t("settings.changeYourPassword") },
    el("h2", { text: t("settings.password") }), field(t("settings.currentPassword"), current), field(t("settings.newPassword"), fresh, t("settings.10To200Characters")),
    passwordError, passwordSave);
  passwordForm.noValidate = true;
  submitting(passwordForm, passwordSave, passwordError, async () => {
    if (fresh.value.length < 10 || fresh.value.length > 200) throw new Error(t("settings.chooseANewPassword"));
    try {
      await api.post("/me/password", { current_password: current.value, new_password: fresh.value }, { quiet401: true });
    } catch (failure) {
      if (failure.code === "invalid_credentials") throw new Error(t("settings.theCurrentPasswordIs"));
      if (failure.code === "weak_password") throw new Error(t("settings.chooseANewPassword"));
      throw failure;
    }
    current.value = "";
    fresh.value = "";
    toast(t("settings.passwordChangedYourOther"));
  });

  const notify = el("input", { type: "checkbox", id: "pref-notify", checked: state.prefs.notify, disabled: !notificationsSupported() });
  const sound = el("input", { type: "checkbox", id: "pref-sound", checked: state.prefs.sound });
  const status = el("p", { class: "muted small", role: "status" });
  notify.addEventListener("change", async () => {
    const granted = await enableNotifications(notify.checked);
    notify.checked = granted;
    if (!granted && Notification.permission === "denied") status.textContent = t("settings.yourBrowserBlocksNotifications");
  });
  sound.addEventListener("change", () => savePrefs({ sound: sound.checked }));
  const alerts = el("section", { class: "stack settings-form", "aria-label": t("settings.alerts") },
    el("h2", { text: t("settings.alerts") }),
    el("p", { class: "muted small", text: t("settings.whenAVisitorWrites") }),
    el("div", { class: "field check" }, notify, el("label", { for: "pref-notify", text: t("settings.desktopNotification") })),
    el("div", { class: "field check" }, sound, el("label", { for: "pref-sound", text: t("settings.aShortSound") })),
    el("div", {}, el("button", { type: "button", class: "button subtle", text: t("settings.playTheSound"), onclick: () => { unlockAudio(); playTone(); } })),
    status);
  replace(content, ...title(t("settings.myAccount")), nameForm, languageForm, passwordForm, alerts, pushSection());
  content.append(await mailSection());
}
