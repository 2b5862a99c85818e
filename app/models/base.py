"""Declarative base with a naming convention, so constraints have stable names."""

from datetime import datetime
from datetime import timezone

import sqlalchemy as sa
import sqlalchemy.orm as so

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC (a callable default, evaluated per row)."""
    return datetime.now(timezone.utc)


def _in_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


class UTCDateTime(sa.TypeDecorator):
    """A moment, stored in UTC and always read back as an aware UTC datetime, on every engine.

    PostgreSQL's timestamptz comes back in the connection's time zone and takes a naive value to be
    in it; SQLite keeps the wall time as text and gives it back naive. A naive value given to us
    is taken to be UTC (it is what utcnow() makes).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return _in_utc(value)

    def process_result_value(self, value, dialect):
        return _in_utc(value)


class Base(so.DeclarativeBase):
    registry = so.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )
