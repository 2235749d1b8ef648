/* Teams, transfers, business hours, auto-resolve and ratings in the inbox (docs/inbox.md):
 * the Teams and Business hours pages of the settings, the Transfer control of a conversation's
 * header, and the visitor's ratings under the thread. Hooked into settings.js, thread.js and
 * data.js by a few lines each. */

import { api } from "./api.js";
import { canAdmin, state, website } from "./store.js";
import { el, replace, toast, trapTab } from "./dom.js";
import { fullTime, weekdayName } from "./format.js";
import { currentLanguage, t } from "./locale.js";

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
    el("td", {}, team.members.length ? team.members.map(nameOf).join(", ")
      : el("span", { class: team.mode === "round_robin" ? "badge warn" : "muted", text: t("service.noMembers") })),
    el("td", { class: "right" }, admin ? el("button", {
      type: "button", class: "button subtle small team-members", "aria-haspopup": "dialog", text: t("service.editMembers"),
      "aria-label": t("service.editTheMembersOf", { name: team.name }),
      onclick: (event) => membersDialog(websiteId, team, members, event.currentTarget, async () => {
        await reload();
        content.querySelector(`tr[data-team="${team.id}"] .team-members`)?.focus();
      }),
    }) : null, " ", admin ? el("button", {
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
  const parts = [...heading(t("service.teams"), t("service.newConversationsJoinThe")), ...memberlessWarnings(teams), table];
  if (admin) parts.push(teamForm(websiteId, members, reload));
  replace(content, ...parts);
}

/** A round-robin team without members gives no one the conversations it holds (actions/
 * assignment.py assigns only to its members online): they wait unassigned, in every agent's
 * Unassigned list, until the team has members, who are then given them in turn. Said above the
 * table, for the first team (which receives every new conversation) most of all. */
function memberlessWarnings(teams) {
  return teams.map((team, index) => (team.mode === "round_robin" && !team.members.length
    ? el("p", { class: "callout warn", role: "note", "data-warning": team.id,
      text: t(index === 0 ? "service.noMembersFirst" : "service.noMembersOther", { name: team.name }) })
    : null));
}

/** A team's members, changed in a modal dialog (labelled, Tab kept inside, Escape or Cancel
 * close it with the focus back on `opener`); saved members online are given the conversations
 * waiting in a round-robin team (actions/teams.py queues it). */
function membersDialog(websiteId, team, members, opener, saved) {
  const heading = el("h2", { class: "dialog-title", id: "team-members-title", text: t("service.membersOf", { name: team.name }) });
  const boxes = members.map((o) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "member", value: o.id, checked: team.members.includes(o.id) }), ` ${o.name || o.email}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const cancel = el("button", { type: "button", class: "button subtle", text: t("service.cancel") });
  const save = el("button", { type: "submit", class: "button primary", text: t("service.save") });
  const form = el("form", { class: "stack" },
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: t("service.members") }), boxes),
    error, el("div", { class: "dialog-actions" }, cancel, save));
  const dialog = el("dialog", { class: "dialog", id: "team-members-dialog", "aria-labelledby": heading.id }, heading, form);
  let done = false;
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => trapTab(dialog, event));
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (!done) opener.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    save.disabled = true;
    try {
      const chosen = [...form.querySelectorAll("input[name=member]:checked")].map((box) => box.value);
      await api.patch(`/websites/${websiteId}/teams/${team.id}`, { members: chosen });
      done = true;
      dialog.close();
      toast(t("service.membersSaved", { name: team.name }));
      await saved();
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      save.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  (boxes[0]?.querySelector("input") || cancel).focus();
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
      const settings = {
        business_hours: enabled.checked ? readSchedule(zone, spans, holidays, away) : null,
        auto_resolve_minutes: autoResolve.value ? Number(autoResolve.value) : null,
      };
      await api.patch(`/websites/${websiteId}`, { settings });
      toast(t("service.businessHoursSaved"));
      await hoursPage(content);
    } catch (failure) {
      error.textContent = failure instanceof HoursProblem ? failure.message : hoursRefusal(failure, zone.value.trim());
      if (failure instanceof HoursProblem) failure.field?.focus();
    } finally {
      save.disabled = false;
    }
  });
  replace(content, ...heading(t("service.businessHours"), admin ? t("service.whenTeamAnswers", { website: website()?.name || "" }) : t("service.onlyAnAdminOr")), form);
}

// The schedule's fields, read into the API's shape and checked before sending: what is wrong is
// said in a sentence of the inbox's language naming the day or the field (the API's own message,
// "settings.business_hours.week.mon: a time such as 09:00", was shown as it came).

const SPANS_PER_DAY = 4; // domain/hours.py SPANS_PER_DAY
const AWAY_MESSAGE_MAX = 500; // domain/hours.py AWAY_MESSAGE_MAX
const CLOCK = /^(\d{1,2})(?:[:h.]?([0-5]\d)|h)?$/i; // 9, 09, 9:30, 9h, 9h30, 0930, 17:00

class HoursProblem extends Error {
  /** @param {string} message @param {HTMLElement} field the field to correct */
  constructor(message, field) {
    super(message);
    this.field = field;
  }
}

/** A day's name to begin a sentence with ("lundi" is "Lundi"). */
function dayName(index) {
  const name = weekdayName(index, "long");
  return name.charAt(0).toLocaleUpperCase(currentLanguage()) + name.slice(1);
}

/** "9", "9:30", "17:00" as the API's "09:00", "09:30", "17:00"; null when it is no time. */
function clockTime(text) {
  const match = CLOCK.exec(text.trim());
  if (!match) return null;
  const hours = Number(match[1]), minutes = Number(match[2] || 0);
  if (hours > 24 || (hours === 24 && minutes)) return null;
  return `${String(hours).padStart(2, "0")}:${String(minutes).padStart(2, "0")}`;
}

/** The business hours the fields hold, as the API takes them; a HoursProblem naming the first
 * thing to correct otherwise. The API checks the same again (domain/hours.py). */
function readSchedule(zone, spans, holidays, away) {
  const timezone = zone.value.trim();
  try {
    if (!timezone) throw new RangeError("empty");
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch {
    throw new HoursProblem(t("service.hoursBadZone", { zone: timezone }), zone);
  }
  const week = {};
  spans.forEach(([key, , input], index) => {
    const day = dayName(index);
    const periods = input.value.split(/[,;]/).map((part) => part.trim()).filter(Boolean).map((part) => {
      const ends = part.split(/\s*[-–—]\s*|\s+to\s+|\s+à\s+/);
      if (ends.length !== 2) throw new HoursProblem(t("service.hoursBadPeriod", { day, text: part }), input);
      const [start, end] = ends.map(clockTime);
      const wrong = start === null ? ends[0] : end === null ? ends[1] : null;
      if (wrong !== null) throw new HoursProblem(t("service.hoursBadTime", { day, text: wrong }), input);
      if (start >= end) throw new HoursProblem(t("service.hoursStartNotBefore", { day, start, end }), input);
      return [start, end];
    });
    if (periods.length > SPANS_PER_DAY) throw new HoursProblem(t("service.hoursTooMany", { day, n: SPANS_PER_DAY }), input);
    periods.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    periods.forEach(([start, end], at) => {
      const next = periods[at + 1];
      if (next && next[0] < end) {
        throw new HoursProblem(t("service.hoursOverlap", { day, first: `${start}-${end}`, second: `${next[0]}-${next[1]}` }), input);
      }
    });
    week[key] = periods;
  });
  const dates = holidays.value.split(/[\s,;]+/).filter(Boolean);
  for (const text of dates) {
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : null;
    if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== text) {
      throw new HoursProblem(t("service.hoursBadHoliday", { text }), holidays);
    }
  }
  if (away.value.trim().length > AWAY_MESSAGE_MAX) throw new HoursProblem(t("service.awayTooLong", { n: AWAY_MESSAGE_MAX }), away);
  return { timezone, week, holidays: dates, away_message: away.value.trim() };
}

/** What the API refused, said as a sentence of the inbox's language (its `invalid_settings`
 * message names the field: "settings.business_hours.week.mon: ..."); other failures (the
 * network, the rights) already come in words. */
function hoursRefusal(failure, zone) {
  if (failure?.code !== "invalid_settings") return failure?.message || t("service.hoursNotSaved");
  const field = /^settings\.(?:business_hours\.)?([a-z_]+)(?:\.([a-z]+))?/.exec(failure.message || "") || [];
  if (field[1] === "timezone") return t("service.hoursBadZone", { zone });
  if (field[1] === "week" && DAYS.includes(field[2])) return t("service.hoursDayRefused", { day: dayName(DAYS.indexOf(field[2])) });
  if (field[1] === "holidays") return t("service.hoursHolidaysRefused");
  if (field[1] === "away_message") return t("service.awayTooLong", { n: AWAY_MESSAGE_MAX });
  if (field[1] === "auto_resolve_minutes") return t("service.autoResolveRefused", { n: 43200 });
  return t("service.hoursNotSaved");
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
