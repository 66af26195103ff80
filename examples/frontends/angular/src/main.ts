// Initialise the SDK first (side effect import), then bootstrap. Angular 21 runs zoneless
// (no zone.js): signals drive change detection, and nothing else wraps window.fetch.
import "./supertokens";
import { bootstrapApplication } from "@angular/platform-browser";
import { provideZonelessChangeDetection } from "@angular/core";
import { App } from "./app/app";

bootstrapApplication(App, { providers: [provideZonelessChangeDetection()] }).catch((err) => console.error(err));
