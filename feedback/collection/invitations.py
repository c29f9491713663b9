"""Personal links, invitation and reminder emails, and the mail-merge export.

A link carries a random token (32 bytes from `secrets`, 256 bits). Only its SHA-256 is
stored, so nobody — not even someone holding the database — can rebuild a link that was
sent. The consequence: a link can only be shown at the moment it is made. Sending an
email, a reminder or a mail-merge export therefore makes a *fresh* token for each
invitation it covers, and that fresh link replaces the earlier one (answers belong to the
invitation, not to the link, so nothing saved is lost when a link is replaced).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from openpyxl import Workbook
from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core import audit, mail
from core.cells import active_sheet, csv_text, write_rows
from core.db import select_row
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.formats import date_in
from core.i18n import N_, translator
from core.mail import SendReport, SmtpSettings
from core.models import Council, UserAccount, stored_id, utcnow
from core.roles import Actor, Role, require_council_manager
from core.settings import load_settings
from core.text import one_line, paragraphs
from core.vocabulary import (
    GROUP_LABELS,
    CycleStatus,
    InvitationStatus,
    Language,
    RaterGroup,
    pairing_label,
)
from feedback.models import Cycle, Invitation, MessageLog, Pairing, Person
from feedback.setup.cycles import get_cycle, require_status
from feedback.setup.people import get_council

TOKEN_BYTES = 32  # 256 bits; the brief asks for at least 128
# What a token looks like (token_urlsafe alphabet); anything else is not even looked up.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{20,100}$")

# The defaults are marked for the catalogue (core.i18n): a Welsh cycle sends their Welsh.
DEFAULT_INVITATION_SUBJECT = N_("Your feedback for {pairing} — {cycle}")
DEFAULT_INVITATION_BODY = N_("""Dear {name},

{council} is running its leadership feedback round "{cycle}", and you have been asked to
give your view of {pairing}.

It takes about 15 minutes. Your answers are saved as you go, so you can stop and come back
with this link on the same device and browser (for privacy, unfinished answers open only
there):

{link}

This link is personal to you — please do not forward it. The round closes on {closes_on}.

Thank you,
{council}
""")
DEFAULT_REMINDER_SUBJECT = N_("Reminder: your feedback for {pairing} — {cycle}")
DEFAULT_REMINDER_BODY = N_("""Dear {name},

A reminder that the feedback round "{cycle}" at {council} closes on {closes_on}, and we
have not yet received your view of {pairing}.

Your personal link is below. It replaces any earlier link you were sent; anything you have
already answered is kept, and opens in the browser where you began.

{link}

