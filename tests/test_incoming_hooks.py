"""Incoming webhooks: a space's admins make a secret URL; a Slack-compatible message sent to it
appears in the space's stream, its Markdown rendered without raw HTML."""

import html
import json
import re

import sqlalchemy as sa


def make_hook(world, name="Build server", username="", who="alice"):
    """Create a hook on the settings page; its URL (shown once) as a path."""
    page = world.client(who).post(
        f"/spaces/{world.space_id}/incoming-hooks", data={"name": name, "default_username": username}
    )
    assert page.status_code == 200, page.status_code
    assert page.headers["Cache-Control"] == "no-store"
    url = html.unescape(re.search(r'id="new-hook-url">([^<]+)<', page.get_data(as_text=True)).group(1))
    return "/hooks/" + url.rsplit("/hooks/", 1)[1]


def stream_entry(world, reader="bob") -> str:
    """The markup of the newest entry in the space's stream."""
    page = world.client(reader).get(f"/spaces/{world.space_id}").get_data(as_text=True)
    start = re.search(r'id="post-\d+"', page).start()
    ends = [page.find(marker, start) for marker in ('<li class="list-group-item', '<div class="col-lg-4">')]
    return page[start : min(end for end in ends if end > 0)]


def test_a_message_appears_in_the_stream_escaped_with_its_markdown_rendered(world):
    path = make_hook(world)
    message = {
        "text": "Build **passed** <script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[details](https://ci.example.org/42) [evil](javascript:alert(3)) ![pixel](https://t.example.org/p.png)",
        "username": "CI <b>bot</b>",
        "icon_url": "https://ci.example.org/icon.png",
        "attachments": [
            {
                "pretext": "Deploy",
                "title": "Release [1.2](javascript:x)",
                "title_link": "https://ci.example.org/releases/1.2",
                "fields": [{"title": "Branch", "value": "<main>"}, {"title": "Tests", "value": 118}],
            }
        ],
    }
    response = world.client().post(path, json=message)
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
    entry = stream_entry(world)
    assert "<strong>passed</strong>" in entry
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry and "<script" not in entry
    assert "&lt;img src=x onerror=alert(2)&gt;" in entry and "<img" not in entry
    assert '<a href="https://ci.example.org/42" rel="nofollow noopener">details</a>' in entry
    assert "javascript:" not in re.sub(r">[^<]*<", "><", entry)  # as text only, never in an attribute
    assert "[evil](javascript:alert(3))" in entry
    assert "CI &lt;b&gt;bot&lt;/b&gt;" in entry and "bot-badge" in entry  # the sender, as text, marked
    assert "icon.png" not in entry  # the sender's image is never loaded by readers
    # The attachment: its title a link, its title's own brackets and its fields plain text.
    assert (
        '<a href="https://ci.example.org/releases/1.2" rel="nofollow noopener">Release [1.2](javascript:x)</a>' in entry
    )
    assert "<strong>Branch</strong>: &lt;main&gt;" in entry and "<strong>Tests</strong>: 118" in entry


def test_the_form_encoded_payload_and_the_default_sender(world):
    path = make_hook(world, name="Monitor", username="Nagios")
    response = world.client().post(path, data={"payload": json.dumps({"text": "Disk _almost_ full"})})
    assert response.status_code == 200
    entry = stream_entry(world)
    assert "<em>almost</em>" in entry and "Nagios" in entry and "integration" in entry


def test_bad_payloads_answer_400_with_a_reason(world):
    path = make_hook(world)
    client = world.client()
    cases = [
        ({"data": "not json", "content_type": "application/json"}, "not valid JSON"),
        ({"json": ["a list"]}, "JSON object"),
        ({"json": {"text": 5}}, "'text' must be a string"),
        ({"json": {"text": ""}}, "empty"),
        ({"json": {"text": "x", "attachments": {"title": "t"}}}, "'attachments' must be a list"),
        ({"json": {"attachments": [{"title": "t", "title_link": "javascript:alert(1)"}]}}, "http or https"),
        ({"json": {"text": "x" * 9000}}, "at most"),
        ({"data": {"text": "no payload field"}}, "payload"),
        ({"data": {"payload": "{broken"}}, "not valid JSON"),
    ]
    for kwargs, reason in cases:
        response = client.post(path, **kwargs)
        assert response.status_code == 400, (kwargs, response.status_code)
        assert reason in response.get_json()["error"], (kwargs, response.get_json())
    assert client.post(path, json={"text": "x" * 70_000}).status_code == 413
    stream = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert "integration-body" not in stream  # nothing was posted


