"""The admin settings page: admins only, write-only secret, environment values read-only."""

from tests.helpers import SECRET


def form(**values):
    data = {
        "jwt_header": "Authorization",
        "max_file_size_mb": "100",
        "verify_tls": "y",
        "comments": "y",
        "help": "y",
        "chat": "y",
        "keep_intermediate_versions": "y",
    }
    data.update(values)
    return data


def test_non_admins_are_refused(world):
    client = world.client("bob")
    assert client.get("/admin/settings").status_code == 403
    assert client.post("/admin/settings", data=form(docs_url="http://evil.test")).status_code == 403
    assert world.client().get("/admin/settings").status_code == 302  # anonymous: sign in first


def test_secret_is_write_only(open_world, fake_docs):
    client = open_world.client("alice")
    secret = "s3cret-" + "x" * 40
    # fake_docs is no Document Server: its connection test fails, so the admin confirms.
    response = client.post("/admin/settings", data=form(docs_url=fake_docs.url, jwt_secret=secret, save_anyway="y"))
    html = response.get_data(as_text=True)
    assert secret not in html and 'id="secret-state">Set<' in html
    assert secret not in client.get("/admin/settings").get_data(as_text=True)
    with open_world.app.app_context():
        from app.services import settings

        assert settings.get("jwt_secret") == secret
    # Saving again with the field empty keeps the secret.
    client.post("/admin/settings", data=form(docs_url=fake_docs.url))
    with open_world.app.app_context():
        assert settings.get("jwt_secret") == secret


def test_short_secret_and_bad_urls_are_refused(open_world):
    client = open_world.client("alice")
    html = client.post("/admin/settings", data=form(jwt_secret="short")).get_data(as_text=True)
    assert "at least 32 characters" in html
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "http://user:pw@docs.test", "ftp://docs.test"):
        html = client.post("/admin/settings", data=form(docs_url=bad)).get_data(as_text=True)
        assert "Please correct the marked fields" in html, bad
    with open_world.app.app_context():
        from app.services import settings

        assert settings.get("docs_url") == "" and settings.get("jwt_secret") == ""


def test_environment_values_win_and_are_read_only(world, fake_docs):
    client = world.client("alice")
    html = client.get("/admin/settings").get_data(as_text=True)
    assert SECRET not in html
    assert "Set by the environment" in html
    client.post("/admin/settings", data=form(docs_url="http://other.test", jwt_secret="y" * 40))
    with world.app.app_context():
        from app.services import settings

        assert settings.get("docs_url") == fake_docs.url and settings.get("jwt_secret") == SECRET


def test_saving_runs_the_connection_test_and_reports_failures_plainly(open_world, fake_docs):
    client = open_world.client("alice")
    html = client.post("/admin/settings", data=form(docs_url=fake_docs.url, jwt_secret="z" * 40)).get_data(as_text=True)
    assert 'id="connection-test"' in html
    assert "Health check" in html and "Could not reach a healthy ONLYOFFICE Docs" in html


def test_mixed_content_is_reported(open_world):
    client = open_world.client("alice")
    html = client.post(
        "/admin/settings", base_url="https://localhost", data=form(docs_url="http://docs.test", jwt_secret="z" * 40)
    ).get_data(as_text=True)
    assert "Mixed content" in html and "browsers will block the editor" in html


def test_check_docs_cli_reports_failure(world):
    result = world.app.test_cli_runner().invoke(args=["check-docs"])
    assert result.exit_code == 1 and "[FAILED] Health check" in result.output


def test_keeping_intermediate_versions_is_a_setting(open_world, fake_docs):
    client = open_world.client("alice")
    assert 'name="keep_intermediate_versions"' in client.get("/admin/settings").get_data(as_text=True)
    data = form(docs_url=fake_docs.url, save_anyway="y")  # fake_docs fails the connection test
    data.pop("keep_intermediate_versions")
    client.post("/admin/settings", data=data)
    with open_world.app.app_context():
        from app.services import settings

        assert settings.get("keep_intermediate_versions") is False


def test_a_failing_connection_test_asks_before_saving_and_names_the_address(open_world, fake_docs):
    client = open_world.client("alice")
    html = client.post("/admin/settings", data=form(docs_url=fake_docs.url, jwt_secret="z" * 40)).get_data(as_text=True)
    assert f"Not saved: the connection test failed at “Health check” with {fake_docs.url}." in html
    assert 'id="save-anyway"' in html and 'for="save_anyway"' in html
    assert "Could not reach a healthy ONLYOFFICE Docs" in html
    with open_world.app.app_context():
        from app.services import settings

        assert settings.get("docs_url") == "" and settings.get("jwt_secret") == ""
    html = client.post(
        "/admin/settings", data=form(docs_url=fake_docs.url, jwt_secret="z" * 40, save_anyway="y")
    ).get_data(as_text=True)
    assert "Settings saved." in html and 'id="save-anyway"' not in html
    with open_world.app.app_context():
        assert settings.get("docs_url") == fake_docs.url and settings.get("jwt_secret") == "z" * 40
    # Settings that do not change the connection save without asking, the test shown after.
    html = client.post("/admin/settings", data=form(docs_url=fake_docs.url, max_file_size_mb="50")).get_data(
        as_text=True
    )
    assert "Settings saved." in html and 'id="save-anyway"' not in html
    with open_world.app.app_context():
        assert settings.get("max_file_size_mb") == 50


def test_a_passing_connection_test_saves_at_once(open_world):
    """New addresses are tested as typed (nothing stored yet, the round trip included), then saved."""
    from docs_emulator.testing import start_emulator

    with start_emulator(jwt_secret=SECRET, save_delay=0.2, retry_base=0.05) as emulator:
        data = form(docs_url=emulator.url, jwt_secret=SECRET, app_url_for_docs=open_world.url)
        html = open_world.client("alice").post("/admin/settings", data=data).get_data(as_text=True)
    assert "Settings saved." in html and "Not saved" not in html, html
    assert html.count("step-ok") == 4 and "step-failed" not in html
    with open_world.app.app_context():
        from app.services import settings

        assert settings.get("docs_url") == emulator.url and settings.get("jwt_secret") == SECRET
