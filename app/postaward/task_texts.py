"""The German texts of the daily deadline job's tasks, as templates for the English UI (issue 11).

``deadlines.py`` stores each task text in German (it is also the e-mail text and the history
entry); the "Aufgaben" page and the history show it with the ``stored`` filter, which finds the
template here and translates it with its values. A text without a template (e.g. after a change
of wording) is shown as stored. ``tests/test_i18n.py`` keeps the reason labels in step with
``deadlines.REASON_LABELS``.
"""

from __future__ import annotations

from app.common.labels import N_, register_stored

#: ``deadlines.REASON_LABELS`` (revocation reasons opened by the daily job).
REASONS = (
    N_("kein Vorhabenbeginn binnen eines Jahres (Nr. 1.4, 8.2.3 ANBest-K)"),
    N_("Verwendungsnachweis trotz Mahnung nicht vorgelegt (Nr. 8.3.1 ANBest-K)"),
    N_("Öffentlichkeitsarbeit nicht nachgeholt (§ 44a SäHO)"),
)

register_stored(
    N_(
        "Der Bewilligungszeitraum der Zuwendung %(ref)s endete am %(end)s. Bitte legen Sie den "
        "Verwendungsnachweis (Sachbericht und zahlenmäßiger Nachweis) bis zum %(due)s vor "
        "(Nr. 6.1 ANBest-K)."
    ),
    N_(
        "Verwendungsnachweis fällig am %(due)s: Bitte legen Sie den Verwendungsnachweis zur "
        "Zuwendung %(ref)s rechtzeitig vor (Nr. 6.1 ANBest-K)."
    ),
    N_(
        "Verwendungsnachweis überfällig: Der Verwendungsnachweis zur Zuwendung %(ref)s war am "
        "%(due)s fällig. Bitte legen Sie ihn umgehend vor. Liegt er am %(grace)s nicht vor, prüft "
        "die Bewilligungsbehörde den Widerruf des Zuwendungsbescheids (Nr. 8.3.1 ANBest-K)."
    ),
    N_(
        "Verwendungsnachweis überfällig: %(ref)s (%(org)s) war am %(due)s fällig; die "
        "Empfängerin ist gemahnt. Widerrufsprüfung ab %(grace)s, falls er nicht eingeht."
    ),
    N_(
        "Vollständigkeitsprüfung fällig bis %(due)s: Verwendungsnachweis (Fassung %(version)s) "
        "zu %(ref)s (%(org)s), R18 / Nr. 7.1 VVK."
    ),
    N_(
        "Vollständigkeitsprüfung fällig bis %(due)s (Frist überschritten): Verwendungsnachweis "
        "(Fassung %(version)s) zu %(ref)s (%(org)s), R18 / Nr. 7.1 VVK."
    ),
    N_(
        "Schlussrate überfällig: Die Schlussrate zu %(ref)s (%(org)s) hätte spätestens am "
        "%(due)s ausgezahlt werden müssen (sechs Monate nach vollständigem "
        "Verwendungsnachweis, R19 / Nr. 7.1 VVK)."
    ),
    N_(
        "Schlussrate spätestens am %(due)s auszahlen: Prüfung des Verwendungsnachweises zu "
        "%(ref)s (%(org)s) abschließen und die Schlussrate anweisen (R19 / Nr. 7.1 VVK)."
    ),
    N_(
        "Widerrufsfrist abgelaufen am %(deadline)s: Widerrufsprüfung zu %(ref)s (%(org)s; "
        "%(reason)s), Tatsachen bekannt seit %(known)s. Ein Widerruf ist nach § 48 Abs. 4, "
        "§ 49 Abs. 2 VwVfG nicht mehr möglich; bitte die Prüfung abschließen."
    ),
    N_(
        "Widerrufsfrist endet am %(deadline)s: Widerrufsprüfung zu %(ref)s (%(org)s; "
        "%(reason)s), Tatsachen bekannt seit %(known)s (R26 / Nr. 8.4 VVK)."
    ),
    N_(
        "Widerrufsprüfung eröffnet zu %(ref)s (%(org)s): %(reason)s. %(note)s Entscheidung bis "
        "%(deadline)s (R26)."
    ),
    N_(
        "Verwendungsnachweis war fällig am %(due)s; trotz Mahnung bis zum %(grace)s nicht "
        "vorgelegt (Nr. 8.3.1 ANBest-K)."
    ),
    N_(
        "Bescheid bekanntgegeben am %(notified)s; bis %(known)s kein Vorhabenbeginn angezeigt "
        "(Nr. 1.4, 8.2.3 ANBest-K)."
    ),
    N_(
        "Die Information der Öffentlichkeit über die Förderung (§ 44a SäHO) wurde bis zum "
        "%(until)s nicht bestätigt. Vorschlag: Rückforderung von 5–15 %% der Zuwendung von "
        "%(grant)s, also %(low)s bis %(high)s (R29)."
    ),
    groups={"reason": REASONS},
)
