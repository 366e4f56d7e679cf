"""The real thing: `daogou serve` (uvicorn) on a loopback port, used over HTTP and from headless Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import time
from pathlib import Path

import httpx
import pytest

from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from tests.conftest import cli_json, free_port, running_server

XSS = "<img src=x onerror=alert(1)>"
ADMIN_KEY = "live-admin-key"


@pytest.fixture(scope="module")
def live_home(served_home, tmp_path_factory) -> Path:
    """A copy of the served demo home plus one hostile product title."""
    home = tmp_path_factory.mktemp("live") / "home"
    shutil.copytree(served_home, home)
    with Store.open(StoreConfig(home=home)) as store, store.transaction() as conn:
        store.write_products(conn, [Product("EVIL1", f"{XSS} Zephyr Trail Running Shoes", category=("Shoes", "Running"),
                                            brand="Zephyr", price=99.0, currency="CNY", image="images/P00001.png")])
    return home


@contextlib.contextmanager
def _serve(home: Path, log: Path):
    port = free_port()
    env = {"DAOGOU_ADMIN_KEYS": ADMIN_KEY, "DAOGOU_DEMO_LOGIN": "true", "DAOGOU_RATE_PER_S": "0",
           "DAOGOU_CHAT_RATE_PER_S": "0",
           "DAOGOU_AUTH_RATE_PER_S": "0"}
    cmd = [sys.executable, "-m", "daogou.cli", "--home", str(home), "serve", "--encoder", "hashing", "--llm",
           "template", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running_server(cmd, base + "/healthz", log, "daogou serve", env=env):
        yield base


@pytest.fixture(scope="module")
def live(live_home):
    """The hostile demo home served by a real `daogou serve`."""
    with _serve(live_home, live_home.parent / "server.log") as base:
        yield base


def test_real_server_answers_over_loopback(live):
    with httpx.Client(base_url=live, timeout=30) as c:
        assert c.get("/healthz").json()["products"] == 481
        token = c.post("/v1/auth/demo", json={"shopper_id": "U0002"}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        seen: list[tuple[str, float]] = []
        with c.stream("POST", "/v1/chat", json={"message": "headphones", "stream": True}, headers=h) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("event: "):
                    seen.append((line[7:], time.perf_counter() - started))
        kinds = [k for k, _ in seen]
        assert kinds[0] == "cards" and kinds[-1] == "done" and "delta" in kinds
        assert c.get("/v1/recommend", headers=h).status_code == 200
        assert c.post("/v1/admin/reload", json={}, headers={"X-API-Key": ADMIN_KEY}).json()["reloaded"]
        assert "daogou_chat_turns_total" in c.get("/metrics").text


def test_a_conversation_outlives_its_server_process(live, live_home):
    """A conversation is kept in the store: a second server process (a restart, or another worker) continues it."""
    with httpx.Client(base_url=live, timeout=30) as c:
        h = {"Authorization": "Bearer " + c.post("/v1/auth/demo", json={"shopper_id": "U0003"}).json()["token"]}
        first = c.post("/v1/chat", json={"message": "headphones"}, headers=h).json()
    with _serve(live_home, live_home.parent / "server2.log") as other, httpx.Client(base_url=other, timeout=30) as c:
        conv = c.get(f"/v1/conversations/{first['conversation_id']}", headers=h).json()
        assert conv["shown"] == [card["id"] for card in first["cards"]]
        second = c.post("/v1/chat", json={"message": "the second one", "conversation_id": conv["id"]},
                        headers=h).json()
        assert [card["id"] for card in second["cards"]] == [first["cards"][1]["id"]]


def test_a_hostile_title_is_data_in_the_api(live):
    hits = httpx.get(live + "/v1/search", params={"q": "Zephyr trail running shoes"}).json()["hits"]
    assert hits[0]["id"] == "EVIL1" and hits[0]["title"].startswith(XSS)


def test_demo_main_job_without_serving(tmp_path):
    out = cli_json("demo", "--no-serve", "--products", "200", "--shoppers", "120", "--encoder", "hashing",
                   "--budget", "8", home=tmp_path / "home")
    assert out["demo"]["built"] and out["index"]["products"] == 200 and out["url"] is None
    assert out["model"]["trained"] and Path(out["model"]["bundle"], "manifest.json").exists()
    assert 0 <= out["model"]["untrained_valid_ndcg@10"] <= 1  # what training added is shown
    again = cli_json("demo", "--no-serve", "--products", "200", "--shoppers", "120", "--encoder", "hashing",
                     home=tmp_path / "home")
    assert again["model"]["trained"] is False  # the store and the model are reused


# ---------------------------------------------------------------- the page in a real browser

@pytest.fixture(scope="module")
def chromium_browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        if os.environ.get("DAOGOU_REQUIRE_BROWSER"):
            pytest.fail("chromium or playwright missing (apt-get install chromium; pip install playwright)")
        pytest.skip("chromium or playwright missing")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _ask(page, text: str) -> None:
    turns = page.locator(".turn[data-done='1']").count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    page.wait_for_function(f"document.querySelectorAll(\".turn[data-done='1']\").length > {turns}", timeout=120_000)


def _prices(page) -> list[float]:
    texts = page.locator(".turn").last.locator(".card .price").all_inner_texts()
    return [float(re.sub(r"[^\d.]", "", t)) for t in texts]


def test_chat_page_in_chromium(live, chromium_browser, artifacts):
    # bypass_csp: the test's own probes need eval; it also makes the escaping check independent of the CSP
    page = chromium_browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US", bypass_csp=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.select_option("#shopper", "U0002")
    page.wait_for_function("document.querySelectorAll('.msg.bot').length >= 1")

    _ask(page, "headphones")
    cards = page.locator(".turn").last.locator(".card")
    assert cards.count() >= 4
    # a turn is done when its text is; its pictures load lazily after that: bring the first into view, wait for it
    page.locator(".turn").last.locator(".card img").first.scroll_into_view_if_needed()
    page.wait_for_function(
        "(() => { const t = document.querySelectorAll('.turn'); const img = t[t.length - 1].querySelector('.card img');"
        " return img && img.complete && img.naturalWidth > 0; })()", timeout=30_000)
    first = _prices(page)
    page.screenshot(path=str(artifacts / "chat-en-search.png"), full_page=True)

    page.locator(".chip", has_text="Cheaper").click()
    page.wait_for_function("document.querySelectorAll(\".turn[data-done='1']\").length >= 2", timeout=60_000)
    cheaper = _prices(page)
    assert cheaper and max(cheaper) < sorted(first)[len(first) // 2] + 1e-9
    page.screenshot(path=str(artifacts / "chat-en-cheaper.png"), full_page=True)

    page.click("#lang-zh")
    assert page.locator("#send").inner_text() == "发送"
    _ask(page, "耳机 300元以内")
    bubble = page.locator(".turn").last.locator(".msg.bot").inner_text()
    assert re.search(r"[\u4e00-\u9fff]", bubble)
    assert all(p <= 300 for p in _prices(page))
    page.screenshot(path=str(artifacts / "chat-zh.png"), full_page=True)

    _ask(page, "Zephyr trail running shoes")
    titles = page.locator(".turn").last.locator(".card .title").all_inner_texts()
    assert any(t.startswith(XSS) for t in titles), titles   # shown as text …
    assert page.locator("img[src='x']").count() == 0            # … never as markup
    page.screenshot(path=str(artifacts / "chat-hostile-title.png"), full_page=True)
    assert dialogs == [] and errors == []
    page.close()


@pytest.mark.parametrize("lang, turns", [
    ("en", ["hiking boots", "under 800", "the second one", "is it waterproof?"]),
    ("zh", ["登山鞋", "预算八百", "第二个", "防水吗"]),
])
def test_a_dialogue_in_chromium(live, chromium_browser, artifacts, lang, turns):
    """A bare follow-up keeps the topic, a reference shows the card pointed to, and a product question is answered
    from the product's attributes — in English and in Chinese, through the page."""
    page = chromium_browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US", bypass_csp=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    if lang == "zh":
        page.click("#lang-zh")
    search, budget, reference, question = turns
    _ask(page, search)
    assert page.locator(".turn").last.locator(".card").count() >= 3
    _ask(page, budget)
    prices = _prices(page)
    assert prices and all(p <= 800 for p in prices)
    bubble = page.locator(".turn").last.locator(".msg.bot").inner_text()
    assert ("hiking" in bubble.lower() and "800" in bubble) if lang == "en" else ("登山" in bubble and "800" in bubble)
    shown = page.locator(".turn").last.locator(".card .title").all_inner_texts()
    _ask(page, reference)
    assert page.locator(".turn").last.locator(".card .title").all_inner_texts() == [shown[1]]
    _ask(page, question)
    answer = page.locator(".turn").last.locator(".msg.bot").inner_text()
    said = ("Yes — it is waterproof", "No — it is not waterproof") if lang == "en" else ("是的，这款防水", "不，这款不防水")
    assert any(s in answer for s in said), answer
    if lang == "en":  # a shopper who switches to Chinese is answered in Chinese, whatever the page's language
        _ask(page, "有没有瑜伽垫")
        zh = page.locator(".turn").last.locator(".msg.bot").inner_text()
        assert "瑜伽" in zh and "Here are" not in zh, zh
    page.screenshot(path=str(artifacts / f"chat-dialogue-{lang}-1280.png"), full_page=True)
    assert errors == []
    # the same page on a phone: the header keeps whole words, cards come two a row, pictures stay small
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    logo = page.locator(".brand").bounding_box()
    name = page.locator("#store-name").bounding_box()
    assert name["height"] < 2.2 * 24 and logo["height"] < 40, (logo, name)  # one line, not a character a line
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = [c.bounding_box() for c in page.locator(".turn").nth(1).locator(".card").all()[:2]]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["width"] < 200, boxes
    img = page.locator(".turn").nth(1).locator(".card .img").first.bounding_box()
    assert img["height"] <= 160
    assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh" else "en")
    page.screenshot(path=str(artifacts / f"chat-dialogue-{lang}-390.png"), full_page=True)
    page.close()


def test_a_message_typed_during_a_reply_is_sent_after_it(live, chromium_browser):
    """A shopper who types on while a reply streams loses nothing: the message is sent when the reply is done."""
    page = chromium_browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US", bypass_csp=True)
    page.goto(live + "/")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    before = page.locator(".turn").count()
    for message in ("running shoes under 600", "which of these is the cheapest?"):  # the second during the first
        page.fill("#message", message)
        page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll(\".turn[data-done='1']\").length >= {before + 2}",
                           timeout=60_000)
    assert page.locator(".msg.me").all_inner_texts()[-2:] == ["running shoes under 600",
                                                             "which of these is the cheapest?"]
    last = page.locator(".turn").last
    assert last.locator(".card").count() == 1 and "cheapest" in last.locator(".msg.bot").inner_text()
    page.close()


def test_serving_an_empty_store_is_a_clear_error(tmp_path):
    from tests.conftest import run_cli
    proc = run_cli("serve", "--encoder", "hashing", "--port", "0", home=tmp_path / "empty", timeout=120)
    assert proc.returncode == 1 and "no products yet" in proc.stderr and "Traceback" not in proc.stderr
