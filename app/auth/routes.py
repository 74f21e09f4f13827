"""Auth views: thin wrappers around ``app.auth.services``."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from app.auth import mfa, queries, services, throttle, tokens
from app.auth.blueprint import bp
from app.auth.decorators import client_source, login_only, public, role_required
from app.auth.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    EnrolForm,
    InviteForm,
    LoginForm,
    PasswordChangeForm,
    RenewRecoveryCodesForm,
    ResetSecondFactorForm,
    RevokeTokenForm,
    SecondFactorForm,
    UnlockForm,
)
from app.auth.models import MINISTRY_ROLES, Role
from app.common.db import as_utc, utcnow
from app.common.errors import DomainError
from app.common.fields import options
from app.common.tx import refuse, refuse_at, transactional
from app.common.views import done, render_form
from app.extensions import db
from app.orgs import queries as org_queries


def _throttled() -> ResponseReturnValue | None:
    """Count this attempt (committed at once, before any password is hashed); over a limit,
    the 429 answer with ``Retry-After`` (issue 14, finding 2)."""
    try:
        throttle.check_attempt(client_source(), now=time.time())
    except throttle.Throttled as exc:
        db.session.rollback()
        message = _(
            "Zu viele Anmeldeversuche. Bitte warten Sie %(seconds)d Sekunden und versuchen Sie "
            "es dann erneut.",
            seconds=exc.retry_after,
        )
        page = render_template("errors/error.html", code=429, message=message)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    db.session.commit()
    return None


def _start_session(user: services.User) -> None:
    lang = session.get("lang")  # a language chosen before logging in
    session.clear()  # new session on login (no fixation)
    if lang:
        session["lang"] = lang
    session["sid"] = services.open_session(
        user, user_agent=request.headers.get("User-Agent", ""), ip=client_source()
    )
    login_user(user)
    now = int(time.time())
    session["login_at"] = now
    session["last_seen"] = now


@bp.route("/login", methods=["GET", "POST"])
@public
@transactional
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    expired = session.pop("expired", False)
    if request.method == "POST" and (refused := _throttled()) is not None:
        return refused
    if form.validate_on_submit():
        try:
            user = services.authenticate(**form.service_input(), source=client_source())
        except services.LoginFailed as exc:
            form.password.errors.append(exc.message)
            return render_template("auth/login.html", form=form)  # 200: the failure counts
        # password right: the second factor (if any) comes before any session
        return _await_second_factor(user) if user.mfa_enabled else _complete_login(user)
    return render_template("auth/login.html", form=form, expired=expired)


def _await_second_factor(user: services.User) -> ResponseReturnValue:
    """Login, step 1 done: remember who owes the second factor (no session yet)."""
    session.clear()
    session["mfa_pending"] = user.get_id()
    session["mfa_pending_at"] = int(time.time())
    return redirect(url_for("auth.second_factor"))


def _complete_login(user: services.User) -> ResponseReturnValue:
    """The login is complete (password and, where needed, second factor): record it, start a new
    session and go to the start page."""
    services.login_succeeded(user, source=client_source())
    _start_session(user)
    return redirect(url_for("main.index"))


def _failure_counted(field: Any, exc: DomainError) -> None:
    """A wrong password or code: commit at once so that the failure counts towards the lock of
    this source, and show the message at ``field`` (the view answers 422)."""
    db.session.commit()
    field.errors = [*(field.errors or ()), exc.message]


#: Seconds between the password and the second factor at login.
MFA_PENDING_SECONDS = 300


def _pending_user() -> services.User | None:
    """The user who gave the right password and owes the second factor (for 5 minutes)."""
    started = session.get("mfa_pending_at")
    if not isinstance(started, int) or time.time() - started > MFA_PENDING_SECONDS:
        return None
    return services.load_user_from_session_id(str(session.get("mfa_pending", "")))


@bp.route("/zweiter-faktor", methods=["GET", "POST"])
@public
@transactional
def second_factor() -> ResponseReturnValue:
    """Login, step 2: the TOTP code (or a recovery code) after the right password."""
    user = _pending_user()
    if user is None:
        session.pop("mfa_pending", None)
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if request.method == "POST" and (refused := _throttled()) is not None:
        return refused
    if form.validate_on_submit():
        try:
            mfa.verify(user, form.code.data or "", source=client_source())
        except mfa.SecondFactorRejected as exc:
            _failure_counted(form.code, exc)
        else:
            return _complete_login(user)
    return render_form("auth/second_factor.html", form, form=form)


@bp.route("/zweiter-faktor/einrichten", methods=["GET", "POST"])
@login_only
@transactional
def mfa_setup() -> ResponseReturnValue:
    """Enrolment: secret and QR code, confirmed with a first code; then the recovery codes."""
    user = current_user._get_current_object()
    if user.mfa_enabled:
        return redirect(url_for("auth.account"))
    form = EnrolForm()
    secret = mfa.begin_enrolment(user)
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(user, form.code.data or "")
        except DomainError as exc:
            refuse_at(form.code, exc)
        else:
            return render_template("auth/recovery_codes.html", codes=codes)
    return _enrolment_page(user, form, secret)


def _enrolment_page(user: services.User, form: EnrolForm, secret: str) -> ResponseReturnValue:
    """The enrolment form with the secret in groups of four and its QR code."""
    uri = mfa.provisioning_uri(user)
    return render_form(
        "auth/mfa_setup.html",
        form,
        form=form,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=Markup(mfa.qr_svg(uri)),  # noqa: S704  # nosec B704 - SVG made by segno from our URI
        required=user.mfa_required,
    )


@bp.route("/konto")
@login_only
def account() -> ResponseReturnValue:
    """Mein Konto: second factor state, password, signed-in devices."""
    user = current_user._get_current_object()
    return render_template(
        "auth/account.html",
        user=user,
        recovery_left=mfa.remaining_recovery_codes(user),
        devices=queries.devices_of(
            user, seen_since=utcnow() - current_app.config["SESSION_IDLE_TIMEOUT"]
        ),
        current_device=_current_device_id(),
        form=ResetSecondFactorForm(),
        renew_form=RenewRecoveryCodesForm(),
        api_tokens=tokens.tokens_of(user),
    )


@bp.route("/konto/wiederherstellungscodes", methods=["POST"])
@login_only
@transactional
def renew_recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes, shown once, after a fresh code of the app."""
    user, form = current_user._get_current_object(), RenewRecoveryCodesForm()
    if not form.validate_on_submit():
        return refuse(_("Bitte geben Sie den Code ein."), url_for("auth.account"))
    try:
        codes = mfa.renew_recovery_codes(user, form.totp.data or "", source=client_source())
    except mfa.SecondFactorRejected as exc:
        db.session.commit()  # the failed code counts towards the lock
        return refuse(exc, url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=codes, renewed=True)


