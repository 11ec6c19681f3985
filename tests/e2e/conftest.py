"""Browser tests: a live gunicorn server on a seeded database, driven by Chromium via Playwright.

Without Chromium these tests are skipped with a notice, unless QUIZAPP_REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure.
"""

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("QUIZAPP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "demo1234"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("QUIZAPP_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"Chromium not found at {CHROMIUM}; browser tests are required")
    skip = pytest.mark.skip(
        reason=f"NOTICE: browser tests skipped, Chromium not found at "
        f"{CHROMIUM} (apt-get install chromium)"
    )
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn on 127.0.0.1 over a fresh SQLite database with the demo data."""
    server = LiveServer(tmp_path_factory.mktemp("live"))
    server.seed()
    server.start()
    yield {"url": server.url, "env": server.env, "folder": server.folder}
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    yield context
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    yield context
    context.close()


def screenshot(page, name: str, full_page: bool = True) -> None:
    """Save test-artifacts/screenshots/NAME.png: the whole page, or what the window shows
    (for long pages such as the quiz, where the window is what a participant sees)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def log_in(page, base: str, login: str, password: str = PASSWORD) -> None:
    page.goto(base + "/login")
    page.fill('input[autocomplete="username"]', login)
    page.fill('input[autocomplete="current-password"]', password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def tab_to(page, selector: str, inside: str = "", limit: int = 60) -> None:
    """Press Tab until the focused element matches `selector` (within a block whose text
    contains `inside`, if given); fail after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            """([selector, inside]) => {
              const el = document.activeElement;
              if (!el.matches(selector)) return false;
              return !inside || el.closest('section, fieldset, dialog').innerText.includes(inside);
            }""",
            [selector, inside],
        ):
            return
    raise AssertionError(f"{selector} not reached with Tab in {limit} presses")


def focus_ring(page) -> dict:
    """The outline drawn around the focused element (or the option row around a radio)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const ring = el.closest('.option') || el;
          const style = getComputedStyle(ring);
          return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
                  tag: el.tagName, visible: el.matches(':focus-visible')};
        }"""
    )


def no_horizontal_scroll(page) -> bool:
    """Nothing sticks out sideways: the page is no wider than the window."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def accessibility_violations(page) -> list[str]:
    """axe-core findings of moderate impact or worse (WCAG 2.1 A/AA, best practice)."""
    if not AXE.exists():
        if os.environ.get("QUIZAPP_REQUIRE_BROWSER") == "1":
            raise RuntimeError("axe-core missing: run `npm ci --prefix tests/e2e`")
        pytest.skip("axe-core not installed (npm ci --prefix tests/e2e)")
    # Evaluated through the DevTools protocol: the page's CSP (no inline script) stays in force.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',"
        " 'wcag21aa', 'best-practice']})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("moderate", "serious", "critical")
    ]


def contest_file(
    slug: str,
    closes_in: timedelta,
    time_limit: int = 15,
    opens_in: timedelta = timedelta(minutes=-5),
    **round_fields,
) -> str:
    """A contest YAML with one round (open now unless told), drawing from the small test bank."""
    now = datetime.now(UTC)
    round_ = {
        "title": f"Vòng {slug}",
        "opens_at": (now + opens_in).isoformat(),
        "closes_at": (now + closes_in).isoformat(),
        "time_limit_minutes": time_limit,
        "max_attempts": 2,
        "review": "immediate",
        "grace_seconds": 5,
        "draw": [
            {"bank": "Ngân hàng thử nghiệm", "category": "Cải cách hành chính", "count": 2},
            {"bank": "Ngân hàng thử nghiệm", "category": "Chuyển đổi số", "count": 2},
        ],
        **round_fields,
    }
    return json.dumps(
        {"slug": slug, "title": f"Cuộc thi {slug}", "rounds": [round_]}, ensure_ascii=False
    )
