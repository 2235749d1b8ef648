/* The inbox's texts, in every language it speaks (docs/inbox.md, "Languages"): one object per
 * language, each with the same keys, named after the module that shows the text, gathered here
 * from one module per part of the inbox (strings-inbox-frame.js, -conversations.js,
 * -settings.js, -privacy.js, -reports.js), each under 600 lines. They are plain modules the
 * inbox imports with this one, as it imports every other: nothing is built. `{name}` marks a
 * value filled in when the text is shown (i18n.js `fill`); a key ending in `.one` or `.other` is
 * the form a count takes (i18n.js `pluralKey`). To add a language: in each part, copy `en`,
 * translate every text and export it under the language's code; gather it below; and add the
 * code to LANGUAGES in i18n.js and in domain/languages.py. The chatbox's texts are in
 * strings-chatbox.js and strings-chatbox-extras.js. */

import * as frame from "./strings-inbox-frame.js";
import * as conversations from "./strings-inbox-conversations.js";
import * as settings from "./strings-inbox-settings.js";
import * as privacy from "./strings-inbox-privacy.js";
import * as reports from "./strings-inbox-reports.js";

export const en = { ...frame.en, ...conversations.en, ...settings.en, ...privacy.en, ...reports.en };

/** @type {typeof en} */
export const fr = { ...frame.fr, ...conversations.fr, ...settings.fr, ...privacy.fr, ...reports.fr };
