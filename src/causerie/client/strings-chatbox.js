/* The chatbox's texts shown before it is opened (docs/inbox.md, "Languages"; docs/widget.md):
 * one object per language, with the same keys. view.js loads this before opening, within the
 * chatbox's byte budget (tests/test_widget_assets.py): what is shown only once the chatbox is
 * opened goes in strings-chatbox-extras.js. `{name}` marks a value filled in when shown. */

export const en = {
  open: "Open chat", close: "Close chat", title: "Chat", message: "Message",
  placeholder: "Write a message…", send: "Send", online: "We're online",
  offline: "We'll reply as soon as we can", greeting: "Hi! How can we help?",
  typing: "is typing…", someone: "Someone", sending: "Sending…", sent: "Sent",
  seen: "Seen", failed: "Not sent.", retry: "Retry", you: "You",
  reconnecting: "Reconnecting…", unread: "{n} unread", menu: "Chat options",
};

/** @type {typeof en} */
export const fr = {
  open: "Ouvrir la discussion", close: "Fermer la discussion", title: "Discussion",
  message: "Message", placeholder: "Écrivez un message…", send: "Envoyer",
  online: "Nous sommes en ligne", offline: "Nous répondrons dès que possible",
  greeting: "Bonjour ! Comment pouvons-nous vous aider ?", typing: "écrit…",
  someone: "Quelqu'un", sending: "Envoi…", sent: "Envoyé", seen: "Vu",
  failed: "Non envoyé.", retry: "Réessayer", you: "Vous",
  reconnecting: "Reconnexion…",
  unread: "non lus : {n}", menu: "Options de la discussion",
};
