/* The chatbox's texts shown once it is opened (docs/inbox.md, "Languages"; docs/widget.md): the
 * email asked for after a first message (view.js), the privacy menu (privacy.js), files
 * (files.js), business hours and ratings (service.js). One object
 * per language, with the same keys, one part per module; loaded on opening, so it costs nothing
 * before. `{name}` marks a value filled in when shown. */

export const en = {
  email: {
    ask: "No one is online right now. Leave your email and we'll reply there.",
    label: "Your email", save: "Save", saved: "Thanks, we'll reply to {email}.",
  },
  privacy: {
    menu: "Chat options", download: "Download my data", erase: "Delete this conversation",
    notice: "Privacy notice", withdraw: "Withdraw consent",
    consentDefault: "Before you write, please read how this chat uses your data, and accept it.",
    readNotice: "Read the privacy notice", accept: "Accept", refuse: "Refuse",
    refused: "You refused: nothing about you is sent to us. To chat, accept the notice.",
    confirm: "Delete this conversation? Your messages, your profile and your IP address will be erased from our server for good. This cannot be undone.",
    confirmYes: "Delete for good", cancel: "Cancel",
    erased: "Your conversation was deleted: nothing of it is left on our server.",
    again: "Start a new conversation",
    withdrawn: "Consent withdrawn: nothing more is collected from you. You can also erase what was already collected.",
    failed: "That did not work. Please try again.",
    transcript: "Email me this conversation", transcriptSent: "On its way to your email address.",
    needEmail: "Which email address should we send it to?", send: "Send",
    noMail: "This chat cannot send email.", close: "Close",
  },
  files: {
    attach: "Attach files", uploading: "Uploading {name}", cancel: "Cancel", retry: "Retry",
    remove: "Remove", tooLarge: "Not sent: the file is too large.",
    refused: "Not sent: this type of file is not accepted here.",
    wait: "Not sent: too many at once. Retry in {s} s.", failed: "Not sent.",
    expired: "This file was deleted.", download: "Download {name}", open: "Open the image {name}",
    close: "Close", viewer: "Image {name}", drop: "Drop files to send them",
  },
  service: {
    back: "We're away. Back {when}.", closed: "We're away right now.",
    leave: "Leave a message: we'll answer as soon as we're back.",
    ask: "How was this conversation?", star: "{n} out of 5", comment: "Anything to add? (optional)",
    send: "Send my rating", thanks: "Thanks for your rating!", change: "Change my rating", failed: "That did not work. Please try again.",
  },
};

/** @type {typeof en} */
export const fr = {
  email: {
    ask: "Personne n'est en ligne pour le moment. Laissez votre e-mail, nous vous répondrons.",
    label: "Votre e-mail", save: "Enregistrer", saved: "Merci, nous répondrons à {email}.",
  },
  privacy: {
    menu: "Options de la discussion", download: "Télécharger mes données",
    erase: "Supprimer cette conversation", notice: "Information sur la confidentialité",
    withdraw: "Retirer mon accord",
    consentDefault: "Avant d'écrire, merci de lire comment ce chat utilise vos données, et de l'accepter.",
    readNotice: "Lire l'information sur la confidentialité", accept: "J'accepte", refuse: "Je refuse",
    refused: "Vous avez refusé : rien de vous ne nous est envoyé. Pour discuter, acceptez l'information.",
    confirm: "Supprimer cette conversation ? Vos messages, votre profil et votre adresse IP seront effacés de notre serveur pour de bon. C'est irréversible.",
    confirmYes: "Supprimer pour de bon", cancel: "Annuler",
    erased: "Votre conversation a été supprimée : il n'en reste rien sur notre serveur.",
    again: "Commencer une nouvelle conversation",
    withdrawn: "Accord retiré : plus rien n'est collecté. Vous pouvez aussi effacer ce qui l'a déjà été.",
    failed: "Cela n'a pas marché. Merci de réessayer.",
    transcript: "M'envoyer cette conversation par e-mail", transcriptSent: "Envoyée à votre adresse e-mail.",
    needEmail: "À quelle adresse e-mail l'envoyer ?", send: "Envoyer",
    noMail: "Ce chat ne peut pas envoyer d'e-mail.", close: "Fermer",
  },
  files: {
    attach: "Joindre des fichiers", uploading: "Envoi de {name}", cancel: "Annuler",
    retry: "Réessayer", remove: "Retirer", tooLarge: "Non envoyé : le fichier est trop gros.",
    refused: "Non envoyé : ce type de fichier n'est pas accepté ici.",
    wait: "Non envoyé : trop d'envois à la fois. Réessayez dans {s} s.", failed: "Non envoyé.",
    expired: "Ce fichier a été supprimé.", download: "Télécharger {name}",
    open: "Ouvrir l'image {name}", close: "Fermer", viewer: "Image {name}",
    drop: "Déposez des fichiers pour les envoyer",
  },
  service: {
    back: "Nous sommes absents. De retour {when}.", closed: "Nous sommes absents pour le moment.",
    leave: "Laissez un message : nous répondrons dès notre retour.",
    ask: "Comment s'est passée cette conversation ?", star: "{n} sur 5",
    comment: "Quelque chose à ajouter ? (facultatif)", send: "Envoyer ma note",
    thanks: "Merci pour votre note !", change: "Modifier ma note", failed: "Cela n'a pas marché. Merci de réessayer.",
  },
};
