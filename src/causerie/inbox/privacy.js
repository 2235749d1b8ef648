/* Privacy tools for owners and admins (docs/inbox.md "Privacy tools"; docs/api.md "Privacy"):
 * data-subject requests (find a person, export, erase: P9), the record of processing activities
 * (P2, P11), the audit log (P4, owners) and the data-processing agreement (P10). Everything goes
 * through /api/v1; every value is put on the page as text, the register's Markdown included. */

import { api } from "./api.js";
import { canAdmin, state, website } from "./store.js";
import { download, el, modal, replace, toast } from "./dom.js";
import { fullTime, roleName, visitorName } from "./format.js";

const PAGES = [
  ["requests", "Data requests", "admin"],
  ["register", "Processing register", "admin"],
  ["audit", "Audit log", "owner"],
  ["dpa", "Processing agreement", "admin"],
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
    replace(content, ...title("Privacy tools"),
      el("p", { class: "muted", text: state.websiteId
        ? `Only the owners and admins of ${website()?.name || "this website"} use the privacy tools. You are ${roleName(role).toLowerCase() || "not a member"} here.`
        : "You are not a member of any website yet." }));
    return;
  }
  const current = pages.some(([key]) => key === page) ? page : pages[0][0];
  const nav = el("nav", { class: "settings-nav", "aria-label": "Privacy" },
    el("ul", { class: "plain" }, pages.map(([key, label]) => el("li", {},
      el("a", { href: `#/privacy/${key}`, "aria-current": key === current ? "page" : false, text: label })))));
  replace(container, el("div", { class: "settings wide" }, nav, content));
  const render = { requests: requestsPage, register: registerPage, audit: auditPage, dpa: dpaPage }[current];
  render(content).catch((failure) => content.append(errorText(failure)));
}

function title(text, sub) {
  return [el("h1", { id: "settings-title", text }), sub ? el("p", { class: "muted", text: sub }) : null];
}

/** An API failure in words; a 403 (a role that changed meanwhile) says who may do it. */
function errorMessage(failure, what = "this") {
  if (failure.status === 403 && failure.code === "forbidden") return `You are not allowed to do ${what}: it needs a higher role on this website.`;
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
  const kind = el("select", { id: "subject-kind", name: "kind", "aria-label": "Find by" },
    el("option", { value: "email", text: "Email" }), el("option", { value: "session_id", text: "Session id" }));
  const value = el("input", { id: "subject-value", name: "value", type: "text", required: true, maxlength: 320, autocomplete: "off", spellcheck: "false", placeholder: "clara@example.com" });
  kind.addEventListener("change", () => {
    value.placeholder = kind.value === "email" ? "clara@example.com" : "the visitor's session id";
  });
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: "Search" });
  const results = el("div", { class: "stack subject-results", id: "subject-results", "aria-live": "polite" });
  const form = el("form", { class: "stack settings-form", "aria-label": "Find a person" },
    el("div", { class: "row" },
      el("div", { class: "field narrow" }, el("label", { for: "subject-kind", text: "Find by" }), kind),
      el("div", { class: "field" }, el("label", { for: "subject-value", text: "Email or session id" }), value)),
    el("p", { class: "hint", text: "Searches the websites you own or administer. The person is sent in the request's body, never in an address, so it reaches no log." }),
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
      if (failure.code === "session_not_found") error.textContent = "No session with this id on the websites you manage.";
      else error.textContent = errorMessage(failure, "data-subject requests");
    } finally {
      submit.disabled = false;
    }
  });
  replace(content, ...title("Data requests",
    "When someone asks what you hold about them, for a copy, or to be forgotten (GDPR Art. 15, 17, 20)."),
  form, results,
  el("p", { class: "muted small" }, "To correct someone's name, email or phone (rectification), open their conversation and edit the visitor's profile in the panel on the right."));
}

