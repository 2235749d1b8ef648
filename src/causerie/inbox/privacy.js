/* Privacy tools for owners and admins (docs/inbox.md "Privacy tools"; docs/api.md "Privacy"):
 * data-subject requests (find a person, export, erase: P9), the record of processing activities
 * (P2, P11), the audit log (P4, owners) and the data-processing agreement (P10). Everything goes
 * through /api/v1; every value is put on the page as text, the register's Markdown included. */

import { api } from "./api.js";
import { canAdmin, state, website } from "./store.js";
import { download, el, modal, replace, toast } from "./dom.js";
import { fullTime, roleName, visitorName } from "./format.js";
import { t, tn } from "./locale.js";

const PAGES = [
  ["requests", "privacy.dataRequests", "admin"],
  ["register", "privacy.processingRegister", "admin"],
  ["audit", "privacy.auditLog", "owner"],
  ["dpa", "privacy.processingAgreement", "admin"],
];

const AUDIT_ACTIONS = [
  "conversation.assign", "conversation.delete", "conversation.legal_export", "consent.withdraw", "dpa.accept",
  "operator.create", "operator.invite", "operator.login", "operator.password", "operator.remove", "operator.role",
  "privacy.erase", "privacy.erase_own", "privacy.export", "token.create", "token.revoke", "visitor.profile",
  "website.create", "website.delete", "website.update",
];

function allowed(need, role) {
  return need === "owner" ? role === "owner" : canAdmin(role);
}

/** The pages the caller's role on the current website opens. */
export function privacyPages(role = website()?.role) {
  return PAGES.filter(([, , need]) => allowed(need, role));
}

export function renderPrivacy(container, page) {
  const role = website()?.role;
  const pages = privacyPages(role);
  const content = el("section", { class: "settings-content privacy", "aria-labelledby": "settings-title" });
  if (!pages.length) {
    replace(container, el("div", { class: "settings" }, el("div"), content));
    replace(content, ...title(t("privacy.privacyTools")),
      el("p", { class: "muted", text: state.websiteId
        ? t(role ? "privacy.onlyOwnersAndAdminsRole" : "privacy.onlyOwnersAndAdminsNone", { website: website()?.name || "", role: roleName(role).toLowerCase() })
        : t("privacy.youAreNotA") }));
    return;
  }
  const current = pages.some(([key]) => key === page) ? page : pages[0][0];
  const nav = el("nav", { class: "settings-nav", "aria-label": t("privacy.privacy") },
    el("ul", { class: "plain" }, pages.map(([key, label]) => el("li", {},
      el("a", { href: `#/privacy/${key}`, "aria-current": key === current ? "page" : false, text: t(label) })))));
  replace(container, el("div", { class: "settings wide" }, nav, content));
  const render = { requests: requestsPage, register: registerPage, audit: auditPage, dpa: dpaPage }[current];
  render(content).catch((failure) => content.append(errorText(failure)));
}

function title(text, sub) {
  return [el("h1", { id: "settings-title", text }), sub ? el("p", { class: "muted", text: sub }) : null];
}

/** An API failure in words; a 403 (a role that changed meanwhile) says who may do it. */
function errorMessage(failure, what = "privacy.doThis") {
  if (failure.status === 403 && failure.code === "forbidden") return t("privacy.notAllowed", { what: t(what) });
  if (failure.status === 403 && failure.code === "insufficient_scope") return failure.message;
  return failure.message;
}

function errorText(failure, what) {
  return el("p", { class: "form-error", role: "alert", text: errorMessage(failure, what) });
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}

// -- data-subject requests (P9) ---------------------------------------------------------------

