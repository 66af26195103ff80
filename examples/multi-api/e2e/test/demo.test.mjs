// Drives the demo page (the stock supertokens-website SDK) in Debian's Chromium against the
// multi-api-demo binary, following the flows of the demo issue. Hosts *.example.test and
// *.evil.test resolve to 127.0.0.1 through Chromium's --host-resolver-rules.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const DEMO_BIN = process.env.DEMO_BIN;
const ARTIFACTS = process.env.E2E_ARTIFACTS || path.resolve("artifacts");
const WWW_DIR = path.resolve(import.meta.dirname, "..", "..", "www");
mkdirSync(ARTIFACTS, { recursive: true });

const children = [];
let browser;

/** Starts the demo and resolves with its port once it prints `listening on http://IP:PORT`. */
function startDemo(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(DEMO_BIN, ["--listen", "127.0.0.1:0", "--website-dir", WWW_DIR, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || "warn" },
    });
    children.push(child);
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${err}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on http:\/\/([\d.]+):(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[2]), child });
      }
    });
    child.stderr.on("data", (chunk) => { err += chunk; process.stderr.write(chunk); });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`demo exited ${code}: ${err}`)); });
  });
}

async function newPage(url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(msg.text()); });
  const refreshes = [];
  page.on("request", (req) => {
    if (req.method() === "POST" && req.url().includes("/session/refresh")) refreshes.push(req);
  });
  const response = await page.goto(url);
  if (response && response.ok()) {
    // The page reports its initial state once the SDK has settled it.
    await page.waitForFunction(() => document.getElementById("result").dataset.seq !== "0");
  }
  return { context, page, refreshes, consoleErrors, response };
}

/** Clicks a button and returns the JSON the page shows once it changes. */
async function click(page, id) {
  const seq = await page.locator("#result").getAttribute("data-seq");
  await page.click(`#${id}`);
  await page.waitForFunction((s) => document.getElementById("result").dataset.seq !== s, seq);
  return JSON.parse(await page.locator("#result").textContent());
}

async function run(page, expr) {
  return page.evaluate(expr);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(DEMO_BIN, "DEMO_BIN must point at the multi-api-demo binary");
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--host-resolver-rules=MAP *.example.test 127.0.0.1, MAP *.evil.test 127.0.0.1",
    ],
  });
});

after(async () => {
  await browser?.close();
  for (const child of children) child.kill("SIGTERM");
});

for (const mode of ["cookie", "header"]) {
  test(`one process, ${mode} mode: sign in, api2/api3, refresh on expiry, one refresh for many calls, sign out`, async () => {
    // 2 s tokens: `exp` is floor(now + lifetime), as the SuperTokens core computes it, so a
    // 1 s token can expire within milliseconds and the five concurrent calls below could
    // rightly need a second refresh; a 2 s token lives 1-2 s.
    const { port } = await startDemo(["--access-token-ttl", "2"]);
    const { context, page, refreshes, consoleErrors } = await newPage(`http://www.example.test:${port}/?mode=${mode}`);

    // 1. Sign in: the session lands in the browser and the SDK reports it.
    const signIn = await click(page, "signin");
    assert.equal(signIn.status, 200, JSON.stringify(signIn));
    assert.equal(signIn.userId, "alice");
    assert.equal(signIn.session, true);
    const cookies = await context.cookies();
    if (mode === "cookie") {
      const access = cookies.find((c) => c.name === "sAccessToken");
      const refresh = cookies.find((c) => c.name === "sRefreshToken");
      assert.ok(access && refresh, `session cookies missing: ${cookies.map((c) => c.name)}`);
      assert.equal(access.domain, ".example.test");
      assert.equal(refresh.domain, ".example.test");
      assert.equal(access.path, "/");
      assert.equal(refresh.path, "/auth/session/refresh");
      assert.ok(access.httpOnly && refresh.httpOnly);
    } else {
      assert.ok(!cookies.some((c) => c.name === "sAccessToken"), "header mode sets no session cookie");
      assert.ok(cookies.some((c) => c.name === "st-access-token"), "the SDK keeps the header-mode token");
    }

    // 2. api2 and api3 see the same user and session.
    const a2 = await click(page, "call-api2");
    const a3 = await click(page, "call-api3");
    assert.equal(a2.status, 200, JSON.stringify(a2));
    assert.equal(a3.status, 200, JSON.stringify(a3));
    assert.equal(a2.body.servedBy, "api2.example.test");
    assert.equal(a3.body.servedBy, "api3.example.test");
    assert.equal(a2.body.userId, "alice");
    assert.equal(a2.body.sessionHandle, a3.body.sessionHandle);
    await shot(page, `${mode}-1-signed-in`);

    // 3. After expiry a call to api3 refreshes against api, is retried, and succeeds.
    const before = mode === "cookie" ? (await context.cookies()).find((c) => c.name === "sRefreshToken").value : null;
    const refreshesBefore = refreshes.length;
    await sleep(2200); // tokens live 1-2 s
    const expired = await click(page, "call-api3");
    assert.equal(expired.status, 200, JSON.stringify(expired));
    assert.ok(refreshes.length > refreshesBefore, "the SDK refreshed");
    assert.ok(refreshes.slice(refreshesBefore).every((r) => new URL(r.url()).hostname === "api.example.test"));
    if (mode === "cookie") {
      const after = (await context.cookies()).find((c) => c.name === "sRefreshToken").value;
      assert.notEqual(after, before, "the refresh token rotated");
    }

    // 4. Several calls fired at once after expiry lead to one refresh.
    await sleep(2200); // tokens live 1-2 s
    const n = refreshes.length;
    const many = await run(page, () => window.demo.callMany(["api2", "api3", "api2", "api3", "api"]));
    assert.deepEqual(many.statuses, [200, 200, 200, 200, 200], JSON.stringify(many));
    assert.equal(refreshes.length - n, 1, `exactly one refresh for five concurrent calls: ${refreshes.slice(n).map((r) => r.timing().startTime).join(",")}`);
    await shot(page, `${mode}-2-refreshed`);

    // 5. Sign out: later calls get 401 and the SDK reports no session.
    const out = await click(page, "signout");
    assert.equal(out.signedOut, true, JSON.stringify(out));
    assert.equal(out.session, false);
    const after = await click(page, "call-api2");
    assert.equal(after.status, 401, JSON.stringify(after));
    assert.equal(after.session, false);
    await shot(page, `${mode}-3-signed-out`);
    assert.deepEqual(consoleErrors.filter((e) => !e.includes("401")), []);
    await context.close();
  });
}