function showSubject(results, query, sessions) {
  const who = query.email ? query.email : `session ${query.session_id}`;
  if (!sessions.length) {
    replace(results, el("p", { class: "muted", role: "status", text: `Nothing is held about ${who} on the websites you manage.` }));
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
        el("div", { class: "muted small", text: [profile.email, profile.phone].filter(Boolean).join(" · ") || "No email or phone given" }),
        el("div", { class: "muted small" }, "Session ", el("code", { text: session.id }))),
      el("td", { class: "small", text: fullTime(session.created_at) }),
      el("td", { class: "small", text: fullTime(session.last_access_at) }),
      el("td", { class: "right messages-count", text: String(count) }),
      el("td", {}, conversationId
        ? el("a", { href: `#/c/${encodeURIComponent(conversationId)}`, text: "Open" })
        : el("span", { class: "muted small", text: "No conversation" })));
  });
  const exportButton = el("button", { type: "button", class: "button", id: "subject-export", text: "Export (JSON)" });
  const eraseButton = el("button", { type: "button", class: "button danger-subtle", id: "subject-erase", text: "Erase everything…" });
  const outcome = el("p", { class: "muted", role: "status", id: "subject-outcome" });
  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    try {
      const exported = await api.post("/privacy/export", query);
      download(`causerie-personal-data-${stamp()}.json`, JSON.stringify(exported, null, 2));
      outcome.textContent = "Exported. The export is recorded in the audit log.";
    } catch (failure) {
      toast(errorMessage(failure, "an export"), "error");
    } finally {
      exportButton.disabled = false;
    }
  });
  eraseButton.addEventListener("click", async () => {
    const body = el("div", { class: "stack" },
      el("p", { text: `This permanently destroys everything held about ${who}, on ${sessions.length} ${sessions.length === 1 ? "session" : "sessions"}:` }),
      el("ul", { class: "destroyed" },
        el("li", { text: `their ${sessions.length === 1 ? "session" : "sessions"} and conversations,` }),
        el("li", { text: `every message (${messages}), replies and private notes included,` }),
        el("li", { text: "their profile: nickname, email, phone and custom data," }),
        el("li", { text: "their IP addresses and browser details," }),
        el("li", { text: "their consent records." })),
      el("p", { class: "muted", text: "It is irreversible: nothing can be restored. Statistics without personal data stay, and the audit log keeps only ids and counts." }));
    const choice = await modal({
      title: "Erase this person?", body, className: "danger", actions: [
        { value: "", text: "Cancel", class: "button subtle", autofocus: true },
        { value: "erase", text: "Erase everything", class: "button danger" },
      ],
    });
    if (choice !== "erase") return;
    eraseButton.disabled = true;
    try {
      const data = await api.post("/privacy/erase", query);
      const erased = data.erased || {};
      replace(results, el("p", { class: "once", role: "status", id: "subject-outcome" },
        `Erased ${who}: ${plural(erased.sessions, "session")} and ${plural(erased.messages, "message")} destroyed.`));
      toast("Erased.");
    } catch (failure) {
      eraseButton.disabled = false;
      toast(errorMessage(failure, "an erasure"), "error");
    }
  });
  replace(results,
    el("h2", { text: `What is held about ${who}` }),
    el("table", { class: "table", "aria-label": "Sessions of this person" },
      el("thead", {}, el("tr", {}, ["Website", "Visitor", "First seen", "Last seen", "Messages", "Conversation"].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows)),
    el("div", { class: "row actions" }, exportButton, eraseButton),
    outcome);
}

