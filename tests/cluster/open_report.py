"""Opens a report.html in headless Chromium (tests/integration/chromium.py) and
prints what a test checks: the console errors, the URLs the page requested and
the endpoint rows it shows, as one JSON object. Exit 0 when it could open it."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from chromium import Browser  # noqa: E402

ROWS = "JSON.stringify([...document.querySelectorAll('#endpoints-body tbody tr')].length)"


def main(path):
    url = "file://" + os.path.abspath(path)
    with Browser() as browser:
        browser.open(url)
        rows = json.loads(browser.evaluate(ROWS))
        print(json.dumps({"errors": browser.console_errors(), "requested": browser.requested_urls(),
                          "url": url, "endpointRows": rows}))


if __name__ == "__main__":
    main(sys.argv[1])
