"""Accounts: usernames, passwords, sign-in, and server-side sessions that can be ended everywhere.

A browser's session cookie (and its remember-me cookie) carry only a random session token; the
database keeps its SHA-256. Signing out deletes that session; a password change, disabling the
account or "sign out everywhere" delete them all, so a copied cookie stops working at once on
every worker and instance.
"""

import re
import secrets
import unicodedata
import zoneinfo
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from app import transaction
from app.extensions import db
from app.models import ApiToken
from app.models import User
from app.models import UserSession
from app.models.base import utcnow
from app.models.user import username_key
from app.services import audit
from app.services import locales
from app.services.exceptions import BadRequestError

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 128
PASSWORD_MIN = 8
# Writing last_seen on every request would serialise readers; a few minutes' precision is plenty.
TOUCH_EVERY = timedelta(minutes=5)


def clean_username(name: str | None) -> str:
    """A username as it is stored: NFKC-normalised and trimmed.

    :raise BadRequestError: empty, too long, or holding spaces or control characters.
    """
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise BadRequestError(gettext("Enter a username."))
    # Case folding can lengthen a name ("ß" is "ss"), and its folded form is stored too.
    if len(name) > USERNAME_MAX or len(username_key(name)) > USERNAME_MAX:
        raise BadRequestError(gettext("A username has at most %(USERNAME_MAX)s characters.", USERNAME_MAX=USERNAME_MAX))
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in name):
        raise BadRequestError(gettext("A username has no spaces or control characters."))
    return name


def find(name: str | None) -> User | None:
    """The account a typed username means, however it is spelled (case, width, spaces around)."""
    key = username_key(name or "")
    return db.session.scalar(sa.select(User).where(User.username_key == key)) if key else None


def _dummy_hash() -> str:
    """A hash made like real ones, to check passwords against when there is no such account."""
    cache = current_app.extensions.setdefault("coedit_dummy_hash", {})
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in cache:
        cache[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)
    return cache[method]


def authenticate(name: str | None, password: str | None) -> User | None:
    """The active account these credentials open, or None.

    Takes as long for an unknown username as for a wrong password (a hash is always checked),
    so the answer time tells nobody which accounts exist.
    """
    user = find(name)
    stored = user.password_hash if user is not None else _dummy_hash()
    valid = check_password_hash(stored, password or "")
    if user is None or not valid or not user.is_active or user.is_bot:
        return None  # a bot never signs in with a password: it works with the tokens it is given
    return user


def record_failed_sign_in(name: str | None) -> None:
    """The audit entry of a refused sign-in: the username tried (never the password), and the
    account it names if there is one. The request commits nothing, so the entry is committed apart."""
    tried = unicodedata.normalize("NFKC", name or "").strip()[:USERNAME_MAX]
    user = find(tried)
    audit.record_failure(
        "auth.sign_in_failed", actor=tried, details={"username": tried}, **(audit.user_object(user) if user else {})
    )


def _lifetime(remember: bool) -> timedelta:
    config = current_app.config
    seconds = config["REMEMBER_COOKIE_DURATION"] if remember else config["SESSION_IDLE_SECONDS"]
    return seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)


