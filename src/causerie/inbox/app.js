/* The Causerie inbox (docs/inbox.md): boot, routes in the URL's fragment, the top bar, the
 * three-column layout and the keyboard shortcuts. It uses only /api/v1 and /ws/agent. */

import { api, setCsrf, whenUnauthenticated } from "./api.js";
import { el, isEditable, replace, toast } from "./dom.js";
import { follow, setAvailability, setHooks, unfollowAll } from "./data.js";
import { selectWebsite } from "./list-data.js";
import { closeConversation, markRead, openConversation } from "./thread-data.js";
import { renderAcceptLink, renderLogin } from "./login.js";
import { conversationHash, focusCurrent, mountList, moveFocus } from "./list.js";
import { unlockAudio } from "./notify.js";
import { closePanel, mountPanel } from "./panel.js";
import { privacyPages, renderPrivacy } from "./privacy.js";
import { forgetDevice, registerWorker } from "./push.js";
import { renderSettings } from "./settings.js";
import { renderShield } from "./shield.js";
import { renderReports } from "./reports.js";
import { emit, on, state } from "./store.js";
import { mountThread, pickLabels } from "./thread.js";
import { installPalette } from "./palette.js";
import { chosenLanguage, onLanguage, setLanguage, t } from "./locale.js";

const root = document.getElementById("app");
let view = null; // "inbox" | "settings" | "privacy" | "reports" | "shield" | null
let unmount = [];
let main = null;
let returnTo = null; // where a login that ended sends the agent back after signing in again

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, params: new URLSearchParams(query) };
}

// -- signing in and out ---------------------------------------------------------------------

async function loadMe() {
  const me = await api.get("/me", undefined, { quiet401: true });
  state.me = me;
  setLanguage(me.language ?? null, false); // what is rendered next is in it
  setCsrf(me.csrf_token);
  state.websites = me.websites || [];
  const remembered = state.websites.find((w) => w.id === state.prefs.websiteId);
  state.websiteId = (remembered || state.websites[0] || {}).id || null;
}

async function afterLogin() {
  await loadMe();
  start();
  const back = returnTo;
  returnTo = null;
  if (back && back !== location.hash) location.hash = back;
  else if (parseHash().path === "/login" || !location.hash) location.hash = "#/";
  else await route();
}

function start() {
  follow(state.websites);
  if (state.websiteId) selectWebsite(state.websiteId);
}

function teardown() {
  unfollowAll();
  for (const off of unmount) off();
  unmount = [];
  view = null;
  main = null;
  state.me = null;
  state.current = null;
  setCsrf(null);
}

function showLogin(notice = "") {
  const { path } = parseHash();
  if (path.startsWith("/c/") || path.startsWith("/settings") || path.startsWith("/privacy") || path === "/shield" || path.startsWith("/reports")) returnTo = location.hash;
  teardown();
  document.body.className = "page-auth";
  if (parseHash().path !== "/login") history.replaceState(null, "", `${location.pathname}#/login`);
  renderLogin(root, { onLoggedIn: afterLogin, notice });
}

async function logout() {
  await forgetDevice();
  try {
    await api.post("/auth/logout", {});
  } catch {
    /* already ended: signing out locally is what matters */
  }
  showLogin(t("app.youAreSignedOut"));
}

// -- routes ---------------------------------------------------------------------------------

async function route() {
  const { path, params } = parseHash();
  if (path === "/setup" || path === "/invite") {
    teardown();
    document.body.className = "page-auth";
    await renderAcceptLink(root, { token: params.get("token") || "", setupLink: path === "/setup", onLoggedIn: afterLogin });
    return;
  }
  if (!state.me) {
    // The server marks the shell it sends without a login cookie: no one to ask /me about
    // (its 401 would show a newcomer an error in the console). Read once: a sign-in follows.
    const signedOut = document.body.hasAttribute("data-signed-out");
    document.body.removeAttribute("data-signed-out");
    if (signedOut) return showLogin();
    try {
      await loadMe();
    } catch (failure) {
      if (failure.status === 401) return showLogin();
      replace(root, el("main", { class: "auth" }, el("p", { class: "form-error", role: "alert", text: failure.message }),
        el("button", { type: "button", class: "button", text: t("app.tryAgain"), onclick: () => route() })));
      return;
    }
    start();
  }
  if (path === "/login" || path === "") {
    location.hash = "#/";
    return;
  }
  if (path.startsWith("/settings")) {
    mount("settings");
    closeConversation();
    renderSettings(main, path.split("/")[2] || "website", { onWebsitesChanged: websitesChanged });
    return;
  }
  if (path === "/shield") {
    mount("shield");
    closeConversation();
    renderShield(main);
    return;
  }
  if (path.startsWith("/reports")) {
    mount("reports");
    closeConversation();
    renderReports(main);
    return;
  }
  if (path.startsWith("/privacy")) {
    mount("privacy");
    closeConversation();
    renderPrivacy(main, path.split("/")[2] || "");
    return;
  }
  mount("inbox");
  const match = /^\/c\/([^/]+)$/.exec(path);
  if (match) {
    document.body.classList.add("thread-open");
    await openConversation(decodeURIComponent(match[1]));
  } else {
    document.body.classList.remove("thread-open");
    if (state.current) closeConversation();
  }
}

