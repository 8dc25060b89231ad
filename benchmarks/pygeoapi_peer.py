"""PeaceWatch's OGC API beside pygeoapi on PostGIS, the same events, the same requests (``bench_ogc.py --compare-pygeoapi``).

Both are real HTTP servers of one process on 127.0.0.1; the clients are threads sending the same list
of distinct requests to each. pygeoapi lives in its own virtual environment (its dependencies are not
ours), and reads a PostGIS table written from what PeaceWatch serves the public, so both hold the same
events; every answer's ids and numberMatched are compared before any figure is printed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
from scratch import demo_app
from sqlalchemy.engine import make_url

PEER_VENV = Path.home() / ".cache" / "peacewatch-bench" / "pygeoapi"
PEER_PACKAGES = ["pygeoapi==0.21.0", "psycopg2-binary", "geoalchemy2", "pygeofilter", "gunicorn"]
COLUMNS = ("type", "subtype", "status", "event_count", "area", "district", "place_name", "started_at", "ended_at")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within 120 s: {log.read_text()[-3000:]}")


def peer_environment() -> Path:
    """pygeoapi's own virtual environment, made once."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return PEER_VENV / "bin"


def postgis_table(admin_url: str, features: list[dict[str, Any]]) -> str:
    """A database ``pw_pygeoapi`` beside the benchmark's, with the events in a PostGIS table with a GiST index."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS pw_pygeoapi")
        connection.execute("CREATE DATABASE pw_pygeoapi")
    url = make_url(admin_url).set(database="pw_pygeoapi").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        try:
            connection.execute("CREATE EXTENSION postgis")
        except psycopg.Error as error:
            raise SystemExit(f"PostGIS is missing: apt-get install postgresql-15-postgis-3 ({error})") from None
        connection.execute("""CREATE TABLE incidents (id integer PRIMARY KEY, type text, subtype text, status text,
            event_count integer, area text, district text, place_name text, started_at timestamptz, ended_at timestamptz,
            geom geometry(Point, 4326))""")
        with connection.cursor().copy("COPY incidents (id, type, subtype, status, event_count, area, district, place_name,"
                                      " started_at, ended_at, geom) FROM STDIN") as copy:
            for feature in features:
                p = feature["properties"]
                lon, lat = feature["geometry"]["coordinates"]
                copy.write_row((feature["id"], *(p[c] for c in COLUMNS), f"SRID=4326;POINT({lon} {lat})"))
        connection.execute("CREATE INDEX incidents_geom ON incidents USING gist (geom)")
        connection.execute("ANALYZE incidents")
    return url


def peer_config(folder: Path, url: str, port: int) -> tuple[Path, Path]:
    """pygeoapi's configuration (JSON is YAML too) for the one collection, and where its OpenAPI document goes."""
    database = make_url(url)
    site = {"name": "bench", "url": "http://127.0.0.1"}
    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "languages": ["en-US"],
                   "limits": {"default_items": 10, "max_items": 10000},
                   "map": {"url": "https://tile.invalid/{z}/{x}/{y}.png", "attribution": "none"}},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "bench", "description": "bench", "keywords": ["bench"], "keywords_type": "theme",
                                        "terms_of_service": "none", "url": site["url"]},
                     "license": site, "provider": site,
                     "contact": {"name": "bench", "position": "bench", "email": "none", "url": site["url"], "role": "pointOfContact"}},
        "resources": {"incidents": {
            "type": "collection", "title": "incidents", "description": "the events PeaceWatch serves the public",
            "keywords": ["incidents"],
            "extents": {"spatial": {"bbox": [45, 38.8, 48, 41], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "PostgreSQL", "id_field": "id", "table": "incidents", "geom_field": "geom",
                           "data": {"host": database.host, "port": database.port or 5432, "dbname": database.database,
                                    "user": database.username, "password": database.password or "", "search_path": ["public"]}}],
        }},
    }
    path = folder / "pygeoapi.yml"
    path.write_text(json.dumps(config, indent=1))
    return path, folder / "openapi.yml"


def run_clients(base: str, requests: list[dict[str, Any]], clients: int, extra: dict[str, Any]) -> tuple[float, list[tuple[list[int], int]]]:
    """Send every request (each once) from ``clients`` threads; requests/s, and each answer's ids and count."""
    with httpx.Client(timeout=120) as http:
        def one(params: dict[str, Any]) -> tuple[list[int], int]:
            answer = http.get(base, params={"f": "json", "limit": 100, **params, **extra})
            assert answer.status_code == 200, (answer.status_code, answer.url, answer.text[:500])
            body = answer.json()
            return [int(f["id"]) for f in body["features"]], int(body["numberMatched"])

        one(requests[0])  # warm
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(one, requests))
        return len(requests) / (time.perf_counter() - began), answers


