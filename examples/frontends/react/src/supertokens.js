// The seed's frontend setup, unchanged in shape: supertokens-auth-react with only the Session
// recipe and sessionTokenBackendDomain set to the shared parent domain (".example.test" under
// the demo). Everything else is derived from the page's own address, as the demo page does:
// www.<parent>:<port> talks to api.<parent>:<port>, api2.<parent>:<port>, api3.<parent>:<port>.
// `?mode=header` selects the header token transfer method (default: cookie).
// The protected view is `#protected`; the sign-in page is at the SDK's default websiteBasePath, /auth.
import SuperTokens from "supertokens-auth-react";
import Session from "supertokens-auth-react/recipe/session";

const params = new URLSearchParams(location.search);
const port = location.port ? `:${location.port}` : "";
const parent = location.hostname.replace(/^www\./, "");

export const origin = (label) => `${location.protocol}//${label}.${parent}${port}`;
export const apiDomain = origin("api");
export const apiBasePath = "/auth";
// On the sign-in page (/auth?redirectToPath=...), the mode comes from the page to return to.
const back = new URL(params.get("redirectToPath") || "/", location.origin);
export const mode = (params.get("mode") || back.searchParams.get("mode")) === "header" ? "header" : "cookie";

// Must run before anything else captures window.fetch (the SDK patches it).
SuperTokens.init({
  appInfo: {
    appName: "multi-api demo (React)",
    apiDomain,
    websiteDomain: location.origin,
    apiBasePath,
  },
  recipeList: [
    Session.init({
      sessionTokenBackendDomain: `.${parent}`,
      tokenTransferMethod: mode,
    }),
  ],
});
