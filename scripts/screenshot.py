"""Log in as a demo user and screenshot pages with Debian's headless Chromium.

usage: .venv/bin/python scripts/screenshot.py USER OUTDIR PATH [PATH ...]
"""

import sys

from playwright.sync_api import sync_playwright

BASE = "http://127.0.0.1:8000"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    user, outdir, *paths = sys.argv[1:]
    width = 390 if user.endswith("@phone") else 1400
    user = user.split("@")[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(BASE + "/accounts/login/")
        page.fill("#id_username", user)
        page.fill("#id_password", "demo1234")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for i, path in enumerate(paths):
            page.goto(BASE + path)
            page.wait_for_load_state("networkidle")
            name = f"{outdir}/{i:02d}-{path.strip('/').replace('/', '_') or 'home'}.png"
            page.screenshot(path=name, full_page=True)
            print(name)
        browser.close()


if __name__ == "__main__":
    main()
