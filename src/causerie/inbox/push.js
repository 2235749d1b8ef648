/* The inbox as an installable app, and Web Push on this device (docs/inbox.md, "Installable
 * app"; docs/notifications.md, "Push"): registers the service worker (/app/sw.js, scope /app/),
 * opens the conversation of a clicked notification, and gives the account page its "Notifications
 * on this device" switch, the choice of previews and the list of the agent's devices. */

import { api } from "./api.js";
import { el, replace, toast } from "./dom.js";
import { fullTime } from "./format.js";
import { t } from "./locale.js";

const WORKER = "/app/sw.js";
const SCOPE = "/app/";

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** Register the service worker (offline reading, pushes); `onOpen` opens a conversation. */
export function registerWorker(onOpen) {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(WORKER, { scope: SCOPE }).catch(() => {
    /* no worker (private window, old browser): the inbox works the same online */
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    const data = event.data || {};
    if (data.type === "open" && typeof data.conversation_id === "string") onOpen(data.conversation_id);
  });
}

/** Signing out: stop pushes to this device and forget what was kept for offline reading. */
export async function forgetDevice() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.getRegistration(SCOPE);
    if (!registration) return;
    registration.active?.postMessage({ type: "signed-out" });
    const subscription = await registration.pushManager?.getSubscription();
    if (!subscription) return;
    const mine = await serverSubscription(subscription.endpoint);
    if (mine) await api.del(`/push/subscriptions/${encodeURIComponent(mine.id)}`);
    await subscription.unsubscribe();
  } catch {
    /* signing out goes on */
  }
}

/** @param {string} text base64url */
function keyBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** @param {string} endpoint */
async function serverSubscription(endpoint) {
  const data = await api.get("/push/subscriptions");
  return (data.subscriptions || []).find((s) => s.endpoint === endpoint) || null;
}

async function thisDevice() {
  const registration = await navigator.serviceWorker.getRegistration(SCOPE);
  const subscription = registration ? await registration.pushManager.getSubscription() : null;
  return { registration, subscription };
}

async function subscribe() {
  let permission = Notification.permission;
  if (permission === "default") permission = await Notification.requestPermission();
  if (permission !== "granted") {
    throw new Error(t("push.yourBrowserBlocksNotifications"));
  }
  const registration = (await navigator.serviceWorker.getRegistration(SCOPE))
    || await navigator.serviceWorker.register(WORKER, { scope: SCOPE });
  const { public_key: publicKey } = await api.get("/push/key");
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made with another server key (the secret key changed) no longer works.
  if (subscription && subscription.options.applicationServerKey) {
    const current = new Uint8Array(subscription.options.applicationServerKey);
    if (current.join() !== keyBytes(publicKey).join()) {
      await subscription.unsubscribe();
      subscription = null;
    }
  }
  if (!subscription) {
    try {
      subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
    } catch {
      throw new Error(t("push.thisBrowserCouldNot"));
    }
  }
  await api.post("/push/subscriptions", subscription.toJSON());
}

async function unsubscribe() {
  const { subscription } = await thisDevice();
  if (!subscription) return;
  const mine = await serverSubscription(subscription.endpoint);
  if (mine) await api.del(`/push/subscriptions/${encodeURIComponent(mine.id)}`);
  await subscription.unsubscribe();
}

/** The account page's section: this device's switch, previews, and every device of the agent. */
export function pushSection() {
  const here = el("input", { type: "checkbox", role: "switch", id: "push-device", disabled: !pushSupported() });
  const previews = el("input", { type: "checkbox", role: "switch", id: "push-previews" });
  const status = el("p", { class: "muted small", role: "status", id: "push-status" });
  const devices = el("ul", { class: "plain push-devices", id: "push-devices", "aria-label": t("push.devicesThatReceiveNotifications") });

  const renderDevices = async () => {
    const [{ subscriptions }, mine] = await Promise.all([
      api.get("/push/subscriptions"),
      pushSupported() ? thisDevice().then((d) => d.subscription?.endpoint || null) : Promise.resolve(null),
    ]);
    here.checked = Boolean(mine && subscriptions.some((s) => s.endpoint === mine));
    replace(devices, subscriptions.length ? subscriptions.map((s) => el("li", { class: "push-device" },
      el("span", { text: s.endpoint === mine ? t("push.thisDevice", { device: s.device }) : s.device }),
      el("span", { class: "muted small", text: ` ${t("push.since", { time: fullTime(s.created_at) })} ` }),
      el("button", {
        type: "button", class: "button subtle small", text: t("push.remove"), "aria-label": t("push.removeDevice", { device: s.device }),
        onclick: async () => {
          await api.del(`/push/subscriptions/${encodeURIComponent(s.id)}`);
          await renderDevices();
        },
      }))) : el("li", { class: "muted small", text: t("push.noDeviceReceivesNotifications") }));
  };

  here.addEventListener("change", async () => {
    status.textContent = "";
    here.disabled = true;
    try {
      if (here.checked) await subscribe();
      else await unsubscribe();
      toast(here.checked ? t("push.notificationsAreOnFor") : t("push.notificationsAreOffFor"));
    } catch (failure) {
      status.textContent = failure.message;
    } finally {
      here.disabled = false;
      await renderDevices().catch(() => {});
    }
  });
  previews.addEventListener("change", async () => {
    try {
      const data = await api.patch("/push/preferences", { push_previews: previews.checked });
      previews.checked = data.push_previews;
    } catch (failure) {
      previews.checked = !previews.checked;
      status.textContent = failure.message;
    }
  });
  api.get("/push/preferences").then((data) => {
    previews.checked = Boolean(data.push_previews);
  }).catch(() => {});
  renderDevices().catch((failure) => {
    status.textContent = failure.message;
  });

  return el("section", { class: "stack settings-form", "aria-label": t("push.notificationsOnYourDevices") },
    el("h2", { text: t("push.notificationsOnYourDevices") }),
    el("p", { class: "muted small", text: t("push.evenWhenTheInbox") }),
    el("div", { class: "field check" }, here, el("label", { for: "push-device", text: t("push.notificationsOnThisDevice") })),
    el("div", { class: "field check" }, previews, el("label", { for: "push-previews", text: t("push.showTheMessageText") })),
    pushSupported() ? null : el("p", { class: "muted small", text: t("push.thisBrowserCannotReceive") }),
    status,
    devices);
}
