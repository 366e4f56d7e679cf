"""Server settings: flags and ``DAOGOU_*`` environment variables, read at the HTTP edge only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAOGOU_", extra="ignore")

    home: Path = Path(".daogou")
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    bundle: Path | None = None                 # default: HOME/models/daogou-rec when it exists
    encoder: str = "e5-multilingual"           # the search index's text encoder
    llm_backend: str = "auto"                  # auto | llamacpp | openai | template
    llm_model: str = ""
    llm_base_url: str = ""
    llm_api_key: str = ""
    admin_keys: str = ""                       # comma-separated API keys for /v1/admin/* and copy writing
    secret: str = ""                           # signs shopper tokens; default: HOME/secret.key (created, 0600)
    previous_secrets: str = ""                 # comma-separated: still verify tokens they signed (rotation)
    token_ttl_s: int = Field(30 * 86400, ge=60)
    demo_login: bool = False                   # allow "sign in as a demo shopper" (the demo only)
    rate_per_s: float = Field(20.0, ge=0)      # per shopper (or per address without a token); 0 = no limit
    rate_burst: int = Field(60, ge=1)
    chat_rate_per_s: float = Field(2.0, ge=0)
    chat_burst: int = Field(10, ge=1)
    auth_rate_per_s: float = Field(0.2, ge=0)  # guest tokens and demo sign-ins, per address
    auth_burst: int = Field(20, ge=1)
    service_keys: str = ""                     # comma-separated name=key: server-to-server callers (X-Service-Key)
    service_rate_per_s: float = Field(500.0, ge=0)  # each service's own quota; 0 = no limit
    service_burst: int = Field(1000, ge=1)
    trusted_proxies: str = ""                  # comma-separated addresses/CIDRs whose X-Forwarded-For is believed
    conversations_per_shopper: int = Field(50, ge=1)  # a shopper's live conversations; the oldest go first
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_import_bytes: int = Field(256 * 1024 * 1024, ge=1024)
    cards: int = Field(6, ge=1, le=24)
    torch_threads: int = Field(1, ge=1, le=256)
    compute_threads: int = Field(0, ge=0, le=256)  # model work running at once per worker; 0 = from the cores
    workers: int = Field(1, ge=1, le=256)      # processes serving on one port (`daogou serve --workers`)
    rate_limit_storage: str = ""               # limits storage URI; default memory:// (1 worker) or HOME/ratelimits.sqlite
    store_name: str = "daogou demo store"

    def compute_slots(self) -> int:
        """Model work running at once in this process: one less than the cores with one worker (the event loop keeps
        one), the cores shared out between several workers."""
        if self.compute_threads:
            return self.compute_threads
        cores = os.cpu_count() or 2
        return max(1, cores - 1) if self.workers <= 1 else max(1, cores // self.workers)

    def rate_limit_storage_uri(self) -> str:
        """Where rate-limit counts live: the configured URI, else this process's memory with one worker, else a SQLite
        file in the home that every worker shares."""
        if self.rate_limit_storage:
            return self.rate_limit_storage
        if self.workers <= 1:
            return "memory://"
        return "sqlite:///" + str((Path(self.home) / "ratelimits.sqlite").resolve()).lstrip("/")

    def admin_key_list(self) -> list[str]:
        return [k.strip() for k in self.admin_keys.split(",") if k.strip()]

    def service_key_map(self) -> dict[str, str]:
        """``name=key,…`` → {name: key}; a malformed entry is a configuration error, not a silent skip."""
        from daogou.errors import ConfigError
        out: dict[str, str] = {}
        for entry in (e.strip() for e in self.service_keys.split(",")):
            if not entry:
                continue
            name, sep, key = entry.partition("=")
            if not sep or not name.strip() or len(key.strip()) < 16:
                raise ConfigError(f"DAOGOU_SERVICE_KEYS: {entry.split('=')[0]!r} needs the form name=key with a key "
                                  "of at least 16 characters")
            out[name.strip()] = key.strip()
        return out

    def proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    def signing_secrets(self) -> list[bytes]:
        """The secret that signs (first), then the previous ones that still verify."""
        return [self.signing_secret()] + [p.strip().encode() for p in self.previous_secrets.split(",") if p.strip()]

    def signing_secret(self) -> bytes:
        """The configured secret, else one kept in HOME/secret.key (created on first use, readable by the owner only)."""
        if self.secret:
            return self.secret.encode()
        path = Path(self.home) / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip().encode()
