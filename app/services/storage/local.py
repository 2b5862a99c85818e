"""Blobs on local disk under one root folder."""

import os

from app.services.exceptions import StorageError
from app.services.storage.base import Storage
from app.services.storage.base import writing


class LocalStorage(Storage):
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        super().__init__(os.path.join(self.root, "tmp"))

    def _path(self, key: str) -> str:
        # Keys are made by us, but check anyway: nothing outside the root is ever touched.
        path = os.path.abspath(os.path.join(self.root, key))
        if not path.startswith(self.root + os.sep) or "\x00" in key:
            raise StorageError("invalid storage key")
        return path

    def put_file(self, path: str, prefix: str) -> str:
        key = self.new_key(prefix)
        target = self._path(key)
        with writing():
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())  # the bytes are on disk before the rename names them
            os.replace(path, target)
            dir_fd = os.open(os.path.dirname(target), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return key

    def open(self, key: str):
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise StorageError("blob missing") from None

    def size(self, key: str) -> int:
        return os.path.getsize(self._path(key))

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def local_path(self, key: str) -> str:
        return self._path(key)
