"""Command-line tasks: users, API tokens, the Docs connection test, the demo data, version retention,
the audit log's export."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app import transaction
from app.extensions import db
from app.models import ApiToken
from app.models import Space
from app.models import User
from app.services import accounts
from app.services import audit
from app.services.exceptions import BadRequestError


def init_app(app) -> None:
    for command in (
        create_user,
        create_token,
        disable_user,
        sign_out,
        check_docs,
        seed_demo,
        purge_versions,
        abort_stale_uploads,
        audit_export,
        print_settings,
        reindex,
    ):
        app.cli.add_command(command)


def _user(name: str) -> User:
    user = accounts.find(name)
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    return user


@click.command("create-user")
@with_appcontext
@click.argument("name")
@click.option("--password", required=True, help="The user's password.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--display-name", default=None, help="Name shown to others (default: NAME).")
def create_user(name: str, password: str, admin: bool, display_name: str | None) -> None:
    """Create a user, or reset the password and admin flag of an existing one (which signs them out)."""
    try:
        name = accounts.clean_username(name)
    except BadRequestError as exc:
        raise click.ClickException(exc.message) from None
    if display_name and len(display_name) > accounts.DISPLAY_NAME_MAX:
        raise click.ClickException(f"A display name has at most {accounts.DISPLAY_NAME_MAX} characters.")
    user = accounts.find(name)
    if user is None:
        user = User(username=name, display_name=display_name or name)
        user.set_password(password)
        db.session.add(user)
    else:
        if display_name:
            user.display_name = display_name
        accounts.set_password(user, password)
    created = user.id is None
    user.is_admin = admin
    db.session.flush()  # the new account's id, for its audit entry
    details = {"admin": admin}  # never the password
    audit.record(
        "admin.user_created" if created else "admin.password_reset", **audit.user_object(user), details=details
    )
    transaction.commit()
    click.echo(f"user {user.username} ready{' (admin)' if admin else ''}")


@click.command("create-token")
@with_appcontext
@click.argument("name")
def create_token(name: str) -> None:
    """Issue a personal API token for user NAME; the token is the last line printed."""
    user = _user(name)
    token, plain = ApiToken.issue(user, "cli")
    db.session.add(token)
    audit.record("admin.api_token_created", **audit.user_object(user))  # never the token
    transaction.commit()
    click.echo(f"API token for {name} (shown once):")
    click.echo(plain)


@click.command("disable-user")
@with_appcontext
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
def disable_user(name: str, enable: bool) -> None:
    """Disable user NAME: every session ends, API tokens stop working, no rights remain."""
    user = _user(name)
    accounts.set_disabled(user, not enable)
    transaction.commit()
    click.echo(f"user {user.username} {'enabled' if enable else 'disabled'}")


@click.command("sign-out")
@with_appcontext
@click.argument("name")
def sign_out(name: str) -> None:
    """End every browser session of user NAME (on every worker and instance)."""
    user = _user(name)
    ended = accounts.end_all_sessions(user)
    audit.record("admin.sessions_ended", **audit.user_object(user), details={"sessions": ended})
    transaction.commit()
    click.echo(f"{ended} session(s) of {user.username} ended")


@click.command("check-docs")
@with_appcontext
@click.option("--budget", default=15.0, show_default=True, help="Seconds the whole test may take.")
def check_docs(budget: float) -> None:
    """Run the Document Server connection test and print each step."""
    from app.services.docs.client import check_connection

    with current_app.test_request_context():
        steps = check_connection(budget=budget)
    for step in steps:
        click.echo(f"[{'ok' if step.ok else 'FAILED'}] {step.name}: {step.detail}")
    if not steps or not all(step.ok for step in steps):
        raise SystemExit(1)


@click.command("seed-demo")
@with_appcontext
@click.option("--password", default="demo-password", show_default=True)
def seed_demo(password: str) -> None:
    """Create the demo admin, a second user, a demo space and a sample document (idempotent)."""
    from app.services import files
    from app.services import rights
    from app.services import spaces

    users = {}
    for name, display, admin in (("admin", "Ada Admin", True), ("bob", "Bob Builder", False)):
        user = accounts.find(name)
        if user is None:
            user = User(username=name, display_name=display, is_admin=admin)
            user.set_password(password)
            db.session.add(user)
        users[name] = user
    transaction.commit()
    space = db.session.scalar(sa.select(Space).where(Space.name == "Demo space"))
    if space is None:
        space = spaces.create_space("Demo space", users["admin"], "A space to try Coedit in.")
        spaces.add_member(space, users["bob"], "member", users["admin"])
        welcome = files.create_document(space, None, users["admin"], "Welcome", "docx")
        # Members read by default; let bob co-edit the demo document.
        rights.set_rights(welcome, users={"bob": "edit"})
        transaction.commit()
    click.echo(f"demo users: admin / {password} (administrator), bob / {password}")


@click.command("purge-versions")
@with_appcontext
@click.option("--apply", "apply_", is_flag=True, help="Remove the versions (without it: only list them).")
def purge_versions(apply_: bool) -> None:
    """Remove old versions as the retention setting says (a dry run unless --apply).

    The current version of a file is never removed.
    """
    from app.models import File
    from app.services import retention
    from app.services import settings

    if apply_:  # the audit log's retention goes with the versions' (without a broker, cron runs this)
        pruned = audit.prune()
        transaction.commit()
        if pruned:
            click.echo(
                f"Removed {pruned} audit log entries older than {current_app.config['AUDIT_RETENTION_DAYS']} days."
            )
    mode = settings.get("retention_mode")
    if mode == "last":
        rule = f"keep the last {_count(settings.get('retention_count'), 'version')} of each file"
    elif mode == "days":
        rule = f"keep versions younger than {_count(settings.get('retention_days'), 'day')}"
    else:
        click.echo("Retention keeps all versions; nothing to remove.")
        return
    doomed = retention.plan()
    titles: dict[int, str] = {}
    ids = sorted({v.file_id for v in doomed})
    for start in range(0, len(ids), 500):
        titles.update(
            db.session.execute(sa.select(File.id, File.title).where(File.id.in_(ids[start : start + 500]))).all()
        )
    # Described before purging: the rows are gone (and unreadable) after it.
    lines = [
        (
            v,
            f"{titles.get(v.file_id, '?')} (file {v.file_id}) version {v.number} of "
            f"{v.created_at:%Y-%m-%d %H:%M}, {_size(v.size)}",
        )
        for v in doomed
    ]
    files_count = len({v.file_id for v in doomed})
    if not apply_:
        for _, line in lines:
            click.echo(f"would remove {line}")
        click.echo(
            f"{_count(len(doomed), 'version')} of {_count(files_count, 'file')} would be removed "
            f"({_size(sum(v.size for v in doomed))}) to {rule}; nothing was changed. "
            "Run with --apply to remove them."
        )
        return
    sizes = {id(v): v.size for v in doomed}
    busy: list[int] = []
    removed = 0
    for count in retention.purge_by_file(doomed, busy):
        transaction.commit()  # one file at a time: a long run holds no file's lock for long
        removed += count
    gone = [(v, line) for v, line in lines if sa.inspect(v).was_deleted]
    for _, line in gone:
        click.echo(f"removed {line}")
    click.echo(
        f"Removed {_count(removed, 'version')} of {_count(len({v.file_id for v, _ in gone}), 'file')} "
        f"({_size(sum(sizes[id(v)] for v, _ in gone))}) to {rule}."
    )
    if busy:
        click.echo(
            f"Left {_count(len(busy), 'file')} being changed right now for the next run: "
            + ", ".join(f"{titles.get(i, '?')} (file {i})" for i in busy)
            + "."
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


@click.command("abort-stale-uploads")
@with_appcontext
@click.option(
    "--older-than",
    type=float,
    default=None,
    help="Seconds (default: S3_UPLOAD_MAX_AGE_SECONDS); only uploads begun longer ago are aborted.",
)
def abort_stale_uploads(older_than: float | None) -> None:
    """Abort the unfinished S3 multipart uploads a killed process left (nothing to do on other storage)."""
    from app.services import storage
    from app.services.exceptions import StorageError

    try:
        aborted = storage.abort_stale_uploads(older_than)
    except StorageError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Aborted {_count(aborted, 'unfinished upload')}.")


@click.command("audit-export")
@with_appcontext
@click.option(
    "--since", required=True, help="First moment (UTC unless it says otherwise): 2026-01-01 or 2026-01-01T08:00."
)
@click.option("--until", default=None, help="Up to this moment, exclusive; a bare date includes that whole day.")
@click.option("--user", default="", help="Only entries by or about this user.")
@click.option("--file", "file_", default="", help="Only entries about this file (id or part of its name).")
@click.option("--action", default="", help="Only this action, or a prefix ending in '.' or '*' (admin.*).")
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), default=None, help="Write here (default: stdout)."
)
def audit_export(since: str, until: str | None, user: str, file_: str, action: str, output: str | None) -> None:
    """Write the audit log as CSV, newest first: the admin page's export, from the command line."""
    try:
        filters = audit.Filters(
            user, file_, action, audit.parse_moment(since), audit.parse_moment(until, end=True) if until else None
        )
    except ValueError as exc:
        raise click.BadParameter(f"not a date: {exc}") from None
    if output is None:
        for chunk in audit.csv_lines(filters):
            click.echo(chunk, nl=False)
        return
    with open(output, "w", encoding="utf-8", newline="") as handle:  # the CSV's own line ends, untranslated
        for chunk in audit.csv_lines(filters):
            handle.write(chunk)


@click.command("settings")
def print_settings() -> None:
    """Print every setting with its default and meaning (the README's table)."""
    from app.config import markdown_table

    click.echo(markdown_table())


@click.command("reindex")
@with_appcontext
def reindex() -> None:
    """Put the text of every file's current version into the search index (files from before it)."""
    from app import transaction
    from app.extensions import db
    from app.models import File
    from app.services import search

    count = 0
    for file_id in search.all_file_ids():
        file = db.session.get(File, file_id)
        if file is not None:  # deleted meanwhile
            search.index_file(file)
            transaction.commit()  # one file at a time: a long run holds no lock for long
            count += 1
    click.echo(f"Indexed {_count(count, 'file')}.")
