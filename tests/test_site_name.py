"""The site's name, set by the admin (or COEDIT_SITE_NAME): page titles, the navigation bar, the
sign-in page, the guest pages, mail subjects and the {siteName} of watermarks."""

import email
import email.policy
import html

from tests.helpers import wait_for
from tests.test_admin import form
from tests.test_i18n import give_bob_an_address
from tests.test_i18n import smtp_sink  # noqa: F401 - the fixture
from tests.test_share_links import make_link
from tests.test_share_links import path_of
from tests.test_watermarks import config_of
from tests.test_watermarks import configure
from tests.test_watermarks import watermark_of

NAME = "Acme <Intranet> & Co"


def name_it(world, name=NAME):
    answer = world.client("alice").post("/admin/settings", data=form(site_name=name, save_anyway="y"))
    assert answer.status_code == 200 and "Settings saved." in answer.get_data(as_text=True)


def test_the_admin_names_the_site_and_every_page_says_it_escaped(world):
    page = world.client("bob").get("/").get_data(as_text=True)
    assert "<title>" in page and "· Coedit</title>" in page  # the default
    name_it(world)
    escaped = html.escape(NAME, quote=False)
    for text in (
        world.client("bob").get("/").get_data(as_text=True),
        world.app.test_client().get("/auth/login").get_data(as_text=True),
    ):
        assert f"· {escaped}</title>" in text and NAME not in text
    assert f">{escaped}</a>" in world.client("bob").get("/").get_data(as_text=True)  # the navigation bar
    login = world.app.test_client().get("/auth/login").get_data(as_text=True)
    assert f"Sign in to {escaped}" in login


def test_guests_see_the_site_name(world):
    name_it(world, "Acme Intranet")
    doc = world.create_document()
    page = world.app.test_client().get(path_of(make_link(world, doc["id"], "view"))).get_data(as_text=True)
    assert 'class="navbar-brand fw-semibold">Acme Intranet</span>' in page


def test_an_empty_name_is_refused_and_the_old_one_kept(world):
    name_it(world, "Acme Intranet")
    answer = world.client("alice").post("/admin/settings", data=form(site_name="   ", save_anyway="y"))
    assert "Please correct the marked fields." in answer.get_data(as_text=True)
    from app.services import settings

    assert world.query(lambda: settings.get("site_name")) == "Acme Intranet"


def test_the_environment_fixes_the_name(make_world, fake_docs):
    world = make_world(DOCS_URL=fake_docs.url, SITE_NAME="Fixed Name")
    page = world.client("alice").get("/admin/settings").get_data(as_text=True)
    assert 'value="Fixed Name"' in page and "readonly" in page.split('name="site_name"')[1].split(">")[0]
    world.client("alice").post("/admin/settings", data=form(site_name="Changed", save_anyway="y"))
    assert "· Fixed Name</title>" in world.client("bob").get("/").get_data(as_text=True)


def test_watermarks_and_mail_subjects_carry_the_name(make_world, fake_docs, smtp_sink):  # noqa: F811
    sink, port = smtp_sink
    world = make_world(DOCS_URL=fake_docs.url, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none")
    name_it(world, "Acme Intranet")
    doc = world.create_document()
    configure(world, enabled=True, all_readers=True, text="{userDisplayName} on {siteName}")
    assert watermark_of(config_of(world, doc["id"], "bob")) == "Bob Baker on Acme Intranet"
    give_bob_an_address(world)
    world.client("alice").post(f"/spaces/{world.space_id}/posts", data={"body": "@bob lunch?"})
    wait_for(lambda: sink.messages, what="the mail")
    mail = email.message_from_bytes(sink.messages[0].content, policy=email.policy.default)
    assert mail["Subject"].startswith("Acme Intranet: Alice Archer")
