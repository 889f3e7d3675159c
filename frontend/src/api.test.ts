import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { signIn, signOut } from "./api";

interface Call {
  path: string;
  init: RequestInit;
}

/** A fake server: answers by path, records each call; `cookie` stands in for document.cookie. */
function fakeServer(answers: Record<string, { status: number; body?: unknown }>) {
  const calls: Call[] = [];
  const jar = { cookie: "" };
  vi.stubGlobal("document", jar);
  vi.stubGlobal("fetch", (path: string, init: RequestInit) => {
    calls.push({ path, init });
    if (path === "/api/v1/auth/csrf/") jar.cookie = "csrftoken=tok123";
    const answer = answers[path] ?? { status: 404 };
    const json = answer.body !== undefined;
    const headers = new Headers(json ? { "Content-Type": "application/json" } : {});
    const body = json ? JSON.stringify(answer.body) : null;
    return Promise.resolve(new Response(body, { status: answer.status, headers }));
  });
  return { calls, jar };
}

function header(call: Call | undefined, name: string): string | undefined {
  return (call?.init.headers as Record<string, string> | undefined)?.[name];
}

beforeEach(() => vi.unstubAllGlobals());
afterEach(() => vi.unstubAllGlobals());

describe("signIn", () => {
  it("gets the CSRF cookie, then posts the credentials with its token, same-origin", async () => {
    const { calls } = fakeServer({
      "/api/v1/auth/csrf/": { status: 204 },
      "/api/v1/auth/login/": { status: 200, body: { id: 1, username: "ann", role: "annotator" } },
    });
    const result = await signIn("ann", "pw");

    expect(result).toEqual({
      kind: "signed-in",
      me: { id: 1, username: "ann", role: "annotator" },
    });
    expect(calls.map((c) => [c.init.method, c.path])).toEqual([
      ["GET", "/api/v1/auth/csrf/"],
      ["POST", "/api/v1/auth/login/"],
    ]);
    const login = calls[1];
    expect(header(login, "X-CSRFToken")).toBe("tok123");
    expect(header(login, "Content-Type")).toBe("application/json");
    expect(login?.init.credentials).toBe("same-origin");
    expect(JSON.parse(String(login?.init.body))).toEqual({ username: "ann", password: "pw" });
  });

  it("shows the API's detail when the credentials are wrong", async () => {
    fakeServer({
      "/api/v1/auth/csrf/": { status: 204 },
      "/api/v1/auth/login/": {
        status: 400,
        body: { detail: "Unable to sign in with these credentials.", code: "invalid_credentials" },
      },
    });
    expect(await signIn("ann", "nope")).toEqual({
      kind: "refused",
      message: "Unable to sign in with these credentials.",
    });
  });

  it("says the server could not be reached on a network error", async () => {
    vi.stubGlobal("document", { cookie: "" });
    vi.stubGlobal("fetch", () => Promise.reject(new TypeError("Failed to fetch")));
    expect((await signIn("ann", "pw")).kind).toBe("refused");
  });
});

describe("signOut", () => {
  it("posts with the current token and succeeds on 204", async () => {
    const { calls, jar } = fakeServer({ "/api/v1/auth/logout/": { status: 204 } });
    jar.cookie = "csrftoken=rotated";
    expect(await signOut()).toBeNull();
    expect(calls).toHaveLength(1);
    expect(header(calls[0], "X-CSRFToken")).toBe("rotated");
  });

  it("fetches a CSRF cookie first when there is none", async () => {
    const { calls } = fakeServer({
      "/api/v1/auth/csrf/": { status: 204 },
      "/api/v1/auth/logout/": { status: 204 },
    });
    expect(await signOut()).toBeNull();
    expect(calls.map((c) => c.path)).toEqual(["/api/v1/auth/csrf/", "/api/v1/auth/logout/"]);
    expect(header(calls[1], "X-CSRFToken")).toBe("tok123");
  });

  it("reports a refusal", async () => {
    const { jar } = fakeServer({
      "/api/v1/auth/logout/": { status: 403, body: { detail: "CSRF Failed: CSRF token missing." } },
    });
    jar.cookie = "csrftoken=x";
    expect(await signOut()).toBe("CSRF Failed: CSRF token missing.");
  });
});
