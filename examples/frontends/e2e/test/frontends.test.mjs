// Drives the React (supertokens-auth-react), Vue and Angular (both supertokens-web-js) examples
// in Debian's Chromium against the multi-api-demo binary, each in cookie and header mode, with
// 1 s access tokens. Hosts *.example.test resolve to 127.0.0.1 through Chromium's
// --host-resolver-rules.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const HERE = import.meta.dirname;
const DEMO_BIN = process.env.DEMO_BIN;
const ARTIFACTS = process.env.E2E_ARTIFACTS || path.resolve(HERE, "..", "artifacts");
const DIST = {
  react: process.env.REACT_DIST || path.resolve(HERE, "..", "..", "react", "dist"),
  vue: process.env.VUE_DIST || path.resolve(HERE, "..", "..", "vue", "dist"),
  angular: process.env.ANGULAR_DIST || path.resolve(HERE, "..", "..", "angular", "dist"),
};
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(ARTIFACTS, { recursive: true });

const children = [];
let browser;

/** Starts the demo and resolves with its port once it prints `listening on http://IP:PORT`. */
function startDemo(websiteDir) {
  return new Promise((resolve, reject) => {
    const args = ["--listen", "127.0.0.1:0", "--access-token-ttl", "1", "--website-dir", websiteDir];
    const child = spawn(DEMO_BIN, args, {
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

/**
 * Opens a page in a fresh context and records what the flows check: refresh calls, every
 * console error/warning (with the resource URL the browser attaches to network errors) and
 * uncaught exceptions.
 */
async function newPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleLog = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      consoleLog.push({ type: msg.type(), text: msg.text(), url: msg.location()?.url || "", page: page.url() });
    }
  });
  page.on("pageerror", (err) => consoleLog.push({ type: "pageerror", text: String(err?.stack || err), url: "", page: page.url() }));
  const refreshes = [];
  page.on("request", (req) => {
    if (req.method() === "POST" && req.url().includes("/auth/session/refresh")) refreshes.push(req.url());
  });
  return { context, page, refreshes, consoleLog };
}

/**
 * The console lines a correct run may show: Chromium's own "Failed to load resource: ... 401"
 * line for the 401s the protocol expects (the SDK's first-visit refresh with no session, an API
 * call with an expired access token before the SDK refreshes it, an API call after sign-out;
 * `/verified` as `/sessioninfo`; the demo's claims route, which needs the session too, when the
 * 1 s access token expired just before it on a busy machine: the SDK refreshes and retries it,
 * and the flow checks the retried answer).
 * Those come from the browser's network stack, not from an SDK. Everything else counts.
 */
function unexpected(consoleLog) {
  return consoleLog.filter((e) => {
    if (e.type !== "error") return e.type === "pageerror" || /supertokens|session/i.test(e.text);
    const expected401 = /Failed to load resource: the server responded with a status of 401/.test(e.text)
      && /\/auth\/session\/refresh$|\/auth\/demo\/claims$|\/sessioninfo$|\/verified$/.test(e.url);
    return !expected401;
  });
}

/** Clicks a button and returns the JSON the app shows once its result counter moves. */
async function click(page, id) {
  const seq = await page.locator("#result").getAttribute("data-seq");
  await page.click(`#${id}`);
  await page.waitForFunction((s) => document.getElementById("result")?.dataset.seq !== s, seq);
  return JSON.parse(await page.locator("#result").textContent());
}

/** Waits until the app shows the given session state ("signed in" / "signed out"). */
async function waitState(page, state) {
  try {
    await page.waitForFunction((s) => document.getElementById("state")?.textContent === s, state, { timeout: 10_000 });
  } catch (err) {
    const shown = await page.locator("#state").textContent().catch(() => "(none)");
    throw new Error(`expected session state "${state}", the app shows "${shown}" on ${page.url()}`, { cause: err });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(DEMO_BIN && existsSync(DEMO_BIN), `DEMO_BIN must point at the multi-api-demo binary (got ${DEMO_BIN})`);
  for (const [app, dir] of Object.entries(DIST)) {
    assert.ok(existsSync(path.join(dir, "index.html")), `${app} is not built: ${dir}/index.html is missing`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--host-resolver-rules=MAP *.example.test 127.0.0.1",
    ],
  });
});

after(async () => {
  await browser?.close();
  for (const child of children) child.kill("SIGTERM");
});

