"""The privacy notice of one website (P8), in English and French, from its live settings.

Every duration in it is read from the settings in force (the server's, shortened by the website's
own choices), so the notice cannot drift from what the retention engine does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from causerie.domain.models import Website
from causerie.domain.retention import Rule, effective_retention

LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Limits:
    temporary_session_ttl: timedelta
    chat_ip_retention: timedelta | None
    conversation_retention: timedelta | None
    cookie_max_age: timedelta


def _duration(value: timedelta | None, lang: str) -> str:
    if value is None:
        return "until it is deleted" if lang == "en" else "jusqu'à sa suppression"
    seconds = int(value.total_seconds())
    units = {
        "en": (("day", "days", 86400), ("hour", "hours", 3600), ("minute", "minutes", 60)),
        "fr": (("jour", "jours", 86400), ("heure", "heures", 3600), ("minute", "minutes", 60)),
    }[lang]
    for one, many, size in units:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {one if count == 1 else many}"
    return f"{seconds} s"


def _effective(website: Website, rule: Rule, server: timedelta | None) -> timedelta | None:
    return effective_retention(website.settings.get("retention") or {}, rule, server)


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...]


def notice(website: Website, limits: Limits, lang: str) -> tuple[str, list[Section]]:
    """The title and sections of the notice for `website`, in `lang` (en or fr)."""
    ttl = _duration(limits.temporary_session_ttl, lang)
    cookie = _duration(limits.cookie_max_age, lang)
    ip = _duration(_effective(website, Rule.CHAT_IPS, limits.chat_ip_retention), lang)
    kept = _duration(
        _effective(website, Rule.RESOLVED_CONVERSATIONS, limits.conversation_retention), lang
    )
    consent = bool(website.settings.get("consent_required"))
    own_files = _effective(website, Rule.FILES, None)
    files = None if own_files is None else _duration(own_files, lang)
    name = website.name
    if lang == "fr":
        return f"Confidentialité du chat de {name}", [
            Section(
                "Ce qui est collecté, et pourquoi",
                (
                    "Votre adresse IP, liée à votre session de chat, pour faire fonctionner le "
                    "chat, "
                    "conserver les données de connexion exigées par la loi et protéger le chat "
                    "contre les robots et le spam.",
                    "La page que vous consultez, la langue, le fuseau horaire et le navigateur, "
                    "pour "
                    "que l'équipe comprenne votre question.",
                    "Vos messages, et ce que vous choisissez de donner (nom, e-mail, téléphone) : "
                    "rien de cela n'est obligatoire pour discuter.",
                    "Les fichiers que vous envoyez ; les images sont enregistrées sans leurs "
                    "métadonnées (position GPS, appareil, date).",
                    "Un cookie sur ce site, qui ne sert qu'à retrouver votre conversation d'une "
                    "page "
                    "à l'autre ; il n'est jamais utilisé pour vous suivre.",
                ),
            ),
            Section(
                "Combien de temps",
                (
                    f"Sans message, la session et son adresse IP sont détruites {ttl} après votre "
                    "dernière visite.",
                    f"Si vous avez écrit, l'adresse IP est conservée {ip}, puis effacée ; la "
                    f"conversation est conservée {kept} une fois résolue.",
                    f"Le cookie expire après {cookie} sans visite.",
                    "Les fichiers sont conservés avec leur conversation."
                    if files is None
                    else f"Les fichiers sont supprimés {files} après leur envoi.",
                ),
            ),
            Section(
                "Où",
                (
                    "Les données restent sur le serveur de ce site ; aucun service tiers ne les "
                    "reçoit.",
                ),
            ),
            Section(
                "Vos droits",
                (
                    "Dans le menu du chat : « Télécharger mes données » (un fichier JSON "
                    "complet) et "
                    "« Supprimer cette conversation » (tout est effacé : messages, profil, adresse "
                    "IP). Vous pouvez corriger votre nom, votre e-mail et votre téléphone à tout "
                    "moment, et demander à l'équipe toute autre rectification.",
                )
                + (
                    (
                        "Ce site vous demande d'accepter cette information avant d'écrire ; vous "
                        "pouvez "
                        "retirer votre accord depuis le menu du chat, ce qui arrête la collecte.",
                    )
                    if consent
                    else ()
                ),
            ),
        ]
    return f"Privacy of {name}'s chat", [
        Section(
            "What is collected, and why",
            (
                "Your IP address, tied to your chat session: to run the chat, to keep the "
                "connection "
                "data the law requires, and to protect the chat against bots and spam.",
                "The page you are on, your language, time zone and browser, so that the team "
                "understands your question.",
                "Your messages, and what you choose to give (name, email, phone): none of it is "
                "needed to chat.",
                "The files you send; images are stored without their metadata (GPS position, "
                "camera, date).",
                "A cookie on this site, used only to find your conversation again from page to "
                "page; it is never used to track you.",
            ),
        ),
        Section(
            "For how long",
            (
                f"Without a message, the session and its IP address are destroyed {ttl} after your "
                "last visit.",
                f"If you wrote, the IP address is kept {ip}, then erased; the conversation is kept "
                f"{kept} once resolved.",
                f"The cookie expires after {cookie} without a visit.",
                "Files are kept with their conversation."
                if files is None
                else f"Files are deleted {files} after they were sent.",
            ),
        ),
        Section(
            "Where",
            ("The data stays on this website's own server; no outside service receives it.",),
        ),
        Section(
            "Your rights",
            (
                'In the chat\'s menu: "Download my data" (a complete JSON file) and "Delete this '
                'conversation" (everything is erased: messages, profile, IP address). You can '
                "correct your name, email and phone at any time, and ask the team for any other "
                "correction.",
            )
            + (
                (
                    "This website asks you to accept this notice before you write; you can "
                    "withdraw "
                    "your consent from the chat's menu, which stops the collection.",
                )
                if consent
                else ()
            ),
        ),
    ]
