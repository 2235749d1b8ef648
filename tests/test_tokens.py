"""Secrets are random and stored hashed (P4, P16)."""

from __future__ import annotations

import base64

from argon2 import PasswordHasher

from causerie import tokens


def test_ids_are_random_and_not_sequential() -> None:
    ids = {tokens.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 24 and i.isalnum() and i.islower() for i in ids)


def test_ids_are_the_base32_of_120_random_bits() -> None:
    for _ in range(500):
        public = tokens.new_id()
        raw = base64.b32decode(public.upper())
        assert len(raw) == 15
        assert base64.b32encode(raw).decode("ascii").lower() == public
    # Every bit varies: the first and last characters take all 32 values over enough ids.
    many = [tokens.new_id() for _ in range(2000)]
    assert len({i[0] for i in many}) == len({i[-1] for i in many}) == 32


def test_p16_session_tokens_carry_256_random_bits() -> None:
    token = tokens.new_token()
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert tokens.new_token() != token


def test_token_hash_is_sha256_and_matches_only_its_token() -> None:
    token = tokens.new_token()
    stored = tokens.hash_token(token)
    assert len(stored) == 64 and token not in stored
    assert tokens.tokens_match(token, stored)
    assert not tokens.tokens_match(tokens.new_token(), stored)


def test_passwords_are_argon2id_and_checked_against_any_parameters() -> None:
    hashed = tokens.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert tokens.verify_password("correct horse", hashed)
    assert not tokens.verify_password("wrong", hashed)
    assert not tokens.verify_password("x", "not a hash")
    # A hash made with the production profile verifies too (tests hash with a cheaper one).
    assert tokens.verify_password("correct horse", PasswordHasher().hash("correct horse"))
