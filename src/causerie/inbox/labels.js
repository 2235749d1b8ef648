/* Labels (docs/inbox.md "Labels"): the website's labels, cached per website; the chips shown on
 * a conversation, the picker that sets them from the thread's header (button or the `l` key),
 * the list's label filter, and the settings page where admins manage them. */

import { api } from "./api.js";
import { canAdmin, emit, on, state } from "./store.js";
import { el, replace, toast } from "./dom.js";
import { loadList } from "./list-data.js";
import { t } from "./locale.js";

/** @type {Map<string, {id: string, name: string, color: string}[]>} website id -> its labels, by name */
const byWebsite = new Map();
const loading = new Map();

export function labelsOf(websiteId = state.websiteId) {
  return byWebsite.get(websiteId) || [];
}

/** The website's labels, fetched once (then on `reload`); emits "labels" when they arrive. */
export function ensureLabels(websiteId = state.websiteId, reload = false) {
  if (!websiteId) return Promise.resolve([]);
  if (!reload && byWebsite.has(websiteId)) return Promise.resolve(byWebsite.get(websiteId));
  if (!reload && loading.has(websiteId)) return loading.get(websiteId);
  const request = api.get(`/websites/${websiteId}/labels`).then((data) => {
    byWebsite.set(websiteId, data.labels || []);
    emit("labels");
    return byWebsite.get(websiteId);
  }).finally(() => loading.delete(websiteId));
  loading.set(websiteId, request);
  return request;
}

/** A label's chip: its colour as a dot, its name as text. */
export function labelChip(label, extra = {}) {
  const dot = el("span", { class: "label-dot", "aria-hidden": "true" });
  dot.style.background = label.color;
  return el("span", { class: "label-chip", "data-label": label.id, ...extra }, dot, el("span", { text: label.name }));
}

/** Label ids met on a conversation but not among the website's labels, loaded again for each once. */
const asked = new Set();

/** The chips of a conversation's labels that the website still has, in the conversation's order. */
export function chipsOf(conversation, websiteId = state.websiteId) {
  const known = new Map(labelsOf(websiteId).map((l) => [l.id, l]));
  // A label made since they were loaded (by a teammate, in the settings): loaded again, then
  // drawn ("labels"); its id no longer in them (deleted meanwhile) is not asked for twice.
  const unknown = (conversation?.labels || []).filter((id) => !known.has(id) && !asked.has(id));
  if (unknown.length && byWebsite.has(websiteId)) {
    for (const id of unknown) asked.add(id);
    ensureLabels(websiteId, true).catch(() => {});
  }
  const chips = (conversation?.labels || []).filter((id) => known.has(id)).map((id) => labelChip(known.get(id)));
  return chips.length ? el("span", { class: "label-chips" }, chips) : null;
}

// -- on a conversation --------------------------------------------------------------------------

/** The header's "Labels" button: opens the picker. */
export function labelsButton(conversation, save) {
  return el("button", {
    type: "button", class: "button subtle", id: "labels-button", "aria-haspopup": "dialog",
    "aria-keyshortcuts": "L", title: t("labels.labelsL"), text: t("labels.labels"),
    onclick: () => openPicker(conversation, save),
  });
}

/** A dialog of checkboxes, one per label, with a filter: Space or a click toggles, Enter in the
 * filter toggles the first match, Esc closes. Each change is saved at once through `save(ids)`,
 * which answers the conversation as it now is. */
export async function openPicker(conversation, save) {
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  const websiteId = conversation.website_id || state.websiteId;
  try {
    await ensureLabels(websiteId, true); // another admin may have added one meanwhile
  } catch (failure) {
    toast(failure.message, "error");
    return;
  }
  let chosen = [...(conversation.labels || [])];
  const filter = el("input", { type: "text", class: "input", id: "label-filter-input", "aria-label": t("labels.findALabel"), placeholder: t("labels.findALabel"), autocomplete: "off" });
  const list = el("div", { class: "label-options", role: "group", "aria-label": t("labels.labels") });
  const heading = el("h2", { class: "dialog-title", id: "labels-title", text: t("labels.labels") });
  const close = el("button", { type: "button", class: "button", text: t("labels.done"), onclick: () => dialog.close() });
  const dialog = el("dialog", { class: "dialog labels-dialog", "aria-labelledby": "labels-title" },
    heading, filter, list, el("div", { class: "dialog-actions" }, close));
  const store = async () => {
    try {
      const updated = await save(chosen);
      chosen = [...(updated?.labels || chosen)];
    } catch (failure) {
      toast(failure.message, "error");
      render();
    }
  };
  const render = () => {
    const needle = filter.value.trim().toLowerCase();
    const shown = labelsOf(websiteId).filter((l) => l.name.toLowerCase().includes(needle));
    replace(list, shown.length ? shown.map((label) => {
      const box = el("input", { type: "checkbox", id: `label-${label.id}`, value: label.id, checked: chosen.includes(label.id) });
      box.addEventListener("change", () => {
        chosen = box.checked ? [...chosen, label.id] : chosen.filter((id) => id !== label.id);
        store();
      });
      return el("label", { class: "label-option", for: `label-${label.id}` }, box, labelChip(label));
    }) : el("p", { class: "muted small", text: labelsOf(websiteId).length ? t("labels.noLabelMatches") : t("labels.thisWebsiteHasNo") }));
  };
  filter.addEventListener("input", render);
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      /** @type {HTMLInputElement | null} */ (list.querySelector("input[type=checkbox]"))?.click();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      /** @type {HTMLElement | null} */ (list.querySelector("input[type=checkbox]"))?.focus();
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    // The header may have been rebuilt meanwhile: its new button then takes the focus.
    (opener?.isConnected ? opener : document.getElementById("labels-button"))?.focus();
  });
  render();
  document.body.append(dialog);
  dialog.showModal();
  filter.focus();
}

