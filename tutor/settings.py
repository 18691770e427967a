"""One settings class for every process (API, worker, CLI), read from `TUTOR_*` variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LLMProvider = Literal["extractive", "openai", "local"]
EmbeddingProvider = Literal["local", "openai"]


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
    worker_concurrency: int = Field(default=1, description="Celery worker processes")
    celery_queue: str = "tutor"
    log_level: str = "info"

    llm_provider: LLMProvider | None = Field(
        default=None, description="extractive | openai | local; default local when installed, else extractive"
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_model_path: Path | None = Field(default=None, description="GGUF file for the local provider")
    llm_timeout_s: float = 120.0

    embedding_provider: EmbeddingProvider = "local"
    embedding_model: str | None = Field(default=None, description="default all-MiniLM-L6-v2 (local)")

    jwt_secret: str | None = Field(default=None, description="HS256 secret; default a generated local one")

    max_upload_mb: int = 100
    max_pages: int = 2000

    @cached_property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


def get_settings() -> Settings:
    return Settings()