async function requestsPage(content) {
  const kind = el("select", { id: "subject-kind", name: "kind", "aria-label": t("privacy.findBy") },
    el("option", { value: "email", text: t("privacy.email") }), el("option", { value: "session_id", text: t("privacy.sessionId") }));
  const value = el("input", { id: "subject-value", name: "value", type: "text", required: true, maxlength: 320, autocomplete: "off", spellcheck: "false", placeholder: t("privacy.claraExampleCom") });
  kind.addEventListener("change", () => {
    value.placeholder = kind.value === "email" ? t("privacy.claraExampleCom") : t("privacy.theVisitorSSession");
  });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: t("privacy.search") });
  const results = el("div", { class: "stack subject-results", id: "subject-results", "aria-live": "polite" });
  const form = el("form", { class: "stack settings-form", "aria-label": t("privacy.findAPerson") },
    el("div", { class: "row" },
      el("div", { class: "field narrow" }, el("label", { for: "subject-kind", text: t("privacy.findBy") }), kind),
      el("div", { class: "field" }, el("label", { for: "subject-value", text: t("privacy.emailOrSessionId") }), value)),
    el("p", { class: "hint", text: t("privacy.searchesTheWebsitesYou") }),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const text = value.value.trim();
    if (!text) return;
    const query = { [kind.value]: text };
    submit.disabled = true;
    try {
      const data = await api.post("/privacy/search", query);
      showSubject(results, query, data.sessions || []);
    } catch (failure) {
      replace(results);
      if (failure.code === "session_not_found") error.textContent = t("privacy.noSessionWithThis");
      else error.textContent = errorMessage(failure, "privacy.doRequests");
    } finally {
      submit.disabled = false;
    }
  });
  replace(content, ...title(t("privacy.dataRequests"),
    t("privacy.whenSomeoneAsksWhat")),
  form, results,
  el("p", { class: "muted small" }, t("privacy.toCorrectSomeoneS")));
}

function showSubject(results, query, sessions) {
  const who = query.email ? query.email : t("privacy.sessionSubject", { id: query.session_id });
  if (!sessions.length) {
    replace(results, el("p", { class: "muted", role: "status", text: t("privacy.nothingHeld", { who }) }));
    return;
  }
  const names = new Map(state.websites.map((w) => [w.id, w.name]));
  const messages = sessions.reduce((n, s) => n + (s.messages || 0), 0);
  const rows = sessions.map(({ session, conversation_id: conversationId, messages: count }) => {
    const profile = session.profile || {};
    return el("tr", { "data-session": session.id },
      el("td", {}, el("strong", { text: names.get(session.website_id) || session.website_id })),
      el("td", {},
        el("div", { text: visitorName(profile, session.id) }),
        el("div", { class: "muted small", text: [profile.email, profile.phone].filter(Boolean).join(" · ") || t("privacy.noEmailOrPhone") }),
        el("div", { class: "muted small" }, t("privacy.session"), el("code", { text: session.id }))),
      el("td", { class: "small", text: fullTime(session.created_at) }),
      el("td", { class: "small", text: fullTime(session.last_access_at) }),
      el("td", { class: "right messages-count", text: String(count) }),
      el("td", {}, conversationId
        ? el("a", { href: `#/c/${encodeURIComponent(conversationId)}`, text: t("privacy.open") })
        : el("span", { class: "muted small", text: t("privacy.noConversation") })));
  });
  const exportButton = el("button", { type: "button", class: "button", id: "subject-export", text: t("privacy.exportJson") });
  const eraseButton = el("button", { type: "button", class: "button danger-subtle", id: "subject-erase", text: t("privacy.eraseEverything") });
  const outcome = el("p", { class: "muted", role: "status", id: "subject-outcome" });
  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    try {
      const exported = await api.post("/privacy/export", query);
      download(`causerie-personal-data-${stamp()}.json`, JSON.stringify(exported, null, 2));
      outcome.textContent = t("privacy.exportedTheExportIs");
    } catch (failure) {
      toast(errorMessage(failure, "privacy.doExport"), "error");
    } finally {
      exportButton.disabled = false;
    }
  });
  eraseButton.addEventListener("click", async () => {
    const body = el("div", { class: "stack" },
      el("p", { text: tn("privacy.destroysOnSessions", sessions.length, { who }) }),
      el("ul", { class: "destroyed" },
        el("li", { text: tn("privacy.theirSessions", sessions.length) }),
        el("li", { text: t("privacy.everyMessage", { n: messages }) }),
        el("li", { text: t("privacy.theirProfileNicknameEmail") }),
        el("li", { text: t("privacy.theirIpAddressesAnd") }),
        el("li", { text: t("privacy.theirConsentRecords") })),
      el("p", { class: "muted", text: t("privacy.itIsIrreversibleNothing") }));
    const choice = await modal({
      title: t("privacy.eraseThisPerson"), body, className: "danger", actions: [
        { value: "", text: t("privacy.cancel"), class: "button subtle", autofocus: true },
        { value: "erase", text: t("privacy.eraseEverything2"), class: "button danger" },
      ],
    });
    if (choice !== "erase") return;
    eraseButton.disabled = true;
    try {
      const data = await api.post("/privacy/erase", query);
      const erased = data.erased || {};
      replace(results, el("p", { class: "once", role: "status", id: "subject-outcome" },
        t("privacy.erasedWho", { who, sessions: tn("privacy.sessions", Number(erased.sessions) || 0), messages: tn("privacy.messages", Number(erased.messages) || 0) })));
      toast(t("privacy.erased"));
    } catch (failure) {
      eraseButton.disabled = false;
      toast(errorMessage(failure, "privacy.doErasure"), "error");
    }
  });
  replace(results,
    el("h2", { text: t("privacy.whatIsHeld", { who }) }),
    el("table", { class: "table", "aria-label": t("privacy.sessionsOfThisPerson") },
      el("thead", {}, el("tr", {}, [t("privacy.website"), t("privacy.visitor"), t("privacy.firstSeen"), t("privacy.lastSeen"), t("privacy.messages"), t("privacy.conversation")].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows)),
    el("div", { class: "row actions" }, exportButton, eraseButton),
    outcome);
}


