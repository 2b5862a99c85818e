"""Every model, imported here so Alembic sees them all."""

from app.models import search as _search  # noqa: F401  (registers the search index's DDL)
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.conversion import ConversionJob
from app.models.favourite import Favourite
from app.models.file import LEVELS
from app.models.file import DeletedFile
from app.models.file import DocKey
from app.models.file import File
from app.models.file import FileRight
from app.models.file import FileVersion
from app.models.file import Folder
from app.models.file import SaveReceipt
from app.models.group import Group
from app.models.group import GroupMember
from app.models.incoming_hook import IncomingHook
from app.models.job import FailedJob
from app.models.lock import TransitionLock
from app.models.notification import Notification
from app.models.setting import Setting
from app.models.share import ShareLink
from app.models.share import ShareLinkUse
from app.models.space import ROLES
from app.models.space import Membership
from app.models.space import Post
from app.models.space import Space
from app.models.template import DocumentTemplate
from app.models.user import ApiToken
from app.models.user import User
from app.models.user import UserSession
from app.models.webhook import Webhook
from app.models.webhook import WebhookDelivery

__all__ = [
    "AuditEvent",
    "Base",
    "ConversionJob",
    "LEVELS",
    "DeletedFile",
    "FailedJob",
    "DocKey",
    "DocumentTemplate",
    "Favourite",
    "File",
    "FileRight",
    "FileVersion",
    "Folder",
    "Group",
    "GroupMember",
    "IncomingHook",
    "Notification",
    "SaveReceipt",
    "TransitionLock",
    "Setting",
    "ShareLink",
    "ShareLinkUse",
    "ROLES",
    "Membership",
    "Post",
    "Space",
    "ApiToken",
    "User",
    "UserSession",
    "Webhook",
    "WebhookDelivery",
]
