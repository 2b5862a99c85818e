"""One page of a list at a time, for the pages and the API alike.

A view reads the page asked for (``requested``), a service returns a ``Page``; templates show
``pager(page)`` and the API adds ``page.meta()`` to its answer. Each list costs two statements
however long it is: the count and the page's rows.
"""

import math
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from flask import request
from flask import url_for

from app.extensions import db

PER_PAGE = 50
MAX_PER_PAGE = 200


@dataclass
class Page:
    """Rows ``items`` of a list of ``total``, page ``number`` (from 1) of ``per_page`` each.

    ``param`` is the query parameter that names the page in links (a page may show several lists);
    ``endpoint`` the page the links lead to, when not the one answering (a form's POST re-renders it).
    """

    items: list
    number: int
    per_page: int
    total: int
    param: str = "page"
    anchor: str | None = field(default=None)
    endpoint: str | None = field(default=None)
    exact: bool = True  # False: total counts this page and whether one more follows, no further

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    def url(self, number: int, **extra) -> str:
        """The address of this request with another page number, its sort and filters kept."""
        args = {**(request.view_args or {}), **request.args.to_dict(), **extra, self.param: number}
        return url_for(self.endpoint or request.endpoint, _anchor=self.anchor, **args)

    def meta(self) -> dict:
        """The API's description of the page, with the link to the next one (None on the last)."""
        return {
            "page": self.number,
            "per_page": self.per_page,
            "total": self.total if self.exact else None,
            "pages": self.pages,
            "next": self.url(self.number + 1, per_page=self.per_page) if self.has_next else None,
        }


def requested(param: str = "page", per_page: int = PER_PAGE) -> tuple[int, int]:
    """The page number (``?page=``, from 1) and size (``?per_page=``, at most MAX_PER_PAGE) asked for."""
    number = request.args.get(param, 1, type=int) or 1
    size = request.args.get("per_page", per_page, type=int) or per_page
    return max(number, 1), min(max(size, 1), MAX_PER_PAGE)


def _clamped(number: int, per_page: int, total: int) -> int:
    """A number past the last page shows the last page (a list shrank since its link was made)."""
    return min(number, max(1, math.ceil(total / per_page)))


def of_select(
    statement: sa.Select, number: int, per_page: int, scalars: bool = True, count: bool = True, **named
) -> Page:
    """One page of an ordered SELECT: a count, then the page's rows (LIMIT/OFFSET).

    ``count=False`` for lists whose count would cost as much as reading them all (a filter checked
    row by row): one row more than the page tells whether another page follows.
    """
    if not count:
        paged = statement.limit(per_page + 1).offset((number - 1) * per_page)
        rows = list(db.session.scalars(paged).all() if scalars else db.session.execute(paged).all())
        total = (number - 1) * per_page + len(rows)
        return Page(rows[:per_page], number, per_page, total, exact=False, **named)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())) or 0
    number = _clamped(number, per_page, total)
    paged = statement.limit(per_page).offset((number - 1) * per_page)
    rows = db.session.scalars(paged).all() if scalars else db.session.execute(paged).all()
    return Page(list(rows), number, per_page, total, **named)


def of_list(items: list, number: int, per_page: int, **named) -> Page:
    """One page of a list already in memory (in the order it has)."""
    number = _clamped(number, per_page, len(items))
    start = (number - 1) * per_page
    return Page(items[start : start + per_page], number, per_page, len(items), **named)