for (const app of ["react", "vue", "angular"]) {
  for (const mode of ["cookie", "header"]) {
    test(`${app}, ${mode} mode: no session, sign-in, api2/api3, refresh on expiry, protected view, sign-out`, { timeout: 90_000 }, async () => {
      const { port, child } = await startDemo(DIST[app]);
      const www = `http://www.example.test:${port}`;
      const { context, page, refreshes, consoleLog } = await newPage();
      const name = `${app}-${mode}`;
      try {
        await page.goto(`${www}/?mode=${mode}`);

        // 1. The app starts with no session; sign-in shows the user from the session context.
        await waitState(page, "signed out");
        assert.equal(await page.locator("#mode").textContent(), mode);
        assert.equal(await page.locator("#user").textContent(), "-");
        const signIn = await click(page, "signin");
        assert.equal(signIn.status, 200, JSON.stringify(signIn));
        await waitState(page, "signed in");
        assert.equal(await page.locator("#user").textContent(), "alice");
        const cookies = await context.cookies();
        if (mode === "cookie") {
          const access = cookies.find((c) => c.name === "sAccessToken");
          assert.ok(access && cookies.some((c) => c.name === "sRefreshToken"), `no session cookies: ${cookies.map((c) => c.name)}`);
          assert.equal(access.domain, ".example.test");
          assert.ok(access.httpOnly);
        } else {
          assert.ok(!cookies.some((c) => c.name === "sAccessToken"), "header mode sets no session cookie");
          assert.ok(cookies.some((c) => c.name === "st-access-token"), "the SDK keeps the header-mode token");
        }
        await shot(page, `${name}-1-signed-in`);

        // 2. api2 and api3 answer for the same session; after expiry the SDK refreshes and retries.
        const a2 = await click(page, "call-api2");
        const a3 = await click(page, "call-api3");
        assert.equal(a2.status, 200, JSON.stringify(a2));
        assert.equal(a3.status, 200, JSON.stringify(a3));
        assert.equal(a2.body.servedBy, "api2.example.test");
        assert.equal(a3.body.servedBy, "api3.example.test");
        assert.equal(a2.body.userId, "alice");
        assert.equal(a2.body.sessionHandle, a3.body.sessionHandle);
        for (const label of ["call-api2", "call-api3"]) {
          await sleep(2200); // 1 s tokens live at most 1 s (exp = floor(now + lifetime))
          const n = refreshes.length;
          const late = await click(page, label);
          assert.equal(late.status, 200, `${label} after expiry: ${JSON.stringify(late)}`);
          assert.equal(late.body.sessionHandle, a2.body.sessionHandle);
          assert.ok(refreshes.length > n, `${label}: the SDK refreshed the expired access token`);
        }
        assert.ok(refreshes.every((u) => new URL(u).hostname === "api.example.test"), refreshes.join());
        await waitState(page, "signed in");

        // 3. The protected view shows the user. Sign-out returns the app to the signed-out state
        //    and the protected view disappears (React: SessionAuth renders nothing on SIGN_OUT).
        //    Opened again without a session it redirects (React: SessionAuth sends the visitor
        //    to websiteBasePath, /auth, with ?redirectToPath) or stays hidden (Vue, Angular).
        await page.click("#nav-protected");
        await page.locator("#protected").waitFor();
        assert.equal(await page.locator("#protected-user").textContent(), "alice");
        // The link stays on the same page and mode (Angular: despite its `<base href="./">`).
        assert.equal(new URL(page.url()).search, `?mode=${mode}`);
        assert.equal(await page.locator("#mode").textContent(), mode);
        await shot(page, `${name}-2-protected`);
        const out = await click(page, "signout");
        assert.equal(out.signedOut, true, JSON.stringify(out));
        await waitState(page, "signed out");
        assert.equal(await page.locator("#user").textContent(), "-");
        await page.locator("#protected").waitFor({ state: "detached" });
        if (mode === "cookie") {
          assert.ok(!(await context.cookies()).some((c) => c.name === "sAccessToken"), "sign-out cleared the cookie");
        }
        await shot(page, `${name}-3-signed-out`);
        // (From the home view: on the protected view, the SDK's UNAUTHORISED event for this 401
        // would make SessionAuth redirect, which the next step checks on its own.)
        await page.click("#nav-home");
        const after = await click(page, "call-api2");
        assert.equal(after.status, 401, JSON.stringify(after));
        await waitState(page, "signed out");

        await page.click("#nav-protected");
        if (app === "react") {
          await page.waitForURL((u) => u.pathname.replace(/\/$/, "") === "/auth", { timeout: 10_000 });
          const url = new URL(page.url());
          assert.equal(url.searchParams.get("redirectToPath"), `?mode=${mode}#protected`);
          // The sign-in page at /auth signs in and sends the user back to the protected view.
          await waitState(page, "signed out");
          await shot(page, `${name}-4-redirected`);
          await page.click("#signin");
          await page.waitForURL((u) => u.pathname === "/" && u.hash === "#protected");
          await page.locator("#protected").waitFor();
          assert.equal(await page.locator("#protected-user").textContent(), "alice");
          await waitState(page, "signed in");
        } else {
          await page.locator("#protected-denied").waitFor();
          assert.equal(await page.locator("#protected").count(), 0);
          await shot(page, `${name}-4-hidden`);
        }

        // 4. No console errors from the SDKs during the flows.
        writeFileSync(path.join(ARTIFACTS, `${name}-console.json`), JSON.stringify(consoleLog, null, 2));
        assert.deepEqual(unexpected(consoleLog), []);
      } catch (err) {
        await shot(page, `${name}-failure`).catch(() => {});
        writeFileSync(path.join(ARTIFACTS, `${name}-console.json`), JSON.stringify(consoleLog, null, 2));
        throw err;
      } finally {
        await context.close();
        child.kill("SIGTERM");
      }
    });
  }
}

