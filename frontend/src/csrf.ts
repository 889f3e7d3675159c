/**
 * Django's CSRF cookie. `GET /api/v1/auth/csrf/` sets it; every unsafe request made with the
 * session cookie echoes its value in the `X-CSRFToken` header (CSRF_COOKIE_HTTPONLY is off so
 * that this page can read it). Django rotates the token at sign-in, so read it at each request.
 */

export const CSRF_COOKIE = "csrftoken";
export const CSRF_HEADER = "X-CSRFToken";

/** The value of cookie `name` in a `document.cookie` string, or null when it is absent. */
export function readCookie(cookies: string, name: string): string | null {
  for (const pair of cookies.split(";")) {
    const separator = pair.indexOf("=");
    if (separator === -1) continue;
    if (pair.slice(0, separator).trim() !== name) continue;
    const raw = pair.slice(separator + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw; // not percent-encoded after all; Django's tokens are plain alphanumerics
    }
  }
  return null;
}
