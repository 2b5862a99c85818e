"""The space's file list: names open the editor, sorting, and uploads of several files."""

import io
import re
from datetime import timedelta

from app.extensions import db
from app.models import File
from app.models.base import utcnow
from app.services.spaces import name_key
from tests.helpers import docx_with
from tests.test_lossy_edit import upload


def titles(html: str) -> list[str]:
    return re.findall(r'class="file-title">([^<]+)</a>', html)


def test_names_sort_case_insensitively_with_accents_beside_their_letters():
    names = ["cherry", "Banana", "Äpfel", "apple", "Apfel", "banana", "Zebra", "éclair", "Eclair"]
    ordered = sorted(names, key=name_key)
    assert ordered.index("apple") < ordered.index("Banana") < ordered.index("cherry")
    assert abs(ordered.index("Äpfel") - ordered.index("Apfel")) == 1
    assert ordered[:3] == ["Apfel", "Äpfel", "apple"]
    assert ordered[-1] == "Zebra"
    assert abs(ordered.index("éclair") - ordered.index("Eclair")) == 1


def test_the_list_sorts_by_name_date_size_and_type_with_aria_sort(world):
    made = {}
    for name, body in (
        ("cherry.docx", docx_with("c" * 10)),
        ("Banana.txt", b"banana"),
        ("apple.docx", docx_with("a" * 5000)),
        ("Äpfel.docx", docx_with("x")),
    ):
        made[name] = upload(world, name, body)["id"]

    def age():
        for step, name in enumerate(("Banana.txt", "apple.docx", "Äpfel.docx", "cherry.docx")):
            db.session.get(File, made[name]).updated_at = utcnow() - timedelta(days=10 - step)
        db.session.commit()

    world.query(age)
    bob = world.client("bob")
    base = f"/spaces/{world.space_id}"
    page = bob.get(base).get_data(as_text=True)
    assert titles(page) == ["Äpfel.docx", "apple.docx", "Banana.txt", "cherry.docx"]
    assert 'aria-sort="ascending"' in page and page.count("aria-sort=") == 1
    desc = bob.get(base + "?sort=name&order=desc").get_data(as_text=True)
    assert titles(desc) == ["cherry.docx", "Banana.txt", "apple.docx", "Äpfel.docx"]
    assert 'aria-sort="descending"' in desc
    assert titles(bob.get(base + "?sort=date").get_data(as_text=True)) == [
        "Banana.txt",
        "apple.docx",
        "Äpfel.docx",
        "cherry.docx",
    ]
    assert titles(bob.get(base + "?sort=date&order=desc").get_data(as_text=True))[0] == "cherry.docx"
    by_size = titles(bob.get(base + "?sort=size").get_data(as_text=True))
    assert by_size[0] == "Banana.txt" and by_size[-1] == "apple.docx"
    by_type = titles(bob.get(base + "?sort=type").get_data(as_text=True))
    assert by_type == ["Äpfel.docx", "apple.docx", "cherry.docx", "Banana.txt"]
    assert titles(bob.get(base + "?sort=nonsense").get_data(as_text=True))[0] == "Äpfel.docx"


def test_a_name_opens_the_editor_by_rights_or_the_file_page(world):
    doc = upload(world, "Report.docx", docx_with("x"))["id"]
    plain = upload(world, "data.json", b'{"a": 1}')["id"]
    world.set_level(doc, "bob", "read")
    page = world.client("bob").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert f'href="/files/{doc}/open?mode=view" class="file-title"' in page
    page = world.client("alice").get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert f'href="/files/{doc}/open?mode=edit" class="file-title"' in page
    assert f'href="/files/{plain}" class="file-title"' in page  # opens in no editor: its page
    assert f'href="/files/{doc}">Details' in page.replace('class="btn btn-sm btn-outline-secondary" ', "")


def test_several_files_upload_in_one_form_or_one_request_each(world):
    alice = world.client("alice")
    form = alice.post(
        f"/spaces/{world.space_id}/upload",
        data={"file": [(io.BytesIO(docx_with("one")), "One.docx"), (io.BytesIO(docx_with("two")), "Two.docx")]},
        content_type="multipart/form-data",
    )
    assert form.status_code == 302
    one = alice.post(
        f"/spaces/{world.space_id}/upload",
        data={"file": (io.BytesIO(docx_with("three")), "Three.docx")},
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    assert one.status_code == 201 and one.get_json()["title"] == "Three.docx"
    bad = alice.post(
        f"/spaces/{world.space_id}/upload",
        data={"file": (io.BytesIO(b"not a document"), "Broken.docx")},
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and bad.get_json()["error"].startswith("Broken.docx: ")
    page = alice.get(f"/spaces/{world.space_id}").get_data(as_text=True)
    assert titles(page) == ["One.docx", "Three.docx", "Two.docx"]
