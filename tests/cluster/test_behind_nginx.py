"""The installation of deploy/: two server processes on one PostgreSQL database behind Debian's nginx,
which terminates TLS (certificates made for the test) and passes Cursor-on-Target's TLS through.

The nginx configuration is the repository's own (deploy/nginx), with only the addresses, ports and
certificate paths of the test put in. Run in .ci/run's PostgreSQL pass, where nginx is installed;
elsewhere skipped, unless PEACEWATCH_REQUIRE_NGINX is set (as .ci/run sets it), which makes a
missing nginx a failure rather than a skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytak
import pytest

from peacewatch.core.db import utcnow
from tests.certs import fingerprint_of, make_pki
from tests.cluster.conftest import Server, admin_headers
from tests.conftest import PG_URL
from tests.helpers import wait_for
from tests.live import free_port

pytestmark = pytest.mark.skipif(not PG_URL, reason="several server processes need PostgreSQL (SQLite takes one)")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")


@pytest.fixture
def nginx_available() -> None:
    if not Path(NGINX).exists() or not STREAM_MODULE.exists():
        if os.environ.get("PEACEWATCH_REQUIRE_NGINX"):
            pytest.fail("nginx and libnginx-mod-stream are required here (apt install nginx libnginx-mod-stream)")
        pytest.skip("nginx with its stream module is not installed")


def site_config(ports: tuple[int, int], https: int, http: int, cert: Path, key: Path) -> str:
    """deploy/nginx/peacewatch.conf with the test's ports and certificate."""
    text = (DEPLOY / "nginx" / "peacewatch.conf").read_text()
    text = text.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
    text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.MULTILINE)
    text = text.replace("listen 443 ssl", f"listen 127.0.0.1:{https} ssl").replace("listen 80;", f"listen 127.0.0.1:{http};")
    text = text.replace("/etc/peacewatch/tls/server.crt", str(cert)).replace("/etc/peacewatch/tls/server.key", str(key))
    return text.replace("peacewatch.hq.example.org", "localhost")


def cot_config(backend: int, public: int) -> str:
    text = (DEPLOY / "nginx" / "peacewatch-cot.conf").read_text()
    return text.replace("127.0.0.1:18089", f"127.0.0.1:{backend}").replace("listen 8089;", f"listen 127.0.0.1:{public};")


