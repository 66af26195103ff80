// Initialise the SDK first (side effect import), then mount.
import "./supertokens.js";
import { createApp } from "vue";
import App from "./App.vue";

createApp(App).mount("#app");