// -- the record of processing activities (P2, P11) ----------------------------------------------

async function registerPage(content) {
  const data = await api.get("/privacy/register");
  const markdown = String(data.markdown || "");
  const save = el("button", { type: "button", class: "button", id: "register-download", text: t("privacy.downloadMd"),
    onclick: () => download(`causerie-processing-register-${stamp()}.md`, markdown, "text/markdown") });
  replace(content, ...title(t("privacy.processingRegister"),
    t("privacy.theRecordOfProcessing")),
  el("div", { class: "row actions" }, save),
  el("article", { class: "markdown settings-form", id: "register", "aria-label": t("privacy.recordOfProcessingActivities") }, markdownToDom(markdown)));
}

/** A small Markdown subset (headings, tables, lists, paragraphs, `code`) built as DOM nodes:
 * no HTML is ever parsed, so nothing in the text can run. */
export function markdownToDom(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text).split("\n");
  const block = /^(#{1,6}\s|\||[-*]\s)/;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      fragment.append(el(`h${Math.min(6, heading[1].length + 1)}`, {}, inline(heading[2])));
      i += 1;
    } else if (line.startsWith("|")) {
      const rows = [];
      while (i < lines.length && lines[i].startsWith("|")) rows.push(lines[i++]);
      fragment.append(table(rows));
    } else if (/^[-*]\s/.test(line)) {
      const list = el("ul");
      while (i < lines.length && /^[-*]\s/.test(lines[i])) list.append(el("li", {}, inline(lines[i++].replace(/^[-*]\s+/, ""))));
      fragment.append(list);
    } else {
      const words = [];
      while (i < lines.length && lines[i].trim() && !block.test(lines[i])) words.push(lines[i++].trim());
      fragment.append(el("p", {}, inline(words.join(" "))));
    }
  }
  return fragment;
}

