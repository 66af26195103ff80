// supertokens-web-js, the SDK SuperTokens recommends for Vue and Angular custom UIs, with only
// the Session recipe and sessionTokenBackendDomain set to the shared parent domain
// (".example.test" under the demo). Everything else is derived from the page's own address:
// www.<parent>:<port> talks to api.<parent>:<port>, api2.<parent>:<port>, api3.<parent>:<port>.
// `?mode=header` selects the header token transfer method (default: cookie).
import SuperTokens from "supertokens-web-js";
import Session from "supertokens-web-js/recipe/session";

const params = new URLSearchParams(location.search);
const port = location.port ? `:${location.port}` : "";
const parent = location.hostname.replace(/^www\./, "");

export const origin = (label: string): string => `${location.protocol}//${label}.${parent}${port}`;
export const apiDomain = origin("api");
export const apiBasePath = "/auth";
export const mode: "cookie" | "header" = params.get("mode") === "header" ? "header" : "cookie";

type Listener = (event: { action: string }) => void;
const listeners = new Set<Listener>();
/** Calls `fn(event)` for every session event of the SDK (SESSION_CREATED, SIGN_OUT, ...). */
export function onSessionEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Must run before anything else captures window.fetch (the SDK patches it).
SuperTokens.init({
  appInfo: {
    appName: "multi-api demo (Angular)",
    apiDomain,
    apiBasePath,
  },
  recipeList: [
    Session.init({
      sessionTokenBackendDomain: `.${parent}`,
      tokenTransferMethod: mode,
      onHandleEvent: (event) => listeners.forEach((fn) => fn(event)),
    }),
  ],
});
