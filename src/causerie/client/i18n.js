/* Languages (docs/inbox.md, "Languages"), shared by the inbox and the chatbox's modules loaded on
 * opening: which language a reader gets, a catalogue's text with its {placeholders} filled (a
 * number written the language's way), and the plural form a count takes. The texts themselves
 * are in the catalogue's modules beside this one (strings-*.js), one object per language. */

/** @typedef {"en" | "fr"} Language */

/** Every language the catalogue has (domain/languages.py LANGUAGES says the same). */
export const LANGUAGES = /** @type {Language[]} */ (["en", "fr"]);

/** The first of `wanted` (a chosen code, then the browser's languages, best first) the catalogue
 * has, by its primary subtag ("fr-CA" is "fr"); English when none is.
 * @param {readonly (string | null | undefined)[]} wanted @returns {Language} */
export function pickLanguage(wanted) {
  for (const code of wanted) {
    const primary = /** @type {Language} */ (String(code || "").slice(0, 2).toLowerCase());
    if (LANGUAGES.includes(primary)) return primary;
  }
  return "en";
}

/** `text` with each `{name}` replaced by `params[name]`; numbers are written in `language`'s way
 * (1 234,5 in French). A name without a value stays as it is, so that a missing one shows.
 * @param {string} text @param {Record<string, unknown> | undefined} params @param {Language} language */
export function fill(text, params, language) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const value = params[name];
    return typeof value === "number" ? value.toLocaleString(language) : String(value);
  });
}

/** The key of the form a count takes in `language`: `key.one` or `key.other` (Intl's plural rules:
 * French says "0 message", English "0 messages").
 * @param {string} key @param {number} count @param {Language} language */
export function pluralKey(key, count, language) {
  return `${key}.${new Intl.PluralRules(language).select(count) === "one" ? "one" : "other"}`;
}
