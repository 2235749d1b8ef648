/* Mail in the inbox's settings (docs/notifications.md): which mail the operator receives (their
 * notification preferences on /api/v1/me) and the addresses the mail server refused for the
 * current website (they get no more mail until their owner changes them). */

import { api } from "./api.js";
import { state } from "./store.js";
import { el, toast } from "./dom.js";
import { fullTime } from "./format.js";
import { t } from "./locale.js";

const LABELS = {
  mail_new_conversation: "mail.aNewConversationStays",
  mail_mentions: "mail.anAgentMentionsMe",
  mail_digest: "mail.everyMorningASummary",
};

/** The "Mail" section of "My account". */
export async function mailSection() {
  const me = await api.get("/me");
  const prefs = me.notification_preferences || {};
  const status = el("p", { class: "muted small", role: "status" });
  const checks = Object.keys(prefs).filter((name) => name.startsWith("mail_")).map((name) => {
    const box = el("input", { type: "checkbox", id: `pref-${name}`, name, checked: Boolean(prefs[name]) });
    box.addEventListener("change", async () => {
      try {
        await api.patch("/me", { notification_preferences: { [name]: box.checked } });
        toast(t("mail.mailPreferencesSaved"));
      } catch (failure) {
        box.checked = !box.checked;
        status.textContent = failure.message;
      }
    });
    return el("div", { class: "field check" }, box, el("label", { for: `pref-${name}`, text: LABELS[name] ? t(LABELS[name]) : name }));
  });
  const section = el("section", { class: "stack settings-form", "aria-label": t("mail.mail") },
    el("h2", { text: t("mail.mail") }),
    el("p", { class: "muted small", text: t("mail.mailMeWhen") }), ...checks, status);
  if (state.websiteId) {
    const data = await api.get(`/websites/${state.websiteId}/mail/failures`);
    const failures = data.failures || [];
    section.append(el("h3", { text: t("mail.addressesThatRefusedMail") }),
      failures.length
        ? el("ul", { class: "plain mail-failures" }, failures.map((f) => el("li", {},
          el("strong", { text: f.address }), " ", el("span", { class: "muted small", text: `${fullTime(f.failed_at)}: ${f.error}` }))))
        : el("p", { class: "muted small", text: t("mail.noneEveryMailWas") }));
  }
  return section;
}
