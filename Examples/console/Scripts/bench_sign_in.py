"""Signs in to the console for Scripts/bench: `cookie` prints a session cookie, `rate` measures
sign-ins per second with 1 and with 4 concurrent clients (each sign-in: GET the form for a CSRF
token, then POST the password). Bounded: each run lasts 10 seconds."""

import http.cookiejar
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request

URL = os.environ["URL"]
ADMIN = os.environ["ADMIN"]
PASSWORD = os.environ["PASSWORD"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in():
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    page = opener.open(URL + "/sign-in").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf": csrf, "username": ADMIN, "password": PASSWORD}).encode()
    try:
        opener.open(URL + "/sign-in", data=body)
    except urllib.error.HTTPError as error:
        assert error.code == 303, error.code
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def rate(clients, seconds=10.0):
    done = [0] * clients
    deadline = time.monotonic() + seconds

    def worker(index):
        while time.monotonic() < deadline:
            sign_in()
            done[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    total = sum(done)
    print(f"{clients} client(s): {total} sign-ins in {elapsed:.1f} s = {total / elapsed:.1f}/s "
          f"({1000 * elapsed / total * clients:.0f} ms each)")


if sys.argv[1] == "cookie":
    print(sign_in())
else:
    rate(1)
    rate(4)
