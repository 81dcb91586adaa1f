// The API client: one fetch wrapper that sends the session's CSRF token on every write
// and turns problem+json answers into ApiError, so every screen reports failures alike.

/** The signed-in session ({actor, role, csrf_token, expires_at}), or null. */
let session = null;

/** Called when the API answers 401 to anything but the session routes. */
let onUnauthorized = () => {};

/** An API failure, carrying the RFC 9457 problem when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem, text) {
    const detail = problem && (problem.detail || problem.title);
    super(detail || text || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function currentSession() {
  return session;
}

export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * Calls the API. `body` (if given) is sent as JSON. Resolves to the parsed JSON answer
 * (null for 204); rejects with ApiError.
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // The cookie alone must not authorize a write (a forged cross-site form would carry
  // it); the token lives only in this page's memory.
  if (method !== 'GET' && session && session.csrf_token) {
    headers['X-CSRF-Token'] = session.csrf_token;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, null, `The server did not answer (${e.message}).`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, text.slice(0, 200));
    if (response.status === 401 && !path.startsWith('/v1/session')) {
      session = null;
      onUnauthorized(error);
    }
    throw error;
  }
  return data;
}

/** Signs in with `{api_key}` or `{username, password}`. */
export async function signIn(credentials) {
  session = await api('POST', '/v1/session', credentials);
  return session;
}

/** The session the cookie names, if it is still valid (after a reload). */
export async function resumeSession() {
  try {
    session = await api('GET', '/v1/session');
  } catch (e) {
    session = null;
    if (e.status !== 401 && e.status !== 404) throw e;
  }
  return session;
}

export async function signOut() {
  try {
    await api('DELETE', '/v1/session');
  } finally {
    session = null;
  }
}

/** Whether the signed-in role is among `roles` (a space-separated list). */
export function can(roles) {
  if (!session) return false;
  return roles.split(/\s+/).includes(session.role);
}

/** Path segment escaping for ids that come from the API or the user. */
export function seg(value) {
  return encodeURIComponent(String(value));
}

/** A query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The workspace ({workspace, property, branches, resources}) the shell loaded. */
export const workspace = { data: null };

/** The branch's display name, or its id. */
export function branchName(id) {
  const branches = (workspace.data && workspace.data.branches) || [];
  const branch = branches.find((b) => b.id === id);
  return branch ? branch.name || branch.id : id;
}
