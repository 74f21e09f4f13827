"""Auth views: thin wrappers around ``app.auth.services``."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from app.auth import services, tokens
from app.auth.blueprint import bp
from app.auth.decorators import login_only, public, role_required
from app.auth.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    InviteForm,
    LoginForm,
    PasswordChangeForm,
    RevokeTokenForm,
)
from app.auth.models import MINISTRY_ROLES, Role
from app.common.db import as_utc, utcnow
from app.common.errors import DomainError
from app.common.fields import options
from app.common.security import MAX_ID
from app.common.tx import refuse_at, transactional
from app.common.views import done
from app.extensions import db
from app.orgs import queries as org_queries
from app.orgs.models import Organisation


def _start_session(user: services.User) -> None:
    import time

    lang = session.get("lang")  # a language chosen before logging in
    session.clear()  # new session on login (no fixation)
    if lang:
        session["lang"] = lang
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
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "")
        except services.LoginFailed as exc:
            form.password.errors.append(exc.message)
            # Status 200 so that @transactional commits the failure counter.
            return render_template("auth/login.html", form=form)
        _start_session(user)
        return redirect(url_for("main.index"))
    return render_template("auth/login.html", form=form, expired=expired)


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
            services.change_password(
                user, form.current_password.data or "", form.new_password.data or ""
            )
        except services.PasswordRejected as exc:
            db.session.commit()  # keep the failure count of a wrong current password
            getattr(form, exc.field or "new_password").errors.append(exc.message)
            return render_template("auth/password.html", form=form), 422
        _start_session(user)  # this session continues with the new epoch
        flash(_("Ihr Passwort wurde geändert. Alle anderen Sitzungen wurden beendet."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form), (422 if form.errors else 200)


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
            user = services.accept_invitation(
                token, name=form.name.data or "", password=form.new_password.data or ""
            )
        except services.PasswordRejected as exc:
            form.new_password.errors.append(exc.message)
            return render_template("auth/invitation.html", form=form, invitation=invitation), 422
        _start_session(user)
        flash(_("Willkommen! Ihr Konto wurde angelegt."), "success")
        return redirect(url_for("main.index"))
    status = 422 if form.errors else 200
    return render_template("auth/invitation.html", form=form, invitation=invitation), status


@bp.route("/einladen", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.APPLICANT)
@transactional
def invite() -> ResponseReturnValue:
    actor = current_user._get_current_object()
    if not (actor.has_role(Role.ADMIN) or actor.is_org_manager):
        abort(403)
    form = InviteForm()
    if actor.has_role(Role.ADMIN):
        form.role.choices = options([(r.value, _role_label(r)) for r in Role])
        form.organisation.choices = options(
            [("", "—")] + [(str(o.id), o.display_name) for o in org_queries.active_organisations()]
        )
    else:
        form.role.choices = options([(Role.APPLICANT.value, _role_label(Role.APPLICANT))])
        form.organisation.choices = options(
            [(str(actor.organisation_id), actor.organisation.display_name)]
        )
    if form.validate_on_submit():
        try:
            services.invite(
                actor,
                email=form.email.data or "",
                roles=[Role(r) for r in form.role.data or []],
                organisation=_organisation_from_form(form.organisation.data),
                is_org_manager=bool(form.is_org_manager.data),
                base_url=current_app.config["PUBLIC_BASE_URL"],
            )
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "email"), exc)
        else:
            return done(invitation_sent(form.email.data or ""), url_for("auth.invite"))
    return render_template(
        "auth/invite.html", form=form, ministry_roles=MINISTRY_ROLES, method=request.method
    ), (422 if form.errors else 200)


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


def _organisation_from_form(raw: str | None) -> Organisation | None:
    """The organisation picked in the form; anything but a plausible id means none.

    ``org_queries.get_organisation`` accepts Unicode digits ("²" → ValueError) and 12-digit ids
    (PostgreSQL: "integer out of range"), so the value is checked here first.
    """
    raw = raw or ""
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        return None
    return org_queries.get_organisation(raw)


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
    form = ApiTokenForm()
    form.scopes.choices = [(s, SCOPE_LABELS[s]) for s in tokens.scopes_for(user)]
    secret = None
    if form.validate_on_submit():
        try:
            created = tokens.create_token(
                user, form.name.data or "", form.scopes.data or [], form.days.data or 0
            )
        except DomainError as exc:
            refuse_at(getattr(form, exc.field or "name"), exc)
        else:
            secret = created.secret
            form = ApiTokenForm(formdata=None)
            form.scopes.choices = [(s, SCOPE_LABELS[s]) for s in tokens.scopes_for(user)]
    status = 422 if form.errors else (201 if secret else 200)
    return render_template(
        "auth/tokens.html",
        form=form,
        secret=secret,
        rows=tokens.tokens_of(user),
        revoke_form=RevokeTokenForm(),
        now=utcnow(),
        as_utc=as_utc,
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
