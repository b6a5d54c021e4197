"""``gateway origin …``: certificates of origin from the command line (issuing authority tools,
sending, status notices, verification, lookup at clearance)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import click

from gateway.cli.root import gateway_services, main, settings_of
from gateway.cli.signin import signed_in
from gateway.files import write_private

STATUSES = ("cancelled", "revoked", "used", "preference-granted", "preference-refused")
REASONS = (
    "random-check",
    "doubt-origin-criterion",
    "doubt-authenticity",
    "doubt-classification",
    "doubt-value",
    "other",
)


@main.group()
def origin() -> None:
    """Certificates of origin and origin declarations under EPAs."""


@origin.group()
def authority() -> None:
    """Issuing authorities: this installation's (development) one, and partners' pins."""


@authority.command("init")
@click.option("--id", "administration", help="Administration (default: this gateway's).")
@click.option("--name", help="The authority's name (default: the demo's name for it).")
@click.pass_context
def authority_init(ctx: click.Context, administration: str | None, name: str | None) -> None:
    """Create a development issuing authority (key 0600 under the keys directory, self-signed
    certificate) and pin its certificate for the administration. Kept if it exists."""
    from gateway.origin.synthetic import authority_name
    from gateway.registry import add_authority_certificate
    from gateway.trust.xmldsig import (
        authority_files,
        generate_authority,
        read_authority,
        write_authority,
    )

    settings = settings_of(ctx)
    administration = administration or settings.gateway_id
    key_path, _ = authority_files(settings.keys_dir, administration)
    if key_path.exists():
        _, certificate = read_authority(settings.keys_dir, administration)
        click.echo(f"{certificate.authority}: kept {key_path}")
    else:
        key, certificate = generate_authority(
            name or authority_name(administration), administration
        )
        write_authority(settings.keys_dir, administration, key, certificate)
        click.echo(f"{certificate.authority}: created {key_path}")
    add_authority_certificate(settings.key_pins_dir, administration, certificate)
    click.echo(f"pinned for {administration}: sha256 {certificate.sha256}")


@authority.command("pin")
@click.argument("administration")
@click.argument("certificate_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The authority's name, as certificates state it.")
@click.pass_context
def authority_pin(
    ctx: click.Context, administration: str, certificate_file: Path, name: str
) -> None:
    """Pin a partner's issuing authority certificate (PEM) on this installation."""
    from gateway.errors import GatewayError
    from gateway.registry import add_authority_certificate
    from gateway.trust.xmldsig import AuthorityCertificate

    text = certificate_file.read_text(encoding="utf-8")
    try:
        certificate = AuthorityCertificate.from_pem(name, text[text.index("-----BEGIN") :])
    except (ValueError, GatewayError) as error:
        raise click.ClickException(f"{certificate_file}: not a PEM certificate") from error
    add_authority_certificate(settings_of(ctx).key_pins_dir, administration, certificate)
    click.echo(f"pinned {name} for {administration}: sha256 {certificate.sha256}")


@origin.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
def sign(ctx: click.Context, file: Path, output: Path) -> None:
    """Turn a certificate's JSON form into its XML, signed by this installation's issuing
    authority (an origin declaration is written unsigned: it is self-certified)."""
    from gateway.documents.certificate_of_origin import declaration_bytes, sign_certificate
    from gateway.trust.xmldsig import read_authority

    settings = settings_of(ctx)
    document = json.loads(file.read_text(encoding="utf-8"))
    if document.get("kind") == "origin-declaration":
        write_private(output, declaration_bytes(document))
    else:
        try:
            key, certificate = read_authority(settings.keys_dir, document["exporting_party"])
        except Exception as error:
            raise click.ClickException(str(error)) from error
        write_private(output, sign_certificate(document, key, certificate))
    click.echo(f"wrote {output}")