def start_session(user: User, remember: bool, user_agent: str = "", ip: str | None = "") -> str:
    """Stage a new session for user and return its token (hand it to login_user via user.session_token)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=UserSession.hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + _lifetime(remember),
            remember=remember,
            user_agent=(user_agent or "")[:255],
            ip=(ip or "")[:64],
        )
    )
    user.session_token = token
    audit.record("auth.signed_in", actor=user, details={"remember": bool(remember)})
    return token


# The columns a request's user is read with (not the password hash or the creation time, which
# load if ever used): read by Core, without the ORM's per-statement machinery (see _signed_in_user).
_USER_COLUMNS = (
    User.id,
    User.username,
    User.username_key,
    User.display_name,
    User.email,
    User.is_admin,
    User.is_bot,
    User.timezone,
    User.language,
    User.disabled_at,
)
_USER_FIELDS = tuple(column.key for column in _USER_COLUMNS)
_USER_MAPPER = User.__mapper__

_USER_BY_SESSION = (
    sa.select(*_USER_COLUMNS, UserSession.id, UserSession.last_seen_at, UserSession.expires_at, UserSession.remember)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == sa.bindparam("token_hash"))
)


def _signed_in_user(row) -> User:
    """The session's User for a row that starts with _USER_COLUMNS: the one it already holds, else
    a persistent object made from the row as the ORM would load it (the columns left out load
    from the database when first used)."""
    session = db.session()
    user = session.identity_map.get(_USER_MAPPER.identity_key_from_primary_key((row[0],)))
    if user is None:
        user = _USER_MAPPER.class_manager.new_instance()
        user.__dict__.update(zip(_USER_FIELDS, row[: len(_USER_FIELDS)], strict=True))
        so.make_transient_to_detached(user)
        session.add(user)
    return user


def load_session(token: str) -> User | None:
    """The user of a live session token (one query), or None for an ended, expired or disabled one.

    Every few minutes the session's last use is recorded and, for sessions without remember-me,
    its idle expiry pushed back.
    """
    if not token or len(token) > 128:
        return None
    row = transaction.first_alone(_USER_BY_SESSION, {"token_hash": UserSession.hash(token)})
    if row is None:
        return None
    session_id, last_seen, expires, remember = row[len(_USER_FIELDS) :]
    now = utcnow()
    if expires <= now or row.disabled_at is not None:  # User.is_active
        return None
    user = _signed_in_user(row)
    if now - last_seen > TOUCH_EVERY:
        values = {"last_seen_at": now}
        if not remember:
            values["expires_at"] = now + _lifetime(False)
        db.session.execute(sa.update(UserSession).where(UserSession.id == session_id).values(**values))
        transaction.commit()  # its own small transaction, at the start of the request: nothing else is staged
    user.session_token = token
    return user


def end_session(token: str | None) -> None:
    """Stage the end of one session (signing out)."""
    if token:
        db.session.execute(sa.delete(UserSession).where(UserSession.token_hash == UserSession.hash(token)))


def end_all_sessions(user: User, keep: str | None = None) -> int:
    """Stage the end of every session of user but ``keep`` (a token); returns how many end."""
    query = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.token_hash != UserSession.hash(keep))
    return db.session.execute(query).rowcount


def sessions_of(user: User) -> list[UserSession]:
    """The user's live sessions, most recently used first."""
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.expires_at > utcnow())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def set_password(user: User, password: str, keep_session: str | None = None) -> None:
    """Stage a new password and end every other session (a stolen cookie dies with the old password).

    :raise BadRequestError: shorter than PASSWORD_MIN characters.
    """
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise BadRequestError(
            gettext("A password has at least %(PASSWORD_MIN)s characters.", PASSWORD_MIN=PASSWORD_MIN)
        )
    user.set_password(password)
    end_all_sessions(user, keep=keep_session)


def change_password(user: User, current: str, new: str, keep_session: str | None) -> None:
    """The person's own change: the current password first.

    :raise BadRequestError: the current password is wrong, or the new one is too short.
    """
    if not check_password_hash(user.password_hash, current or ""):
        raise BadRequestError(gettext("The current password is not right."))
    set_password(user, new, keep_session)
    audit.record("auth.password_changed", actor=user)


def set_disabled(user: User, disabled: bool) -> None:
    """Stage disabling (every session ends; API tokens stop working) or enabling an account."""
    if (user.disabled_at is not None) != disabled:
        audit.record("admin.user_disabled" if disabled else "admin.user_enabled", **audit.user_object(user))
    user.disabled_at = utcnow() if disabled else None
    if disabled:
        end_all_sessions(user)


