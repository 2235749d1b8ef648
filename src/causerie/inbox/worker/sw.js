/* The inbox's service worker (docs/inbox.md, "Installable app"; docs/notifications.md, "Push"),
 * served at /app/sw.js with the scope /app/. It shows the pushes the server sends, opens the
 * right conversation when one is clicked, and keeps the app shell and what the agent read
 * (GET /api/v1 answers) for reading offline. The server fills in its version and files. */
/// <reference lib="webworker" />

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));
const VERSION = "__VERSION__";
/** @type {string[]} */
const SHELL = JSON.parse("__SHELL__");
const SHELL_CACHE = `causerie-shell-${VERSION}`;
const DATA_CACHE = "causerie-data"; // what was read, for offline reading; emptied on sign-out
const ICON = "/app/icons/icon-192.png";

sw.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => sw.skipWaiting()));
});

sw.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("causerie-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await sw.clients.claim();
  })());
});

// -- pushes ---------------------------------------------------------------------------------

/**
 * @param {{title?: string, body?: string, conversation_id?: string, url?: string}} data
 */
function show(data) {
  const url = typeof data.url === "string" && data.url.startsWith("/app/") ? data.url : "/app/";
  return sw.registration.showNotification(data.title || "Causerie", {
    body: data.body || "",
    tag: data.conversation_id ? `causerie-${data.conversation_id}` : "causerie",
    icon: ICON,
    badge: ICON,
    data: { url, conversation_id: data.conversation_id || null },
  });
}

sw.addEventListener("push", (event) => {
  /** @type {any} */
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  event.waitUntil(show(data));
});

sw.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const { url, conversation_id: conversationId } = event.notification.data || {};
  event.waitUntil((async () => {
    const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
    const inbox = windows.find((client) => new URL(client.url).pathname.startsWith("/app"));
    if (inbox) {
      await inbox.focus();
      // The inbox routes in the URL's fragment: it opens the conversation itself (push.js).
      inbox.postMessage({ type: "open", conversation_id: conversationId });
      return;
    }
    await sw.clients.openWindow(url || "/app/");
  })());
});

// -- offline reading ------------------------------------------------------------------------

sw.addEventListener("message", (event) => {
  if (event.data && event.data.type === "signed-out") event.waitUntil(caches.delete(DATA_CACHE));
});

/**
 * @param {Request} request
 * @param {string} cacheName
 * @param {string} [key]
 */
async function networkFirst(request, cacheName, key) {
  try {
    const response = await fetch(request);
    // An answer of the API the server says is not to be kept (a file's bytes: `no-store`) is
    // not kept; a shell sent to no one signed in (index.html's body marked) is not what offline
    // reading needs: the one kept stays.
    const noStore = cacheName === DATA_CACHE && /\bno-store\b/.test(response.headers.get("Cache-Control") || "");
    const keep = response.ok && !noStore;
    if (keep && !(key === "/app/" && (await response.clone().text()).includes("<body data-signed-out>"))) {
      const cache = await caches.open(cacheName);
      await cache.put(key || request, response.clone());
    } else if (response.status === 401) {
      await caches.delete(DATA_CACHE); // signed out elsewhere: nothing read stays here
    } else if (response.status === 404 || response.status === 410) {
      // Deleted (a conversation, P20; a person, P9) or expired: its copy goes too.
      await (await caches.open(cacheName)).delete(key || request);
    }
    return response;
  } catch (failure) {
    const cached = await caches.match(key || request);
    if (cached) return cached;
    throw failure;
  }
}

/** @param {Request} request */
async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/app")) {
    event.respondWith(networkFirst(request, SHELL_CACHE, "/app/"));
  } else if (url.pathname.startsWith("/app/static/") || url.pathname.startsWith("/app/icons/")) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith("/api/v1/") && !url.pathname.startsWith("/api/v1/auth/")) {
    event.respondWith(networkFirst(request, DATA_CACHE));
  }
});