function cells(row) {
  const inner = row.trim().replace(/^\|/, "").replace(/(?<!\\)\|$/, "");
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function table(rows) {
  const [head, ...rest] = rows;
  const body = rest.filter((row) => !/^\|[\s:|-]+\|?\s*$/.test(row));
  return el("div", { class: "table-scroll" }, el("table", { class: "table md-table" },
    el("thead", {}, el("tr", {}, cells(head).map((cell) => el("th", {}, inline(cell))))),
    el("tbody", {}, body.map((row) => el("tr", {}, cells(row).map((cell) => el("td", {}, inline(cell))))))));
}

/** Text with `code` spans; everything else stays plain text. */
function inline(text) {
  const parts = String(text).split("`");
  return parts.map((part, index) => (index % 2 === 1 && index < parts.length - 1 ? code(part) : part))
    .filter((part) => part !== "");
}

/** `sessions.ip_seen_at` may wrap after a dot or an underscore, never inside a word. */
function code(text) {
  const node = el("code");
  for (const piece of text.split(/(?<=[._])/)) {
    if (node.childNodes.length) node.append(el("wbr"));
    node.append(piece);
  }
  return node;
}

// -- the audit log (P4, owners) -----------------------------------------------------------------

async function auditPage(content) {
  const websiteId = state.websiteId;
  let operators = [];
  try {
    operators = (await api.get(`/websites/${websiteId}/operators`)).operators || [];
  } catch {
    operators = []; // names are a comfort: ids still show
  }
  const names = new Map(operators.map((o) => [o.id, o.name || o.email]));
  const action = el("input", { id: "audit-action", name: "action", type: "text", list: "audit-actions", maxlength: 64, autocomplete: "off", spellcheck: "false", placeholder: t("privacy.anyAction") });
  const actions = el("datalist", { id: "audit-actions" }, AUDIT_ACTIONS.map((a) => el("option", { value: a })));
  const actor = el("select", { id: "audit-actor", name: "actor" }, el("option", { value: "", text: t("privacy.anyone") }),
    operators.map((o) => el("option", { value: o.id, text: o.name || o.email })));
  const filter = el("button", { type: "submit", class: "button", text: t("privacy.filter") });
  const error = el("p", { class: "form-error", role: "alert" });
  const body = el("tbody");
  const more = el("button", { type: "button", class: "button load-more", id: "audit-more", text: t("privacy.loadMore"), hidden: true });
  const status = el("p", { class: "muted small", role: "status" });
  let cursor = null;
  let token = 0;

  const load = async (again) => {
    const mine = again ? token : ++token;
    error.textContent = "";
    more.disabled = true;
    try {
      const data = await api.get(`/websites/${websiteId}/audit`, {
        action: action.value.trim(), actor_id: actor.value, limit: 50, cursor: again ? cursor : null,
      });
      if (mine !== token) return;
      if (!again) body.replaceChildren();
      for (const entry of data.entries || []) body.append(auditRow(entry, names));
      cursor = data.next_cursor || null;
      more.hidden = !cursor;
      status.textContent = body.children.length ? "" : t("privacy.noEntryMatches");
    } catch (failure) {
      error.textContent = errorMessage(failure, "privacy.doAudit");
    } finally {
      more.disabled = false;
    }
  };
  const form = el("form", { class: "row audit-filters", "aria-label": t("privacy.filterTheAuditLog") },
    el("div", { class: "field" }, el("label", { for: "audit-action", text: t("privacy.action") }), action, actions),
    el("div", { class: "field" }, el("label", { for: "audit-actor", text: t("privacy.who") }), actor),
    el("div", { class: "field end" }, filter));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  replace(content, ...title(t("privacy.auditLog"),
    t("privacy.whoDidWhat", { website: website()?.name || "" })),
  form, error,
  el("div", { class: "table-scroll" }, el("table", { class: "table audit", id: "audit", "aria-label": t("privacy.auditLog") },
    el("thead", {}, el("tr", {}, [t("privacy.time"), t("privacy.who"), t("privacy.action"), t("privacy.target"), t("privacy.details")].map((h) => el("th", { text: h })))), body)),
  status, more);
  await load(false);
}

function auditRow(entry, names) {
  let who;
  if (entry.actor_type === "operator") {
    const name = entry.actor_id === state.me?.operator?.id ? `${state.me.operator.name} (you)` : names.get(entry.actor_id);
    who = name ? el("span", { text: name }) : el("span", {}, t("privacy.operator"), el("code", { text: String(entry.actor_id || "").slice(0, 8) }));
  } else {
    who = el("span", { class: "muted", text: { visitor: t("privacy.theVisitor"), cli: t("privacy.commandLine"), system: t("privacy.causerieAutomatic") }[entry.actor_type] || entry.actor_type });
  }
  const details = Object.entries(entry.details || {});
  return el("tr", { "data-action": entry.action },
    el("td", { class: "small nowrap", text: fullTime(entry.at) }),
    el("td", {}, who),
    el("td", {}, el("code", { class: "action", text: entry.action })),
    el("td", { class: "small" }, `${entry.target_type} `, el("code", { text: entry.target_id })),
    el("td", { class: "small" }, details.length
      ? details.map(([key, value]) => el("div", {}, el("span", { class: "muted", text: `${key}: ` }), typeof value === "string" ? value : JSON.stringify(value)))
      : "—"));
}

// -- the data-processing agreement (P10) --------------------------------------------------------

async function dpaPage(content) {
  const websiteId = state.websiteId;
  const site = website();
  const data = await api.get(`/websites/${websiteId}/dpa`);
  const version = data.current_version;
  const acceptances = data.acceptances || [];
  const current = acceptances.find((a) => a.version === version);
  const owner = site?.role === "owner";
  const status = current
    ? el("p", { class: "dpa-status", id: "dpa-status" }, el("span", { class: "pill ok", text: t("privacy.accepted") }),
      " ", current.operator?.name ? t("privacy.versionAcceptedBy", { version, at: fullTime(current.accepted_at), by: current.operator.name }) : t("privacy.versionAccepted", { version, at: fullTime(current.accepted_at) }))
    : el("p", { class: "dpa-status", id: "dpa-status" }, el("span", { class: "pill", text: t("privacy.notAccepted") }),
      " ", t("privacy.versionNotAccepted", { version, website: site?.name || "" }));
  const error = el("p", { class: "form-error", role: "alert" });
  const parts = [
    ...title(t("privacy.dataProcessingAgreement"),
      t("privacy.theAgreement", { website: site?.name || "" })),
    el("section", { class: "stack settings-form", "aria-label": t("privacy.agreement") },
      el("p", {}, t("privacy.versionOffered"), el("strong", { id: "dpa-version", text: version })),
      status, error,
      owner && !current
        ? el("button", { type: "button", class: "button primary", id: "dpa-accept", text: t("privacy.acceptVersion", { version }),
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            try {
              await api.post(`/websites/${websiteId}/dpa`, { version });
              toast(t("privacy.versionAcceptedToast", { version }));
              await dpaPage(content);
            } catch (failure) {
              error.textContent = errorMessage(failure, "privacy.doAccept");
              button.disabled = false;
            }
          } })
        : null,
      !owner ? el("p", { class: "muted small", text: t("privacy.onlyAnOwnerOf") }) : null),
  ];
  if (acceptances.length) {
    parts.push(el("h2", { text: t("privacy.history") }), el("table", { class: "table", "aria-label": t("privacy.acceptances") },
      el("thead", {}, el("tr", {}, [t("privacy.version"), t("privacy.accepted"), t("privacy.by")].map((h) => el("th", { text: h })))),
      el("tbody", {}, acceptances.map((a) => el("tr", {},
        el("td", { text: a.version }), el("td", { text: fullTime(a.accepted_at) }), el("td", { text: a.operator?.name || "—" }))))));
  }
  replace(content, ...parts);
}
