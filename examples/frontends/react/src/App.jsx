import { useCallback, useEffect, useState } from "react";
import Session, { SessionAuth, useSessionContext } from "supertokens-auth-react/recipe/session";
import { apiBasePath, apiDomain, origin } from "./supertokens.js";

const isAuthPage = /\/auth\/?$/.test(location.pathname);

async function asJson(response) {
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

/** The view named by the URL fragment: "#protected" or the home view. */
function useHashView() {
  const read = () => (location.hash === "#protected" ? "protected" : "home");
  const [view, setView] = useState(read);
  useEffect(() => {
    const onChange = () => setView(read());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return view;
}

/** Shows the session as the SDK's context sees it (SuperTokensWrapper's context). */
function SessionState() {
  const session = useSessionContext();
  const state = session.loading ? "loading" : session.doesSessionExist ? "signed in" : "signed out";
  return (
    <p>
      Session: <strong id="state">{state}</strong>
      {" · user "}
      <code id="user">{!session.loading && session.doesSessionExist ? session.userId : "-"}</code>
    </p>
  );
}

/** Rendered only inside SessionAuth, so its context always holds a session. */
function ProtectedView() {
  const session = useSessionContext();
  return (
    <section id="protected">
      <h2>Protected view</h2>
      <p>
        Only signed-in users see this. User <code id="protected-user">{session.userId}</code>
      </p>
      <pre id="payload">{JSON.stringify(session.accessTokenPayload, null, 2)}</pre>
    </section>
  );
}

export function App({ mode }) {
  const view = useHashView();
  const [userId, setUserId] = useState("alice");
  const [result, setResult] = useState({ seq: 0, text: "no call yet" });

  const show = useCallback(async (action, run) => {
    let entry;
    try {
      entry = { action, ...(await run()) };
    } catch (err) {
      entry = { action, error: String(err?.message || err) };
    }
    setResult((r) => ({ seq: r.seq + 1, text: JSON.stringify(entry, null, 2) }));
    return entry;
  }, []);

  const signIn = () =>
    show("signin", async () => {
      // The demo's sign-in route; the SDK intercepts the call (apiDomain) and stores the session
      // it creates, which fires SESSION_CREATED and updates the session context.
      const res = await fetch(`${apiDomain}${apiBasePath}/demo/signin`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ userId }),
      });
      const out = await asJson(res);
      if (res.ok && isAuthPage) {
        // The sign-in page sends the user back where SessionAuth found them signed out.
        const back = new URLSearchParams(location.search).get("redirectToPath") || "/";
        location.assign(new URL(back, location.origin).href);
      }
      return out;
    });
  const call = (label) => show(`call ${label}`, async () => asJson(await fetch(`${origin(label)}/sessioninfo`)));
  const signOut = () =>
    show("signout", async () => {
      await Session.signOut();
      return { signedOut: true };
    });

  return (
    <main style={{ font: "15px/1.4 system-ui, sans-serif", margin: "2rem", maxWidth: "48rem" }}>
      <h1>{isAuthPage ? "Sign in" : "One session, many APIs"} · React</h1>
      <SessionState />
      <p>
        mode <code id="mode">{mode}</code> · api <code id="api">{apiDomain}</code>
      </p>
      <p>
        <input id="userid" value={userId} onChange={(e) => setUserId(e.target.value)} aria-label="user id" />{" "}
        <button id="signin" onClick={signIn}>Sign in</button>{" "}
        <button id="call-api2" onClick={() => call("api2")}>Call api2</button>{" "}
        <button id="call-api3" onClick={() => call("api3")}>Call api3</button>{" "}
        <button id="signout" onClick={signOut}>Sign out</button>
      </p>
      {!isAuthPage && (
        <nav>
          <a id="nav-home" href="#">Home</a> · <a id="nav-protected" href="#protected">Protected view</a>
        </nav>
      )}
      <pre id="result" data-seq={result.seq} style={{ background: "#f4f4f4", padding: ".8rem", whiteSpace: "pre-wrap" }}>
        {result.text}
      </pre>
      {!isAuthPage && view === "protected" && (
        // requireAuth: without a session the SDK redirects to websiteBasePath (/auth), with
        // ?redirectToPath=<this page>; when the session ends while it is shown, it renders nothing.
        <SessionAuth key="protected" requireAuth={true}>
          <ProtectedView />
        </SessionAuth>
      )}
    </main>
  );
}
