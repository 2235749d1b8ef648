/* Teams, transfers, business hours, auto-resolve and ratings in the inbox (docs/inbox.md):
 * the Teams and Business hours pages of the settings, the Transfer control of a conversation's
 * header, and the visitor's ratings under the thread. Hooked into settings.js, thread.js and
 * data.js by a few lines each. */

import { api } from "./api.js";
import { canAdmin, state, website } from "./store.js";
import { el, replace, toast } from "./dom.js";
import { fullTime, weekdayName } from "./format.js";
import { t } from "./locale.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]; // business hours' keys, Monday first

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
  const nameOf = (id) => members.find((o) => o.id === id)?.name || operators.find((o) => o.id === id)?.email || t("service.someone");
  const reload = () => teamsPage(content).catch((f) => toast(f.message, "error"));
  const rows = teams.map((team, index) => el("tr", { "data-team": team.id },
    el("td", {}, el("strong", { text: team.name }), index === 0 ? el("div", { class: "muted small", text: t("service.receivesNewConversations") }) : null),
    el("td", { text: team.mode === "round_robin" ? t("service.roundRobinEach", { n: team.capacity }) : t("service.manual") }),
    el("td", { text: team.members.map(nameOf).join(", ") || "—" }),
    el("td", { class: "right" }, admin ? el("button", {
      type: "button", class: "button danger-subtle small", text: t("service.delete"), "aria-label": t("service.deleteTheTeam", { name: team.name }),
      onclick: async () => {
        try {
          await api.del(`/websites/${websiteId}/teams/${team.id}`);
          toast(t("service.teamDeleted", { name: team.name }));
        } catch (failure) {
          toast(failure.message, "error");
        }
        reload();
      },
    }) : null)));
  const table = teams.length
    ? el("table", { class: "table", "aria-label": t("service.teams") },
      el("thead", {}, el("tr", {}, el("th", { text: t("service.team") }), el("th", { text: t("service.assignment") }), el("th", { text: t("service.members") }), el("th", {}))),
      el("tbody", {}, rows))
    : el("p", { class: "muted", text: t("service.noTeamYetConversations") });
  const parts = [...heading(t("service.teams"), t("service.newConversationsJoinThe")), table];
  if (admin) parts.push(teamForm(websiteId, members, reload));
  replace(content, ...parts);
}

function teamForm(websiteId, members, reload) {
  const name = el("input", { name: "team-name", id: "team-name", type: "text", required: true, maxlength: 100 });
  const mode = el("select", { name: "team-mode", id: "team-mode" },
    el("option", { value: "round_robin", text: t("service.roundRobinAutomatic") }), el("option", { value: "manual", text: t("service.manual") }));
  const capacity = el("input", { name: "team-capacity", id: "team-capacity", type: "number", min: 1, max: 100, value: 5 });
  const boxes = members.map((o) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "team-member", value: o.id }), ` ${o.name || o.email}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: t("service.createTeam") });
  const form = el("form", { class: "stack settings-form", "aria-label": t("service.newTeam") },
    el("h2", { text: t("service.newTeam") }),
    el("div", { class: "row" }, field(t("service.name"), name), field(t("service.assignment"), mode), field(t("service.openConversationsPerMember"), capacity)),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: t("service.members") }), boxes), error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await api.post(`/websites/${websiteId}/teams`, {
        name: name.value.trim(), mode: mode.value, capacity: Number(capacity.value) || 5,
        members: [...form.querySelectorAll('input[name="team-member"]:checked')].map((box) => box.value),
      });
      toast(t("service.teamCreated"));
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
  const spans = DAYS.map((key, day) => {
    const label = weekdayName(day, "long");
    const input = el("input", { name: `hours-${key}`, id: `hours-${key}`, type: "text", placeholder: t("service.closed"),
      value: (hours?.week?.[key] || []).map(([a, b]) => `${a}-${b}`).join(", ") });
    return [key, field(label, input), input];
  });
  const holidays = el("textarea", { name: "hours-holidays", id: "hours-holidays", rows: 2 });
  holidays.value = (hours?.holidays || []).join("\n");
  const away = el("textarea", { name: "hours-away", id: "hours-away", rows: 2, maxlength: 500 });
  away.value = hours?.away_message || "";
  const autoResolve = el("input", { name: "auto-resolve", id: "auto-resolve", type: "number", min: 1, max: 43200, placeholder: t("service.never"), value: site.settings.auto_resolve_minutes ?? "" });
  const error = el("p", { class: "form-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button primary", text: t("service.save") });
  // The schedule is kept only while business hours are used: off, its fields cannot be filled
  // in (they were, and Save then said "saved" and dropped them).
  const schedule = el("fieldset", { class: "plain-fieldset", id: "hours-schedule", disabled: !enabled.checked },
    field(t("service.timeZone"), zone, t("service.anIanaNameSuch")),
    spans.map(([, node]) => node),
    el("p", { class: "hint", text: t("service.timesLike0900") }),
    field(t("service.holidays"), holidays, t("service.oneDatePerLine")),
    field(t("service.awayMessage"), away, t("service.shownOutsideBusinessHours")));
  enabled.addEventListener("change", () => { schedule.disabled = !enabled.checked; });
  const form = el("form", { class: "stack settings-form", "aria-label": t("service.businessHours") },
    el("fieldset", { class: "plain-fieldset", disabled: !admin },
      el("div", { class: "field check" }, enabled, el("label", { for: "hours-enabled", text: t("service.useBusinessHoursOutside") })),
      schedule,
      el("h2", { class: "form-section", text: t("service.autoResolve") }),
      field(t("service.resolveConversationsAfterMinutes"), autoResolve, t("service.emptyNeverTheVisitor")),
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
      toast(t("service.businessHoursSaved"));
      await hoursPage(content);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      save.disabled = false;
    }
  });
  replace(content, ...heading(t("service.businessHours"), admin ? t("service.whenTeamAnswers", { website: website()?.name || "" }) : t("service.onlyAnAdminOr")), form);
}

// -- a conversation's header: Transfer ----------------------------------------------------------

const teamsOf = new Map(); // website id -> its teams, read once per page load

export function transferControl(conversation, onDone) {
  const select = el("select", { class: "select", "aria-label": t("service.transfer"), id: "transfer" },
    el("option", { value: "", text: t("service.transfer2") }));
  const fill = (teams) => {
    if (teams.length) {
      const group = el("optgroup", { label: t("service.teams") });
      for (const team of teams) group.append(el("option", { value: `team:${team.id}`, text: team.name }));
      select.append(group);
    }
    const people = el("optgroup", { label: t("service.operators") });
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
      toast(t("service.transferredTo", { to: label }));
      onDone?.();
    } catch (failure) {
      toast(failure.message, "error");
    }
    select.value = "";
  });
  return el("label", { class: "assign" }, el("span", { class: "label", text: t("service.transfer") }), select);
}

// -- the thread: the visitor's ratings ---------------------------------------------------------

export function ratingItems(ratings) {
  return (ratings || []).map((r) => el("div", { class: "rating-line event", "data-rating": String(r.rating), role: "note" },
    el("strong", { text: `${"★".repeat(r.rating)}${"☆".repeat(5 - r.rating)} ` }),
    t("service.ratedBy", { n: r.rating }),
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