async function websitesChanged(selectId) {
  const me = await api.get("/me", undefined, { quiet401: true });
  state.me = me;
  state.websites = me.websites || [];
  follow(state.websites);
  if (selectId) await selectWebsite(selectId);
  emit("websites");
}

// -- layout -----------------------------------------------------------------------------------

function mount(kind) {
  if (view === kind && main) return;
  for (const off of unmount) off();
  unmount = [];
  view = kind;
  document.body.className = `page-${kind}`;
  const header = topBar();
  if (kind === "inbox") {
    const sidebar = el("aside", { class: "sidebar", "aria-label": t("app.conversations") });
    const thread = el("section", { class: "thread", "aria-label": t("app.conversation"), id: "thread" });
    const panel = el("aside", { class: "panel", id: "panel", "aria-label": t("app.visitor"), tabindex: "-1" });
    main = el("main", { class: "inbox", id: "main" }, sidebar, thread, panel);
    replace(root, header, main);
    if (!state.websiteId) {
      replace(main, el("div", { class: "empty-thread wide" },
        el("h2", { text: t("app.noWebsiteYet") }),
        el("p", { class: "muted", text: t("app.youAreNotA") }),
        el("p", {}, el("a", { class: "button primary", href: "#/settings/new-website", text: t("app.createAWebsite") }))));
      return;
    }
    unmount.push(mountList(sidebar), mountThread(thread), mountPanel(panel));
  } else {
    main = el("main", { class: "settings-main", id: "main" });
    replace(root, header, main);
  }
}

function topBar() {
  const switcher = el("select", { class: "select website-switch", id: "website", "aria-label": t("app.website") });
  switcher.addEventListener("change", () => {
    const stay = view === "settings" || view === "privacy" || view === "reports" || view === "shield";
    if (!stay) location.hash = "#/";
    selectWebsite(switcher.value).then(() => {
      if (stay) route();
    });
  });
  const renderSwitcher = () => {
    replace(switcher, state.websites.map((w) => el("option", {
      value: w.id, text: `${state.unreadElsewhere.has(w.id) ? "● " : ""}${w.name}`,
    })));
    switcher.value = state.websiteId || "";
    switcher.hidden = state.websites.length < 2;
    single.textContent = state.websites.length === 1 ? state.websites[0].name : "";
    single.hidden = state.websites.length !== 1;
    privacyLink.hidden = !privacyPages().length; // owners and admins of the current website
  };
  const privacyLink = el("a", { href: "#/privacy", id: "nav-privacy", "aria-current": view === "privacy" ? "page" : false, text: t("app.privacy") });
  const single = el("span", { class: "website-name" });

  const availability = el("button", { type: "button", role: "switch", class: "availability", id: "availability" });
  const connection = el("span", { class: "connection", role: "status" });
  const renderStatus = () => {
    const online = state.prefs.availability === "online";
    const states = [...state.connection.values()];
    const down = states.some((s) => s === "offline");
    const connecting = !down && states.includes("connecting");
    // The dot shows the connection's real state: green only while the sockets are up.
    availability.setAttribute("aria-checked", String(online));
    availability.classList.toggle("disconnected", down || connecting);
    availability.replaceChildren(el("span", { class: "dot", "aria-hidden": "true" }), online ? t("app.online") : t("app.away"));
    availability.title = down || connecting
      ? t("app.notConnectedVisitorsSee")
      : online ? t("app.visitorsSeeThatYou") : t("app.visitorsSeeThatNo");
    connection.textContent = down ? t("app.reconnecting") : connecting ? t("app.connecting") : "";
    connection.classList.toggle("warn", down);
  };
  availability.addEventListener("click", () => setAvailability(state.prefs.availability === "online" ? "away" : "online"));
  const unreadBadge = el("span", { class: "badge nav-unread", id: "nav-unread", hidden: true });

  const header = el("header", { class: "topbar" },
    el("a", { class: "brand", href: "#/", text: "Causerie" }),
    switcher, single,
    el("nav", { class: "topnav", "aria-label": t("app.main") },
      el("a", { href: "#/", id: "nav-inbox", "aria-current": view === "inbox" ? "page" : false }, t("app.inbox"), unreadBadge),
      el("a", { href: "#/reports", id: "nav-reports", "aria-current": view === "reports" ? "page" : false, text: t("app.reports") }),
      el("a", { href: "#/settings/website", "aria-current": view === "settings" ? "page" : false, text: t("app.settings") }),
      privacyLink,
      el("a", { href: "#/shield", "aria-current": view === "shield" ? "page" : false, text: t("app.shield") })),
    el("div", { class: "spacer" }),
    connection,
    availability,
    el("span", { class: "me-name", text: state.me.operator.name }),
    el("button", { type: "button", class: "button subtle small", id: "logout", text: t("app.signOut"), onclick: logout }));
  unmount.push(on("websites", renderSwitcher), on("status", renderStatus), on("list", () => showUnread(unreadBadge)));
  showUnread(unreadBadge);
  renderSwitcher();
  renderStatus();
  return header;
}

