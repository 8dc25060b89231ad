# Sourced by the scripts that run a live demo server: Python's standard library only, no curl on the machine needed.

wait_up() {  # wait_up PORT: until the server's /healthz answers; fails after 30 s
  python3 - "$1" <<'PY'
import sys
import time
import urllib.request

url = f"http://127.0.0.1:{sys.argv[1]}/healthz"
for _ in range(60):
    try:
        urllib.request.urlopen(url, timeout=2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(f"no answer from {url} after 30 s")
PY
}

token_for() {  # token_for PORT USERNAME PASSWORD: a bearer token, printed
  python3 - "$@" <<'PY'
import json
import sys
import urllib.parse
import urllib.request

port, username, password = sys.argv[1:4]
form = urllib.parse.urlencode({"username": username, "password": password}).encode()
with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/auth/token", data=form, timeout=10) as answer:
    print(json.load(answer)["access_token"])
PY
}
