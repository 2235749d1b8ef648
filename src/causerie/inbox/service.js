/* Teams, transfers, business hours, auto-resolve and ratings in the inbox (docs/inbox.md):
 * the Teams and Business hours pages of the settings, the Transfer control of a conversation's
 * header, and the visitor's ratings under the thread. Hooked into settings.js, thread.js and
 * data.js by a few lines each. */

import { api } from "./api.js";
import { canAdmin, state, website } from "./store.js";
import { el, replace, toast } from "./dom.js";
import { fullTime } from "./format.js";

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];

function heading(text, sub) {
  return [el("h1", { id: "settings-title", text }), sub ? el("p", { class: "muted", text: sub }) : null];
}

function field(label, input, hint) {
  if (!input.id) input.id = `s-${input.name || Math.random().toString(36).slice(2)}`;
  return el("div", { class: "field" }, el("label", { for: input.id, text: label }), input,
    hint ? el("p", { class: "hint", text: hint }) : null);
}

// -- Settings → Teams -------------------------------------------------------------------------

export async function teamsPage(content) {
  const websiteId = state.websiteId;
  if (!websiteId) return;
  const admin = canAdmin();
  const [{ teams }, { operators }] = await Promise.all([
    api.get(`/websites/${websiteId}/teams`), api.get(`/websites/${websiteId}/operators`)]);
  const members = operators.filter((o) => !o.pending);
  const nameOf = (id) => members.find((o) => o.id === id)?.name || operators.find((o) => o.id === id)?.email || "Someone";
  const reload = () => teamsPage(content).catch((f) => toast(f.message, "error"));
  const rows = teams.map((team, index) => el("tr", { "data-team": team.id },
    el("td", {}, el("strong", { text: team.name }), index === 0 ? el("div", { class: "muted small", text: "Receives new conversations" }) : null),
    el("td", { text: team.mode === "round_robin" ? `Round robin, ${team.capacity} each` : "Manual" }),
    el("td", { text: team.members.map(nameOf).join(", ") || "—" }),
    el("td", { class: "right" }, admin ? el("button", {
      type: "button", class: "button danger-subtle small", text: "Delete", "aria-label": `Delete the team ${team.name}`,
      onclick: async () => {
        try {
          await api.del(`/websites/${websiteId}/teams/${team.id}`);
          toast(`Team ${team.name} deleted.`);
        } catch (failure) {
          toast(failure.message, "error");
        }
        reload();
      },
    }) : null)));
  const table = teams.length
    ? el("table", { class: "table", "aria-label": "Teams" },
      el("thead", {}, el("tr", {}, el("th", { text: "Team" }), el("th", { text: "Assignment" }), el("th", { text: "Members" }), el("th", {}))),
      el("tbody", {}, rows))
    : el("p", { class: "muted", text: "No team yet: conversations are not assigned automatically." });
  const parts = [...heading("Teams", "New conversations join the first team; a round-robin team gives each to an online member under their capacity."), table];
  if (admin) parts.push(teamForm(websiteId, members, reload));
  replace(content, ...parts);
}

