"""A primary, its streaming replica, and deploy/'s HAProxy and pgbouncer in front: real servers for the
failover tests, made from Debian's packages as docs/deployment.md §9 describes.

PostgreSQL and pgbouncer refuse to run as root, so they run as ``postgres`` (``runuser``), in a folder that
user owns; the servers keep fsync on. HAProxy and pgbouncer are the repository's own configurations with
only ports, addresses and files changed, so what the docs install is what is tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.helpers import wait_for
from tests.live import free_port

PGBIN = Path("/usr/lib/postgresql/15/bin")
DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def missing_tools() -> str | None:
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root, to run PostgreSQL and pgbouncer as postgres"
    for tool in (PGBIN / "initdb", Path("/usr/sbin/pgbouncer"), Path("/usr/sbin/haproxy")):
        if not tool.exists():
            return f"needs {tool} (.ci/run installs it)"
    return None


def as_postgres(*command: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, command)], capture_output=True, text=True,
                          check=True, **options)  # type: ignore[call-overload]  # subprocess's overloads, given text=True


@dataclass
class PostgresServer:
    """One PostgreSQL cluster on loopback."""

    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/peacewatch"

    def start(self) -> None:
        as_postgres(PGBIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "start")

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PGBIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], capture_output=True)

    def kill(self) -> None:
        """SIGKILL to the postmaster, as a crashed machine: its backends are left to die on their own."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 9)

    def promote(self) -> None:
        as_postgres(PGBIN / "pg_ctl", "-D", self.data, "-w", "promote")

    def query(self, sql: str, database: str = "peacewatch") -> list[tuple[object, ...]]:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True,
                             connect_timeout=5) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []


@dataclass
class Cluster:
    primary: PostgresServer
    standby: PostgresServer
    haproxy_port: int
    pgbouncer_port: int
    folder: Path
    logs: list[Path] = field(default_factory=list)

    @property
    def pooled_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pgbouncer_port}/peacewatch"

    @property
    def primary_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.haproxy_port}/peacewatch"

    def settings(self) -> dict[str, str]:
        """The environment of deploy/peacewatch.env.example's pgbouncer and HAProxy lines."""
        return {"PEACEWATCH_DATABASE_KIND": "postgresql", "PEACEWATCH_DATABASE_URL": self.pooled_url,
                "PEACEWATCH_DB_POOL_MODE": "transaction", "PEACEWATCH_DATABASE_DIRECT_URL": self.primary_url}

    def tail(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in self.logs if log.exists())


