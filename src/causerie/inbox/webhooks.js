/* Settings › Webhooks (owners and admins): the website's webhooks, their secrets shown once,
 * rotation, the delivery log with redelivery, and the notice of a webhook disabled after a day
 * of failures. Everything goes through /api/v1 (docs/api.md, "Webhooks"). */

import { api } from "./api.js";
import { canAdmin, state } from "./store.js";
import { copyBox, el, modal, replace, toast } from "./dom.js";
import { fullTime } from "./format.js";

export const EVENTS = [
  "message.created",
  "conversation.created",
  "conversation.updated",
  "conversation.resolved",
  "conversation.rated",
  "conversation.deleted",
  "session.erased",
];

/** A `webhook.disabled` frame from a website's stream: its admins are told. */
export function onWebhookDisabled(websiteId, frame) {
  const site = state.websites.find((w) => w.id === websiteId);
  if (!site || !canAdmin(site.role)) return;
  const id = frame.webhook?.id || "";
  toast(`A webhook of ${site.name} failed every delivery for a day and was disabled (${id}). See Settings › Webhooks.`, "error");
}

function secretShown(result, text, secret) {
  replace(result, el("p", { class: "strong", text }), copyBox(secret, { label: "Signing secret", name: "webhook-secret" }));
}

export async function webhooksPage(content) {
  if (!state.websiteId) {
    replace(content, el("h1", { id: "settings-title", text: "Webhooks" }), el("p", { class: "muted", text: "No website yet." }));
    return;
  }
  const site = state.websites.find((w) => w.id === state.websiteId);
  const heading = [el("h1", { id: "settings-title", text: "Webhooks" }),
    el("p", { class: "muted", text: "Send this website's events, signed, to your own services. Each webhook is listed as a recipient in the processing register." })];
  if (!site || !canAdmin(site.role)) {
    replace(content, ...heading, el("p", { text: "Only owners and admins manage webhooks." }));
    return;
  }
  const { webhooks } = await api.get(`/websites/${state.websiteId}/webhooks`);
  const result = el("div", { class: "once", "aria-live": "polite" });
  const reload = () => webhooksPage(content).catch((f) => toast(f.message, "error"));
  const items = webhooks.map((hook) => webhookItem(hook, reload, result));
  const list = items.length
    ? el("ul", { class: "plain stack webhook-list", "aria-label": "Webhooks" }, items)
    : el("p", { class: "muted", text: "No webhook yet." });
  replace(content, ...heading, result, list, webhookForm(reload));
}

function webhookItem(hook, reload, result) {
  const status = hook.enabled
    ? (hook.failing_since ? `Failing since ${fullTime(hook.failing_since)}` : "Enabled")
    : `Disabled ${hook.disabled_at ? fullTime(hook.disabled_at) : ""}`;
  const log = el("div", { class: "webhook-log" });
  const act = (text, work, cls = "button subtle small") => el("button", {
    type: "button", class: cls, text,
    onclick: async () => {
      try {
        await work();
      } catch (failure) {
        toast(failure.message, "error");
      }
    },
  });
  return el("li", { class: "card webhook", "data-webhook": hook.id },
    el("p", {}, el("strong", { class: "webhook-url", text: hook.url })),
    el("p", { class: "small muted", text: `${hook.events.join(", ")} · ${status}` }),
    el("div", { class: "row" },
      act("Deliveries", () => showDeliveries(hook, log)),
      act(hook.enabled ? "Disable" : "Enable", async () => {
        await api.patch(`/webhooks/${hook.id}`, { enabled: !hook.enabled });
        await reload();
      }),
      act("Rotate secret", async () => {
        const data = await api.post(`/webhooks/${hook.id}/rotate`, {});
        await reload();
        secretShown(result, "The new signing secret, shown only this once; the old one signs too for 24 hours.", data.secret);
      }),
      act("Delete", async () => {
        const choice = await modal({ title: "Delete this webhook?", body: el("p", { text: "Its delivery log goes with it." }),
          actions: [{ value: "", text: "Cancel", class: "button subtle", autofocus: true }, { value: "delete", text: "Delete", class: "button danger" }] });
        if (choice !== "delete") return;
        await api.del(`/webhooks/${hook.id}`);
        toast("Webhook deleted.");
        await reload();
      }, "button danger-subtle small")),
    log);
}

async function showDeliveries(hook, box) {
  const { deliveries } = await api.get(`/webhooks/${hook.id}/deliveries`);
  if (!deliveries.length) {
    replace(box, el("p", { class: "muted small", text: "No delivery yet." }));
    return;
  }
  const rows = deliveries.map((d) => el("tr", { "data-delivery": d.id },
    el("td", { class: "small", text: fullTime(d.created_at) }),
    el("td", { text: d.type }),
    el("td", { class: "delivery-state", text: d.state }),
    el("td", { text: String(d.attempts) }),
    el("td", { text: d.status_code === null ? "—" : String(d.status_code) }),
    el("td", { text: d.latency_ms === null ? "—" : `${d.latency_ms} ms` }),
    el("td", { class: "small", text: d.error || d.answer_head || "" }),
    el("td", { class: "right" }, hook.enabled ? el("button", {
      type: "button", class: "button subtle small", text: "Redeliver",
      onclick: async () => {
        try {
          await api.post(`/webhooks/${hook.id}/deliveries/${d.id}/redeliver`, {});
          toast("Sent again.");
          await showDeliveries(hook, box);
        } catch (failure) {
          toast(failure.message, "error");
        }
      },
    }) : null)));
  replace(box, el("table", { class: "table", "aria-label": "Deliveries" },
    el("thead", {}, el("tr", {}, ["Event time", "Event", "State", "Attempts", "Status", "Latency", "Answer or error", ""].map((h) => el("th", { text: h })))),
    el("tbody", {}, rows)));
}

function webhookForm(reload) {
  const url = el("input", { name: "webhook-url", id: "webhook-url", type: "url", required: true, maxlength: 2000, placeholder: "https://example.com/causerie" });
  const boxes = EVENTS.map((name) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: name, class: "webhook-event", checked: name === "message.created" }), ` ${name}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: "Add the webhook" });
  const form = el("form", { class: "stack settings-form", "aria-label": "New webhook" },
    el("h2", { text: "New webhook" }),
    el("div", { class: "field" }, el("label", { for: "webhook-url", text: "URL (https)" }), url),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: "Events (erasures are always sent)" }), boxes),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const events = [...form.querySelectorAll(".webhook-event:checked")].map((i) => i.value);
      const data = await api.post(`/websites/${state.websiteId}/webhooks`, { url: url.value.trim(), events });
      await reload();
      const shown = document.querySelector(".settings-content .once");
      if (shown) secretShown(shown, "The signing secret, shown only this once: copy it now.", data.secret);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
