"""Activities: all of Taskcraft's I/O (model providers, tools, connectors, notifications)."""

from activities.agent_activity import AgentActivities
from activities.model_activity import ModelActivities
from activities.notify import NotifyActivities, NotifySettings
from activities.store import BlobStorageDriver, BlobStore, ConversationStore, FolderBlobStore
from activities.tool_activity import ToolActivities

__all__ = [
    "AgentActivities",
    "BlobStorageDriver",
    "BlobStore",
    "ConversationStore",
    "FolderBlobStore",
    "ModelActivities",
    "NotifyActivities",
    "NotifySettings",
    "ToolActivities",
]
