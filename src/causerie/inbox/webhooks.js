/* Settings › Webhooks (owners and admins): the website's webhooks, their secrets shown once,
 * rotation, the delivery log with redelivery, and the notice of a webhook disabled after a day
 * of failures. Everything goes through /api/v1 (docs/api.md, "Webhooks"). */

import { api } from "./api.js";
import { canAdmin, state } from "./store.js";
import { copyBox, el, modal, replace, toast } from "./dom.js";
import { fullTime } from "./format.js";
import { t } from "./locale.js";

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
  toast(t("webhooks.disabledToast", { website: site.name, id }), "error");
}

function secretShown(result, text, secret) {
  replace(result, el("p", { class: "strong", text }), copyBox(secret, { label: t("webhooks.signingSecret"), name: "webhook-secret" }));
}

export async function webhooksPage(content) {
  if (!state.websiteId) {
    replace(content, el("h1", { id: "settings-title", text: t("webhooks.webhooks") }), el("p", { class: "muted", text: t("webhooks.noWebsiteYet") }));
    return;
  }
  const site = state.websites.find((w) => w.id === state.websiteId);
  const heading = [el("h1", { id: "settings-title", text: t("webhooks.webhooks") }),
    el("p", { class: "muted", text: t("webhooks.sendThisWebsiteS") })];
  if (!site || !canAdmin(site.role)) {
    replace(content, ...heading, el("p", { text: t("webhooks.onlyOwnersAndAdmins") }));
    return;
  }
  const { webhooks } = await api.get(`/websites/${state.websiteId}/webhooks`);
  const result = el("div", { class: "once", "aria-live": "polite" });
  const reload = () => webhooksPage(content).catch((f) => toast(f.message, "error"));
  const items = webhooks.map((hook) => webhookItem(hook, reload, result));
  const list = items.length
    ? el("ul", { class: "plain stack webhook-list", "aria-label": t("webhooks.webhooks") }, items)
    : el("p", { class: "muted", text: t("webhooks.noWebhookYet") });
  replace(content, ...heading, result, list, webhookForm(reload));
}

function webhookItem(hook, reload, result) {
  const status = hook.enabled
    ? (hook.failing_since ? t("webhooks.failingSince", { at: fullTime(hook.failing_since) }) : t("webhooks.enabled"))
    : hook.disabled_at ? t("webhooks.disabledAt", { at: fullTime(hook.disabled_at) }) : t("webhooks.disabled");
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
      act(t("webhooks.deliveries"), () => showDeliveries(hook, log)),
      act(hook.enabled ? t("webhooks.disable") : t("webhooks.enable"), async () => {
        await api.patch(`/webhooks/${hook.id}`, { enabled: !hook.enabled });
        await reload();
      }),
      act(t("webhooks.rotateSecret"), async () => {
        const data = await api.post(`/webhooks/${hook.id}/rotate`, {});
        await reload();
        secretShown(result, t("webhooks.theNewSigningSecret"), data.secret);
      }),
      act(t("webhooks.delete"), async () => {
        const choice = await modal({ title: t("webhooks.deleteThisWebhook"), body: el("p", { text: t("webhooks.itsDeliveryLogGoes") }),
          actions: [{ value: "", text: t("webhooks.cancel"), class: "button subtle", autofocus: true }, { value: "delete", text: t("webhooks.delete"), class: "button danger" }] });
        if (choice !== "delete") return;
        await api.del(`/webhooks/${hook.id}`);
        toast(t("webhooks.webhookDeleted"));
        await reload();
      }, "button danger-subtle small")),
    log);
}

async function showDeliveries(hook, box) {
  const { deliveries } = await api.get(`/webhooks/${hook.id}/deliveries`);
  if (!deliveries.length) {
    replace(box, el("p", { class: "muted small", text: t("webhooks.noDeliveryYet") }));
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
      type: "button", class: "button subtle small", text: t("webhooks.redeliver"),
      onclick: async () => {
        try {
          await api.post(`/webhooks/${hook.id}/deliveries/${d.id}/redeliver`, {});
          toast(t("webhooks.sentAgain"));
          await showDeliveries(hook, box);
        } catch (failure) {
          toast(failure.message, "error");
        }
      },
    }) : null)));
  replace(box, el("table", { class: "table", "aria-label": t("webhooks.deliveries") },
    el("thead", {}, el("tr", {}, [t("webhooks.eventTime"), t("webhooks.event"), t("webhooks.state"), t("webhooks.attempts"), t("webhooks.status"), t("webhooks.latency"), t("webhooks.answerOrError"), ""].map((h) => el("th", { text: h })))),
    el("tbody", {}, rows)));
}

function webhookForm(reload) {
  const url = el("input", { name: "webhook-url", id: "webhook-url", type: "url", required: true, maxlength: 2000, placeholder: t("webhooks.httpsExampleComCauserie") });
  const boxes = EVENTS.map((name) => el("label", { class: "check" },
    el("input", { type: "checkbox", value: name, class: "webhook-event", checked: name === "message.created" }), ` ${name}`));
  const error = el("p", { class: "form-error", role: "alert" });
  const submit = el("button", { type: "submit", class: "button primary", text: t("webhooks.addTheWebhook") });
  const form = el("form", { class: "stack settings-form", "aria-label": t("webhooks.newWebhook") },
    el("h2", { text: t("webhooks.newWebhook") }),
    el("div", { class: "field" }, el("label", { for: "webhook-url", text: "URL (https)" }), url),
    el("fieldset", { class: "plain-fieldset" }, el("legend", { text: t("webhooks.eventsErasuresAreAlways") }), boxes),
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
      if (shown) secretShown(shown, t("webhooks.theSigningSecretShown"), data.secret);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
