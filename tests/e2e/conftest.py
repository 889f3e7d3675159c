"""Browser tests: the built frontend (frontend/dist) in Debian's Chromium, driven by Playwright,
against pytest-django's live server on the real PostgreSQL.

Chromium comes from the OS (`apt-get install chromium`), not from `playwright install`, so the
tests run where browsers cannot be downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
FRONTEND_INDEX = REPO / "frontend" / "dist" / "index.html"
CHROMIUM = os.environ.get("FLYWHEEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Package scope, not session: one Chromium for all of tests/e2e, closed when the run leaves the
# package. While it is open, Playwright's sync API keeps its asyncio loop registered as running on
# this thread, which breaks `asyncio.run` and `async_to_sync` in any test that would come after
# (pytest-django runs the tests that use no database after the transactional ones).
@pytest.fixture(scope="package")
def browser(django_db_setup) -> Iterator[Browser]:
    """One headless Chromium. Depends on ``django_db_setup`` so that the test database is
    created before, and destroyed after, Playwright's event loop lives."""
    if not FRONTEND_INDEX.exists():
        pytest.fail(
            f"{FRONTEND_INDEX.relative_to(REPO)} is missing: run `make frontend` before the "
            "browser tests.",
            pytrace=False,
        )
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: `apt-get install chromium`, or point "
            "FLYWHEEL_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    # With that loop registered, Django refuses every ORM call on this thread (the tests' own
    # setup, the flush after a transactional test) as if it came from async code. They are
    # plain synchronous calls, so lift the check for exactly as long as the loop lives.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# Pages poll the API every few seconds (run status) and CI machines are loaded: assertions
# wait up to 15 s for the page to catch up before failing.
expect.set_options(timeout=15_000)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (its own cookies) per test."""
    context = browser.new_context(viewport={"width": 1000, "height": 720})
    context.set_default_timeout(30_000)  # actions wait for a page on a loaded CI machine
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="package")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny saved causal LM to register as a model (the pages never load it)."""
    from tinyworld.model import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-model"), texts=["a tiny model", "for the dashboard"]
    )