test("two processes: an auth server and a verify-only api2 sharing nothing but the JWKS", async () => {
  const auth = await startDemo(["--serve", "api,www", "--allow-host", "127.0.0.1", "--access-token-ttl", "2"]);
  const api2 = await startDemo([
    "--serve", "api2",
    "--api-domain", `http://api.example.test:${auth.port}`,
    "--website-domain", `http://www.example.test:${auth.port}`,
    "--jwks-url", `http://127.0.0.1:${auth.port}/auth/jwt/jwks.json`,
  ]);
  const { context, page, refreshes } = await newPage(
    `http://www.example.test:${auth.port}/?api2=http://api2.example.test:${api2.port}`,
  );
  const signIn = await click(page, "signin");
  assert.equal(signIn.status, 200, JSON.stringify(signIn));
  const first = await click(page, "call-api2");
  assert.equal(first.status, 200, JSON.stringify(first));
  assert.equal(first.body.servedBy, "api2.example.test");
  assert.equal(first.body.userId, "alice");

  // The auth process does not serve api2, and the api2 process does not serve api.
  const wrong = await page.evaluate(async (p) => (await fetch(`http://api2.example.test:${p}/healthz`)).status, auth.port);
  assert.equal(wrong, 404);

  // After expiry, api2 (verify only) answers 401 and the SDK refreshes on the auth server.
  // exp is floor((now + lifetime) / 1000) as in the SuperTokens core, so a 1 s token may live
  // only a few ms and the retry after the refresh could expire again on a slow machine: 2 s
  // tokens live at least 1 s, and at most 2 s.
  await sleep(3200);
  const n = refreshes.length;
  const again = await click(page, "call-api2");
  assert.equal(again.status, 200, JSON.stringify(again));
  assert.equal(refreshes.length - n, 1);
  assert.equal(new URL(refreshes.at(-1).url()).port, String(auth.port));
  await shot(page, "two-process");
  await context.close();
});

test("a foreign host is turned away and never receives the session", async () => {
  const { port } = await startDemo([]);
  const { context, page } = await newPage(`http://www.example.test:${port}/?mode=header`);
  assert.equal((await click(page, "signin")).status, 200);

  // A page on a foreign host mapped to the same server gets the guard's rejection.
  const foreign = await context.newPage();
  const res = await foreign.goto(`http://www.evil.test:${port}/`);
  assert.equal(res.status(), 421);
  await shot(foreign, "foreign-host");

  // A request from the signed-in page to a foreign host carries neither token nor cookie.
  const seen = [];
  page.on("request", (req) => { if (req.url().includes("evil.test")) seen.push(req.headers()); });
  await page.evaluate(async (p) => {
    try { await fetch(`http://api.evil.test:${p}/sessioninfo`); } catch { /* CORS: expected */ }
  }, port);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].authorization, undefined);
  assert.equal(seen[0]["st-auth-mode"], undefined);
  assert.equal(seen[0].cookie, undefined);
  await context.close();
});