def compare(database_url: str, incidents: int, requests: int, clients: int,
            add_incidents: Callable[[Any, int], None]) -> None:
    bin_ = peer_environment()
    folder = Path(tempfile.mkdtemp(prefix="pw-bench-pygeoapi-"))
    with demo_app(database_url=database_url) as (app, settings, _scratch):
        add_incidents(app, incidents)
        # statistics, as a database in service has them from autovacuum (and as the peer's table has)
        with app.state.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
        app.state.engine.dispose()
        ours_port, peer_port = free_port(), free_port()
        env = os.environ | {"PEACEWATCH_DATABASE_URL": database_url, "PEACEWATCH_SECRET_KEY": settings.resolved_secret_key,
                            "PEACEWATCH_CUSTODY_KEY": "bench-custody-" + "y" * 40, "PEACEWATCH_DATA_DIR": str(folder / "data"),
                            "PEACEWATCH_PERIODIC_WORK": "false", "PEACEWATCH_COT_PORT": str(free_port()),
                            "PEACEWATCH_COT_UDP": "false"}
        logs = {name: folder / f"{name}.log" for name in ("peacewatch", "pygeoapi")}
        with open(logs["peacewatch"], "wb") as log:
            ours = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(ours_port)], env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        peer = None
        try:
            ours_items = f"http://127.0.0.1:{ours_port}/ogc/collections/incidents/items"
            wait_until_up(f"http://127.0.0.1:{ours_port}/readyz", ours, logs["peacewatch"])
            public: list[dict[str, Any]] = []
            while True:
                answer = httpx.get(ours_items, params={"limit": 10_000, "offset": len(public)}, timeout=120)
                assert answer.status_code == 200, answer.text
                page = answer.json()
                public += page["features"]
                if len(public) >= page["numberMatched"]:
                    break
            peer_url = postgis_table(database_url, public)
            config, openapi = peer_config(folder, peer_url, peer_port)
            peer_env = os.environ | {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
            made = subprocess.run([str(bin_ / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
                                  env=peer_env, capture_output=True, text=True)
            if made.returncode:
                raise SystemExit(f"pygeoapi refused its configuration: {made.stderr[-3000:]}")
            with open(logs["pygeoapi"], "wb") as log:
                peer = subprocess.Popen([str(bin_ / "gunicorn"), "--bind", f"127.0.0.1:{peer_port}", "--workers", "1",
                                         "--threads", str(clients), "pygeoapi.flask_app:APP"], env=peer_env, stdout=log,
                                        stderr=subprocess.STDOUT)
            peer_items = f"http://127.0.0.1:{peer_port}/collections/incidents/items"
            wait_until_up(f"{peer_items}?f=json&limit=1", peer, logs["pygeoapi"])
            print(f"{len(public):,} public events of {incidents:,} reports, served by both; {clients} clients, "
                  f"{requests} distinct requests of each kind")
            kinds = {
                "a page of 100": [{"offset": 100 * (i % (len(public) // 100))} for i in range(requests)],
                "in a box, a page of 100": [{"bbox": f"46.6,{39.6 + i % 200 / 1000:.3f},46.9,40.2"} for i in range(requests)],
                "CQL2 filter, a page of 100": [
                    {"filter": f"status = 'confirmed' AND event_count >= {1 + i % 9}",
                     "offset": 100 * (i // 9 % 3)} for i in range(requests)],
            }
            print(f"{'':30} {'PeaceWatch':>12} {'pygeoapi':>12} {'ratio':>7}")
            for label, asked in kinds.items():
                ours_rate, ours_answers = run_clients(ours_items, asked, clients, {})
                peer_rate, peer_answers = run_clients(peer_items, asked, clients, {"sortby": "id"})
                for params, mine, theirs in zip(asked, ours_answers, peer_answers):
                    assert mine == theirs, (label, params, mine[1], theirs[1], mine[0][:5], theirs[0][:5])
                assert any(ids for ids, _ in ours_answers), label
                print(f"{label:30} {ours_rate:9.1f} r/s {peer_rate:9.1f} r/s {ours_rate / peer_rate:6.2f}x")
        finally:
            for process in (ours, peer):
                if process is not None:
                    process.terminate()
                    process.wait(30)
            shutil.rmtree(folder, ignore_errors=True)