def _current_device_id() -> int | None:
    device = g.get("user_session")
    return device.id if device is not None else None


@bp.route("/konto/geraete/abmelden", methods=["POST"])
@login_only
@transactional
def end_other_devices() -> ResponseReturnValue:
    """Sign out every other device of the user ("Angemeldete Geräte")."""
    if not ResetSecondFactorForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    count = services.end_device_sessions(user, keep_id=_current_device_id())
    return done(
        ngettext(
            "%(num)d anderes Gerät wurde abgemeldet.",
            "%(num)d andere Geräte wurden abgemeldet.",
            count,
        ),
        url_for("auth.account"),
    )


@bp.route("/konto/geraete/<int:device_id>/abmelden", methods=["POST"])
@login_only
@transactional
def end_device(device_id: int) -> ResponseReturnValue:
    """Sign out one other device of the user."""
    if not ResetSecondFactorForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    if device_id == _current_device_id() or not services.end_device_sessions(
        user, only_id=device_id
    ):
        abort(404)
    return done(_("Das Gerät wurde abgemeldet."), url_for("auth.account"))


@bp.route("/benutzer")
@role_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    """Admin: the accounts with their second-factor state (reset for a lost phone)."""
    return render_template(
        "auth/users.html", users=queries.all_users(), form=ResetSecondFactorForm()
    )


