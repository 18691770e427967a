"""Where uploaded files live: a directory under the data dir, or an S3-compatible bucket."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol

from tutor.settings import Settings


class FileStorage(Protocol):
    """Blocking calls: async code runs them in a thread."""

    def put(self, key: str, data: bytes | Path) -> str:
        """Store `data` (bytes, or a file copied from disk) under `key`; return the location recorded in
        source_files.file_path, the one to get or delete it by."""

    def get(self, location: str) -> bytes:
        """The stored bytes; FileNotFoundError when nothing is stored there."""

    def delete(self, location: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, location: str) -> Path:
        path = (self.root / location).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"location outside the storage root: {location}")
        return path

    def put(self, key: str, data: bytes | Path) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        if isinstance(data, Path):
            shutil.copyfile(data, tmp)
        else:
            tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a file
        return key

    def get(self, location: str) -> bytes:
        return self._path(location).read_bytes()

    def delete(self, location: str) -> None:
        self._path(location).unlink(missing_ok=True)


class S3Storage:
    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None) -> None:
        import boto3  # optional: only S3 deployments need it

        self.bucket, self.prefix = bucket, prefix
        self._client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def put(self, key: str, data: bytes | Path) -> str:
        location = f"{self.prefix}{key}"
        if isinstance(data, Path):  # streamed (in parts when large), never read whole
            self._client.upload_file(str(data), self.bucket, location, ExtraArgs={"ContentType": "application/pdf"})
        else:
            self._client.put_object(Bucket=self.bucket, Key=location, Body=data, ContentType="application/pdf")
        return f"s3://{self.bucket}/{location}"

    def _key(self, location: str) -> str:
        return location.removeprefix(f"s3://{self.bucket}/")

    def get(self, location: str) -> bytes:
        try:
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=self._key(location))["Body"].read()
        except self._client.exceptions.NoSuchKey:
            raise FileNotFoundError(location) from None  # as LocalStorage says it
        return body

    def delete(self, location: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(location))


def open_storage(settings: Settings) -> FileStorage:
    if settings.storage_backend == "s3":
        if not settings.s3_bucket:
            raise RuntimeError("TUTOR_STORAGE_BACKEND=s3 needs TUTOR_S3_BUCKET")
        return S3Storage(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url)
    return LocalStorage(settings.files_dir)
