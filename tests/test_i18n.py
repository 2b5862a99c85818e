"""Coedit in the reader's language: complete catalogues, who reads which language, pages, plurals,
dates and numbers, the editor's lang and region, blank documents per locale, and notifications in
the recipient's language."""

import email
import email.policy
import io
import re
from datetime import datetime

import docx
import openpyxl
import pptx
import pytest
from babel.messages import checkers
from babel.messages.catalog import TranslationError
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po
from babel.support import Translations
from docx.oxml.ns import qn
from flask_babel import force_locale
from flask_babel import ngettext

from app import ROOT
from app.services import locales
from app.services.blanks import make_blank
from tests.helpers import wait_for
from tests.test_notification_bell import give_bob_an_address
from tests.test_notification_bell import smtp_sink  # noqa: F401 (a fixture)
from tests.test_share_links import guest_config
from tests.test_share_links import join
from tests.test_share_links import make_link
from tests.test_share_links import path_of

TRANSLATIONS = ROOT + "/app/translations"
TRANSLATED = [code for code in locales.SHIPPED_LANGUAGES if code != locales.SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def catalogue_problems(path: str) -> list[str]:
    """What keeps a catalogue from being shipped: a message of the template it lacks, one that is
    untranslated or fuzzy, a translation whose placeholders differ from the English (Babel's
    checkers); and it must compile."""
    with open(TRANSLATIONS + "/messages.pot", "rb") as handle:
        template = read_po(handle)
    with open(path, "rb") as handle:
        catalogue = read_po(handle)
    problems = [f"missing: {m.id!r}" for m in template if m.id and m.id not in catalogue]
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        # Babel's checkers refuse names the English lacks and mismatched types; a dropped
        # placeholder they let through, hence the comparison of names.
        for check in checkers.checkers:
            try:
                check(catalogue, message)
            except TranslationError as error:
                problems.append(f"{error}: {message.id!r}")
        english = message.id[-1] if isinstance(message.id, tuple) else message.id
        if any(s and placeholders(s) != placeholders(english) for s in strings):
            problems.append(f"placeholders differ: {message.id!r}")
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    Translations(fp=compiled)  # raises on a catalogue gettext cannot read
    return problems


def test_the_catalogue_template_holds_every_text_of_the_sources():
    """A text wrapped for translation but never extracted (README: pybabel extract) would reach
    no translator, and no completeness check would notice."""
    keywords = dict(DEFAULT_KEYWORDS, lazy_gettext=None, translatable=None)
    methods = [("**.py", "python"), ("**.html", "jinja2.ext:babel_extract")]
    in_sources = {
        message if isinstance(message, str) else message[0]
        for folder in ("app", "templates")
        for _name, _line, message, _comments, _context in extract_from_dir(
            f"{ROOT}/{folder}", methods, keywords=keywords
        )
    }
    with open(TRANSLATIONS + "/messages.pot", "rb") as handle:
        in_template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert in_sources == in_template


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_shipped_catalogue_is_complete_and_compiles(language):
    path = f"{TRANSLATIONS}/{language}/LC_MESSAGES/messages.po"
    with open(path, "rb"):  # a shipped language without its catalogue fails here
        pass
    assert catalogue_problems(path) == []


def test_an_incomplete_catalogue_is_caught(tmp_path):
    """The check above fails on a message left out, one untranslated, one fuzzy, and one whose
    translation lost its placeholder."""
    with open(f"{TRANSLATIONS}/de/LC_MESSAGES/messages.po", "rb") as handle:
        catalogue = read_po(handle)
    catalogue.delete("Profile saved.")
    catalogue["Trash"].string = ""
    catalogue["Spaces"].flags.add("fuzzy")
    catalogue["Version %(number)s"].string = "Version"
    broken = tmp_path / "messages.po"
    with open(broken, "wb") as handle:
        write_po(handle, catalogue)
    assert sorted(catalogue_problems(str(broken))) == [
        "fuzzy: 'Spaces'",
        "missing: 'Profile saved.'",
        "placeholders differ: 'Version %(number)s'",
        "untranslated: 'Trash'",
    ]


def _set_language(world, username, language):
    from app.extensions import db
    from app.models import User

    def apply():
        db.session.get(User, world.user_ids[username]).language = language
        db.session.commit()

    world.query(apply)


def _site_language(world, language):
    from app import transaction
    from app.services import settings

    def apply():
        settings.save({"default_language": language})
        transaction.commit()

    world.query(apply)


def test_the_language_is_the_profiles_else_the_browsers_else_the_sites(world):
    _set_language(world, "alice", "de")
    alice, bob = world.client("alice"), world.client("bob")
    space = f"/spaces/{world.space_id}"
    # A German profile wins over a French browser.
    page = alice.get(space, headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert '<html lang="de"' in page and "Dokument erstellen" in page and "Create document" not in page
    # No profile language: the browser's first language Coedit speaks (Italian it does not).
    page = bob.get(space, headers={"Accept-Language": "it-IT, fr-CH;q=0.8, de;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fr"' in page and "Créer un document" in page
    # Neither: the site language the administrator chose.
    assert '<html lang="en"' in bob.get(space, headers={"Accept-Language": "it"}).get_data(as_text=True)
    _site_language(world, "de")
    page = bob.get(space, headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert '<html lang="de"' in page and "Dokument erstellen" in page
    # Traditional Chinese is not the Simplified Chinese Coedit ships: the next language counts.
    assert locales.shipped("zh-TW") is None and locales.shipped("zh-Hans-CN") == "zh_Hans"
    # A guest on a share link reads their browser's language.
    doc = world.create_document("alice", "Plan")
    link = make_link(world, doc["id"], "edit")
    landing = world.app.test_client().get(path_of(link), headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "a partagé ce document avec vous" in landing


def test_the_editor_speaks_the_persons_language_and_region(world):
    """editorConfig.lang and region: a German profile, a French browser, a guest's browser."""
    _set_language(world, "alice", "de")
    doc = world.create_document("alice", "Zahlen", "xlsx")

    def editor(who, accept=None):
        headers = dict(world.api(who), **({"Accept-Language": accept} if accept else {}))
        response = world.client().get(f"/api/v1/files/{doc['id']}/editor-config", headers=headers)
        assert response.status_code == 200, response.data
        return response.get_json()["editorConfig"]

    german = editor("alice")
    assert (german["lang"], german["region"]) == ("de", "de-DE")
    austrian = editor("alice", "de-AT,de;q=0.9")  # the browser's region of the profile's language
    assert (austrian["lang"], austrian["region"]) == ("de", "de-AT")
    french = editor("bob", "fr-CA,fr;q=0.9,en;q=0.5")
    assert (french["lang"], french["region"]) == ("fr", "fr-CA")
    nothing = editor("bob")
    assert (nothing["lang"], nothing["region"]) == ("en", "en-US")
    link = make_link(world, doc["id"], "edit")
    client = world.app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    guest = guest_config(world, link, join(world, link, "Gina Guest", client=client))["editorConfig"]
    assert (guest["lang"], guest["region"]) == ("zh-CN", "zh-CN")


def test_plural_forms_dates_and_numbers_follow_the_locale(make_world):
    from flask import render_template_string

    from app.times import utc_text

    app = make_world().app
    with app.test_request_context():

        def files(n):
            return ngettext("%(num)d file", "%(num)d files", n)

        with force_locale("de"):
            assert (files(1), files(2)) == ("1 Datei", "2 Dateien")
            assert utc_text(datetime(2026, 1, 31, 18, 5)) == "31.01.2026 18:05 UTC"
            assert render_template_string('{% from "_macros.html" import size %}{{ size(1536) }}') == "1,5 KB"
        with force_locale("fr"):  # French counts 0 as one
            assert (files(0), files(1), files(2)) == ("0 fichier", "1 fichier", "2 fichiers")
        with force_locale("en"):
            assert (files(0), files(1)) == ("0 files", "1 file")
            assert utc_text(datetime(2026, 1, 31, 18, 5)).startswith("Jan 31, 2026")
            assert render_template_string('{% from "_macros.html" import size %}{{ size(1536) }}') == "1.5 KB"
        with force_locale("zh_Hans"):
            assert utc_text(datetime(2026, 1, 31, 18, 5)) == "2026年1月31日 18:05 UTC"


def test_templates_speak_the_locale_in_force_however_often_it_changes(make_world):
    """Templates find their translations once per request and locale: a forced locale, the
    request's again after it, and a refreshed one each speak their own language."""
    from flask import render_template_string
    from flask_babel import refresh

    closed = '{{ _("Editor closed") }}|{{ ngettext("%(num)d file", "%(num)d files", 2) }}'
    app = make_world().app
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert render_template_string(closed) == "Editor geschlossen|2 Dateien"
        with force_locale("fr"):
            assert render_template_string(closed) == "Éditeur fermé|2 fichiers"
        assert render_template_string(closed) == "Editor geschlossen|2 Dateien"
        with force_locale("es"):
            assert render_template_string(closed).endswith("|2 archivos")
        refresh()
        assert render_template_string(closed) == "Editor geschlossen|2 Dateien"


def test_template_strings_format_as_jinja_s_own_newstyle_gettext_does(make_world):
    """Our templates' gettext callables give what Jinja's newstyle ones give for the same
    catalogue: escaped when autoescaping (and not otherwise), always a format string, ``num``
    and ``context`` filled in, inside loops and blocks that set variables."""
    import jinja2
    from flask import render_template_string

    said = (
        "{% set here = 1 %}{% for n in [0, 1, 2] %}{% set row = n %}"
        "{{ _('Editor closed') }}|{{ _('Back to %(place)s', place='<i>') }}|"
        "{{ ngettext('%(num)d file', '%(num)d files', n) }}|{{ gettext('100%% & more') }}|"
        "{{ pgettext('menu', 'Open') }}|{{ npgettext('menu', '%(num)d item', '%(num)d items', n, extra='<b>') }}|"
        "{% endfor %}"
    )
    sources = [
        "{% block page %}" + said + "{% endblock %}",
        "{% block page %}{% autoescape false %}" + said + "{% endautoescape %}{% endblock %}",
    ]
    reference = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    reference.install_gettext_callables(
        gettext=lambda text: locales._translations().ugettext(text),
        ngettext=lambda singular, plural, n: locales._translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: locales._translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: locales._translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    app = make_world().app
    with app.test_request_context(headers={"Accept-Language": "de"}):
        for text in sources:
            ours = render_template_string(text)
            assert ours == reference.from_string(text).render()
        assert "Editor geschlossen|" in ours and "0 Dateien|" in ours and "1 Datei|" in ours
        assert "Zurück zu &lt;i&gt;" in render_template_string(sources[0])
        assert "<i>" in ours  # not escaped where the template does not autoescape


def test_template_strings_do_not_copy_the_context_in_loops(make_world, monkeypatch):
    """Jinja copies the whole template context for each call of a function that takes it, inside
    a loop or a block that sets a variable: a list page may say its strings on every row."""
    import jinja2.runtime
    from flask import render_template_string

    app = make_world().app
    with app.test_request_context(headers={"Accept-Language": "de"}):

        def copied(*args, **kwargs):
            raise AssertionError("the template context was copied for a string")

        monkeypatch.setattr(jinja2.runtime.Context, "derived", copied)
        rows = render_template_string(
            "{% block rows %}{% set here = 1 %}{% for n in [1, 2] %}{% set row = n %}"
            "{{ _('Editor closed') }} {{ ngettext('%(num)d file', '%(num)d files', n) }};"
            "{% endfor %}{% endblock %}"
        )
    assert rows == "Editor geschlossen 1 Datei;Editor geschlossen 2 Dateien;"


def _docx_language(data: bytes) -> tuple[str, float, str | None]:
    document = docx.Document(io.BytesIO(data))
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    east_asian = defaults.find(qn("w:rFonts")).get(qn("w:eastAsia"))
    return defaults.find(qn("w:lang")).get(qn("w:val")), round(document.sections[0].page_width.mm), east_asian


@pytest.mark.parametrize(
    "tag,width_mm,paper,font",
    [
        ("en-US", 216, openpyxl.worksheet.worksheet.Worksheet.PAPERSIZE_LETTER, None),
        ("de-DE", 210, openpyxl.worksheet.worksheet.Worksheet.PAPERSIZE_A4, None),
        ("zh-CN", 210, openpyxl.worksheet.worksheet.Worksheet.PAPERSIZE_A4, "Microsoft YaHei"),
    ],
)
def test_blank_documents_are_made_for_the_locale(tag, width_mm, paper, font):
    """Letter in the US (CLDR), A4 elsewhere; the language tag for spell checking; a CJK font."""
    assert _docx_language(make_blank("docx", "x", tag)) == (tag, width_mm, font)
    sheet = openpyxl.load_workbook(io.BytesIO(make_blank("xlsx", "x", tag)))
    assert str(sheet.active.page_setup.paperSize) == paper and sheet.properties.language == tag
    slides = pptx.Presentation(io.BytesIO(make_blank("pptx", "x", tag)))
    run_languages = {node.get("lang") for node in slides.element.iter(pptx.oxml.ns.qn("a:defRPr"))}
    assert run_languages == {tag} and slides.core_properties.language == tag
    pdf = make_blank("pdf", "x", tag)
    assert (b"/MediaBox [0 0 612 792]" in pdf) is (tag == "en-US")
    assert ("<FEFF" + tag.encode("utf-16-be").hex().upper() + ">").encode() in pdf  # /Lang


def test_a_new_document_is_named_and_made_in_the_persons_language(world):
    _set_language(world, "alice", "de")
    response = world.client("alice").post(
        f"/spaces/{world.space_id}/documents", data={"kind": "docx", "name": ""}, headers={"Accept-Language": "de-CH"}
    )
    assert response.status_code == 302
    file_id = int(re.search(r"/(\d+)", response.location).group(1))
    created = world.client().get(f"/api/v1/files/{file_id}", headers=world.api("alice")).get_json()
    assert created["title"] == "Neues Dokument.docx"
    assert _docx_language(world.head_bytes(file_id))[:2] == ("de-CH", 210)


def test_notifications_and_notices_are_in_the_readers_language(world):
    """Bob (German profile) is told of Alice's change in German; the notice in the thread is in
    each reader's language."""
    _set_language(world, "bob", "de")
    doc = world.create_document("alice", "Plan")
    response = world.client().put(
        f"/api/v1/files/{doc['id']}/rights", json={"users": {"bob": "edit"}}, headers=world.api("alice")
    )
    assert response.status_code == 200, response.data
    note = world.client().get("/api/v1/notifications", headers=world.api("bob")).get_json()["notifications"][0]
    assert note["text"] == "Alice Archer hat Ihren Zugriff auf Plan.docx geändert: Bearbeiten"
    thread = f"/files/{doc['id']}/thread"
    assert "hat die Zugriffsrechte von Plan.docx geändert: Bob Baker bearbeiten" in world.client("bob").get(
        thread
    ).get_data(as_text=True)
    assert "changed access rights of Plan.docx: Bob Baker edit" in world.client("alice").get(thread).get_data(
        as_text=True
    )


def test_mail_is_written_in_the_recipients_language(make_world, fake_docs, smtp_sink):  # noqa: F811
    """Alice writes in English; Bob's mention mail (German profile) is German, frame included."""
    sink, port = smtp_sink
    world = make_world(DOCS_URL=fake_docs.url, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none")
    give_bob_an_address(world)
    _set_language(world, "bob", "de")
    world.client("alice").post(f"/spaces/{world.space_id}/posts", data={"body": "@bob lunch?"})
    wait_for(lambda: sink.messages, what="the mail")
    mail = email.message_from_bytes(sink.messages[0].content, policy=email.policy.default)
    assert mail["Subject"] == "Coedit: Alice Archer hat Sie in Team erwähnt: „@bob lunch?“"
    body = mail.get_content()
    assert "Alice Archer hat Sie in Team erwähnt" in body and "Benachrichtigungen in Coedit" in body