@origin.command("send")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def send(ctx: click.Context, file: Path) -> None:
    """Send a signed certificate (or origin declaration) XML to its importing party: issue,
    or amendment when it is a later version."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "certificate")
        row = services.origin.send_certificate(
            file.read_bytes(), actor=person.actor(person.case_role), now=datetime.now(UTC)
        )
    click.echo(f"{row.message_id} → {row.recipient}: {row.state}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from error


def _reference(exporting_party: str, number: str, issue_date: str) -> dict[str, str]:
    return {
        "exporting_party": exporting_party,
        "certificate_number": number,
        "issue_date": _day(issue_date).isoformat(),
    }


@origin.command("notify")
@click.argument("exporting_party")
@click.argument("number")
@click.argument("issue_date")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", help="Required to cancel, revoke or refuse preference.")
@click.option("--declaration", "declaration_number", help="The declaration it was used in.")
@click.pass_context
def notify(
    ctx: click.Context,
    exporting_party: str,
    number: str,
    issue_date: str,
    status: str,
    reason: str | None,
    declaration_number: str | None,
) -> None:
    """Tell the other party what happened to a certificate (cancelled or revoked by the
    exporting party; used, preference granted or refused by the importing party)."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "certificate")
        row = services.origin.notify(
            _reference(exporting_party, number, issue_date),
            status,
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
            reason=reason,
            declaration_number=declaration_number,
        )
    click.echo(f"{row.message_id} → {row.recipient}: {row.state}")


@origin.command("verify-request")
@click.argument("exporting_party")
@click.argument("number")
@click.argument("issue_date")
@click.option("--reason", required=True, type=click.Choice(REASONS))
@click.option("--question", "questions", multiple=True, required=True)
@click.option("--item", "items", multiple=True, type=int, help="An item in doubt (repeatable).")
@click.pass_context
def verify_request(
    ctx: click.Context,
    exporting_party: str,
    number: str,
    issue_date: str,
    reason: str,
    questions: tuple[str, ...],
    items: tuple[int, ...],
) -> None:
    """Ask the exporting party to verify a certificate received from it."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "certificate")
        row = services.origin.request_verification(
            _reference(exporting_party, number, issue_date),
            reason=reason,
            questions=questions,
            items=items,
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
        )
    click.echo(f"{row.message_id} → {row.recipient}: {row.state}")


@origin.command("verify-answer")
@click.argument("request_id")
@click.option(
    "--result",
    required=True,
    type=click.Choice(["confirmed", "not-confirmed", "partially-confirmed"]),
)
@click.option(
    "--finding",
    "findings",
    multiple=True,
    required=True,
    help="TEXT about the whole certificate, or ITEM:yes|no:TEXT about one item.",
)
@click.pass_context
def verify_answer(
    ctx: click.Context, request_id: str, result: str, findings: tuple[str, ...]
) -> None:
    """Answer a partner's verification request about a certificate we issued."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "certificate")
        row = services.origin.answer_verification(
            request_id,
            result=result,
            findings=[finding_of(text) for text in findings],
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
        )
    click.echo(f"{row.message_id} → {row.recipient}: {row.state}")


def finding_of(text: str) -> dict[str, object]:
    """``ITEM:yes|no:TEXT`` → a finding about one item; anything else → about the whole."""
    item, _, rest = text.partition(":")
    verdict, _, finding = rest.partition(":")
    if item.isdigit() and verdict in ("yes", "no") and finding:
        return {"item": int(item), "confirmed": verdict == "yes", "finding": finding}
    return {"finding": text}


@origin.command("lookup")
@click.argument("number")
@click.argument("issue_date")
@click.option("--from", "exporting_party", help="The exporting party, if numbers may collide.")
@click.pass_context
def lookup(ctx: click.Context, number: str, issue_date: str, exporting_party: str | None) -> None:
    """Check a declared certificate by number and issue date (JSON; the read is audited)."""
    with gateway_services(settings_of(ctx)) as services:
        person = signed_in(ctx, services, "lookup")
        record = services.origin.lookup(
            number,
            _day(issue_date),
            actor=person.actor(person.case_role),
            now=datetime.now(UTC),
            exporting_party=exporting_party,
        )
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))


@origin.command("verifications")
@click.option("--state", default="open", type=click.Choice(["open", "overdue", "answered", "all"]))
@click.pass_context
def verifications(ctx: click.Context, state: str) -> None:
    """Verification requests both ways, the earliest due first (overdue: what IIO must chase)."""
    with gateway_services(settings_of(ctx)) as services:
        rows = services.origin.verifications(state, today=datetime.now(UTC).date())
    for row in rows:
        ref = row["certificate"]
        click.echo(
            f"{row['request_id']}  {row['direction']:3} {row['partner']:3} "
            f"{ref['certificate_number']} ({ref['issue_date']})  due {row['due_date']}  "
            f"{'OVERDUE' if row['overdue'] else row['state']}"
            + (f"  {row['result']}" if row.get("result") else "")
        )
