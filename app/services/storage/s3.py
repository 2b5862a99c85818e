"""Blobs in an S3 bucket (Amazon S3, MinIO or any S3-compatible server), through boto3.

A blob is uploaded under its final, unique key (S3 has no rename): a single PutObject for small
files, a multipart upload in bounded parts for large ones, which s3transfer aborts if a part
fails, so a failed upload leaves no object. Nothing names the key before the database commit,
and a transaction that does not commit deletes it again. Reads are streamed GetObject bodies;
a seek reopens the object with an HTTP Range request (RFC 9110, section 14).
"""

import logging
import os
import threading
from datetime import datetime
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.exceptions import ClientError
from botocore.exceptions import EndpointConnectionError

from app.services.exceptions import StorageError
from app.services.storage.base import RemoteReader
from app.services.storage.base import Storage
from app.services.storage.base import check_key

log = logging.getLogger("coedit.storage")

MB = 1024 * 1024
# Parts of 8 MB, two at a time: a transfer holds a few parts' worth of buffers at most, whatever the
# file's size (S3 allows 10,000 parts, so up to 80 GB), and S3's 5 MB minimum part size is met.
PART_SIZE = 8 * MB
CONCURRENT_PARTS = 2

# S3 error codes worth plain words; the rest are "refused".
REASONS = {
    "AccessDenied": "the storage refused access (check the credentials and the bucket's policy)",
    "InvalidAccessKeyId": "the storage does not know the access key",
    "SignatureDoesNotMatch": "the storage refused the secret key",
    "NoSuchBucket": "the storage bucket does not exist",
    "QuotaExceeded": "the storage quota is used up",
    "XMinioStorageFull": "the storage is full",
    "SlowDown": "the storage is busy; try again",
    "ServiceUnavailable": "the storage is unavailable; try again",
}


def parse_url(url: str) -> tuple[str, str]:
    """s3://bucket/prefix -> (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError("STORAGE_URL must look like s3://bucket/prefix")
    return parts.netloc, parts.path.strip("/")


def storage_error(exc: Exception, doing: str) -> StorageError:
    """A StorageError in plain words for a boto3 failure (doing: 'written', 'read', ...)."""

    if isinstance(exc, StorageError):
        return exc
    # boto3's S3UploadFailedError hides the ClientError in its context (raised while handling it).
    cause = exc.__cause__ or exc.__context__ if isinstance(exc, S3UploadFailedError) else exc
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            return StorageError("blob missing")
        return StorageError(REASONS.get(code, f"the storage could not be {doing} ({code or 'refused'})"))
    if isinstance(cause, EndpointConnectionError):
        return StorageError("the storage could not be reached")
    return StorageError(f"the storage could not be {doing}")


class S3Reader(RemoteReader):
    def __init__(self, storage: "S3Storage", name: str, response: dict):
        super().__init__(response["ContentLength"], response["Body"])
        self._storage = storage
        self._name = name

    def _open_at(self, offset: int):
        return self._storage._get(self._name, offset)["Body"]

    def _read_from(self, source, limit: int) -> bytes:

        try:
            return source.read(limit)
        except (BotoCoreError, OSError) as exc:
            raise storage_error(exc, "read") from exc


class S3Storage(Storage):
    def __init__(self, url: str, temp_dir: str, endpoint_url: str | None = None, region: str | None = None):
        super().__init__(temp_dir)
        self.bucket, self.prefix = parse_url(url)
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self._lock = threading.Lock()
        self._client_pid = None
        self._client_instance = None

    # -- connection ------------------------------------------------------------------
    def _client(self):
        """One thread-safe boto3 client per process (a forked worker makes its own connections)."""
        with self._lock:
            if self._client_pid != os.getpid():
                config = Config(
                    region_name=self.region,
                    connect_timeout=10,
                    read_timeout=60,
                    retries={"mode": "standard", "max_attempts": 3},
                    # S3-compatible servers on an address of their own (MinIO, a test server on
                    # loopback) are addressed by path; virtual-hosted names need DNS for every bucket.
                    s3={"addressing_style": "path"} if self.endpoint_url else {},
                )
                self._client_instance = boto3.session.Session().client(
                    "s3", endpoint_url=self.endpoint_url, config=config
                )
                self._client_pid = os.getpid()
            return self._client_instance

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _get(self, name: str, offset: int = 0) -> dict:

        extra = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            return self._client().get_object(Bucket=self.bucket, Key=name, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise storage_error(exc, "read") from exc

    # -- the interface ---------------------------------------------------------------
    def put_file(self, path: str, prefix: str) -> str:

        key = self.new_key(prefix)
        transfer = TransferConfig(
            multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE, max_concurrency=CONCURRENT_PARTS
        )
        try:
            self._client().upload_file(path, self.bucket, self._name(key), Config=transfer)
        except (BotoCoreError, ClientError, S3UploadFailedError, OSError) as exc:
            # A PutObject whose answer was lost may still have stored the object: remove it.
            self.delete(key, quietly=True)
            raise storage_error(exc, "written") from exc
        os.unlink(path)  # the blob took its place
        return key

    def open(self, key: str) -> S3Reader:
        name = self._name(key)
        return S3Reader(self, name, self._get(name))

    def size(self, key: str) -> int:

        try:
            return self._client().head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]
        except (BotoCoreError, ClientError) as exc:
            raise storage_error(exc, "read") from exc

    def delete(self, key: str, quietly: bool = False) -> None:

        try:
            self._client().delete_object(Bucket=self.bucket, Key=self._name(key))  # a missing key is no error
        except (BotoCoreError, ClientError) as exc:
            if not quietly:
                raise storage_error(exc, "changed") from exc
            log.warning("could not delete blob %s: %s", key, exc)

    def abort_stale_uploads(self, started_before: datetime) -> int:
        """Abort the multipart uploads under our prefix begun before then: a process killed during
        a large upload leaves its parts behind, invisible as objects and billed until aborted
        (S3 API: ListMultipartUploads, AbortMultipartUpload). A bucket lifecycle rule
        (AbortIncompleteMultipartUpload) does the same on Amazon S3 without us."""
        client = self._client()
        prefix = f"{self.prefix}/" if self.prefix else ""
        aborted = 0
        try:
            for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] >= started_before:
                        continue  # may still be running
                    client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    aborted += 1
        except (BotoCoreError, ClientError) as exc:
            raise storage_error(exc, "changed") from exc
        return aborted

    def reachable(self) -> bool:

        try:
            self._client().head_bucket(Bucket=self.bucket)
            return True
        except (BotoCoreError, ClientError) as exc:
            log.warning("storage bucket %s does not answer: %s", self.bucket, exc)
            return False
