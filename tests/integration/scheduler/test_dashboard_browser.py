"""The dashboard in a real headless Chromium (Debian `chromium`, driven by Playwright): the home page,
then a failed task's page, whose cause and timeline chart are found and whose screenshot is kept, then
a completed task's page with each worker's weight and score and the log its worker cut."""

from __future__ import annotations

import base64
import re
import shutil
import struct
from pathlib import Path

import httpx
import playwright.async_api as playwright_api
import pytest

from pocopool.protocol.applogs import describe_cut
from scheduler_harness import running_scheduler
from test_scheduler_observability import fail_a_task, make_failed_task
from test_task_debug_logs_and_scores import CUT, scored_task_with_a_cut_log

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[3] / "test-output"


COUNT_RED = """async (url) => {
  const image = new Image();
  image.src = url;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  let red = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (Math.abs(pixels[i] - 0xd6) < 12 && Math.abs(pixels[i + 1] - 0x45) < 12 && Math.abs(pixels[i + 2] - 0x45) < 12) red++;
  }
  return red;
}"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def fits_the_page(page, selector: str) -> None:
    """The element ends within the viewport's width: nothing to scroll sideways for."""
    box = await page.locator(selector).bounding_box()
    width = page.viewport_size["width"]
    assert box and box["x"] + box["width"] <= width, f"{selector} is {box} wide on a {width} px page"


async def test_a_failed_task_page_shows_its_cause_and_timeline_in_a_real_browser(tmp_path, sqlite_url):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: run `make system-deps` (scripts/system-deps.sh installs it)")
    clock, ledger = await make_failed_task(tmp_path)
    try:
        async with running_scheduler(ledger, sqlite_url) as scheduler:
            task_id = await fail_a_task(scheduler, ledger, clock)
            async with httpx.AsyncClient(base_url=scheduler.url) as http:
                assert (await http.get(f"/tasks/{task_id}")).json()["currentStatus"] == "FAILED"
            async with playwright_api.async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
                try:
                    page = await browser.new_page(viewport={"width": 1280, "height": 900})
                    outside: list[str] = []
                    page.on("request", lambda r: None if r.url.startswith(scheduler.url) else outside.append(r.url))

                    await page.goto(f"{scheduler.url}/ui")
                    assert await page.locator("#workers").count() == 1
                    assert await page.locator("#deals").get_by_text("FAILED").count() >= 1
                    # Issue 17.8: each deal says its app, its requester and when it was seen, on the page.
                    deal_row = page.locator("#deals tbody tr").first
                    cells = await deal_row.locator("td").all_inner_texts()
                    assert cells[1].startswith("http") and cells[2].startswith("0x") and cells[3].startswith("20"), (
                        cells
                    )
                    await fits_the_page(page, "#deals")
                    await page.locator("#deals a").first.click()  # the deal, then its task
                    await page.locator(f'#tasks a[href="/ui/tasks/{task_id}"]').click()
                    await page.wait_for_url(f"**/ui/tasks/{task_id}")

                    diagnosis = page.locator("#diagnosis")
                    assert "APP_COMPUTE_FAILED" in await diagnosis.inner_text()
                    actions = await page.locator("#actions").inner_text()
                    assert f"pocopool task claim {task_id}" in actions, actions
                    assert "the chain opens claims at the final deadline" in actions, actions
                    assert f"pocopool task debug {task_id} --logs" in actions, actions
                    phases = await page.locator("svg#timeline-chart text.phase").all_text_contents()
                    assert "compute" in phases, phases  # the bars say what each stretch was
                    # Instant statuses around a 30 s compute: the axis gives each room, and says so.
                    assert await page.locator("#timeline-scale").is_visible()
                    chart = page.locator("svg#timeline-chart")
                    assert await chart.is_visible()
                    assert await chart.locator('rect[data-failure="true"]').count() >= 1
                    box = await chart.bounding_box()
                    assert box and box["width"] > 500

                    shot = tmp_path / "failed-task.png"
                    await page.screenshot(path=str(shot), full_page=True)
                    chart_shot = await chart.screenshot()
                    # Inspect the screenshot's pixels (decoded by the browser itself): the failure is drawn red.
                    red_pixels = await page.evaluate(
                        COUNT_RED, "data:image/png;base64," + base64.b64encode(chart_shot).decode()
                    )
                    assert red_pixels > 500, f"the failed stage is not visible in the chart ({red_pixels} red pixels)"

                    # A completed task: each worker's weight and score, and the log its worker cut.
                    scored_id, seasoned, fresh = await scored_task_with_a_cut_log(scheduler, ledger)
                    await page.goto(f"{scheduler.url}/ui/tasks/{scored_id}")
                    actions = await page.locator("#actions").inner_text()
                    assert f"pocopool task download {scored_id} out/" in actions and "Result:" in actions, actions
                    assert await page.locator("#actions code.result-link").count() == 1
                    await fits_the_page(page, "#consensus")
                    votes = page.locator("#consensus tbody tr")
                    for worker, weight, score in ((seasoned, "3", "12 → 13"), (fresh, "2", "0 → 1")):
                        vote = votes.filter(has_text=re.compile(worker.wallet, re.IGNORECASE))
                        assert await vote.locator("td.weight").inner_text() == weight
                        assert await vote.locator("td.score").inner_text() == score
                        assert await vote.locator("td.score-change").inner_text() == "+1, an accurate contribution"
                    cut = page.locator(".log-cut")
                    assert await cut.count() == 1
                    said = await cut.inner_text()
                    assert f"stdout log {describe_cut(CUT.wire())}" in said and f"{scored_id} --logs" in said
                    assert "step 04999" not in await page.content()  # the logs themselves stay the requester's
                    await page.screenshot(path=str(tmp_path / "scored-task.png"), full_page=True)
                    assert outside == [], f"the dashboard fetched from outside: {outside}"
                finally:
                    await browser.close()
    finally:
        ledger.chain.close()
    width, height = png_size(shot.read_bytes())
    assert width == 1280 and height >= 600
    assert png_size(chart_shot)[0] == round(box["width"])
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(shot, OUTPUT / "dashboard-failed-task.png")
    shutil.copy(tmp_path / "scored-task.png", OUTPUT / "dashboard-scored-task.png")
