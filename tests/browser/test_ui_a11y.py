"""Every page, at desktop and phone width, passes axe-core without serious or critical findings."""

import pytest

from tests.browser.conftest import DESKTOP
from tests.browser.conftest import PHONE
from tests.browser.conftest import check_page
from tests.browser.conftest import sign_in

WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.mark.parametrize("width", WIDTHS)
def test_space_page(site, page, width):
    page.set_viewport_size(WIDTHS[width])
    site.create_document("alice", "Plan")
    sign_in(page, site, "alice")
    page.goto(f"{site.url}/spaces/{site.space_id}")
    check_page(page, f"a11y-space-{width}")
