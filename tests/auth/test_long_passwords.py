"""Issue 14, finding 4: passwords of 73–256+ characters never end in a 500.

zxcvbn raises for more than 72 characters; the policy rates at most its first 72 characters
(``passwords.RATED_LENGTH``) and refuses more than ``MAX_LENGTH`` (256) with a German message —
on password change, invitation acceptance and ``flask users create``.
"""

from __future__ import annotations

import pytest

from app.auth.passwords import MAX_LENGTH, password_problems
from tests import factories
from tests.auth.test_invitations import _accept, _create_args, _issue

PHRASE = "Frühnebel über der Neiße am Viadukt, dann Kaffee im Klostergarten "  # 67 characters


def _long(n: int) -> str:
    return (PHRASE * 5)[:n]


@pytest.mark.parametrize("n", [72, 73, 100, 200, 256])
def test_passwords_up_to_256_characters_are_rated(app_ctx, n):
    assert password_problems(_long(n)) == []
    weak = ("a" * n)[:n]
    assert "zu leicht zu erraten" in password_problems(weak)[0]


@pytest.mark.parametrize("n", [257, 1000, 100_000])
def test_longer_passwords_are_refused_in_german(app_ctx, n):
    assert password_problems(_long(n) + "x" * n) == [
        f"Das Passwort darf höchstens {MAX_LENGTH} Zeichen lang sein."
    ]


@pytest.mark.parametrize("n", [73, 150, 256, 257, 5000])
def test_change_password_with_long_passwords(applicant_client, n):
    password = _long(n) if n <= MAX_LENGTH else _long(MAX_LENGTH) + "y" * (n - MAX_LENGTH)
    response = applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": factories.PASSWORD,
            "new_password": password,
            "confirm": password,
        },
    )
    if n <= MAX_LENGTH:
        assert response.status_code == 302
    else:
        assert response.status_code == 422
        assert "256 Zeichen" in response.get_data(as_text=True)


@pytest.mark.parametrize("n", [73, 256, 300])
def test_accept_invitation_with_long_passwords(app, n):
    token = _issue(app)
    password = _long(n) if n <= MAX_LENGTH else _long(MAX_LENGTH) + "y" * (n - MAX_LENGTH)
    response = _accept(app.test_client(), token, password)
    assert response.status_code == (302 if n <= MAX_LENGTH else 422)
    if n > MAX_LENGTH:
        assert "256 Zeichen" in response.get_data(as_text=True)


@pytest.mark.parametrize("n", [73, 256, 300])
def test_users_create_with_long_passwords(app, runner, n):
    password = _long(n) if n <= MAX_LENGTH else _long(MAX_LENGTH) + "y" * (n - MAX_LENGTH)
    result = runner.invoke(
        args=_create_args(f"lang{n}@zittau.test-kp.de", "--organisation", "14626610"),
        input=password + "\n",
    )
    if n <= MAX_LENGTH:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and "höchstens 256 Zeichen" in result.output
        assert "Traceback" not in result.output
