"""Password storage (argon2id, ASVS 11.4.2) and the password policy (ASVS 6.2)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from app.auth import services
from app.auth.models import Role, User
from app.auth.passwords import hash_password, password_problems, verify_password
from app.extensions import db
from config import Config, DevelopmentConfig, ProductionConfig
from tests import factories
from tests.conftest import login

PASSPHRASE_64 = "Kirschblüten fallen leise auf den alten Marktplatz von Zittau 7!"
UNICODE_PASSWORD = "Żółć-Straße-日本の庭-🌻-Łódź-Ελληνικά"  # noqa: S105 - pasted from a manager


def _user(email: str) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def test_hash_password_stores_argon2id(app_ctx):
    user = factories.create_user(email="hash@zittau.test-kp.de")
    assert user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, factories.PASSWORD)
    assert not verify_password(user.password_hash, factories.PASSWORD + "x")


@pytest.mark.parametrize("config_class", [Config, DevelopmentConfig, ProductionConfig])
def test_config_keeps_asvs_argon2_parameters(config_class):
    # ASVS 5.0 appendix C / argon2-cffi defaults; only TestingConfig may be cheaper.
    assert config_class.ARGON2_TIME_COST >= 3
    assert config_class.ARGON2_MEMORY_COST >= 65536
    assert config_class.ARGON2_PARALLELISM >= 4


def test_hash_password_with_config_parameters_verifies(app, app_ctx, monkeypatch):
    for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"):
        monkeypatch.setitem(app.config, key, getattr(Config, key))
    stored = hash_password(PASSPHRASE_64)
    assert stored.startswith(
        f"$argon2id$v=19$m={Config.ARGON2_MEMORY_COST},"
        f"t={Config.ARGON2_TIME_COST},p={Config.ARGON2_PARALLELISM}$"
    )
    assert verify_password(stored, PASSPHRASE_64)
    assert PasswordHasher().verify(stored, PASSPHRASE_64)  # the library's defaults agree


def test_verify_password_never_raises_for_garbage(app_ctx):
    assert verify_password("not-a-hash", "whatever") is False
    assert verify_password("", "whatever") is False


@pytest.mark.parametrize(
    "password",
    [
        PASSPHRASE_64,
        UNICODE_PASSWORD,
        "pferdebatterie heftklammer korrekt",  # no digits, no capitals: no composition rules
        "x" * 3 + "Q7#vz!Lm2@pR",  # exactly 15 characters, random
    ],
)
def test_password_problems_accepts_good_passwords(app_ctx, password):
    assert password_problems(password) == []


def test_password_problems_accepts_64_character_passphrase_unchanged(app, client):
    assert len(PASSPHRASE_64) == 64
    with app.app_context():
        factories.create_user(email="lang@zittau.test-kp.de")
        user = _user("lang@zittau.test-kp.de")
        services.set_password(user, PASSPHRASE_64)
        db.session.commit()
    # The whole phrase counts: dropping or changing the last character fails (no truncation).
    assert login(client, "lang@zittau.test-kp.de", PASSPHRASE_64[:-1]).status_code == 200
    assert login(client, "lang@zittau.test-kp.de", PASSPHRASE_64[:-1] + "8").status_code == 200
    assert login(client, "lang@zittau.test-kp.de", PASSPHRASE_64).status_code == 302


def test_password_problems_accepts_pasted_unicode_unchanged(app, client):
    with app.app_context():
        factories.create_user(email="uni@zittau.test-kp.de")
        services.set_password(_user("uni@zittau.test-kp.de"), UNICODE_PASSWORD)
        db.session.commit()
    assert (
        login(client, "uni@zittau.test-kp.de", UNICODE_PASSWORD.replace("ß", "ss")).status_code
        == 200
    )
    assert login(client, "uni@zittau.test-kp.de", UNICODE_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("password1", "mindestens 12 Zeichen"),
        ("password1234", "zu leicht zu erraten"),
        ("Sachsen2026!", "zu leicht zu erraten"),
        ("Sachsen-Dresden-2026", "zu leicht zu erraten"),  # only context words: zxcvbn says 4
        ("KommPraev-2026", "zu leicht zu erraten"),
        ("Dresden12345", "zu leicht zu erraten"),
        ("q7#Vz!Lm2@p", "mindestens 12 Zeichen"),  # 11 random characters
        ("", "mindestens 12 Zeichen"),
        ("a" * 257, "höchstens 256 Zeichen"),
    ],
)
def test_password_problems_rejects_weak_passwords_in_german(app_ctx, password, expected):
    problems = password_problems(password)
    assert len(problems) == 1
    assert expected in problems[0]


@pytest.mark.parametrize(
    "weak",
    ["KunigundeWolfram1", "kunigunde.wolfram!!", "Wolfram-Kunigunde", "Zittau-Wolfram-2026!"],
)
def test_set_password_rejects_own_name_email_and_organisation(app_ctx, weak):
    user = factories.create_user(
        email="kunigunde.wolfram@amt.test-kp.de", name="Kunigunde Wolfram", ags="14626610"
    )
    assert user.organisation.name.startswith("Zittau")
    with pytest.raises(services.PasswordRejected, match="zu leicht zu erraten"):
        services.set_password(user, weak)


def test_set_password_accepts_passphrase_mentioning_a_context_word(app_ctx):
    user = factories.create_user(email="kunigunde.wolfram@amt.test-kp.de", name="Kunigunde Wolfram")
    services.set_password(user, "Mein Fahrrad steht in Zittau am Elbufer")
    assert verify_password(user.password_hash, "Mein Fahrrad steht in Zittau am Elbufer")


def test_create_user_rejects_weak_password_with_german_message(app_ctx):
    with pytest.raises(services.PasswordRejected) as excinfo:
        services.create_user(
            email="schwach@zittau.test-kp.de",
            name="Schwach",
            password="Sachsen2026!",
            roles=[Role.APPLICANT],
            organisation=factories.organisation(),
        )
    assert "Passwort" in excinfo.value.message
    assert excinfo.value.field == "new_password"
    assert (
        db.session.execute(db.select(User).filter_by(email="schwach@zittau.test-kp.de")).first()
        is None
    )


def test_change_password_form_shows_german_rejection(applicant_client):
    response = applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "password1",
            "confirm": "password1",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "mindestens 12 Zeichen" in body


def test_authenticate_rehashes_when_parameters_grew(app, client, monkeypatch):
    with app.app_context():
        factories.create_user(email="rehash@zittau.test-kp.de")
        db.session.commit()
        old_hash = _user("rehash@zittau.test-kp.de").password_hash
    assert f"t={app.config['ARGON2_TIME_COST']}," in old_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", app.config["ARGON2_TIME_COST"] + 1)
    assert login(client, "rehash@zittau.test-kp.de", factories.PASSWORD).status_code == 302
    with app.app_context():
        new_hash = _user("rehash@zittau.test-kp.de").password_hash
    assert new_hash != old_hash
    assert f"t={app.config['ARGON2_TIME_COST']}," in new_hash
    assert PasswordHasher().verify(new_hash, factories.PASSWORD)


def test_authenticate_keeps_hash_when_parameters_unchanged(app, client):
    with app.app_context():
        factories.create_user(email="norehash@zittau.test-kp.de")
        db.session.commit()
        old_hash = _user("norehash@zittau.test-kp.de").password_hash
    assert login(client, "norehash@zittau.test-kp.de", factories.PASSWORD).status_code == 302
    with app.app_context():
        assert _user("norehash@zittau.test-kp.de").password_hash == old_hash


def test_authenticate_does_not_rehash_on_wrong_password(app, client, monkeypatch):
    with app.app_context():
        factories.create_user(email="wrong@zittau.test-kp.de")
        db.session.commit()
        old_hash = _user("wrong@zittau.test-kp.de").password_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", app.config["ARGON2_TIME_COST"] + 1)
    assert login(client, "wrong@zittau.test-kp.de", "falsch-falsch-falsch").status_code == 200
    with app.app_context():
        assert _user("wrong@zittau.test-kp.de").password_hash == old_hash
