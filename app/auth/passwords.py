"""Password hashing (argon2id) and the password policy (ASVS 6.2)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

from app.common.errors import Message

MIN_LENGTH = 12
MAX_LENGTH = 256
#: zxcvbn refuses (ValueError) more than 72 characters; longer passphrases are rated by their
#: first 72 characters, which decide their strength anyway (issue 14, finding 4).
RATED_LENGTH = 72
#: Words that make a password guessable in this context (ASVS 6.2.11).
CONTEXT_WORDS = [
    "sachsen",
    "saechsisch",
    "sächsisch",
    "kommpraev",
    "kommpräv",
    "praevention",
    "prävention",
    "ministerium",
    "kommune",
    "foerderung",
    "förderung",
    "landespraeventionsrat",
    "asskomm",
    "dresden",
    "leipzig",
    "chemnitz",
    "passwort",
    "password",
]


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """argon2id hash of ``password`` with the configured parameters."""
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True if ``password`` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the stored hash uses weaker parameters than configured."""
    return _hasher().check_needs_rehash(stored_hash)


def context_words(*values: str | None) -> list[str]:
    """Words of a user's e-mail, name and organisation, for ``password_problems(user_inputs=)``.

    ``"anna.schmidt@zittau.de"`` gives ``anna``, ``schmidt``, ``zittau``; pieces shorter than three
    characters are dropped.
    """
    words: list[str] = []
    for value in values:
        for piece in re.split(r"[\W_]+", (value or "").lower()):
            if len(piece) >= 3 and piece not in words:
                words.append(piece)
    return words


def _strip_words(password: str, words: list[str]) -> str:
    """``password`` (lower-cased) without any of ``words`` (longest first)."""
    text = password.lower()
    for word in sorted({w.lower() for w in words if len(w) >= 3}, key=len, reverse=True):
        text = text.replace(word, "")
    return text


def password_problems(password: str, *, user_inputs: list[str] | None = None) -> list[Message]:
    """Reasons (lazy, for the form) why ``password`` is not acceptable; empty if it is.

    Length 12–256, no composition rules; guessable passwords (common lists, context words, the
    user's own name or e-mail) are refused via zxcvbn. Because zxcvbn rates a *sequence* of known
    words as strong (``"Sachsen-Dresden-2026"`` scores 4), whatever is left after removing the
    context words must be hard to guess on its own as well.
    """
    if len(password) < MIN_LENGTH:
        return [_l("Das Passwort muss mindestens %(n)s Zeichen lang sein.", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_l("Das Passwort darf höchstens %(n)s Zeichen lang sein.", n=MAX_LENGTH)]
    inputs = CONTEXT_WORDS + [w for w in (user_inputs or []) if w]
    candidates = [password[:RATED_LENGTH]]
    rest = _strip_words(password, inputs)
    if rest != password.lower():
        candidates.append(rest[:RATED_LENGTH])
    if any(zxcvbn(c, user_inputs=inputs)["score"] < 3 for c in candidates if c) or not rest:
        return [
            _l(
                "Dieses Passwort ist zu leicht zu erraten (bekanntes Passwort, Namens- oder "
                "Ortsbezug). Wählen Sie zum Beispiel eine Passphrase aus mehreren Wörtern."
            )
        ]
    return []
