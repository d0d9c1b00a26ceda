// Session shared by every page: the token (a login token from the user name / password form, or
// an API token from /#token=... or the token field) kept in localStorage, authenticated fetch, and
// the header's login / language controls. Both kinds are sent the same way: Authorization: Bearer.
import { applyLabels, t, toggleLanguage } from "./i18n.js";

const KEY = "lookout.token";

// The header's session controls, one copy for every page: sign-in form, token field, log out,
// language and connection status. A page holds <span id="session-controls"> where they go;
// data-layout="phone" (the unit page) puts status and language first and narrows the fields.
const LAYOUTS = {
  header: { order: ["signin", "error", "token", "logout", "lang", "status"], user: 12, tok: 20 },
  phone: { order: ["status", "lang", "logout", "signin", "error", "token"], user: 10, tok: 16 },
};

function controls(layout) {
  const { order, user, tok } = LAYOUTS[layout] || LAYOUTS.header;
  const parts = {
    signin: `<form id="signin"><label class="sr-only" for="username" data-i18n="username">User name</label>
    <input id="username" name="username" autocomplete="username" data-i18n-attr="placeholder:username" size="${user}" required>
    <label class="sr-only" for="password" data-i18n="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" data-i18n-attr="placeholder:password" size="${user}" required>
    <button type="submit" data-i18n="signIn">Sign in</button></form>`,
    error: `<span id="login-error" role="alert" hidden></span>`,
    token: `<form id="login"><label class="sr-only" for="token" data-i18n="token">Access token</label>
    <input id="token" type="password" autocomplete="off" data-i18n-attr="placeholder:token" size="${tok}">
    <button type="submit" data-i18n="connect">Connect</button></form>`,
    logout: `<button id="logout" type="button" data-i18n="logout">Log out</button>`,
    lang: `<button id="lang" type="button" data-i18n="lang" data-i18n-attr="aria-label:langLabel">中文 · ZH</button>`,
    status: `<span id="status" role="status">disconnected</span>`,
  };
  return order.map((k) => parts[k]).join("\n  ");
}

const slot = document.getElementById("session-controls");
if (slot) slot.outerHTML = controls(slot.dataset.layout);
export const $ = (id) => document.getElementById(id);
export const token = () => localStorage.getItem(KEY) || "";
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
// <img> and EventSource cannot send headers; those endpoints accept ?access_token=.
export const withToken = (url) => url + (url.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(token());

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.detail === "string" ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: "Bearer " + token() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// OAuth2 password flow: form-encoded user name and password → {access_token, expires_in, role}.
export async function login(username, password) {
  const r = await fetch("/api/auth/token", { method: "POST", body: new URLSearchParams({ username, password }) });
  const data = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  if (!r.ok) {
    const e = new ApiError(r.status, data);
    e.retryAfter = r.headers.get("Retry-After");
    throw e;
  }
  return data;
}

export function setStatus(key, extra = "") {
  const el = $("status");
  if (el) { el.dataset.state = key; el.textContent = t(key) + (extra ? " " + extra : ""); }
}

// Wires the header and resolves with {role, subject} once a valid token is known; `start` runs
// again after every (re)login so a page can reset its state.
export function startSession(start) {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) { localStorage.setItem(KEY, fromHash); history.replaceState(null, "", location.pathname); }
  applyLabels();
  $("lang").onclick = toggleLanguage;
  $("login").onsubmit = (e) => {
    e.preventDefault();
    localStorage.setItem(KEY, $("token").value.trim());
    $("token").value = "";
    begin();
  };
  const signin = $("signin");
  if (signin) {
    signin.onsubmit = async (e) => {
      e.preventDefault();
      const err = $("login-error");
      err.hidden = true;
      try {
        const { access_token } = await login($("username").value.trim(), $("password").value);
        localStorage.setItem(KEY, access_token);
        begin();
      } catch (ex) {
        err.textContent = ex.status === 429 ? t("tooManyLogins").replace("{s}", ex.retryAfter || "60")
          : ex.status === 401 ? t("badLogin") : ex.message;
        err.hidden = false;
      } finally {
        $("password").value = ""; // never left in the page
      }
    };
  }
  $("logout").onclick = () => { localStorage.removeItem(KEY); location.reload(); };
  async function begin() {
    document.body.dataset.session = "none";
    if (!token()) { setStatus("disconnected"); return; }
    setStatus("connecting");
    try {
      const who = await api("/api/console/whoami");
      document.body.dataset.session = "ok";
      $("who").textContent = `${who.subject} (${who.role})`;
      await start(who);
      // Pages without a stream are "live" once loaded; stream pages set it on open.
      if ($("status").dataset.state === "connecting") setStatus("live");
    } catch (e) {
      setStatus("error", e.status === 401 ? "401" : e.message);
      if (e.status === 401) localStorage.removeItem(KEY);
    }
  }
  begin();
}

// An EventSource that the page can replace on re-login; the browser reconnects by itself after
// network errors (the server sends `retry: 2000`). On each open the page resyncs through
// `onOpen` (REST); events arriving meanwhile are held and applied after it, so a snapshot read
// before an event can never overwrite that event. "live" is shown only once both are in place.
export function stream(url, handlers, onOpen) {
  const src = new EventSource(withToken(url));
  let held = null;
  src.onopen = async () => {
    held = [];
    try { await onOpen?.(); } catch (e) { setStatus("error", e.message); }
    const late = held;
    held = null;
    late.forEach(([fn, data]) => fn(data));
    if ($("status").dataset.state !== "error") setStatus("live");
  };
  src.onerror = () => setStatus("reconnecting");
  for (const [name, fn] of Object.entries(handlers)) {
    src.addEventListener(name, (e) => {
      const data = JSON.parse(e.data);
      held ? held.push([fn, data]) : fn(data);
    });
  }
  return src;
}

export const stateLabel = (s) => t("st_" + s);
export const sevLabel = (s) => t("sev_" + s);
export const fmtTime = (epoch) => (epoch ? new Date(epoch * 1000).toLocaleTimeString() : "");