Thank you,
{council}
""")
PLACEHOLDERS = {"name", "pairing", "cycle", "council", "closes_on", "link"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# --- tokens and links -------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def base_url() -> str:
    return load_settings().base_url


def link_for(token: str) -> str:
    return f"{base_url()}/?t={token}"


def _set_token(invitation: Invitation, token: str) -> None:
    invitation.token_hash = hash_token(token)
    invitation.token_issued_at = utcnow()


def get_invitation(session: Session, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"There is no invitation with id {invitation_id}.")
    return invitation


def issue_token(session: Session, actor: Actor, invitation_id: int) -> str:
    """A new link for one invitation; any earlier link for it stops working."""
    invitation = get_invitation(session, invitation_id)
    cycle = get_cycle(session, invitation.cycle_id)
    require_council_manager(actor, cycle.council_id)
    if invitation.status == InvitationStatus.revoked:
        raise Invalid("This invitation was withdrawn; nominate the rater again to invite them.")
    if cycle.status in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(f"The cycle is {cycle.status}, so new links cannot be issued.")
    token = new_token()
    _set_token(invitation, token)
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "issue link", "invitation", invitation.id, cycle.council_id)
    return token


def revoke_invitation(
    session: Session, actor: Actor, invitation_id: int, expected_status: str | None = None
) -> Invitation:
    """Withdraw an invitation: its link stops working at once. Answers already saved are
    kept (a submitted response stays in the results; a revoked invitation is not counted
    in response rates). `expected_status` is the invitation's status as the user saw it:
    if it has moved since (withdrawn or submitted meanwhile), nothing changes and Conflict
    says so."""
    invitation = get_invitation(session, invitation_id)
    cycle = get_cycle(session, invitation.cycle_id)
    require_council_manager(actor, cycle.council_id)
    if expected_status is not None and invitation.status != expected_status:
        rater = session.get(Person, invitation.rater_id)
        who = rater.full_name if rater is not None else "This rater"
        raise Conflict(
            f"{who}'s invitation is now {invitation.status} (you saw it {expected_status}): "
            "someone acted on it after you looked; nothing was changed."
        )
    if invitation.rater_group == RaterGroup.principal:
        raise Invalid("The two principals of a pairing cannot be withdrawn from its review.")
    if invitation.status == InvitationStatus.submitted:
        raise Invalid(
            "This rater has already submitted; their invitation can no longer be withdrawn."
        )
    if invitation.status == InvitationStatus.revoked:
        return invitation
    invitation.status = InvitationStatus.revoked
    invitation.revoked_at = utcnow()
    # The hash stays, so that the old link says "withdrawn" rather than "not recognised";
    # the status alone stops it working.
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "revoke invitation", "invitation", invitation.id, cycle.council_id)
    return invitation


# --- opening a link ---------------------------------------------------------------------


class LinkOutcome(StrEnum):
    ok = "ok"
    unknown = "unknown"  # never issued, mistyped, or replaced by a newer link
    revoked = "revoked"
    not_open_yet = "not open yet"
    closed = "closed"


LINK_MESSAGES: dict[str, str] = {  # marked for the catalogue: the page shows them translated
    LinkOutcome.unknown: N_(
        "This link is not recognised. It may be incomplete (check that the whole link was "
        "copied) or it may have been replaced by a newer one — please use the link in the "
        "most recent email you received, or ask the person who invited you for a new one."
    ),
    LinkOutcome.revoked: N_(
        "This invitation has been withdrawn, so the link no longer works. If you think this "
        "is a mistake, please contact the person who invited you."
    ),
    LinkOutcome.not_open_yet: N_(
        "This feedback round has not opened yet. Please come back once it opens."
    ),
    LinkOutcome.closed: N_(
        "This feedback round has closed, so the link no longer works. Thank you for your help."
    ),
}


@dataclass
class LinkResolution:
    outcome: LinkOutcome
    invitation_id: int | None = None
    rater_id: int | None = None
    # Every open, non-withdrawn invitation held by the same rater, this one first.
    invitation_ids: list[int] = field(default_factory=list)
    # The language of the link's cycle (None: a link Tandem does not know), so that even
    # "withdrawn" or "closed" is said in the rater's language.
    cycle_language: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == LinkOutcome.ok

    @property
    def message(self) -> str:
        return LINK_MESSAGES.get(self.outcome, "")


def resolve_token(session: Session, token: str | None) -> LinkResolution:
    """What a link opens. Only the rater's own invitations, and only while the cycle is
    open; anything else is an outcome with a plain message and no data. The first time a
    live link opens, its invitation records when (`opened_at`)."""
    token = (token or "").strip()
    if not TOKEN_SHAPE.match(token):
        return LinkResolution(LinkOutcome.unknown)
    row = session.exec(
        select(Invitation, Cycle.status, Cycle.language)
        .join(Cycle, col(Cycle.id) == Invitation.cycle_id)
        .where(col(Invitation.token_hash) == hash_token(token))
    ).first()
    if row is None:
        return LinkResolution(LinkOutcome.unknown)
    invitation, cycle_status, language = row
    if invitation.status == InvitationStatus.revoked:
        return LinkResolution(LinkOutcome.revoked, cycle_language=language)
    if cycle_status == CycleStatus.draft:
        return LinkResolution(LinkOutcome.not_open_yet, cycle_language=language)
    if cycle_status != CycleStatus.open:
        return LinkResolution(LinkOutcome.closed, cycle_language=language)
    others = session.exec(
        select(Invitation.id)
        .join(Cycle, col(Cycle.id) == col(Invitation.cycle_id))
        .where(
            Invitation.rater_id == invitation.rater_id,
            Invitation.status != InvitationStatus.revoked,
            Cycle.status == CycleStatus.open,
            Invitation.id != invitation.id,
        )
        .order_by(col(Invitation.cycle_id), col(Invitation.pairing_id))
    ).all()
    invitation_id = stored_id(invitation.id)
    if invitation.opened_at is None:
        # The first opening is recorded once, for the Tracking tab (a status like "in
        # progress": when, never what). Conditional, so two tabs write it once; later
        # openings read only.
        session.exec(
            update(Invitation)
            .where(col(Invitation.id) == invitation_id, col(Invitation.opened_at).is_(None))
            .values(opened_at=utcnow())
        )
    return LinkResolution(
        LinkOutcome.ok, invitation_id, invitation.rater_id, [invitation_id, *others], language
    )


# --- wording ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    invitation_subject: str
    invitation_body: str
    reminder_subject: str
    reminder_body: str


def wording_for(cycle: Cycle) -> Wording:
    """The cycle's own wording where the facilitator wrote one, the default otherwise."""
    return Wording(
        cycle.invitation_subject or DEFAULT_INVITATION_SUBJECT,
        cycle.invitation_body or DEFAULT_INVITATION_BODY,
        cycle.reminder_subject or DEFAULT_REMINDER_SUBJECT,
        cycle.reminder_body or DEFAULT_REMINDER_BODY,
    )