@bp.route("/benutzer/<int:user_id>/zweiter-faktor/zuruecksetzen", methods=["POST"])
@role_required(Role.ADMIN)
@transactional
def reset_second_factor(user_id: int) -> ResponseReturnValue:
    user = db.get_or_404(services.User, user_id)
    if not ResetSecondFactorForm().validate_on_submit():
        abort(400)
    mfa.reset(current_user._get_current_object(), user)
    return done(
        _("Der zweite Faktor von %(name)s wurde zurückgesetzt.", name=user.name),
        url_for("auth.users"),
    )


@bp.route("/logout", methods=["POST"])
@login_only
@transactional
def logout() -> ResponseReturnValue:
    services.end_all_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("Sie wurden abgemeldet."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/passwort", methods=["GET", "POST"])
@login_only
@transactional
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, **form.service_input(), source=client_source())
        except services.PasswordRejected as exc:  # a wrong current password counts
            _failure_counted(getattr(form, exc.field or "new_password"), exc)
        else:
            _start_session(user)  # this session continues with the new epoch
            message = _("Ihr Passwort wurde geändert. Alle anderen Sitzungen wurden beendet.")
            return done(message, url_for("main.index"))
    return render_form("auth/password.html", form, form=form)


@bp.route("/entsperren/<token>", methods=["GET", "POST"])
@public
@transactional
def unlock(token: str) -> ResponseReturnValue:
    """The e-mailed unlock link: GET shows a button (mail scanners only GET), POST unlocks."""
    form = UnlockForm()
    if request.method == "POST" and (refused := _throttled()) is not None:
        return refused
    if form.validate_on_submit():
        try:
            services.unlock(token)
        except DomainError as exc:
            return render_template("auth/unlock.html", form=form, message=exc.message), 404
        flash(_("Die Anmeldesperre wurde aufgehoben. Sie können sich wieder anmelden."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/unlock.html", form=form)


@bp.route("/einladung/<token>", methods=["GET", "POST"])
@public
@transactional
def accept_invitation(token: str) -> ResponseReturnValue:
    try:
        invitation = services.find_invitation(token)
    except DomainError as exc:
        return render_template("auth/invitation_invalid.html", message=exc.message), 404
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, **form.service_input())
        except services.PasswordRejected as exc:
            form.new_password.errors.append(exc.message)
        else:
            _start_session(user)
            return done(_("Willkommen! Ihr Konto wurde angelegt."), url_for("main.index"))
    return render_form("auth/invitation.html", form, form=form, invitation=invitation)


@bp.route("/einladen", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.APPLICANT)
@transactional
def invite() -> ResponseReturnValue:
    actor = _inviter()
    form = _invite_form(actor)
    if form.validate_on_submit():
        try:
            services.invite(
                actor, **form.service_input(), base_url=current_app.config["PUBLIC_BASE_URL"]
            )
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "email"), exc)
        else:
            return done(invitation_sent(form.email.data or ""), url_for("auth.invite"))
    return render_form(
        "auth/invite.html", form, form=form, ministry_roles=MINISTRY_ROLES, method=request.method
    )


def _inviter() -> services.User:
    """The signed-in admin or organisation manager (403 for anyone else)."""
    actor = current_user._get_current_object()
    if not (actor.has_role(Role.ADMIN) or actor.is_org_manager):
        abort(403)
    return actor


def _invite_form(actor: services.User) -> InviteForm:
    """The invitation form with the roles and organisations ``actor`` may invite for: an admin
    any role and organisation, an organisation's manager applicants of that organisation."""
    form = InviteForm()
    if actor.has_role(Role.ADMIN):
        form.role.choices = options([(r.value, _role_label(r)) for r in Role])
        form.organisation.choices = options(
            [("", "—")] + [(str(o.id), o.display_name) for o in org_queries.active_organisations()]
        )
    else:
        assert actor.organisation is not None  # noqa: S101 - an organisation's manager
        form.role.choices = options([(Role.APPLICANT.value, _role_label(Role.APPLICANT))])
        form.organisation.choices = options(
            [(str(actor.organisation_id), actor.organisation.display_name)]
        )
    return form


