"""The `serve` page, measured and pictured: start-up time, time per prediction, a screenshot.

Starts `python -m mnist_digits serve` on a free port, times how long until it answers, posts
a drawn digit --repeats times (median milliseconds), and with --screenshot draws a 7 on the page
in headless Chromium (Debian's chromium and chromium-driver) and saves the page. The browser
helpers here are also what tests/test_serve.py uses. The last line is JSON.

Run: python tests/helpers/serve_page.py --screenshot results/serve-page.png
"""
import argparse
import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # importable from a checkout
from mnist_digits.provenance import machine  # noqa: E402
from mnist_digits.reading import READER_WEIGHTS  # noqa: E402

SEVEN = [[(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)]]  # strokes, as fractions of the pad
BROWSER, DRIVER = "chromium", "chromedriver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(weights: str, port: int, timeout: float = 60) -> tuple[subprocess.Popen, float]:
    """The server in a child process, and the seconds until it answered /info."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mnist_digits", "serve", "--port", str(port),
                             "--weights", weights], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}: {proc.stdout.read()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/info", timeout=1).read()
            return proc, time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"serve did not answer within {timeout} s")


def post(port: int, body: bytes, name: str = "drawing.png") -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/predict?name={name}", body)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def drawn_png(strokes=SEVEN, side: int = 280, sent: int = 128) -> bytes:
    """What the page sends: black strokes, 18 px wide, on a white 280x280 pad, scaled to
    128x128."""
    img = Image.new("L", (side, side), 255)
    for stroke in strokes:
        ImageDraw.Draw(img).line([(x * side, y * side) for x, y in stroke], 0, 18, "curve")
    buf = io.BytesIO()
    img.resize((sent, sent), Image.BOX).save(buf, "PNG")
    return buf.getvalue()


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    missing = [b for b in (BROWSER, DRIVER) if not shutil.which(b)]
    return missing and (f"{' and '.join(missing)} not found: install Debian's chromium and "
                        f"chromium-driver (apt-get install chromium chromium-driver)")


def browser():
    """Headless Chromium driven by chromedriver (Selenium)."""
    from selenium import webdriver
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,760"):
        options.add_argument(arg)
    options.binary_location = shutil.which(BROWSER)
    return webdriver.Chrome(options, webdriver.ChromeService(shutil.which(DRIVER)))


def draw(driver, strokes=SEVEN, steps: int = 12) -> None:
    """Real pointer events: press, move in small steps along each stroke, release."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    pad = driver.find_element(By.ID, "pad")
    w, h = pad.size["width"], pad.size["height"]
    for stroke in strokes:
        points = [(round(x * w - w / 2), round(y * h - h / 2)) for x, y in stroke]
        chain = ActionChains(driver).move_to_element_with_offset(pad, *points[0]).click_and_hold()
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            for i in range(1, steps + 1):
                chain.move_to_element_with_offset(pad, round(x0 + (x1 - x0) * i / steps),
                                                  round(y0 + (y1 - y0) * i / steps))
        chain.release().perform()


def answer(driver, timeout: float = 10) -> tuple[str, list[float]]:
    """The digit shown and the ten bars' probabilities, once a prediction has arrived."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_element(By.ID, "digit").text not in ("", "–"))
    time.sleep(0.3)  # the last stroke's answer
    bars = [float(driver.find_element(By.ID, f"bar-{d}").get_attribute("data-p"))
            for d in range(10)]
    return driver.find_element(By.ID, "digit").text, bars


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", default=READER_WEIGHTS)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--screenshot", help="PNG to save of the page with a 7 drawn on it")
    args = p.parse_args(argv)
    port = free_port()
    proc, startup = start_server(args.weights, port)
    try:
        body = drawn_png()
        post(port, body)  # warm-up
        ms = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            digit = post(port, body)["digit"]
            ms.append(1000 * (time.perf_counter() - start))
        summary = {"startup_seconds": round(startup, 2), "digit": digit,
                   "median_ms_per_prediction": round(sorted(ms)[len(ms) // 2], 1),
                   "max_ms": round(max(ms), 1), "repeats": args.repeats}
        if args.screenshot:
            driver = browser()
            try:
                driver.get(f"http://127.0.0.1:{port}/")
                draw(driver)
                summary["browser_digit"] = answer(driver)[0]
                driver.save_screenshot(args.screenshot)
            finally:
                driver.quit()
    finally:
        proc.terminate()
        proc.wait()
    print(f"serve answered {startup:.2f} s after the command; one prediction (HTTP round trip "
          f"included): median {summary['median_ms_per_prediction']} ms over {args.repeats}")
    print(json.dumps({**summary, "weights": args.weights, "machine": machine()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
