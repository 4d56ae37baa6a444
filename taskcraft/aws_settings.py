"""Which AWS region and credentials the worker's environment names, for any AWS client.

Read from the mapping a worker was configured with (its environment, or a test's), so
CloudWatch Logs and the S3 blob store agree on the variables and on what is missing.
Unset keys leave botocore's own chain (``AWS_PROFILE``, SSO, instance or task roles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def first_set(env: Mapping[str, str], *names: str) -> str:
    """The first of ``names`` set to something other than blanks, stripped; else ""."""
    return next((env[n].strip() for n in names if env.get(n, "").strip()), "")


@dataclass(frozen=True)
class AwsAccess:
    region: str = ""
    profile: str = ""
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AwsAccess:
        return cls(
            region=first_set(env, "AWS_REGION", "AWS_DEFAULT_REGION"),
            profile=first_set(env, "AWS_PROFILE"),
            access_key_id=first_set(env, "AWS_ACCESS_KEY_ID"),
            secret_access_key=first_set(env, "AWS_SECRET_ACCESS_KEY"),
            session_token=first_set(env, "AWS_SESSION_TOKEN"),
        )

    def problems(self) -> list[str]:
        if bool(self.access_key_id) == bool(self.secret_access_key):
            return []
        missing = "AWS_SECRET_ACCESS_KEY" if self.access_key_id else "AWS_ACCESS_KEY_ID"
        return [f"{missing} is not set; AWS access keys come in pairs."]
