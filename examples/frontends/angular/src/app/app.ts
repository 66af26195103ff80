import { Component, OnDestroy, OnInit, ViewEncapsulation, computed, signal } from "@angular/core";
import Session from "supertokens-web-js/recipe/session";
import { EmailVerificationClaim } from "supertokens-web-js/recipe/emailverification";
import { apiBasePath, apiDomain, mode, onSessionEvent, origin } from "../supertokens";

interface SessionView {
  loading: boolean;
  exists: boolean;
  userId: string | null;
  payload: unknown;
}

/** What a button shows: the action and what came back (status and body, or an error). */
type Entry = { action: string } & Record<string, unknown>;

async function asJson(response: Response): Promise<{ status: number; body: unknown }> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

@Component({
  selector: "app-root",
  encapsulation: ViewEncapsulation.None,
  template: `
    <main>
      <h1>One session, many APIs · Angular</h1>
      <p>
        Session: <strong id="state">{{ state() }}</strong> · user
        <code id="user">{{ session().exists ? session().userId : "-" }}</code>
      </p>
      <p>mode <code id="mode">{{ mode }}</code> · api <code id="api">{{ apiDomain }}</code></p>
      <p>
        <input id="userid" [value]="userId()" (input)="userId.set($any($event.target).value)" aria-label="user id" />
        <button id="signin" (click)="signIn()">Sign in</button>
        <button id="call-api2" (click)="call('api2')">Call api2</button>
        <button id="call-api3" (click)="call('api3')">Call api3</button>
        <button id="signout" (click)="signOut()">Sign out</button>
      </p>
      <p>
        <button id="verify-email" (click)="setVerified(true)">Mark email verified</button>
        <button id="validate-claims" (click)="validateClaims()">Validate claims (SDK)</button>
        <button id="call-verified" (click)="callVerified()">Call api2 /verified</button>
      </p>
      <nav>
        <a id="nav-home" [href]="link('')">Home</a> ·
        <a id="nav-protected" [href]="link('protected')">Protected view</a>
      </nav>
      <pre id="result" [attr.data-seq]="result().seq">{{ result().text }}</pre>
      @if (view() === "protected") {
        <!-- The protected view: shown only while the SDK reports a session, hidden otherwise. -->
        @if (session().exists) {
          <section id="protected">
            <h2>Protected view</h2>
            <p>Only signed-in users see this. User <code id="protected-user">{{ session().userId }}</code></p>
            <pre id="payload">{{ payloadText() }}</pre>
          </section>
        } @else if (!session().loading) {
          <p id="protected-denied">Sign in to see the protected view.</p>
        }
      }
    </main>
  `,
  styles: `
    main { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; max-width: 48rem; }
    button { margin: 0 0.4rem 0.4rem 0; padding: 0.4rem 0.8rem; }
    pre { background: #f4f4f4; padding: 0.8rem; white-space: pre-wrap; word-break: break-all; }
  `,
})
export class App implements OnInit, OnDestroy {
  protected readonly mode = mode;
  protected readonly apiDomain = apiDomain;

  // The session as the SDK sees it, re-read on every SDK session event.
  protected readonly session = signal<SessionView>({ loading: true, exists: false, userId: null, payload: null });
  protected readonly state = computed(() => {
    const s = this.session();
    return s.loading ? "loading" : s.exists ? "signed in" : "signed out";
  });
  protected readonly payloadText = computed(() => JSON.stringify(this.session().payload, null, 2));

  // The view named by the URL fragment: "#protected" or the home view.
  protected readonly view = signal<"home" | "protected">("home");
  private readonly readView = () => this.view.set(location.hash === "#protected" ? "protected" : "home");

  protected readonly userId = signal("alice");
  protected readonly result = signal({ seq: 0, text: "no call yet" });

  private stopEvents?: () => void;
  // Reads overlap (an event can arrive mid-read): only the latest one is applied.
  private reads = 0;

  ngOnInit(): void {
    this.readView();
    window.addEventListener("hashchange", this.readView);
    this.stopEvents = onSessionEvent(() => void this.readSession());
    void this.readSession();
  }

  ngOnDestroy(): void {
    window.removeEventListener("hashchange", this.readView);
    this.stopEvents?.();
  }

  /**
   * The link to a view of this page. The build's `<base href="./">` would resolve a bare
   * `#protected` against the folder and drop the query (`?mode=header`), so the link keeps the
   * page's own path and query.
   */
  protected link(hash: string): string {
    return `${location.pathname}${location.search}#${hash}`;
  }

  private async readSession(): Promise<void> {
    const mine = ++this.reads;
    const exists = await Session.doesSessionExist();
    const next: SessionView = {
      loading: false,
      exists,
      userId: exists ? await Session.getUserId() : null,
      payload: exists ? await Session.getAccessTokenPayloadSecurely() : null,
    };
    if (mine === this.reads) this.session.set(next);
  }

  private async show(action: string, run: () => Promise<Record<string, unknown>>): Promise<Entry> {
    let entry: Entry;
    try {
      entry = { action, ...(await run()) };
    } catch (err) {
      entry = { action, error: String((err as Error)?.message || err) };
    }
    this.result.update((r) => ({ seq: r.seq + 1, text: JSON.stringify(entry, null, 2) }));
    return entry;
  }

  // The demo's sign-in route; the SDK intercepts the call (apiDomain) and stores the session it
  // creates, which fires SESSION_CREATED.
  protected signIn(): Promise<Entry> {
    return this.show("signin", async () =>
      asJson(
        await fetch(`${apiDomain}${apiBasePath}/demo/signin`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ userId: this.userId() }),
        }),
      ),
    );
  }

  protected call(label: string): Promise<Entry> {
    return this.show(`call ${label}`, async () => asJson(await fetch(`${origin(label)}/sessioninfo`)));
  }

  // The email-verification claim (`st-ev`) as the stock SDK reads it: the demo's claims route
  // sets it on the current session, the SDK validates it from the access-token payload with its
  // own EmailVerificationClaim validator, and `/verified` on api2 checks it on the server.
  protected setVerified(verified: boolean): Promise<Entry> {
    return this.show(`claims ${verified}`, async () =>
      asJson(
        await fetch(`${apiDomain}${apiBasePath}/demo/claims`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ verified }),
        }),
      ),
    );
  }

  protected validateClaims(): Promise<Entry> {
    return this.show("validate claims", async () => ({
      invalid: await Session.validateClaims({
        overrideGlobalClaimValidators: () => [EmailVerificationClaim.validators.isVerified()],
      }),
      verified: await EmailVerificationClaim.getValueFromPayload(await Session.getAccessTokenPayloadSecurely()),
    }));
  }

  protected callVerified(): Promise<Entry> {
    return this.show("call verified", async () => asJson(await fetch(`${origin("api2")}/verified`)));
  }

  protected signOut(): Promise<Entry> {
    return this.show("signout", async () => {
      await Session.signOut();
      return { signedOut: true };
    });
  }
}