// -- keyboard ---------------------------------------------------------------------------------

function shortcuts(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || view !== "inbox") return;
  if (document.querySelector("dialog[open]")) return;
  const editing = isEditable(event.target);
  if (event.key === "Escape") {
    if (document.body.classList.contains("panel-open")) {
      closePanel();
      return;
    }
    if (state.current && window.matchMedia("(max-width: 767px)").matches) location.hash = "#/";
    if (!focusCurrent()) document.getElementById("search")?.focus();
    event.preventDefault();
    return;
  }
  if (editing) return;
  if (event.key === "/") {
    event.preventDefault();
    document.getElementById("search")?.focus();
  } else if (event.key === "j" || event.key === "ArrowDown") {
    if (event.target.closest?.("[role=option], .log, select")) return;
    event.preventDefault();
    moveFocus(1);
  } else if (event.key === "k" || event.key === "ArrowUp") {
    if (event.target.closest?.("[role=option], .log, select")) return;
    event.preventDefault();
    moveFocus(-1);
  } else if (event.key === "r" && state.current?.conversation) {
    event.preventDefault();
    document.getElementById("composer")?.focus();
  } else if (event.key === "l" && state.current?.conversation) {
    event.preventDefault();
    pickLabels();
  }
}

/** The conversations with unread messages, in the tab's title and on the Inbox link, on every
 * page: a visitor who writes while the agent is in the settings is seen there too. */
function showUnread(badge) {
  const unread = state.order.reduce((n, id) => n + (state.conversations.get(id)?.unread ? 1 : 0), 0);
  document.title = (unread ? `(${unread}) ` : "") + t("list.inboxCauserie");
  badge.textContent = unread ? String(unread) : "";
  badge.hidden = unread === 0;
}

// -- boot -------------------------------------------------------------------------------------

// Another language: every view is built again in it (the conversation stays open).
onLanguage(() => {
  document.title = t("list.inboxCauserie");
  view = null;
  main = null;
  route().catch((failure) => toast(failure.message, "error"));
});
// The browser's language changed: it is the inbox's when the operator chose none.
window.addEventListener("languagechange", () => setLanguage(chosenLanguage()));
document.title = t("list.inboxCauserie");

whenUnauthenticated(() => {
  if (state.me) showLogin(t("app.yourSessionEndedSign"));
});
setHooks({
  // A socket refused at `auth`, or closed as its access ended (4010, 4003): the login ended,
  // or the operator is no longer on that website.
  onAuthFailed: () => websitesChanged().catch((f) => {
    if (f.status === 401 && state.me) showLogin(t("app.yourSessionEndedSign"));
  }),
  onOpen: (conversationId) => {
    location.hash = conversationHash(conversationId);
  },
});
window.addEventListener("hashchange", () => route().catch((failure) => toast(failure.message, "error")));
document.addEventListener("keydown", shortcuts);
installPalette();
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) markRead();
});
for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, unlockAudio, { once: true, capture: true });
registerWorker((conversationId) => {
  location.hash = conversationHash(conversationId);
});
route().catch((failure) => toast(failure.message, "error"));