def user_for_api_token(token: str) -> User | None:
    """The active user of a personal API token (its last use recorded hourly at most), or None."""
    row = transaction.first_alone(_USER_BY_TOKEN, {"token_hash": ApiToken.hash(token)})
    if row is None or row.disabled_at is not None:  # User.is_active
        return None
    token_id, last = row[len(_USER_FIELDS) :]
    user = _signed_in_user(row)
    now = utcnow()
    if last is None or now - last > timedelta(hours=1):
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        transaction.commit()  # as for sessions: before the request stages anything
    return user


_USER_BY_TOKEN = (
    sa.select(*_USER_COLUMNS, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"))
)


def session_hash(token: str | None) -> str | None:
    return UserSession.hash(token) if token else None


def end_session_by_id(user: User, session_id: int) -> bool:
    """Stage the end of one of user's sessions; False if there is no such session of theirs."""
    result = db.session.execute(
        sa.delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    return result.rowcount > 0


# --- administration and one's own profile ---------------------------------------------------

EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# Locale codes the profile offers; only stored until the translations come.
LANGUAGES = tuple(locales.language_choices())
TOKEN_NAME_MAX = 64


def clean_display_name(name: str | None) -> str:
    """:raise BadRequestError: empty or too long."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise BadRequestError(gettext("Enter a display name."))
    if len(name) > DISPLAY_NAME_MAX or any(unicodedata.category(ch) == "Cc" for ch in name):
        raise BadRequestError(
            gettext(
                "A display name has at most %(DISPLAY_NAME_MAX)s characters, on one line.",
                DISPLAY_NAME_MAX=DISPLAY_NAME_MAX,
            )
        )
    return name


def clean_email(email: str | None) -> str | None:
    """An e-mail address as stored (None when left empty).

    :raise BadRequestError: not shaped like name@domain.tld, or too long.
    """
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise BadRequestError(gettext("Enter an e-mail address such as name@example.org."))
    return email


def timezones() -> list[str]:
    """The IANA zone names this machine knows, sorted."""
    cache = current_app.extensions.setdefault("coedit_timezones", [])
    if not cache:
        # Area/City names and UTC; the old aliases ("EST5EDT", "Cuba") and the posix/ and right/
        # copies some systems list only make the choice longer.
        zones = zoneinfo.available_timezones()
        cache.extend(sorted(z for z in zones if ("/" in z or z == "UTC") and not z.startswith(("posix/", "right/"))))
    return cache


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    username: str | None, display_name: str | None, email: str | None, password: str | None, admin: bool = False
) -> tuple[User, str | None]:
    """Stage a new account; returns it and the password generated for it (None if one was given).

    :raise BadRequestError: a field is not acceptable, or the username is taken.
    """
    username = clean_username(username)
    if find(username) is not None:
        raise BadRequestError(gettext("The username %(username)s is taken.", username=username))
    display_name = clean_display_name(display_name or username)
    email = clean_email(email)
    generated = None
    if not password:
        password = generated = generate_password()
    if len(password) < PASSWORD_MIN:
        raise BadRequestError(
            gettext("A password has at least %(PASSWORD_MIN)s characters.", PASSWORD_MIN=PASSWORD_MIN)
        )
    user = User(username=username, display_name=display_name, email=email, is_admin=bool(admin))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()  # its id, for the audit entry
    audit.record("admin.user_created", **audit.user_object(user), details={"admin": bool(admin)})  # never the password
    return user, generated


def create_bot(username: str | None, display_name: str | None) -> User:
    """Stage a bot account: no password anyone knows (a random one, and authenticate refuses bots
    anyway), never an administrator; it works through the API tokens an administrator gives it.

    :raise BadRequestError: a field is not acceptable, or the username is taken.
    """
    username = clean_username(username)
    if find(username) is not None:
        raise BadRequestError(gettext("The username %(username)s is taken.", username=username))
    user = User(username=username, display_name=clean_display_name(display_name or username), is_bot=True)
    user.set_password(secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    audit.record("admin.user_created", **audit.user_object(user), details={"admin": False, "bot": True})
    return user


def reset_password(user: User, password: str | None, keep_session: str | None = None) -> str | None:
    """An administrator's reset: a new password (generated if none given) and every session of the
    account ends. Returns the generated password, or None.

    :raise BadRequestError: the given password is too short, or the account is a bot's.
    """
    if user.is_bot:
        raise BadRequestError(gettext("A bot has no password; give it an API token instead."))
    generated = None
    if not password:
        password = generated = generate_password()
    set_password(user, password, keep_session)
    audit.record("admin.password_reset", **audit.user_object(user))
    return generated


def active_admins() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.is_admin.is_(True), User.disabled_at.is_(None))
    )


def set_admin(user: User, admin: bool, actor: User) -> bool:
    """Stage granting or taking administration; False if nothing changes.

    :raise BadRequestError: taking it from oneself, or from the last active administrator.
    """
    if user.is_admin == admin:
        return False
    if admin and user.is_bot:
        raise BadRequestError(gettext("A bot cannot be an administrator."))
    if not admin:
        if user.id == actor.id:
            raise BadRequestError(gettext("You cannot take administration from yourself; ask another administrator."))
        if user.is_active and active_admins() <= 1:
            raise BadRequestError(f"{user.display_name} is the last administrator.")
    user.is_admin = admin
    audit.record("admin.admin_granted" if admin else "admin.admin_revoked", **audit.user_object(user))
    return True


def update_profile(user: User, display_name: str | None, email: str | None, language: str, timezone: str) -> None:
    """Stage one's own profile.

    :raise BadRequestError: an unacceptable name or address, an unknown language or time zone.
    """
    display_name = clean_display_name(display_name)
    email = clean_email(email)
    language = (language or "").strip()
    if language and language not in dict(LANGUAGES):
        raise BadRequestError(gettext("Choose one of the languages offered."))
    timezone = (timezone or "").strip()
    if timezone and timezone not in timezones():
        raise BadRequestError(gettext("Choose a time zone from the list (such as Europe/Berlin)."))
    changed = sorted(
        key
        for key, old, new in (
            ("display_name", user.display_name, display_name),
            ("email", user.email, email),
            ("language", user.language, language),
            ("timezone", user.timezone, timezone),
        )
        if (old or "") != (new or "")
    )
    user.display_name, user.email, user.language, user.timezone = display_name, email, language, timezone
    if changed:
        audit.record("auth.profile_changed", actor=user, details={"fields": changed})


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(user: User, name: str | None, actor: User | None = None) -> tuple[ApiToken, str]:
    """Stage a personal API token of user, made by actor (default: user; an administrator for a
    bot); returns it and the plain token, to be shown once.

    :raise BadRequestError: no name, or too long.
    """
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name or len(name) > TOKEN_NAME_MAX:
        raise BadRequestError(
            gettext(
                "Name the token (at most %(TOKEN_NAME_MAX)s characters), so you know it later.",
                TOKEN_NAME_MAX=TOKEN_NAME_MAX,
            )
        )
    token, plain = ApiToken.issue(user, name)
    db.session.add(token)
    db.session.flush()
    audit.record(
        "auth.api_token_created",
        actor=actor or user,
        object_type="api_token",
        object_id=token.id,
        object_name=name,
        details={"user": user.username},
    )
    return token, plain


def sign_in_for_api(user: User) -> str:
    """Stage a token for a person who signed in through the login API (listed and revocable on
    their account page like any other) and return it."""
    name = gettext("Signed in through the API %(moment)s", moment=utcnow().strftime("%Y-%m-%d %H:%M UTC"))
    _, plain = create_token(user, name[:TOKEN_NAME_MAX])
    audit.record("auth.signed_in", actor=user, details={"through": "api"})
    return plain


def revoke_token(user: User, token_id: int, actor: User | None = None) -> bool:
    """Stage deleting one of user's tokens (by actor, default user); False if there is no such token of theirs."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        return False
    audit.record(
        "auth.api_token_revoked",
        actor=actor or user,
        object_type="api_token",
        object_id=token.id,
        object_name=token.name,
        details={"user": user.username},
    )
    db.session.delete(token)
    return True
