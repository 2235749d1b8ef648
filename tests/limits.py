"""Rate limits relaxed for tests: the clock of a test stands still."""

from __future__ import annotations

# The clock of a test stands still, and the HTTP limits are counted in windows of it: tests that
# send many messages, open many sessions or log in often would meet them. The limits' own tests
# (test_send_rate.py, test_shield*.py) set theirs; every other test runs with these.
RELAXED_LIMITS: dict[str, str] = {
    "frame_rate": "1000/s",
    "new_session_rate": "100000/m",
    "address_session_rate": "100000/m",
    "website_session_rate": "100000/m",
    "message_rate": "100000/m",
    "network_message_rate": "100000/m",
    "profile_rate": "100000/m",
    "upload_rate": "100000/m",
    "network_upload_rate": "100000/m",
    "login_rate": "100000/m",
    "shield_challenge_rate": "100000/m",
    # A test opens a session and writes in it at the same instant of its clock: at a bot's pace.
    # The sign's own tests (test_shield*.py) turn it on.
    "shield_hasty_delay": "0",
    # A held network's refusal waits this pause in real time: the pause's own tests set it.
    "shield_refusal_pause": "0",
}