def invitation_sent(email: str) -> str:
    """Say what really happened to the invitation mail: it is queued in the outbox; only with a
    mail server configured does ``flask mail send`` deliver it."""
    if current_app.config.get("MAIL_SERVER"):
        return _(
            "Die Einladung an %(email)s ist im Postausgang und wird mit dem nächsten Mailversand "
            "verschickt.",
            email=email,
        )
    return _(
        "Die Einladung an %(email)s ist gespeichert, aber nicht verschickt: Es ist kein "
        "Mailserver eingerichtet. Die E-Mail mit dem Link steht im Postausgang "
        "(flask --app wsgi mail outbox).",
        email=email,
    )


def _role_label(role: Role) -> str:
    labels = {
        Role.APPLICANT: _("Antragsteller/in (Kommune)"),
        Role.REVIEWER: _("Sachbearbeitung Förderung (Geschäftsstelle LPR)"),
        Role.APPROVER: _("Bewilligung (Geschäftsstelle LPR)"),
        Role.FINANCE: _("Haushalt / Kasse"),
        Role.ADMIN: _("Administration"),
    }
    return labels[role]


SCOPE_LABELS = {
    "read:applications": _l("Anträge lesen (read:applications)"),
    "read:finance": _l("Haushalt und Finanzen lesen (read:finance)"),
    "read:reference": _l("Stammdaten lesen (read:reference)"),
    "write:applications": _l("Finanzierungsplan von Entwürfen ändern (write:applications)"),
}


@bp.route("/tokens", methods=["GET", "POST"])
@login_only
@transactional
def api_tokens() -> ResponseReturnValue:
    """The user's personal API tokens; a new token's secret is shown once, on this response."""
    user = current_user._get_current_object()
    form, secret = _token_form(user), None
    if form.validate_on_submit():
        if user.mfa_required and not _stepped_up(user, form.totp):
            return _render_tokens(form, None, 422)
        try:
            created = tokens.create_token(user, **form.service_input())
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "name"), exc)
        else:
            secret, form = created.secret, _token_form(user, formdata=None)
    return _render_tokens(form, secret, 422 if form.errors else (201 if secret else 200))


def _token_form(user: services.User, **kwargs: Any) -> ApiTokenForm:
    """The token form offering the scopes ``user`` may grant."""
    form = ApiTokenForm(**kwargs)
    form.scopes.choices = [(s, SCOPE_LABELS[s]) for s in tokens.scopes_for(user)]
    return form


def _stepped_up(user: services.User, field: Any) -> bool:
    """Ministry and finance users confirm a new token with a fresh second-factor code (issue 16);
    a wrong code counts towards the lock and is shown at ``field``."""
    try:
        mfa.step_up(user, field.data or "", source=client_source())
    except mfa.SecondFactorRejected as exc:
        _failure_counted(field, exc)
        return False
    return True


def _render_tokens(form: ApiTokenForm, secret: str | None, status: int) -> ResponseReturnValue:
    user = current_user._get_current_object()
    return render_template(
        "auth/tokens.html",
        form=form,
        secret=secret,
        rows=tokens.tokens_of(user),
        revoke_form=RevokeTokenForm(),
        now=utcnow(),
        as_utc=as_utc,
        mfa_required=user.mfa_required,
    ), status


@bp.route("/tokens/<int:token_id>/widerrufen", methods=["POST"])
@login_only
@transactional
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    try:
        tokens.revoke_token(current_user._get_current_object(), token_id)
    except DomainError:
        abort(404)
    return done(_("Der Token wurde widerrufen."), url_for("auth.api_tokens"))
