// Initialise the SDK first (side effect import), then render.
import { apiDomain, mode } from "./supertokens.js";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { SuperTokensWrapper } from "supertokens-auth-react";
import { App } from "./App.jsx";

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <SuperTokensWrapper>
      <App apiDomain={apiDomain} mode={mode} />
    </SuperTokensWrapper>
  </StrictMode>,
);