def _initdb(folder: Path, port: int) -> PostgresServer:
    server = PostgresServer(folder / f"pg{port}", port, folder / f"pg{port}.log")
    as_postgres(PGBIN / "initdb", "-D", server.data, "-A", "trust", "-U", "postgres", "-E", "UTF8")
    with open(server.data / "postgresql.conf", "a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{folder}'\n"
                   "wal_level = replica\nmax_wal_senders = 5\nfsync = on\nsynchronous_commit = on\nmax_connections = 200\n")
    with open(server.data / "pg_hba.conf", "a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    return server


def _standby_of(primary: PostgresServer, folder: Path, port: int) -> PostgresServer:
    standby = PostgresServer(folder / f"pg{port}", port, folder / f"pg{port}.log")
    as_postgres(PGBIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", standby.data,
                "-R", "--checkpoint=fast", "--wal-method=stream")
    conf = standby.data / "postgresql.conf"
    conf.write_text(conf.read_text().replace(f"port = {primary.port}", f"port = {port}"))
    return standby


def haproxy_config(bind: int, servers: list[int]) -> str:
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
    text = text.replace("  log /dev/log local0\n", "").replace("  log global\n", "").replace("  option tcplog\n", "")
    text = text.replace("bind 127.0.0.1:5433", f"bind 127.0.0.1:{bind}")
    text = text.replace("db1.hq.example.org:5432", f"127.0.0.1:{servers[0]}").replace("db2.hq.example.org:5432", f"127.0.0.1:{servers[1]}")
    assert f"127.0.0.1:{servers[1]}" in text
    return text


def pgbouncer_config(folder: Path, listen: int, haproxy: int) -> str:
    text = (DEPLOY / "pgbouncer" / "pgbouncer.ini").read_text()
    text = text.replace("host=127.0.0.1 port=5433", f"host=127.0.0.1 port={haproxy}")
    text = text.replace("listen_port = 6432", f"listen_port = {listen}").replace("auth_type = scram-sha-256", "auth_type = trust")
    text = text.replace("/etc/pgbouncer/userlist.txt", str(folder / "userlist.txt"))
    assert f"port={haproxy}" in text and f"listen_port = {listen}" in text
    text = text.replace("logfile = /var/log/postgresql/pgbouncer.log", f"logfile = {folder / 'pgbouncer.log'}")
    text = text.replace("pidfile = /var/run/postgresql/pgbouncer.pid", f"pidfile = {folder / 'pgbouncer.pid'}")
    assert str(folder / "pgbouncer.pid") in text
    return text + "\nunix_socket_dir =\n"


@contextmanager
def replicated_cluster(*, synchronous: bool = True) -> Iterator[Cluster]:
    """A primary with one streaming standby (synchronous if asked), HAProxy to the primary, pgbouncer to HAProxy."""
    folder = Path(tempfile.mkdtemp(prefix="peacewatch-failover-", dir="/tmp"))
    shutil.chown(folder, "postgres", "postgres")
    stack = ExitStack()
    try:
        primary = _initdb(folder, free_port())
        primary.start()
        stack.callback(primary.stop)
        primary.query("CREATE DATABASE peacewatch", database="postgres")
        primary.query("CREATE ROLE peacewatch_check LOGIN", database="postgres")
        standby = _standby_of(primary, folder, free_port())
        standby.start()
        stack.callback(standby.stop)
        if synchronous:  # after the copy: the promoted standby then takes writes without a standby of its own
            primary.query("ALTER SYSTEM SET synchronous_standby_names = '*'", database="postgres")
            primary.query("SELECT pg_reload_conf()", database="postgres")
        wait_for(lambda: primary.query("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                                       + (" AND sync_state = 'sync'" if synchronous else ""))[0][0] == 1,
                 30, "the standby to stream", every=0.1)
        cluster = Cluster(primary, standby, free_port(), free_port(), folder,
                          [primary.log, standby.log, folder / "haproxy.log", folder / "pgbouncer.log"])
        (folder / "haproxy.cfg").write_text(haproxy_config(cluster.haproxy_port, [primary.port, standby.port]))
        with open(folder / "haproxy.log", "wb") as log:
            haproxy = subprocess.Popen(["/usr/sbin/haproxy", "-db", "-f", str(folder / "haproxy.cfg")], stdout=log, stderr=log)
        stack.callback(haproxy.wait, 10)
        stack.callback(haproxy.terminate)
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(pgbouncer_config(folder, cluster.pgbouncer_port, cluster.haproxy_port))
        for path in folder.iterdir():
            shutil.chown(path, "postgres", "postgres")
        pgbouncer = subprocess.Popen(["runuser", "-u", "postgres", "--", "/usr/sbin/pgbouncer", str(folder / "pgbouncer.ini")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # it logs to its logfile
        stack.callback(pgbouncer.wait, 10)
        stack.callback(pgbouncer.terminate)

        def answers() -> bool:
            try:
                with psycopg.connect(cluster.pooled_url, connect_timeout=2, prepare_threshold=None) as connection:
                    return connection.execute("SELECT NOT pg_is_in_recovery()").fetchone() == (True,)
            except psycopg.Error:
                return False

        wait_for(answers, 30, "pgbouncer and HAProxy to reach the primary", every=0.2)
        yield cluster
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)
