"""One settings class for every process (API, worker, CLI), read from `TUTOR_*` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LLMProvider = Literal["extractive", "openai", "local"]
EmbeddingProvider = Literal["local", "openai"]
EmbeddingBackend = Literal["onnx-int8", "onnx", "torch"]


class Settings(BaseSettings):
    """Unset service URLs mean embedded services under `data_dir`."""

    model_config = SettingsConfigDict(env_prefix="TUTOR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".tutor"), description="Embedded data: PostgreSQL, Redis, Chroma, files.")

    database_url: str | None = Field(default=None, description="postgresql+asyncpg://user:pass@host/db")
    redis_url: str | None = Field(default=None, description="redis://host:6379/0 (Celery broker, rate limits)")
    chroma_path: Path | None = Field(default=None, description="Chroma on disk; default DATA_DIR/chroma")
    chroma_url: str | None = Field(default=None, description="http://host:8000 of a Chroma server")

    host: str = "127.0.0.1"
    port: int = 8000
    api_workers: int = 1
    api_keep_alive_s: int = Field(
        default=75,
        description="how long the API keeps an idle client connection open; above a load balancer's idle timeout",
    )
    database_pool_size: int = Field(
        default=20,
        description="PostgreSQL connections kept open per API worker; a chat turn holds one at a time",
    )
    worker_concurrency: int = Field(default=1, description="Celery worker processes")
    celery_queue: str = "tutor"
    broker_visibility_timeout_s: int = Field(
        default=3600, description="an unacknowledged job (its worker died) is redelivered after this long"
    )
    log_level: str = "info"

    # Supervision (`tutor up`): a child that dies is restarted after a delay that doubles while it keeps dying
    # within 30 s of starting; after this many such failures in a row `tutor up` stops everything.
    restart_delay_s: float = Field(default=0.5, description="first delay before restarting a child that died")
    restart_max_delay_s: float = Field(default=30.0, description="longest delay between restarts")
    restart_max_fast_failures: int = Field(default=5, description="failures within 30 s of starting before giving up")

    # The parse sandbox: each PDF is parsed in a child process with these limits.
    parse_max_memory_mb: int = Field(default=2048, description="address space of the PDF parsing process (MB)")
    parse_max_cpu_s: int = Field(default=60, description="CPU seconds one PDF may take to parse")
    parse_max_chars_per_page: int = Field(default=200_000, description="text one page may hold")
    parse_max_chars_per_file: int = Field(default=20_000_000, description="text one PDF may hold")
    # Scanned pages (no text layer) are recognised in a child process of their own, with these limits.
    ocr: bool = Field(default=True, description="recognise the text of scanned pages (OCR)")
    ocr_max_memory_mb: int = Field(default=4096, description="address space of the OCR process (MB)")
    ocr_max_cpu_s_per_page: int = Field(default=60, description="CPU seconds OCR may take per scanned page")

    # Replies and jobs whose process died.
    chat_write_interval_s: float = Field(default=1.0, description="a streaming reply's text is saved this often")
    chat_stale_after_s: float = Field(
        default=30.0, description="a reply not saved for this long lost its process; it is closed as interrupted"
    )
    job_heartbeat_s: float = Field(default=5.0, description="how often a worker marks its running job alive")
    job_stalled_after_s: float = Field(
        default=30.0, description="a running job without a heartbeat this long is stalled and retried"
    )
    job_max_attempts: int = Field(default=3, description="runs of one job (stalled ones retried) before it fails")

    llm_provider: LLMProvider | None = Field(
        default=None,
        description="extractive | openai | local; default openai when TUTOR_LLM_BASE_URL is set, else extractive",
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_model_path: Path | None = Field(default=None, description="GGUF file for the local provider")
    llm_timeout_s: float = 120.0
    llm_verify: bool = Field(
        default=True,
        description="check each sentence a generative model writes against the passages it cites before showing it",
    )

    quiz_generator: Literal["auto", "llm", "offline"] = Field(
        default="auto",
        description="who writes quizzes and names weeks: auto = the LLM for an OpenAI-compatible server, else offline",
    )

    embedding_provider: EmbeddingProvider = "local"
    embedding_model: str | None = Field(default=None, description="default all-MiniLM-L6-v2 (local)")
    embedding_backend: EmbeddingBackend = Field(
        default="onnx-int8",
        description="how the local model runs: onnx-int8 (fastest), onnx (float, same vectors as torch), torch",
    )
    model_cache_dir: Path | None = Field(
        default=None, description="exported ONNX models; default $XDG_CACHE_HOME/ai-tutor or ~/.cache/ai-tutor"
    )

    jwt_secret: str | None = Field(default=None, description="HS256 secret; default one generated in DATA_DIR")
    jwt_jwks_url: str | None = Field(default=None, description="JWKS of the identity provider (RS256)")
    jwt_issuer: str | None = Field(default=None, description="required `iss` claim, when set")
    jwt_audience: str | None = Field(default=None, description="required `aud` claim, when set")
    jwt_leeway_s: int = Field(default=30, description="clock skew allowed on exp/nbf/iat")
    jwt_role_claim: str = "role"

    oidc_issuer: str | None = Field(
        default=None, description="the school's OpenID Connect issuer URL: the console offers sign-in with it"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_role_claim: str = Field(default="role", description="ID-token claim holding student, teacher or admin")
    oidc_scopes: str = "openid email profile"

    max_message_chars: int = Field(default=4000, description="longest chat message accepted")
    chat_history_turns: int = Field(default=6, description="earlier turns the tutor's prompt carries")
    retrieval_k: int = Field(default=5, description="passages retrieved per question")
    refusal_threshold: float = Field(default=0.3, description="below this similarity the course does not cover it")

    max_upload_mb: int = Field(default=100, description="largest accepted PDF, in MB")
    max_pages: int = Field(default=2000, description="most pages accepted in one PDF")
    max_files_per_upload: int = 20
    max_weeks: int = Field(
        default=52, description="most weeks in a course; more chapters share weeks, and the job result says which"
    )

    rate_limit_chat_per_minute: int = Field(default=30, description="chat turns per user per minute")
    rate_limit_uploads_per_hour: int = Field(default=30, description="uploads per user per hour")
    rate_limit_widget_sessions_per_address_hour: int = Field(
        default=30, description="widget visitor tokens minted per client address per hour"
    )
    rate_limit_widget_sessions_per_course_hour: int = Field(
        default=2000, description="widget visitor tokens minted per course per hour (all visitors)"
    )
    rate_limit_widget_chat_per_address_minute: int = Field(
        default=30, description="widget chat turns per client address per minute"
    )
    rate_limit_widget_chat_per_course_minute: int = Field(
        default=600, description="widget chat turns per course per minute (all visitors)"
    )
    max_widget_visitors_per_course: int = Field(
        default=50_000, description="anonymous visitor accounts one course's widget may create"
    )

    storage_backend: Literal["local", "s3"] = Field(default="local", description="where uploaded files live")
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = Field(default=None, description="for S3-compatible stores (MinIO, R2, ...)")
    s3_prefix: str = "tutor/"

    public_url: str | None = Field(
        default=None,
        description="the tutor's address as browsers and other systems reach it (https://tutor.school.edu); "
        "default http://HOST:PORT. Names the tutor's activities and accounts in xAPI statements",
    )

    # The outbox: messages to other systems (xAPI statements, LMS scores), delivered by workers with retries.
    outbox_sweep_s: float = Field(default=5.0, description="how often a worker looks for messages due")
    outbox_retry_s: float = Field(default=5.0, description="delay before a failed delivery's first retry")
    outbox_retry_max_s: float = Field(default=3600.0, description="the retry delay doubles up to this")
    outbox_max_attempts: int = Field(
        default=50, description="deliveries tried before a message is marked failed (~2 days at the defaults)"
    )
    outbox_lease_s: float = Field(
        default=300.0, description="a claimed message is due again after this if its worker died while sending"
    )

    xapi_endpoint: str | None = Field(
        default=None, description="an LRS's xAPI base URL (…/xAPI/); unset: no statements are recorded"
    )
    xapi_username: str | None = None
    xapi_password: str | None = None
    xapi_timeout_s: float = Field(default=10.0, description="one statement's request to the LRS")

    # Plain properties, not cached ones: a cached value would survive `model_copy(update=...)` and point a copy
    # with another chroma_path at the original's index.
    @property
    def resolved_model_cache_dir(self) -> Path:
        if self.model_cache_dir:
            return self.model_cache_dir
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "ai-tutor"

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


def local_jwt_secret(settings: Settings) -> str:
    """The configured secret, or one generated once under the data dir and shared by local processes."""
    if settings.jwt_secret:
        return settings.jwt_secret
    import secrets

    path = settings.data_dir / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def get_settings() -> Settings:
    return Settings()