def _message_texts(wording: Wording, kind: str) -> tuple[str, str]:
    if kind == "invitation":
        return wording.invitation_subject, wording.invitation_body
    return wording.reminder_subject, wording.reminder_body


# Between the Welsh and the English of a bilingual email (Welsh first: see `compose`).
BILINGUAL_RULE = "\n" + "—" * 24 + "\n\n"


def compose(cycle: Cycle, kind: str, values: dict[str, str]) -> tuple[str, str]:
    """The subject and text of one rater's invitation or reminder, in the cycle's language.

    English: the cycle's wording (or the default). Welsh: the default's Welsh from the
    catalogue (core.i18n) — or the facilitator's own wording, sent as written, when they
    wrote one for the cycle. Both: the Welsh first, then the English, in one email (Welsh
    Language Standards: correspondence in both languages, the Welsh no less favourably —
    so it is read first); a facilitator's own wording is sent once, as written, and the
    Cycles page tells them to write it in both languages. Dates are given in each
    language."""
    subject_t, body_t = _message_texts(wording_for(cycle), kind)
    english = (render(subject_t, values), render(body_t, values))
    custom = bool(cycle.invitation_subject if kind == "invitation" else cycle.reminder_subject)
    if cycle.language == Language.en or custom:
        return english
    _ = translator(Language.cy)
    default_subject, default_body = _message_texts(
        Wording(
            DEFAULT_INVITATION_SUBJECT,
            DEFAULT_INVITATION_BODY,
            DEFAULT_REMINDER_SUBJECT,
            DEFAULT_REMINDER_BODY,
        ),
        kind,
    )
    cy_values = {**values, "closes_on": values.get("closes_on_cy", values.get("closes_on", ""))}
    welsh = (render(_(default_subject), cy_values), render(_(default_body), cy_values))
    if cycle.language == Language.cy:
        return welsh
    return f"{welsh[0]} / {english[0]}", welsh[1] + BILINGUAL_RULE + english[1]


def _check_template(label: str, text: str, needs_link: bool, problems: list[str]) -> None:
    if not text.strip():
        problems.append(f"The {label} is empty.")
        return
    unknown = set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS
    if unknown:
        listed = ", ".join("{" + u + "}" for u in sorted(unknown))
        allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
        problems.append(f"The {label} uses {listed}, which Tandem cannot fill in ({allowed} can).")
    if needs_link and "{link}" not in text:
        problems.append(f"The {label} must contain {{link}}, or the rater has no way in.")
    if text.count("{") != text.count("}"):
        problems.append(f"The {label} has an unmatched {{ or }}.")


