"""Sessions end for real: a copied session or remember-me cookie stops working on every process
after sign-out, a password change, disabling the account, or "sign out everywhere".

Two gunicorn processes share one database and secret, as two instances of one installation.
"""

import os
import subprocess
import sys

import pytest
import requests

from tests.helpers import AppProcess
from tests.helpers import csrf_token

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def shared_database_url(databases, tmp_path_factory):
    """One empty database of the engine under test for the module's instances to migrate and share."""
    url = databases.fresh(tmp_path_factory.mktemp("shared-database"), "shared", schema=False)
    yield url
    databases.drop(url)


@pytest.fixture(scope="module")
def instances(tmp_path_factory, shared_database_url):
    base = tmp_path_factory.mktemp("sessions")
    env = {
        "COEDIT_DATABASE_URL": shared_database_url,
        "COEDIT_SECRET_KEY": "shared-secret-for-sessions",
        "COEDIT_STORAGE_DIR": str(base / "storage"),
    }

    def flask(*args):
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env={**os.environ, "COEDIT_INSTANCE_PATH": str(base / "cli"), **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    flask("db", "upgrade")
    flask("create-user", "ada", "--password", "ada-password", "--admin")
    for name in ("bob", "cleo", "dan"):
        flask("create-user", name, "--password", f"{name}-password")
    token = flask("create-token", "dan").strip().splitlines()[-1]
    first, second = AppProcess(base / "a", env), AppProcess(base / "b", env)
    yield {"a": first.url, "b": second.url, "dan_token": token}
    first.stop()
    second.stop()


def sign_in(base: str, name: str, password: str | None = None, remember: bool = False) -> requests.Session:
    browser = requests.Session()
    token = csrf_token(browser.get(base + "/auth/login", timeout=10).text)
    data = {"username": name, "password": password or f"{name}-password", "csrf_token": token}
    if remember:
        data["remember"] = "y"
    answer = browser.post(base + "/auth/login", data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return browser


def signed_in(base: str, cookies) -> bool:
    """Whether a browser holding these cookies is signed in (302 to sign-in otherwise)."""
    answer = requests.get(base + "/auth/account", cookies=cookies, allow_redirects=False, timeout=10)
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def post_form(browser, base, page, action, **data):
    token = csrf_token(browser.get(base + page, timeout=10).text)
    return browser.post(base + action, data={"csrf_token": token, **data}, allow_redirects=False, timeout=10)


def test_a_copied_session_cookie_dies_with_sign_out_on_every_process(instances):
    a, b = instances["a"], instances["b"]
    browser = sign_in(a, "bob")
    copy = browser.cookies.get_dict()
    assert signed_in(b, copy)  # the other instance knows the session
    assert post_form(browser, a, "/auth/account", "/auth/logout").status_code == 302
    assert not signed_in(b, copy) and not signed_in(a, copy)


def test_a_copied_remember_me_cookie_dies_with_sign_out(instances):
    a, b = instances["a"], instances["b"]
    browser = sign_in(a, "bob", remember=True)
    remember = {"remember_token": browser.cookies["remember_token"]}
    assert signed_in(b, remember)  # the browser session is gone, the remember-me cookie signs in again
    assert post_form(browser, a, "/auth/account", "/auth/logout").status_code == 302
    assert not signed_in(b, remember)


def test_a_password_change_ends_every_other_session(instances):
    a, b = instances["a"], instances["b"]
    here = sign_in(a, "cleo")
    elsewhere = sign_in(b, "cleo", remember=True)
    stolen = elsewhere.cookies.get_dict()
    changed = post_form(
        here,
        a,
        "/auth/account",
        "/auth/account",
        current="cleo-password",
        new="a-new-password",
        repeat="a-new-password",
    )
    assert changed.status_code == 302
    assert not signed_in(a, stolen) and not signed_in(b, stolen)
    assert not signed_in(b, {"remember_token": stolen["remember_token"]})
    assert signed_in(b, here.cookies.get_dict())  # the browser that changed it stays signed in
    sign_in(b, "cleo", "a-new-password")


def _action(page: str, username: str, verb: str) -> str:
    import re

    row = page[page.index(f'data-username="{username}"') :]
    return re.search(rf'action="([^"]+/{verb})"', row).group(1)


def test_an_admin_signs_someone_out_everywhere_and_disables_them(instances):
    a, b = instances["a"], instances["b"]
    admin = sign_in(a, "ada")
    dan = sign_in(b, "dan", remember=True)
    copy = dan.cookies.get_dict()
    api = {"Authorization": "Bearer " + instances["dan_token"]}
    assert requests.get(b + "/api/v1/notifications", headers=api, timeout=10).status_code == 200

    page = admin.get(a + "/admin/users", timeout=10).text
    assert post_form(admin, a, "/admin/users", _action(page, "dan", "sign-out")).status_code == 302
    assert not signed_in(b, copy)
    assert requests.get(b + "/api/v1/notifications", headers=api, timeout=10).status_code == 200  # tokens stay

    again = sign_in(b, "dan").cookies.get_dict()
    assert post_form(admin, a, "/admin/users", _action(page, "dan", "disable")).status_code == 302
    assert not signed_in(b, again)
    assert requests.get(b + "/api/v1/notifications", headers=api, timeout=10).status_code == 401
    refused = requests.Session()
    token = csrf_token(refused.get(b + "/auth/login", timeout=10).text)
    answer = refused.post(
        b + "/auth/login",
        data={"username": "dan", "password": "dan-password", "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 200 and "Unknown username or wrong password" in answer.text
    assert post_form(admin, a, "/admin/users", _action(page, "dan", "disable")).status_code == 302  # enable
    sign_in(b, "dan")


def test_signing_out_also_forgets_share_link_passes(world):
    doc = world.create_document("alice", "Passworded")
    link = (
        world.client()
        .post(
            f"/api/v1/files/{doc['id']}/links",
            json={"mode": "view", "password": "open sesame"},
            headers=world.api("alice"),
        )
        .get_json()
    )
    path = "/s/" + link["url"].rsplit("/s/", 1)[1]
    bob = world.client("bob")
    assert bob.post(path, data={"name": "Bob", "password": "open sesame"}).status_code == 302
    assert bob.get(path + "/open").status_code == 200
    assert bob.post("/auth/logout").status_code == 302
    again = bob.get(path + "/open")
    assert again.status_code == 302 and again.location.endswith(path)  # the password is asked again
