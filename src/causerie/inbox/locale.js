/* The inbox's language (docs/inbox.md, "Languages"): the operator's choice (`language` on
 * /api/v1/me), else the browser's (navigator.languages), else English. `t` gives a text of the
 * catalogue (strings-inbox.js, shared folder with the chatbox's) in that language; dates and
 * numbers are formatted by Intl in it (format.js). Changing it re-renders the page (app.js). */

import { fill, pickLanguage, pluralKey } from "./i18n.js";
import * as catalogue from "./strings-inbox.js";

let chosen = null; // the operator's choice; null: the browser's
let language = pickLanguage(navigator.languages || [navigator.language]);
const listeners = new Set();

/** The language the inbox speaks now ("en", "fr"). */
export function currentLanguage() {
  return language;
}

/** The operator's own choice, as /api/v1/me has it (null: the browser's). */
export function chosenLanguage() {
  return chosen;
}

/** Speak `choice` ("en", "fr"), or the browser's language when null. Calls the listeners when
 * the language changes, unless `announce` is false (the caller renders next anyway). */
export function setLanguage(choice, announce = true) {
  chosen = choice || null;
  const next = pickLanguage([chosen, ...(navigator.languages || [navigator.language])]);
  document.documentElement.lang = next;
  if (next === language) return;
  language = next;
  if (announce) for (const listener of listeners) listener(language);
}

/** Called with the new language each time it changes; returns what stops it. */
export function onLanguage(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The text of `key` in the inbox's language, its {placeholders} filled from `params`. A key
 * missing from a language falls back to English, then to the key itself (tests catch both). */
export function t(key, params = undefined) {
  const text = catalogue[language]?.[key] ?? catalogue.en[key] ?? key;
  return fill(text, params, language);
}

/** The form of `key` for `count` (`key.one`, `key.other`), with {n} the count. */
export function tn(key, count, params = {}) {
  return t(pluralKey(key, count, language), { n: count, ...params });
}

document.documentElement.lang = language;
