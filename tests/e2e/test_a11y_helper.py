"""The axe-core check of the journeys finds what it is meant to find, offline."""

import pytest

from tests.e2e.a11y import assert_accessible, violations

pytestmark = pytest.mark.e2e

BAD = """<!doctype html><html lang="id"><head><title>Uji</title></head><body><main>
<p style="color:#aaaaaa;background:#ffffff">Teks pucat</p>
<input name="nik"><select name="status"><option>Semua</option></select>
<button></button><a href="/cek/"></a><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</main></body></html>"""

GOOD = """<!doctype html><html lang="id"><head><title>Uji</title></head><body><main>
<p style="color:#1d2430;background:#ffffff">Teks jelas</p>
<label for="nik">NIK</label><input id="nik" name="nik">
<select name="status" aria-label="Status"><option>Semua</option></select>
<button>Cari</button><a href="/cek/">Cek status</a>
</main></body></html>"""


def test_contrast_and_unnamed_fields_buttons_links_and_images_are_reported(page):
    page.set_content(BAD)
    found = "\n".join(violations(page))
    for rule in ("color-contrast", "label", "select-name", "button-name", "link-name"):
        assert f"{rule}:" in found
    assert "image-alt:" in found
    with pytest.raises(AssertionError, match="color-contrast"):
        assert_accessible(page)


def test_a_page_with_contrast_and_names_passes(page):
    page.set_content(GOOD)
    assert violations(page) == []
    assert_accessible(page)