@pytest.fixture
def behind_nginx(
    nginx_available: None, start_server: Callable[..., Server], scenario: None, app: Any, tmp_path: Path,
) -> Iterator[dict[str, Any]]:
    """Two processes sharing the CoT TLS port, and nginx in front; yields the public addresses and the PKI."""
    pki = make_pki(tmp_path)
    app.state.engine.dispose()
    cot_tls = free_port()
    tls = {"PEACEWATCH_COT_TLS_PORT": str(cot_tls), "PEACEWATCH_COT_TLS_CERT": str(pki["server_cert"]),
           "PEACEWATCH_COT_TLS_KEY": str(pki["server_key"]), "PEACEWATCH_COT_TLS_CA": str(pki["ca"]),
           "PEACEWATCH_COT_FLUSH_MS": "50", "PEACEWATCH_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    first = start_server(**tls)
    second = start_server(cot_port=first.cot_port, **tls)
    https, http, cot = free_port(), free_port(), free_port()
    root = tmp_path / "nginx"
    root.mkdir()
    (root / "site.conf").write_text(site_config((int(first.url.rsplit(":", 1)[1]), int(second.url.rsplit(":", 1)[1])),
                                                https, http, pki["server_cert"], pki["server_key"]))
    (root / "cot.conf").write_text(cot_config(cot_tls, cot))
    temp = "".join(f"{kind}_temp_path {root}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (root / "nginx.conf").write_text(
        f"load_module {STREAM_MODULE};\n"
        + ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{\n access_log {root}/access.log;\n {temp} include {root}/site.conf;\n}}\n"
        f"stream {{ include {root}/cot.conf; }}\n")
    checked = subprocess.run([NGINX, "-t", "-p", str(root), "-c", str(root / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen([NGINX, "-p", str(root), "-c", str(root / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"https://localhost:{https}"
        wait_for(lambda: _answers(base, pki["ca"]), 20, "nginx to answer")
        yield {"url": base, "http": f"http://127.0.0.1:{http}", "cot": cot, "pki": pki, "servers": (first, second),
               "log": root / "access.log"}
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def _answers(base: str, ca: Path) -> bool:
    try:
        return httpx.get(f"{base}/healthz", verify=ssl.create_default_context(cafile=str(ca)), timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def client(install: dict[str, Any], **headers: str) -> httpx.Client:
    return httpx.Client(base_url=install["url"], headers=headers, timeout=30,
                        verify=ssl.create_default_context(cafile=str(install["pki"]["ca"])))


def test_the_api_is_served_over_https_by_both_processes(behind_nginx: dict[str, Any], auth: Callable[[str], dict[str, str]]) -> None:
    install = behind_nginx
    assert httpx.get(f"{install['http']}/api/v1/posts", timeout=10).status_code == 301  # plain HTTP sent to HTTPS
    with client(install) as anonymous:
        token = anonymous.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"})
        assert token.status_code == 200, token.text
        # the application sees the scheme the client used: its links are https
        landing = anonymous.get("/ogc").json()
        assert all(link["href"].startswith(install["url"]) for link in landing["links"]), landing["links"]
    with client(install, Authorization=f"Bearer {token.json()['access_token']}") as ops:
        assert ops.post("/api/v1/trackers", json={"code": "NGX-1"}).status_code == 201
        answered = {ops.get("/readyz", headers=admin_headers()).json()["process"] for _ in range(20)}
        assert len(answered) == 2, answered  # least_conn spreads requests over the two upstreams
        start = utcnow().replace(microsecond=0) - timedelta(hours=3)
        fixes = [{"tracker": "NGX-1", "t": (start + timedelta(seconds=5 * i)).isoformat(), "lat": 40.1, "lon": 46.7 + i * 1e-4}
                 for i in range(2_000)]
        stored = ops.post("/api/v1/positions", json={"positions": fixes})
        assert stored.status_code == 200 and stored.json()["stored"] == 2_000, stored.text


def test_a_live_stream_through_the_proxy_gets_a_fix_posted_to_either_process(
    behind_nginx: dict[str, Any], auth: Callable[[str], dict[str, str]],
) -> None:
    install = behind_nginx
    with client(install, **auth("ops")) as ops:
        assert ops.post("/api/v1/trackers", json={"code": "NGX-2", "bound_users": ["patrol"]}).status_code == 201
    seen: list[str] = []
    opened = threading.Event()
    stop = threading.Event()

    def read() -> None:
        with contextlib.suppress(httpx.HTTPError), client(install, **auth("ops")) as reader, \
                reader.stream("GET", "/api/v1/positions/stream", timeout=30) as stream:
            opened.set()
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    seen.extend(f["properties"]["code"] for f in json.loads(line[5:])["features"])
                if stop.is_set():
                    return

    threading.Thread(target=read, daemon=True).start()
    assert opened.wait(10)
    sent = 0

    def arrived() -> bool:  # a fix a second until one comes through: the stream subscribes after its headers
        nonlocal sent
        if "NGX-2" in seen:
            return True
        moment = utcnow().replace(microsecond=0) - timedelta(seconds=60 - sent)
        with client(install, **auth("patrol")) as patrol:
            answer = patrol.post("/api/v1/positions", json={"positions": [
                {"tracker": "NGX-2", "t": moment.isoformat(), "lat": 40.1, "lon": 46.7}]})
        assert answer.status_code == 200, answer.text
        sent += 1
        return False

    wait_for(arrived, 20, "a fix on the live stream through nginx", every=0.5)
    stop.set()


def test_cursor_on_target_over_tls_passes_through_to_the_processes(
    behind_nginx: dict[str, Any], auth: Callable[[str], dict[str, str]],
) -> None:
    install = behind_nginx
    pki = install["pki"]
    with client(install, **auth("ops")) as ops:
        # the TAK client's certificate names no user: the tracker is bound to the certificate itself
        assert ops.post("/api/v1/trackers", json={"code": "NGX-TAK", "cot_uid": "ANDROID-ngx",
                                                  "bound_certificates": [fingerprint_of(pki["client_cert"])]}).status_code == 201
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    context.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))

    def stored() -> Any:
        with client(install, **auth("ops")) as ops:
            tracker = next(t for t in ops.get("/api/v1/trackers").json() if t["code"] == "NGX-TAK")
            answer = ops.get(f"/api/v1/trackers/{tracker['id']}/track")
            return answer.json()["geometry"] if answer.status_code == 200 and answer.json().get("geometry") else None

    with socket.create_connection(("127.0.0.1", install["cot"])) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(pytak.gen_cot(lat=40.15, lon=46.75, uid="ANDROID-ngx", cot_type="a-f-G-U-C"))
        # connected until it is stored, as a TAK client stays (closing at once may reset the connection first)
        found = wait_for(stored, 15, "the TAK client's fix, sent through nginx, in the database")
    assert found["coordinates"] == [46.75, 40.15]