def test_revoked_unknown_and_deleted_answer_404(world):
    path = make_hook(world)
    client = world.client()
    assert client.post(path, json={"text": "hello"}).status_code == 200
    assert client.post(path[:-4] + "AAAA", json={"text": "hello"}).status_code == 404
    assert client.post("/hooks/short", json={"text": "hello"}).status_code == 404

    from app.extensions import db
    from app.models import AuditEvent
    from app.models import IncomingHook

    hook_id, token_hash = world.query(
        lambda: db.session.execute(sa.select(IncomingHook.id, IncomingHook.token_hash)).one()
    )
    assert token_hash != path.rsplit("/", 1)[1] and len(token_hash) == 64  # only its SHA-256 is kept
    settings = world.client("alice").get(f"/spaces/{world.space_id}/settings").get_data(as_text=True)
    assert path not in settings and "Build server" in settings  # listed, the URL never shown again
    assert world.client("bob").post(f"/spaces/{world.space_id}/incoming-hooks/{hook_id}/revoke").status_code == 403
    revoked = world.client("alice").post(f"/spaces/{world.space_id}/incoming-hooks/{hook_id}/revoke")
    assert revoked.status_code == 302
    assert client.post(path, json={"text": "hello"}).status_code == 404
    actions = world.query(
        lambda: [
            (e.action, e.actor_name)
            for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "incoming_hook"))
        ]
    )
    assert actions == [("space.incoming_hook_created", "alice"), ("space.incoming_hook_revoked", "alice")]

    second = make_hook(world, name="Second")
    assert world.client("alice").post(f"/spaces/{world.space_id}/delete").status_code == 302
    assert client.post(second, json={"text": "hello"}).status_code == 404


def test_only_the_space_admins_make_hooks(world):
    assert world.client("bob").post(f"/spaces/{world.space_id}/incoming-hooks", data={"name": "x"}).status_code == 403
    assert world.client("carol").post(f"/spaces/{world.space_id}/incoming-hooks", data={"name": "x"}).status_code == 404
    page = world.client("alice").post(f"/spaces/{world.space_id}/incoming-hooks", data={"name": ""})
    assert page.status_code == 400 and 'id="new-hook-url"' not in page.get_data(as_text=True)


def test_messages_through_one_hook_are_rate_limited(make_world, fake_docs):
    world = make_world(DOCS_URL=fake_docs.url, RATELIMIT_INCOMING_HOOK="2 per minute")
    path = make_hook(world)
    client = world.client()
    assert [client.post(path, json={"text": "m"}).status_code for _ in range(3)] == [200, 200, 429]
    limited = client.post(path, json={"text": "m"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many attempts" in limited.get_json()["error"]


def test_only_http_https_and_mailto_links_survive_the_markdown():
    from app.services.markup import render_markdown

    for sneaky in (
        "[a](javascript:alert(1))",
        "[a](JaVaScRiPt:alert(1))",
        "[a](java&#115;cript:alert(1))",
        "[a](data:text/html;base64,PHNjcmlwdD4=)",
        "[a](vbscript:msgbox(1))",
        "[a](file:///etc/passwd)",
        "<javascript:alert(1)>",
        '<a href="https://ok.example.org">raw</a>',
    ):
        assert "<a " not in render_markdown(sneaky), sneaky
    assert str(render_markdown("<https://ok.example.org/x>")) == (
        '<p><a href="https://ok.example.org/x" rel="nofollow noopener">https://ok.example.org/x</a></p>\n'
    )
    assert 'href="mailto:ops@example.org"' in render_markdown("[ops](mailto:ops@example.org)")