// -- the list's filter ----------------------------------------------------------------------------

/** Show only the conversations with this label (null: any), in the inbox's list. */
export function filterByLabel(labelId) {
  state.label = labelId;
  emit("labels");
  if (!location.hash.startsWith("#/c/") && location.hash !== "#/" && location.hash !== "") location.hash = "#/";
  loadList();
}

/** A select over the website's labels; `onPick(labelId | null)` when it changes. */
export function labelFilter(onPick) {
  const select = el("select", { class: "select label-filter", id: "label-filter", "aria-label": t("labels.showConversationsWithThe") });
  const render = () => {
    replace(select, el("option", { value: "", text: t("labels.anyLabel") }), labelsOf().map((l) => el("option", { value: l.id, text: l.name })));
    if (state.label && !labelsOf().some((l) => l.id === state.label)) state.label = null;
    select.value = state.label || "";
    select.hidden = !labelsOf().length && !state.label;
  };
  select.addEventListener("change", () => onPick(select.value || null));
  select.addEventListener("keydown", (event) => event.stopPropagation()); // arrows choose here
  // Another website chosen in the switcher: its labels, loaded once (the list's chips too).
  const switched = () => {
    render();
    ensureLabels().catch(() => {});
  };
  const offs = [on("labels", render), on("websites", switched)];
  switched();
  return { select, off: () => offs.forEach((off) => off()) };
}

// -- settings -----------------------------------------------------------------------------------

export async function labelsPage(content) {
  const websiteId = state.websiteId;
  if (!websiteId) return;
  const admin = canAdmin();
  const labels = await ensureLabels(websiteId, true);
  const rows = el("ul", { class: "plain settings-list", id: "labels-list", "aria-label": t("labels.labels") });
  const reload = async () => {
    await ensureLabels(websiteId, true);
    renderRows();
  };
  const renderRows = () => {
    replace(rows, labelsOf(websiteId).map((label) => el("li", { class: "settings-row" },
      labelChip(label),
      el("code", { class: "muted small", text: label.color }),
      admin ? el("button", {
        type: "button", class: "button subtle small", "aria-label": t("labels.deleteTheLabel", { name: label.name }), text: t("labels.delete"),
        onclick: async () => {
          try {
            await api.del(`/websites/${websiteId}/labels/${label.id}`);
            toast(t("labels.theLabelWasDeleted", { name: label.name }));
            await reload();
          } catch (failure) {
            toast(failure.message, "error");
          }
        },
      }) : null)));
    if (!labelsOf(websiteId).length) rows.append(el("li", { class: "muted", text: t("labels.noLabelYet") }));
  };
  renderRows();
  const name = el("input", { type: "text", id: "label-name", class: "input", maxlength: 40, required: true });
  const color = el("input", { type: "color", id: "label-color", value: "#3b5bdb" });
  const error = el("p", { class: "form-error", role: "alert" });
  const add = el("button", { type: "submit", class: "button primary", text: t("labels.addTheLabel") });
  const form = el("form", { class: "stack settings-form", "aria-label": t("labels.newLabel") },
    el("div", { class: "row" },
      el("div", { class: "field" }, el("label", { for: "label-name", text: t("labels.name") }), name),
      el("div", { class: "field" }, el("label", { for: "label-color", text: t("labels.colour") }), color)),
    error, add);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await api.post(`/websites/${websiteId}/labels`, { name: name.value, color: color.value });
      name.value = "";
      await reload();
      name.focus();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  replace(content,
    el("h1", { id: "settings-title", text: t("labels.labels") }),
    el("p", { class: "muted", text: t("labels.agentsPutLabelsOn") }),
    rows,
    admin ? form : el("p", { class: "muted", text: t("labels.onlyOwnersAndAdmins") }));
  return labels;
}