function teamForm(websiteId, members, reload) {
  const name = el("input", { name: "team-name", id: "team-name", type: "text", required: true, maxlength: 100 });
  const mode = el("select", { name: "team-mode", id: "team-mode" },
    el("option", { value: "round_robin", text: "Round robin (automatic)" }), el("option", { value: "manual", text: "Manual" }));
  const capacity = el("input", { name: "team-capacity", id: "team-capacity", type: "number", min: 1, max: 100, value: 5 });
  const boxes = members.map((o) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "team-member", value: o.id }), ` ${o.name || o.email}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: "Create team" });
  const form = el("form", { class: "stack settings-form", "aria-label": "New team" },
    el("h2", { text: "New team" }),
    el("div", { class: "row" }, field("Name", name), field("Assignment", mode), field("Open conversations per member", capacity)),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: "Members" }), boxes), error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await api.post(`/websites/${websiteId}/teams`, {
        name: name.value.trim(), mode: mode.value, capacity: Number(capacity.value) || 5,
        members: [...form.querySelectorAll('input[name="team-member"]:checked')].map((box) => box.value),
      });
      toast("Team created.");
      await reload();
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// -- Settings → Business hours (and auto-resolve) --------------------------------------------

export async function hoursPage(content) {
  const websiteId = state.websiteId;
  if (!websiteId) return;
  const admin = canAdmin();
  const { website: site } = await api.get(`/websites/${websiteId}`);
  const hours = site.settings.business_hours;
  const enabled = el("input", { type: "checkbox", id: "hours-enabled", checked: !!hours });
  const zone = el("input", { name: "hours-timezone", id: "hours-timezone", type: "text", value: hours?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  const spans = DAYS.map(([key, label]) => {
    const input = el("input", { name: `hours-${key}`, id: `hours-${key}`, type: "text", placeholder: "Closed",
      value: (hours?.week?.[key] || []).map(([a, b]) => `${a}-${b}`).join(", ") });
    return [key, field(label, input), input];
  });
  const holidays = el("textarea", { name: "hours-holidays", id: "hours-holidays", rows: 2 });
  holidays.value = (hours?.holidays || []).join("\n");
  const away = el("textarea", { name: "hours-away", id: "hours-away", rows: 2, maxlength: 500 });
  away.value = hours?.away_message || "";
  const autoResolve = el("input", { name: "auto-resolve", id: "auto-resolve", type: "number", min: 1, max: 43200, placeholder: "Never", value: site.settings.auto_resolve_minutes ?? "" });
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: "Save" });
  const form = el("form", { class: "stack settings-form", "aria-label": "Business hours" },
    el("fieldset", { class: "plain-fieldset", disabled: !admin },
      el("div", { class: "field check" }, enabled, el("label", { for: "hours-enabled", text: "Use business hours (outside them, with no one online, the chatbox says when you are back)" })),
      field("Time zone", zone, "An IANA name such as Europe/Paris."),
      spans.map(([, node]) => node),
      el("p", { class: "hint", text: "Times like 09:00-12:00, 13:00-17:00; empty for closed." }),
      field("Holidays", holidays, "One date per line, like 2026-12-25."),
      field("Away message", away, "Shown outside business hours. Up to 500 characters."),
      el("h2", { class: "form-section", text: "Auto-resolve" }),
      field("Resolve conversations after (minutes without messages)", autoResolve, "Empty: never. The visitor writing again reopens it."),
      error, save));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    save.disabled = true;
    try {
      const week = {};
      for (const [key, , input] of spans) {
        week[key] = input.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => s.split("-").map((t) => t.trim()));
      }
      const settings = {
        business_hours: enabled.checked ? {
          timezone: zone.value.trim(), week,
          holidays: holidays.value.split(/\s+/).filter(Boolean), away_message: away.value.trim(),
        } : null,
        auto_resolve_minutes: autoResolve.value ? Number(autoResolve.value) : null,
      };
      await api.patch(`/websites/${websiteId}`, { settings });
      toast("Business hours saved.");
      await hoursPage(content);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      save.disabled = false;
    }
  });
  replace(content, ...heading("Business hours", admin ? `When ${website()?.name || "the website"}'s team answers.` : "Only an admin or an owner of this website can change them."), form);
}

// -- a conversation's header: Transfer ----------------------------------------------------------

const teamsOf = new Map(); // website id -> its teams, read once per page load

export function transferControl(conversation, onDone) {
  const select = el("select", { class: "select", "aria-label": "Transfer", id: "transfer" },
    el("option", { value: "", text: "Transfer…" }));
  const fill = (teams) => {
    if (teams.length) {
      const group = el("optgroup", { label: "Teams" });
      for (const team of teams) group.append(el("option", { value: `team:${team.id}`, text: team.name }));
      select.append(group);
    }
    const people = el("optgroup", { label: "Operators" });
    for (const operator of state.operators.get(conversation.website_id) || []) {
      if (!operator.pending) people.append(el("option", { value: `operator:${operator.id}`, text: operator.name || operator.email }));
    }
    select.append(people);
  };
  const known = teamsOf.get(conversation.website_id);
  if (known) fill(known);
  else {
    api.get(`/websites/${conversation.website_id}/teams`).then(({ teams }) => {
      teamsOf.set(conversation.website_id, teams);
      fill(teams);
    }, () => fill([]));
  }
  select.addEventListener("change", async () => {
    const [kind, id] = select.value.split(":");
    if (!id) return;
    const label = select.selectedOptions[0].text;
    try {
      await api.post(`/conversations/${conversation.id}/transfer`, kind === "team" ? { team_id: id } : { operator_id: id });
      toast(`Transferred to ${label}.`);
      onDone?.();
    } catch (failure) {
      toast(failure.message, "error");
    }
    select.value = "";
  });
  return el("label", { class: "assign" }, el("span", { class: "label", text: "Transfer" }), select);
}

// -- the thread: the visitor's ratings ---------------------------------------------------------

export function ratingItems(ratings) {
  return (ratings || []).map((r) => el("div", { class: "rating-line event", "data-rating": String(r.rating), role: "note" },
    el("strong", { text: `${"★".repeat(r.rating)}${"☆".repeat(5 - r.rating)} ` }),
    `Rated ${r.rating}/5 by the visitor`,
    el("span", { class: "muted", text: ` · ${fullTime(r.created_at)}` }),
    r.comment ? el("p", { class: "rating-comment", dir: "auto", text: r.comment }) : null));
}

/** A `conversation.rated` frame: the open thread shows it (one rating per resolution). */
export function applyRating(current, frame) {
  if (!current || current.id !== frame.conversation_id) return false;
  const rating = { conversation_id: frame.conversation_id, rating: frame.rating, comment: frame.comment, resolved_at: frame.resolved_at, created_at: frame.created_at };
  current.ratings = [...(current.ratings || []).filter((r) => r.resolved_at !== rating.resolved_at), rating];
  return true;
}
