"""A person in a real browser: signs up, posts a photo, sees it, switches replica (ROUTEID) and still sees it,
still logged in. Prints a JSON report; exits non-zero on the first thing that is wrong."""
import base64
import json
import os
import random
import sys
import time

from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

BASE = os.environ.get("BASE_URL", "http://apache")
ROUTES = os.environ["ROUTES"].split(",")
OUT = os.environ.get("OUT_DIR", "/out")


def photo_file():
    image = Image.new("RGB", (800, 600), (40, 90, 160))
    for i in range(12):
        image.paste((random.randrange(256), random.randrange(256), 120), (i * 60, i * 40, i * 60 + 180, i * 40 + 140))
    path = "/tmp/photo.jpg"
    image.save(path, "JPEG", quality=85)
    return path


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,1200"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # A form submission may return before the next page is there: look for elements for up to 10 s.
    driver.implicitly_wait(10)
    return driver


def footer(driver):
    return driver.find_element(By.CSS_SELECTOR, "footer.served-by").text


def photo_loaded(driver, src):
    """Whether the feed shows the photo, decoded (waits up to 10 s for it)."""
    def loaded(driver):
        images = driver.find_elements(By.CSS_SELECTOR, f'article.post img[src="{src}"]')
        return bool(images) and driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", images[0]) > 0
    try:
        return WebDriverWait(driver, 10).until(loaded)
    except TimeoutException:
        return False


def save_full_page(driver, path):
    """The whole page (at most 2400 px), down to the footer that names the replica."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 2400), "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def main():
    report = {}
    driver = browser()
    try:
        driver.get(BASE + "/")
        driver.find_element(By.LINK_TEXT, "Sign up").click()
        username = f"chromium-{int(time.time())}"
        driver.find_element(By.NAME, "username").send_keys(username)
        driver.find_element(By.NAME, "password1").send_keys("a-long-browser-password-7")
        driver.find_element(By.NAME, "password2").send_keys("a-long-browser-password-7")
        driver.find_element(By.CSS_SELECTOR, "form button.button").click()
        assert username in driver.find_element(By.CSS_SELECTOR, ".who").text, driver.page_source[:500]

        driver.find_element(By.LINK_TEXT, "New post").click()
        driver.find_element(By.NAME, "caption").send_keys("Posted from headless Chromium")
        driver.find_element(By.NAME, "image").send_keys(photo_file())
        driver.find_element(By.CSS_SELECTOR, "form button.button").click()
        WebDriverWait(driver, 10).until(lambda d: d.current_url.rstrip("/") == BASE)
        src = driver.find_element(By.CSS_SELECTOR, "article.post img").get_attribute("src").removeprefix(BASE)
        assert src.startswith("/media/posts/"), src
        assert photo_loaded(driver, src), "the new photo did not load"
        report["first"] = footer(driver)
        first_route = driver.get_cookie("ROUTEID")["value"].lstrip(".")
        save_full_page(driver, os.path.join(OUT, "feed.png"))

        for route in (r for r in ROUTES if r != first_route):
            driver.add_cookie({"name": "ROUTEID", "value": f".{route}", "path": "/"})
            driver.get(BASE + "/")
            assert footer(driver).endswith(f"route {route}"), footer(driver)
            assert username in driver.find_element(By.CSS_SELECTOR, ".who").text, f"logged out on route {route}"
            assert photo_loaded(driver, src), f"photo missing on route {route}"
            report.setdefault("switched", []).append(footer(driver))
        report.update(user=username, photo=src, ok=True)
    finally:
        driver.quit()
        print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
