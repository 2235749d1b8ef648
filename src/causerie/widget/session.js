/* The chatbox's session (docs/widget.md, P13-P15): loaded or renewed over HTTP, its token kept in
 * one first-party cookie on the host page, rewritten on every load so that its expiry moves on.
 * Nothing else is stored in the browser (P16). */

/**
 * @typedef {{id: string, state: string, profile?: Record<string, any>, consent?: {version?: number} | null, [field: string]: any}} VisitorSession
 * @typedef {{name?: string, settings: Record<string, any>, availability?: {online: boolean}, mail?: boolean, [field: string]: any}} Website
 * @typedef {{token: string, cookie: {max_age: number}, session: VisitorSession, website: Website, seq?: number, messages: any[], read_up_to?: {visitor: string | null, operator: string | null}}} SessionLoad
 */

export class Session {
  /** @param {string} base @param {string} websiteId @param {boolean} strict @param {number} ttl */
  constructor(base, websiteId, strict, ttl) {
    this.base = base;
    this.websiteId = websiteId;
    // Strict mode (CAUSERIE_SESSION_START=open): no session, no cookie until the chatbox is opened.
    this.strict = strict;
    this.ttl = ttl;
    this.cookieName = `causerie_session_${websiteId}`;
    /** @type {string | null} */
    this.token = null;
    /** What the server says of the session. @type {VisitorSession | null} */
    this.data = null;
    this.maxAge = 0;
  }

  readCookie() {
    const prefix = `${this.cookieName}=`;
    const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : null;
  }

  /** @param {string} token @param {number} maxAge */
  writeCookie(token, maxAge) {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${this.cookieName}=${encodeURIComponent(token)}; Max-Age=${maxAge}; Path=/; SameSite=Lax${secure}`;
  }

  save() {
    // In strict mode a temporary session's cookie lives no longer than the session (P15).
    const temporary = this.strict && this.data?.state !== "permanent";
    if (this.token) this.writeCookie(this.token, temporary ? Math.min(this.maxAge, this.ttl) : this.maxAge);
  }

  /** The first message makes the session permanent: its cookie then lives `maxAge`. */
  permanent() {
    if (this.data && this.data.state !== "permanent") {
      this.data = { ...this.data, state: "permanent" };
      this.save();
    }
  }

  /** Loads (or renews, or opens) the session; a challenge of the shield is solved by
   * challenge.js, fetched then only, and the load sent again with its proof.
   * @param {{nonce: string, solution: string}} [p] @returns {Promise<SessionLoad>} */
  async load(p) {
    const language = navigator.language || "";
    const body = {
      token: this.readCookie() || undefined,
      page: {
        url: location.href.slice(0, 2048),
        title: document.title.slice(0, 500),
        referrer: document.referrer.slice(0, 2048),
      },
      locale: /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language) ? language : undefined,
      timezone: (Intl.DateTimeFormat().resolvedOptions().timeZone || "").slice(0, 64) || undefined,
      proof: p,
    };
    const r = await fetch(`${this.base}/api/widget/v1/websites/${this.websiteId}/session`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" }, // JSON as text: no CORS preflight per page view
      body: JSON.stringify(body),
      credentials: "omit",
    }).catch(async (error) => {
      // The browser hides a refused origin from the page: if the server answers, that is why.
      if (await fetch(`${this.base}/api/health`, { mode: "no-cors" }).then(() => 1, () => 0)) console.warn(`Causerie: no chatbox: ${location.origin} is not an allowed origin of website ${this.websiteId}; add it in the website's settings (Allowed origins)`);
      throw error;
    });
    if (r.status == 429 && !p) return (await import("./challenge.js")).retry(r, this);
    if (!r.ok) throw new Error(`session: HTTP ${r.status}`);
    /** @type {SessionLoad} */
    const data = await r.json();
    this.token = data.token;
    this.maxAge = data.cookie.max_age;
    this.data = data.session;
    this.save(); // rewritten on every load (P14)
    return data;
  }

  /** The widget API with this session's token; a refusal throws an Error with the `code`.
   * @param {string} method @param {string} path @param {unknown} [body] @returns {Promise<any>} */
  async api(method, path, body) {
    const response = await fetch(`${this.base}/api/widget/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(data.error?.message || `HTTP ${response.status}`), { code: data.error?.code });
    return data;
  }

  /** After an erasure: no token, no cookie. */
  forget() {
    this.writeCookie("", 0);
    this.token = null;
    this.data = null;
  }
}
