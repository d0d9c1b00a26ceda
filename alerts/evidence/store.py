"""Where evidence clips live: a local folder (default) or an S3-compatible bucket.

Alerts reference a clip by a URI fixed before the clip exists (it is derived from the alert id),
so the alert never waits for encoding or upload:
- local store: `evidence://clips/<alert_id>.mp4`, a key under the store's root folder; the
  worker and the API each resolve it under their configured root (one data dir in `lookout run`);
- S3 store: `s3://<bucket>/<prefix>clips/<alert_id>.mp4`, meaningful to anyone with access.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse

from alerts.evidence.config import EvidenceConfig, S3Config

log = logging.getLogger("lookout.evidence")

LOCAL_SCHEME = "evidence"
CLIP_TYPE = "video/mp4"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$")


class EvidenceError(RuntimeError):
    """The store cannot be reached or refused an operation."""


def clip_key(alert_id: str) -> str:
    # Ids become object names: refuse anything that could leave the store's folder.
    if not _SAFE_ID.match(alert_id):
        raise ValueError(f"not a usable alert id for a clip name: {alert_id!r}")
    return f"clips/{alert_id}.mp4"


def _check_key(key: str) -> str:
    if not _SAFE_KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"not a usable evidence key: {key!r}")
    return key


@dataclass(frozen=True)
class StoredObject:
    key: str
    mtime: float  # Unix seconds of the last write
    size: int


class EvidenceStore(Protocol):
    kind: str

    def uri(self, key: str) -> str: ...
    def key_of(self, uri: str) -> str | None: ...
    def put_file(self, key: str, path: Path, content_type: str = CLIP_TYPE) -> None: ...
    def size(self, key: str) -> int | None: ...
    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]: ...
    def list(self, prefix: str = "") -> Iterator[StoredObject]: ...
    def delete(self, key: str) -> None: ...


class LocalEvidenceStore:
    """Files under `root`, written atomically (temporary file + rename in the same folder)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def uri(self, key: str) -> str:
        return f"{LOCAL_SCHEME}://{_check_key(key)}"

    def key_of(self, uri: str) -> str | None:
        prefix = f"{LOCAL_SCHEME}://"
        if not uri or not uri.startswith(prefix):
            return None
        try:
            return _check_key(uri[len(prefix):])
        except ValueError:
            return None

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_file(self, key: str, path: Path, content_type: str = CLIP_TYPE) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        with open(self.path(key), "rb") as f:
            f.seek(start)
            yield from _chunks(f, end - start + 1)

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return
        for p in base.rglob("*"):
            if p.name.startswith(".") or not p.is_file():
                continue  # temporary files of a write in progress
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            yield StoredObject(p.relative_to(self.root).as_posix(), st.st_mtime, st.st_size)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def _chunks(f: BinaryIO, remaining: int, size: int = 256 * 1024) -> Iterator[bytes]:
    while remaining > 0:
        data = f.read(min(size, remaining))
        if not data:
            return
        remaining -= len(data)
        yield data


class S3EvidenceStore:
    """Objects `<prefix><key>` in an S3-compatible bucket (boto3, path-style addressing so local
    servers such as MinIO, SeaweedFS or moto work without DNS tricks)."""

    kind = "s3"

    def __init__(self, cfg: S3Config, client=None) -> None:
        self.cfg = cfg
        self.client = client if client is not None else _s3_client(cfg)

    def uri(self, key: str) -> str:
        return f"s3://{self.cfg.bucket}/{self.cfg.prefix}{_check_key(key)}"

    def key_of(self, uri: str) -> str | None:
        if not uri or not uri.startswith("s3://"):
            return None
        u = urlparse(uri)
        path = u.path.lstrip("/")
        if u.netloc != self.cfg.bucket or not path.startswith(self.cfg.prefix):
            return None  # another bucket: not ours to serve
        try:
            return _check_key(path[len(self.cfg.prefix):])
        except ValueError:
            return None

    def _name(self, key: str) -> str:
        return self.cfg.prefix + _check_key(key)

    def put_file(self, key: str, path: Path, content_type: str = CLIP_TYPE) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(path), self.cfg.bucket, self._name(key),
                                    ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError) as exc:
            raise EvidenceError(f"upload of {key} to bucket {self.cfg.bucket} failed: {exc}") from exc

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.cfg.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise EvidenceError(f"bucket {self.cfg.bucket}: {exc}") from exc
        return int(head["ContentLength"])

    def open_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        obj = self.client.get_object(Bucket=self.cfg.bucket, Key=self._name(key), Range=f"bytes={start}-{end}")
        body = obj["Body"]
        try:
            yield from body.iter_chunks(256 * 1024)
        finally:
            body.close()

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.cfg.bucket, Prefix=self.cfg.prefix + prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                yield StoredObject(obj["Key"][len(self.cfg.prefix):], obj["LastModified"].timestamp(), int(obj["Size"]))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.cfg.bucket, Key=self._name(key))


def _s3_client(cfg: S3Config):
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # boto3 is the `s3` extra
        raise EvidenceError("evidence store s3 needs boto3: pip install 'lookout-patrol-analytics[s3]'") from exc
    missing = [name for name in (cfg.access_key_env, cfg.secret_key_env) if not os.environ.get(name)]
    if missing:
        # Names only: the values are secrets.
        raise EvidenceError(f"evidence.s3: environment variable(s) not set: {', '.join(missing)}")
    return boto3.client(
        "s3",
        endpoint_url=cfg.endpoint_url,
        region_name=cfg.region,
        aws_access_key_id=os.environ[cfg.access_key_env],
        aws_secret_access_key=os.environ[cfg.secret_key_env],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                      connect_timeout=5, read_timeout=30),
    )


def open_store(cfg: EvidenceConfig, data_dir: Path) -> EvidenceStore:
    if cfg.store == "s3":
        assert cfg.s3 is not None  # the config model refuses s3 without its section
        store = S3EvidenceStore(cfg.s3)
        log.info("evidence store: s3 bucket %s prefix %r at %s", cfg.s3.bucket, cfg.s3.prefix,
                 cfg.s3.endpoint_url or "AWS")
        return store
    return LocalEvidenceStore(cfg.local_dir(data_dir))