def update_wording(
    session: Session,
    actor: Actor,
    cycle_id: int,
    invitation_subject: str,
    invitation_body: str,
    reminder_subject: str,
    reminder_body: str,
) -> Cycle:
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    problems: list[str] = []
    given = {
        "invitation_subject": (invitation_subject, "the invitation subject", one_line),
        "invitation_body": (invitation_body, "the invitation text", paragraphs),
        "reminder_subject": (reminder_subject, "the reminder subject", one_line),
        "reminder_body": (reminder_body, "the reminder text", paragraphs),
    }
    texts: dict[str, str] = {}
    for key, (value, label, rule) in given.items():  # the one rule for text (core.text)
        try:
            texts[key] = rule(value, label)
        except Invalid as exc:
            problems.append(str(exc))
            texts[key] = value or ""
    _check_template("invitation subject", texts["invitation_subject"], False, problems)
    _check_template("invitation text", texts["invitation_body"], True, problems)
    _check_template("reminder subject", texts["reminder_subject"], False, problems)
    _check_template("reminder text", texts["reminder_body"], True, problems)
    if problems:
        raise Invalid("The wording was not saved.", problems)
    for key, value in texts.items():
        setattr(cycle, key, value)
    session.add(cycle)
    session.flush()
    audit.record(session, actor, "edit wording", "cycle", cycle.id, cycle.council_id)
    return cycle


# --- who is invited, with names -----------------------------------------------------------


@dataclass
class Recipient:
    invitation_id: int
    name: str
    email: str
    pairing: str
    group: str
    status: str
    has_link: bool
    link: str = ""  # filled only when a fresh token is made


