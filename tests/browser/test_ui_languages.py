"""The space page in the browser's language: German and Simplified Chinese (screenshots in
test-output/screenshots), checked like every page (axe-core, no sideways scrolling)."""

import os

import pytest

from app import ROOT
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import check_page
from tests.browser.conftest import sign_in


@pytest.mark.parametrize(
    "browser_locale,html_lang,catalogue,english_left",
    [("de-DE", "de", "de", "Create document"), ("zh-CN", "zh-Hans", "zh_Hans", "Create document")],
)
def test_the_space_page_in_the_browsers_language(site, browser, browser_locale, html_lang, catalogue, english_left):
    """Bob has no profile language: Chromium's Accept-Language decides."""
    site.create_document("alice", "Quartalszahlen" if catalogue == "de" else "季度报告", "xlsx")
    context = browser.new_context(viewport=DESKTOP, locale=browser_locale)
    page = context.new_page()
    try:
        sign_in(page, site, "bob")
        page.goto(f"{site.url}/spaces/{site.space_id}")
        assert page.get_attribute("html", "lang") == html_lang
        translated = os.path.exists(f"{ROOT}/app/translations/{catalogue}/LC_MESSAGES/messages.mo")
        # The Chinese catalogue comes from its translators; until it is there the page stays English.
        assert (english_left not in page.inner_text("#content")) is translated
        if catalogue == "de":
            assert "Dokument erstellen" in page.inner_text("#content")
        page.wait_for_function("document.querySelector('time.when').textContent.indexOf('UTC') < 0")
        check_page(page, f"i18n-space-{catalogue}")
    finally:
        context.close()