function plural(count, word) {
  const n = Number(count) || 0;
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// -- the record of processing activities (P2, P11) ----------------------------------------------

async function registerPage(content) {
  const data = await api.get("/privacy/register");
  const markdown = String(data.markdown || "");
  const save = el("button", { type: "button", class: "button", id: "register-download", text: "Download .md",
    onclick: () => download(`causerie-processing-register-${stamp()}.md`, markdown, "text/markdown") });
  replace(content, ...title("Processing register",
    "The record of processing activities (GDPR Art. 30) for the websites you own or administer, generated from the server's declarations of personal data and its live settings."),
  el("div", { class: "row actions" }, save),
  el("article", { class: "markdown settings-form", id: "register", "aria-label": "Record of processing activities" }, markdownToDom(markdown)));
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
  const action = el("input", { id: "audit-action", name: "action", type: "text", list: "audit-actions", maxlength: 64, autocomplete: "off", spellcheck: "false", placeholder: "Any action" });
  const actions = el("datalist", { id: "audit-actions" }, AUDIT_ACTIONS.map((a) => el("option", { value: a })));
  const actor = el("select", { id: "audit-actor", name: "actor" }, el("option", { value: "", text: "Anyone" }),
    operators.map((o) => el("option", { value: o.id, text: o.name || o.email })));
  const filter = el("button", { type: "submit", class: "button", text: "Filter" });
  const error = el("p", { class: "form-error", role: "alert" });
  const body = el("tbody");
  const more = el("button", { type: "button", class: "button load-more", id: "audit-more", text: "Load more", hidden: true });
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
      status.textContent = body.children.length ? "" : "No entry matches.";
    } catch (failure) {
      error.textContent = errorMessage(failure, "read the audit log");
    } finally {
      more.disabled = false;
    }
  };
  const form = el("form", { class: "row audit-filters", "aria-label": "Filter the audit log" },
    el("div", { class: "field" }, el("label", { for: "audit-action", text: "Action" }), action, actions),
    el("div", { class: "field" }, el("label", { for: "audit-actor", text: "Who" }), actor),
    el("div", { class: "field end" }, filter));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  replace(content, ...title("Audit log",
    `Who did what on ${website()?.name || "this website"}, newest first. Entries hold ids and counts, never personal data.`),
  form, error,
  el("div", { class: "table-scroll" }, el("table", { class: "table audit", id: "audit", "aria-label": "Audit log" },
    el("thead", {}, el("tr", {}, ["Time", "Who", "Action", "Target", "Details"].map((h) => el("th", { text: h })))), body)),
  status, more);
  await load(false);
}

function auditRow(entry, names) {
  let who;
  if (entry.actor_type === "operator") {
    const name = entry.actor_id === state.me?.operator?.id ? `${state.me.operator.name} (you)` : names.get(entry.actor_id);
    who = name ? el("span", { text: name }) : el("span", {}, "Operator ", el("code", { text: String(entry.actor_id || "").slice(0, 8) }));
  } else {
    who = el("span", { class: "muted", text: { visitor: "The visitor", cli: "Command line", system: "Causerie (automatic)" }[entry.actor_type] || entry.actor_type });
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
    ? el("p", { class: "dpa-status", id: "dpa-status" }, el("span", { class: "pill ok", text: "Accepted" }),
      ` Version ${version} was accepted on ${fullTime(current.accepted_at)}${current.operator?.name ? " by " + current.operator.name : ""}.`)
    : el("p", { class: "dpa-status", id: "dpa-status" }, el("span", { class: "pill", text: "Not accepted" }),
      ` Version ${version} has not been accepted for ${site?.name || "this website"} yet.`);
  const error = el("p", { class: "form-error", role: "alert" });
  const parts = [
    ...title("Data-processing agreement",
      `The agreement (GDPR Art. 28) under which this Causerie installation processes visitors' data on behalf of ${site?.name || "this website"}.`),
    el("section", { class: "stack settings-form", "aria-label": "Agreement" },
      el("p", {}, "Version offered: ", el("strong", { id: "dpa-version", text: version })),
      status, error,
      owner && !current
        ? el("button", { type: "button", class: "button primary", id: "dpa-accept", text: `Accept version ${version}`,
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            try {
              await api.post(`/websites/${websiteId}/dpa`, { version });
              toast(`Version ${version} accepted.`);
              await dpaPage(content);
            } catch (failure) {
              error.textContent = errorMessage(failure, "accept the agreement");
              button.disabled = false;
            }
          } })
        : null,
      !owner ? el("p", { class: "muted small", text: "Only an owner of the website accepts the agreement." }) : null),
  ];
  if (acceptances.length) {
    parts.push(el("h2", { text: "History" }), el("table", { class: "table", "aria-label": "Acceptances" },
      el("thead", {}, el("tr", {}, ["Version", "Accepted", "By"].map((h) => el("th", { text: h })))),
      el("tbody", {}, acceptances.map((a) => el("tr", {},
        el("td", { text: a.version }), el("td", { text: fullTime(a.accepted_at) }), el("td", { text: a.operator?.name || "—" }))))));
  }
  replace(content, ...parts);
}
