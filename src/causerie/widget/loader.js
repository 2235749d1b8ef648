/* Causerie chatbox loader: the one script a website embeds (docs/widget.md).
 * Reads window.CAUSERIE_WEBSITE_ID, then loads the chatbox module of this exact version.
 * The server writes its settings in place of the config below when it serves this file. */
(() => {
  "use strict";
  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
  if (window.__causerieLoaded) return;
  window.__causerieLoaded = true;
  const websiteId = window.CAUSERIE_WEBSITE_ID;
  if (typeof websiteId !== "string" || !websiteId || !script) {
    console.warn("Causerie: set window.CAUSERIE_WEBSITE_ID before loading widget.js");
    return;
  }
  const base = new URL(script.src).origin;
  const version = "__VERSION__";
  const config = /** @type {{sessionStart: string, temporaryTtl: number}} */ (/** @type {unknown} */ ("__CONFIG__"));
  // chatbox.js and the modules it imports, fetched at once rather than each after its importer.
  const modules = ["chatbox.js", "session.js", "socket.js", "view.js", "strings-chatbox.js"];
  Promise.all(modules.map((name) => import(`${base}/widget/${version}/${name}`)))
    .then(([chatbox]) => chatbox.start({ ...config, base, websiteId, version }))
    .catch((error) => console.error("Causerie: the chatbox could not start", error));
})();
