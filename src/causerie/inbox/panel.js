/* The visitor beside the thread: their profile (editable: P7, rectification), where they are,
 * their browser and the custom data the website set. Every value is shown as text. */

import { on, state } from "./store.js";
import { api } from "./api.js";
import { download, el, outsideLink, replace, toast } from "./dom.js";
import { dataText, fullTime, visitorName } from "./format.js";
import { saveProfile } from "./thread-data.js";
import { avatar } from "./list.js";
import { t } from "./locale.js";

let shownSession = null;
let dirty = false;

export function mountPanel(container) {
  const off = [on("panel", () => render(container)), on("thread", () => render(container))];
  render(container);
  // A touch outside the drawer closes it: on a phone it covers the thread and its own toggle.
  const outside = (event) => {
    const target = event.target;
    if (document.body.classList.contains("panel-open") && !container.contains(target) && !target.closest?.("#panel-toggle")) closePanel(false);
  };
  document.addEventListener("pointerdown", outside);
  return () => {
    off.forEach((f) => f());
    document.removeEventListener("pointerdown", outside);
  };
}

/** The visitor's details as a drawer (tablet, phone): closed; the focus back on its toggle. */
export function closePanel(refocus = true) {
  document.body.classList.remove("panel-open");
  const toggle = document.getElementById("panel-toggle");
  toggle?.setAttribute("aria-expanded", "false");
  if (refocus) toggle?.focus();
}

function render(container) {
  const current = state.current;
  const session = current?.session;
  if (!session) {
    shownSession = null;
    replace(container, el("p", { class: "muted panel-empty", text: t("panel.theVisitorSDetails") }));
    return;
  }
  // Keep what the agent is typing in the profile form; refresh everything else.
  const keepForm = dirty && shownSession === session.id && container.querySelector("form.profile");
  const form = keepForm || profileForm(session);
  if (!keepForm) dirty = false;
  shownSession = session.id;
  const name = visitorName(session.profile, session.id);
  const page = session.page || {};
  const details = [
    [t("panel.currentPage"), page.url || page.title ? el("span", { class: "page" },
      page.title ? el("span", { class: "page-title", text: page.title }) : null,
      page.url ? outsideLink(page.url, page.url) : null) : "—"],
    [t("panel.cameFrom"), page.referrer ? outsideLink(page.referrer, page.referrer) : "—"],
    [t("panel.locale"), session.locale || "—"],
    [t("panel.timeZone"), session.timezone || "—"],
    [t("panel.browser"), el("span", { class: "ua", text: session.user_agent || "—" })],
    [t("panel.firstSeen"), fullTime(session.created_at)],
    [t("panel.lastSeen"), fullTime(session.last_access_at)],
  ];
  const data = Object.entries(session.profile?.data || {});
  replace(container,
    el("div", { class: "panel-head" },
      avatar(name, session.id),
      el("div", {},
        el("h2", { class: "panel-title", text: name }),
        el("p", { class: "muted small", text: session.state === "permanent" ? t("panel.visitor") : t("panel.visitorTemporary") })),
      // Shown only as a drawer: on a phone nothing else closed it (no Esc key, the toggle covered).
      el("button", { type: "button", class: "button subtle panel-close", id: "panel-close", "aria-label": t("panel.close"), onclick: () => closePanel() },
        el("span", { "aria-hidden": "true", text: "×" }))),
    el("section", { class: "panel-section", "aria-labelledby": "profile-title" },
      el("h3", { id: "profile-title", text: t("panel.profile") }), form),
    el("section", { class: "panel-section", "aria-labelledby": "details-title" },
      el("h3", { id: "details-title", text: t("panel.details") }),
      el("dl", { class: "details" }, details.map(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]))),
    el("section", { class: "panel-section", "aria-labelledby": "data-title" },
      el("h3", { id: "data-title", text: t("panel.sessionData") }),
      data.length
        ? el("dl", { class: "details data" }, data.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: dataText(v) })]))
        : el("p", { class: "muted small", text: t("panel.theWebsiteSetNo") })),
    legalExport(current));
}

/** Owners: the conversation with its IP address and times, for a public authority's legal
 * request (P12). The server records each one in the audit log. */
function legalExport(current) {
  const conversation = current.conversation;
  const role = state.websites.find((w) => w.id === conversation?.website_id)?.role;
  if (!conversation || role !== "owner") return null;
  const button = el("button", { type: "button", class: "button small", id: "legal-export", text: t("panel.legalExportJson") });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const data = await api.post(`/conversations/${encodeURIComponent(conversation.id)}/legal-export`, {});
      download(`causerie-legal-export-${conversation.id}.json`, JSON.stringify(data, null, 2));
      toast(t("panel.legalExportSavedIt"));
    } catch (failure) {
      toast(failure.status === 403 ? t("panel.onlyAnOwnerOf") : failure.message, "error");
    } finally {
      button.disabled = false;
    }
  });
  return el("section", { class: "panel-section", "aria-labelledby": "legal-title" },
    el("h3", { id: "legal-title", text: t("panel.legalRequest") }),
    el("p", { class: "muted small", text: t("panel.onlyForAPublic") }),
    el("div", {}, button));
}

function profileForm(session) {
  const inputs = {
    nickname: el("input", { type: "text", name: "nickname", id: "profile-nickname", maxlength: 100, autocomplete: "off" }),
    email: el("input", { type: "email", name: "email", id: "profile-email", maxlength: 320, autocomplete: "off" }),
    phone: el("input", { type: "tel", name: "phone", id: "profile-phone", maxlength: 30, autocomplete: "off" }),
  };
  for (const [key, input] of Object.entries(inputs)) input.value = session.profile?.[key] || "";
  const save = el("button", { type: "submit", class: "button", text: t("panel.save"), disabled: true });
  const error = el("p", { class: "form-error", role: "alert" });
  const form = el("form", { class: "profile stack compact", "aria-label": t("panel.visitorProfile") },
    el("label", { for: "profile-nickname", text: t("panel.name") }), inputs.nickname,
    el("label", { for: "profile-email", text: t("panel.email") }), inputs.email,
    el("label", { for: "profile-phone", text: t("panel.phone") }), inputs.phone,
    error, save);
  form.addEventListener("input", () => {
    dirty = true;
    save.disabled = false;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    save.disabled = true;
    const changes = {};
    for (const [key, input] of Object.entries(inputs)) changes[key] = input.value.trim() || null;
    try {
      dirty = false;
      await saveProfile(session.id, changes);
      toast(t("panel.profileSaved"));
    } catch (failure) {
      dirty = true;
      save.disabled = false;
      error.textContent = failure.message;
    }
  });
  return form;
}