def recipients(
    session: Session,
    cycle_id: int,
    *,
    include_submitted: bool = False,
    invitation_ids: Iterable[int] | None = None,
) -> list[Recipient]:
    """Invitations of a cycle with rater and pairing names (revoked ones never)."""
    rater, member, officer = aliased(Person), aliased(Person), aliased(Person)
    query = (
        select_row(
            Invitation.id,
            rater.full_name,
            rater.email,
            member.full_name,
            officer.full_name,
            Pairing.portfolio,
            Invitation.rater_group,
            Invitation.status,
            Invitation.token_hash,
        )
        .join(rater, col(rater.id) == col(Invitation.rater_id))
        .join(Pairing, col(Pairing.id) == col(Invitation.pairing_id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .where(
            Invitation.cycle_id == cycle_id,
            Invitation.status != InvitationStatus.revoked,
        )
        .order_by(
            col(Pairing.kind).desc(),
            col(Pairing.id),
            col(Invitation.rater_group),
            col(rater.full_name),
        )
    )
    if not include_submitted:
        query = query.where(Invitation.status != InvitationStatus.submitted)
    if invitation_ids is not None:
        query = query.where(col(Invitation.id).in_(list(invitation_ids)))
    out = []
    for inv_id, name, email, m, o, portfolio, group, status, token_hash in session.exec(query):
        pairing = pairing_label(m, o, portfolio)
        label = "Principal" if group == RaterGroup.principal else GROUP_LABELS[group]
        out.append(Recipient(inv_id, name, email, pairing, label, status, token_hash is not None))
    return out


def _merge_fields(cycle: Cycle, council: Council, r: Recipient) -> dict[str, str]:
    return {
        "name": r.name,
        "pairing": r.pairing,
        "cycle": cycle.name,
        "council": council.name,
        "closes_on": date_in(cycle.closes_on, Language.en),
        "closes_on_cy": date_in(cycle.closes_on, Language.cy),
        "link": r.link,
    }


def render(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


# --- mail merge ---------------------------------------------------------------------------


def issue_links(
    session: Session,
    actor: Actor,
    cycle_id: int,
    *,
    reissue: bool = False,
    expected_status: str | None = None,
) -> tuple[list[Recipient], list[Recipient]]:
    """Make links for a mail merge. Invitations without a live link get one; with
    `reissue`, every not-yet-submitted invitation gets a new one (old links stop working).
    `expected_status` is the cycle's status as the user saw it (Conflict if it moved since).
    Returns (with fresh links, skipped because they already had a live link)."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    require_status(session, cycle, expected_status)
    if cycle.status in (CycleStatus.closed, CycleStatus.published):
        raise Invalid(f"The cycle is {cycle.status}, so links cannot be issued.")
    fresh, skipped = [], []
    invitations = {
        i.id: i
        for i in session.exec(
            select(Invitation).where(
                Invitation.cycle_id == cycle_id,
                col(Invitation.status).not_in(
                    [InvitationStatus.revoked, InvitationStatus.submitted]
                ),
            )
        )
    }
    for r in recipients(session, cycle_id):
        if r.has_link and not reissue:
            skipped.append(r)
            continue
        token = new_token()
        _set_token(invitations[r.invitation_id], token)
        invitations[r.invitation_id].exported_at = utcnow()
        session.add(invitations[r.invitation_id])
        session.add(
            MessageLog(invitation_id=r.invitation_id, kind="invitation", channel="mail-merge")
        )
        r.link, r.has_link = link_for(token), True
        fresh.append(r)
    session.flush()
    audit.record(
        session, actor, "issue links", "cycle", cycle.id, cycle.council_id, count=len(fresh)
    )
    return fresh, skipped


MAIL_MERGE_COLUMNS = ["name", "email", "pairing", "rater_group", "link", "subject", "message"]


def mail_merge_rows(session: Session, cycle_id: int, fresh: list[Recipient]) -> list[list[str]]:
    cycle = get_cycle(session, cycle_id)
    council = get_council(session, cycle.council_id)
    rows = []
    for r in fresh:
        subject, body = compose(cycle, "invitation", _merge_fields(cycle, council, r))
        rows.append([r.name, r.email, r.pairing, r.group, r.link, subject, body])
    return rows


def mail_merge_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Welsh names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(MAIL_MERGE_COLUMNS)
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def mail_merge_xlsx(rows: list[list[str]]) -> bytes:
    """Every cell is written as text (core.cells.put_text), so nothing in it can be a
    formula and any name or wording can be written."""
    workbook = Workbook()
    sheet = active_sheet(workbook)
    sheet.title = "Mail merge"
    write_rows(sheet, [MAIL_MERGE_COLUMNS, *rows])  # text, never a formula (core.cells)
    for column, width in zip("ABCDEFG", (28, 34, 44, 20, 60, 40, 60), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- email (sent through core.mail) ------------------------------------------------------


Progress = Callable[[int, int, str], None]


def _send(
    session: Session,
    actor: Actor,
    cycle_id: int,
    kind: str,
    settings: SmtpSettings | None,
    progress: Progress | None,
    select_ids: Callable[[list[Invitation]], list[Invitation]],
) -> SendReport:
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    if cycle.status != CycleStatus.open:
        raise Invalid(
            f"The cycle is {cycle.status}. Open it before sending {kind}s, so that the links "
            "in them work."
        )
    settings = mail.configured(
        settings,
        "No email server is configured (TANDEM_SMTP_HOST is not set). Download the "
        "mail-merge file instead, or ask your administrator to set up email.",
    )
    council = get_council(session, cycle.council_id)
    candidates = list(
        session.exec(
            select(Invitation).where(
                Invitation.cycle_id == cycle_id,
                col(Invitation.status).not_in(
                    [InvitationStatus.revoked, InvitationStatus.submitted]
                ),
            )
        )
    )
    chosen = select_ids(candidates)
    report = SendReport(skipped=len(candidates) - len(chosen))
    by_id = {stored_id(i.id): i for i in chosen}
    people = recipients(session, cycle_id, invitation_ids=by_id)
    total = len(people)
    if progress:
        progress(0, total, f"Sending {total} {kind}s…")
    if not people:
        return report
    with mail.outbox(settings) as out:
        for done, r in enumerate(people, start=1):
            invitation = by_id[r.invitation_id]
            token = new_token()
            r.link = link_for(token)
            subject, body = compose(cycle, kind, _merge_fields(cycle, council, r))
            error = out.send(council.name, (r.name, r.email), subject, body)
            if error is not None:
                # The old link (if any) stays valid: nothing new reached this person.
                report.failed.append(f"{r.name} <{r.email}>: {error}")
                session.add(
                    MessageLog(
                        invitation_id=stored_id(invitation.id),
                        kind=kind,
                        channel="email",
                        ok=False,
                        error=error[:500],
                    )
                )
            else:
                _set_token(invitation, token)
                now = utcnow()
                if kind == "invitation":
                    invitation.sent_at = now
                else:
                    invitation.last_reminded_at = now
                    invitation.reminder_count += 1
                session.add(invitation)
                session.add(
                    MessageLog(invitation_id=stored_id(invitation.id), kind=kind, channel="email")
                )
                report.sent += 1
            # Commit message by message: a sent email's link must work even if a later
            # one fails and the rest of the run is abandoned.
            session.commit()
            if progress:
                progress(done, total, f"{done} of {total}: {r.name}")
    audit.record(
        session,
        actor,
        f"send {kind}s",
        "cycle",
        cycle.id,
        cycle.council_id,
        sent=report.sent,
        failed=len(report.failed),
    )
    session.flush()
    return report


def send_invitations(
    session: Session,
    actor: Actor,
    cycle_id: int,
    *,
    resend: bool = False,
    settings: SmtpSettings | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Email every rater who has not been emailed yet (or, with `resend`, everyone who has
    not submitted). Each email carries a fresh link."""
    return _send(
        session,
        actor,
        cycle_id,
        "invitation",
        settings,
        progress,
        lambda invs: [i for i in invs if resend or i.sent_at is None],
    )


def send_reminders(
    session: Session,
    actor: Actor,
    cycle_id: int,
    *,
    settings: SmtpSettings | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Remind only those who have not submitted (and were not withdrawn)."""
    return _send(session, actor, cycle_id, "reminder", settings, progress, lambda invs: invs)


# --- preview and a test send to oneself ------------------------------------------------

# A sample link: the shape of a real one, but no invitation has it, so it opens nothing
# ("This link is not recognised").
SAMPLE_TOKEN = "sample-link-for-preview-not-a-real-invitation"
MESSAGE_KINDS = ("invitation", "reminder")


@dataclass(frozen=True)
class MessagePreview:
    kind: str  # invitation | reminder
    sample_name: str  # whose message this is an example of
    subject: str
    body: str


def message_preview(
    session: Session, actor: Actor, cycle_id: int, kind: str = "invitation"
) -> MessagePreview:
    """The cycle's invitation or reminder as its first rater would get it (their name and
    pairing, the saved wording), with a sample link in place of their personal one: making
    a real link would replace the one they were sent."""
    if kind not in MESSAGE_KINDS:
        raise Invalid(f"There is no message called '{kind}': invitation or reminder.")
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    council = get_council(session, cycle.council_id)
    everyone = recipients(session, cycle_id, include_submitted=True)
    sample = (
        everyone[0]
        if everyone
        else Recipient(0, "[the rater's name]", "", "[the pairing]", "", "", False)
    )
    sample = Recipient(**{**sample.__dict__, "link": link_for(SAMPLE_TOKEN)})
    subject, body = compose(cycle, kind, _merge_fields(cycle, council, sample))
    return MessagePreview(kind, sample.name, subject, body)


def own_address(session: Session, actor: Actor) -> str:
    """The signed-in staff member's own email address (their account's), or a message
    saying why there is none."""
    user = session.get(UserAccount, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise Invalid(
            "A test email goes to your own address, and you are not signed in with an "
            "account. Sign in, or send one from the server: tandem invite test CYCLE --to EMAIL."
        )
    if not user.email:
        raise Invalid(
            "Your account has no email address, so there is nowhere to send a test. Ask an "
            "administrator to add one (Users page, or tandem user set)."
        )
    return user.email


def send_test_message(
    session: Session,
    actor: Actor,
    cycle_id: int,
    kind: str = "invitation",
    *,
    to: str | None = None,
    settings: SmtpSettings | None = None,
) -> str:
    """Email the preview (subject marked "[Test]", sample link) to the person asking: a
    staff member only ever to their own account's address; the command line (the system,
    someone at the server) to the address it names. Audited. Returns the address."""
    preview = message_preview(session, actor, cycle_id, kind)
    cycle = get_cycle(session, cycle_id)
    if actor.role == Role.system:
        if not to or "@" not in to:
            raise Invalid("Say where the test goes: --to your.name@example.gov.uk.")
        address = to.strip()
    else:
        address = own_address(session, actor)
        if to is not None and to.strip().lower() != address.lower():
            raise PermissionDenied(
                f"A test email goes only to your own address ({address}), never to anyone else."
            )
    settings = mail.configured(
        settings,
        "No email server is configured (TANDEM_SMTP_HOST is not set), so no test can be "
        "sent. The preview shows what raters would get.",
    )
    council = get_council(session, cycle.council_id)
    with mail.outbox(settings) as out:
        error = out.send(council.name, ("", address), f"[Test] {preview.subject}", preview.body)
    if error is not None:
        raise Invalid(f"The test email to {address} could not be sent: {error}")
    audit.record(
        session,
        actor,
        "send test email",
        "cycle",
        cycle.id,
        cycle.council_id,
        kind=kind,
        to=address,
    )
    session.flush()
    return address
