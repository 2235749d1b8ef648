/* The only way the inbox talks HTTP: `/api/v1` with the login cookie, and the CSRF header on
 * every request that is not a GET (docs/api.md, "Credentials"). Errors arrive as
 * `{"error": {"code", "message"}}` and are thrown as ApiError. */

import { t } from "./locale.js";

let csrfToken = null;
/** @type {(failure: ApiError) => void} */
let onUnauthenticated = () => {};

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export function setCsrf(token) {
  csrfToken = token || null;
}

/** The CSRF token, for the requests made without `request` (uploads, with their progress). */
export function csrf() {
  return csrfToken;
}

/** Called when a request answers 401 (the login ended elsewhere, or expired). */
export function whenUnauthenticated(handler) {
  onUnauthenticated = handler;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** @param {string} method @param {string} path
 * @param {{body?: unknown, query?: Record<string, unknown> | null, quiet401?: boolean}} [options] */
export async function request(method, path, { body, query, quiet401 = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(withQuery(`/api/v1${path}`, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch {
    throw new ApiError(0, "network_error", t("api.theServerCannotBe"));
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && typeof data.error === "object" ? data.error : {};
    const retry = Number(response.headers.get("Retry-After"));
    const failure = new ApiError(
      response.status,
      String(error.code || `http_${response.status}`),
      String(error.message || response.statusText || t("api.theRequestFailed")),
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
    if (response.status === 401 && !quiet401) onUnauthenticated(failure);
    throw failure;
  }
  return data;
}

export const api = {
  get: (path, query, options = {}) => request("GET", path, { query, ...options }),
  post: (path, body = {}, options = {}) => request("POST", path, { body, ...options }),
  patch: (path, body, options = {}) => request("PATCH", path, { body, ...options }),
  put: (path, body, options = {}) => request("PUT", path, { body, ...options }),
  del: (path, options = {}) => request("DELETE", path, options),
};
