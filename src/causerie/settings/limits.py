"""Rate limits and the shield against bots (docs/security.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from causerie.settings.addresses import Emails
from causerie.settings.declare import setting
from causerie.settings.units import Bits, Count, Duration, Pause, Rate


class LimitSettings(BaseModel):
    model_config = ConfigDict(defer_build=True)  # only validated as part of Settings

    frame_rate: Rate = setting(
        "20/s",
        "WebSocket frames per second per socket (bursts of twice that).",
    )
    new_session_rate: Rate = setting(
        "120/m",
        "New chatbox sessions from one network (IPv4 /24, IPv6 /48) in any minute, across "
        "nodes with Redis: a token bucket holding half of it, refilled at half the rate "
        "(`120/m`: 60 at once, then one a second), so that no minute sees more; over it the "
        "chatbox load answers 429 `rate_limited` with `Retry-After`. A renewal of an existing "
        "session is never counted.",
    )
    address_session_rate: Rate = setting(
        "60/m",
        "New chatbox sessions from one address (token bucket holding a minute's worth); over "
        "it 429 `rate_limited` with `Retry-After`.",
    )
    website_session_rate: Rate = setting(
        "3000/m",
        "New chatbox sessions on one website, whatever their networks.",
    )
    message_rate: Rate = setting(
        "30/m",
        "Messages one visitor's session sends, over HTTP and WebSocket, in bursts of 20 "
        "seconds' worth (a socket over it gets an `error` frame `rate_limited` with "
        "`retry_after`).",
    )
    network_message_rate: Rate = setting(
        "600/m",
        "Visitor messages from one network (IPv4 /24, IPv6 /48), all its sessions together.",
    )
    profile_rate: Rate = setting(
        "10/m",
        "Profile updates one visitor's session makes.",
    )
    upload_rate: Rate = setting(
        "10/m",
        "Files one visitor's session uploads.",
    )
    network_upload_rate: Rate = setting(
        "60/m",
        "Files the visitors of one network upload.",
    )
    login_rate: Rate = setting(
        "20/m",
        "Agent login attempts from one address, right or wrong (failures have their own "
        "limits per email and network).",
    )
    shield_challenge_rate: Rate = setting(
        "30/m",
        "New sessions one network opens before each further one needs a proof of work (the "
        'chatbox computes it unseen; docs/security.md "The shield").',
    )
    shield_challenge_bits: Bits = setting(
        "14",
        "Difficulty of the proof of work: leading zero bits of a SHA-256 (1 to 24; 14 is "
        "about 16,000 hashes, a fraction of a second in a browser).",
    )
    shield_block_score: Count = setting(
        "20",
        "A network whose bot score reaches this is refused (403 `blocked`) until the score "
        "decays below it.",
    )
    shield_half_life: Duration = setting(
        "10m",
        "A network's bot score halves every this long; the automatic block decays with it.",
    )
    shield_busy_rate: Rate = setting(
        "2/s",
        "While a node is busy, the chatbox requests of a network sending more than this to it "
        "wait for a few places of their own, and the others go first (nothing is refused; "
        'docs/security.md "The shield").',
    )
    shield_refusal_pause: Pause = setting(
        "2s",
        "A network the automatic defence holds blocked is answered its refusal after this pause "
        "(`0`: at once), so that a bot's loop sends one request a pause rather than hundreds a "
        'second; at most 2,000 refusals wait at once on a node (docs/security.md "The shield").',
    )
    shield_repeated_openings: Count = setting(
        "5",
        "Conversations of one website that may open with the same text (three words or more) "
        "within 10 minutes; each further one raises its network's bot score as a spam "
        'campaign\'s sign (docs/security.md "The shield").',
    )
    shield_hasty_delay: Pause = setting(
        "2s",
        "A conversation started sooner than this after its chatbox session opened is at a bot's "
        "pace (a person finds the chatbox, reads and types first); `0` turns the sign off "
        '(docs/security.md "Conversations started at a bot\'s pace").',
    )
    shield_hasty_openings: Count = setting(
        "1",
        "Conversations of one network that may start at a bot's pace "
        "(`CAUSERIE_SHIELD_HASTY_DELAY`) within 10 seconds; past it the network is blocked, for "
        '30 seconds at least and as long as it persists (docs/security.md "Conversations '
        "started at a bot's pace\").",
    )
    shield_retention: Duration = setting(
        "30d",
        "How long the shield's per-network counts per 10 minutes are kept (keyed hashes, "
        "never addresses; P18).",
    )
    shield_admins: Emails = setting(
        "",
        "Comma-separated emails of the operators who manage server-wide block rules "
        "(`/api/v1/blocks`) and see the shield's overview (`/api/v1/shield`).",
    )