// The email-verification claim through the stock SDK: supertokens-web-js's own
// EmailVerificationClaim validator reads `st-ev` ({v, t}) from the access-token payload the
// Rust server built, before and after the demo's claims route sets it; api2's `/verified`
// answers node's invalid-claim body until then.
for (const app of ["vue", "angular"]) {
  for (const mode of ["cookie", "header"]) {
    test(`${app}, ${mode} mode: st-ev claim seen by the SDK's EmailVerificationClaim and by /verified`, { timeout: 60_000 }, async () => {
      const { port, child } = await startDemo(DIST[app]);
      const www = `http://www.example.test:${port}`;
      const { context, page, consoleLog } = await newPage();
      const name = `${app}-${mode}-claims`;
      try {
        await page.goto(`${www}/?mode=${mode}`);
        await waitState(page, "signed out");
        const signIn = await click(page, "signin");
        assert.equal(signIn.status, 200, JSON.stringify(signIn));
        await waitState(page, "signed in");

        // A new session carries st-ev = false: the SDK's validator fails on it, and so does api2.
        const before = await click(page, "validate-claims");
        assert.equal(before.error, undefined, JSON.stringify(before));
        assert.equal(before.verified, false, JSON.stringify(before));
        assert.equal(before.invalid.length, 1, JSON.stringify(before));
        assert.equal(before.invalid[0].id, "st-ev");
        const refused = await click(page, "call-verified");
        assert.equal(refused.status, 403, JSON.stringify(refused));
        assert.equal(refused.body.message, "invalid claim");
        assert.equal(refused.body.claimValidationErrors[0].id, "st-ev");

        // The claims route sets it; the new access token (and front-token) reaches the SDK.
        const set = await click(page, "verify-email");
        assert.equal(set.status, 200, JSON.stringify(set));
        assert.deepEqual(set.body, { status: "OK" });
        const afterSet = await click(page, "validate-claims");
        assert.equal(afterSet.verified, true, JSON.stringify(afterSet));
        assert.deepEqual(afterSet.invalid, [], JSON.stringify(afterSet));
        const ok = await click(page, "call-verified");
        assert.equal(ok.status, 200, JSON.stringify(ok));
        assert.equal(ok.body.servedBy, "api2.example.test");
        assert.equal(ok.body.userId, "alice");

        // It survives a refresh (1 s access tokens).
        await sleep(2200);
        const late = await click(page, "call-verified");
        assert.equal(late.status, 200, JSON.stringify(late));
        await shot(page, `${name}-verified`);
        writeFileSync(path.join(ARTIFACTS, `${name}-console.json`), JSON.stringify(consoleLog, null, 2));
        // The one 403 is the refused /verified call above.
        const refused403 = (e) => /status of 403/.test(e.text) && /\/verified$/.test(e.url);
        assert.deepEqual(unexpected(consoleLog).filter((e) => !refused403(e)), []);
      } catch (err) {
        await shot(page, `${name}-failure`).catch(() => {});
        writeFileSync(path.join(ARTIFACTS, `${name}-console.json`), JSON.stringify(consoleLog, null, 2));
        throw err;
      } finally {
        await context.close();
        child.kill("SIGTERM");
      }
    });
  }
}
