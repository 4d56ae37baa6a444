"""The model activity: one model turn, reading and extending the conversation by reference."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace

import httpx
from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.conversations import ConversationStore
from activities.heartbeat import with_heartbeats
from activities.log_context import activity_log_context
from activities.models.base import ModelAdapter
from activities.models.offline import OfflineModel
from activities.models.settings import ProviderSettings, build_adapter, operator_fix
from activities.models.tool_names import WireNames
from taskcraft.agents import ToolSpec
from taskcraft.blobs import BlobStore
from taskcraft.calls import (
    MODEL_ACTIVITY,
    ModelCallInput,
    ModelCallResult,
    ModelFailureDetails,
)
from taskcraft.errors import ErrorType
from taskcraft.messages import Usage
from taskcraft.offline import OfflineResponder


class ModelActivities:
    def __init__(
        self,
        *,
        conversations: ConversationStore,
        http: httpx.AsyncClient,
        env: Mapping[str, str],
        responders: Mapping[str, OfflineResponder] | None = None,
    ) -> None:
        self._conversations = conversations
        self._blobs: BlobStore = conversations.blobs
        self._http = http
        self._settings = ProviderSettings.from_env(env)
        self._offline = OfflineModel(responders)
        self._tools_cache: dict[str, list[ToolSpec]] = {}

    async def _tools(self, ref: str | None) -> list[ToolSpec]:
        if ref is None:
            return []
        if ref not in self._tools_cache:
            raw = json.loads(await self._blobs.get(ref))
            self._tools_cache[ref] = [ToolSpec.model_validate(item) for item in raw]
        return self._tools_cache[ref]

    def _adapter(self, inp: ModelCallInput, deadline_s: float) -> ModelAdapter:
        if inp.model.is_offline:
            return self._offline.for_agent(inp.agent)
        return build_adapter(
            inp.model.provider,
            self._settings,
            self._http,
            inp.model.retry.max_retry_after_s,
            read_timeout_s=deadline_s,
        )

    def _deadline_s(self, inp: ModelCallInput) -> float:
        """The call's time limit, inside the start-to-close the workflow actually set."""
        timeout = activity.info().start_to_close_timeout
        start_to_close_s = (
            timeout.total_seconds() if timeout is not None else inp.model.retry.start_to_close_s
        )
        return self._settings.call_deadline_s(start_to_close_s)

    @activity.defn(name=MODEL_ACTIVITY)
    async def complete(self, inp: ModelCallInput) -> ModelCallResult:
        with activity_log_context(model=inp.model.ref, step=inp.step) as log:
            history = await self._conversations.load(inp.conversation_ref)
            messages = [*history, *inp.new_messages]
            tools = await self._tools(inp.tools_ref)
            deadline_s = self._deadline_s(inp)
            adapter = self._adapter(inp, deadline_s)
            if inp.model.is_offline:
                log.info("model.offline", note="offline model answered; no provider was called")
            log.info("model.calling", messages=len(messages))
            # httpx's read timeout bounds each wait for bytes, not the whole answer: a
            # provider trickling a long generation is stopped here, as a retryable
            # ModelTimeout, before Temporal's start-to-close ends the attempt unexplained.
            deadline = asyncio.timeout(deadline_s)
            try:
                # The offline model is in-process: it reads Taskcraft's own tool names.
                names = WireNames([] if inp.model.is_offline else tools)
                async with deadline:
                    if names.needed:
                        completion = await with_heartbeats(
                            adapter.complete(
                                inp.model.model, names.messages(messages), names.tools(tools)
                            )
                        )
                        completion = replace(completion, message=names.answer(completion.message))
                    else:
                        completion = await with_heartbeats(
                            adapter.complete(inp.model.model, messages, tools)
                        )
            except ApplicationError as error:
                _record_call(inp, outcome=error.type or "error")
                explained = _with_fix(error, inp.model.provider)
                if explained is error:
                    raise
                raise explained from None
            except TimeoutError:
                if not deadline.expired():
                    raise
                _record_call(inp, outcome=ErrorType.MODEL_TIMEOUT)
                raise ApplicationError(
                    f"{inp.model.ref} did not finish answering within {deadline_s:g}s "
                    "(TASKCRAFT_MODEL_TIMEOUT_S, kept inside the reference's start_to_close_s)",
                    type=ErrorType.MODEL_TIMEOUT,
                ) from None
            ref = await self._conversations.append(
                inp.conversation_ref, [*inp.new_messages, completion.message]
            )
            _record_call(inp, outcome="ok", usage=completion.usage)
            log.info(
                "model.answered",
                tool_calls=len(completion.message.tool_calls),
                input_tokens=completion.usage.input_tokens,
                output_tokens=completion.usage.output_tokens,
                offline=inp.model.is_offline,
                stop_reason=completion.stop_reason.value,
                stop_detail=completion.stop_detail,
            )
            return ModelCallResult(
                message=completion.message,
                usage=completion.usage,
                model=inp.model.ref,
                offline=inp.model.is_offline,
                conversation_ref=ref,
                stop_reason=completion.stop_reason,
                stop_detail=completion.stop_detail,
            )


def _with_fix(error: ApplicationError, provider: str) -> ApplicationError:
    """A failure carrying ``ModelFailureDetails`` without a fix, with the setting to fix
    added (the adapters know what the provider answered, not the worker's variables)."""
    first = error.details[0] if error.details else None
    if not isinstance(first, dict) or first.get("fix"):
        return error
    try:
        details = ModelFailureDetails.model_validate(first)
    except ValidationError:
        return error  # not ours: pass it on as it is
    details.fix = operator_fix(provider, error.type or "")
    return ApplicationError(
        error.message,
        details.model_dump(),
        type=error.type,
        non_retryable=error.non_retryable,
        next_retry_delay=error.next_retry_delay,
    )


def _record_call(inp: ModelCallInput, *, outcome: str, usage: Usage | None = None) -> None:
    """``taskcraft_model_calls`` and ``taskcraft_model_tokens`` (see infra/metrics.py)."""
    meter = activity.metric_meter()
    labels = {"provider": inp.model.provider, "model": inp.model.model}
    meter.create_counter("taskcraft_model_calls", "Model calls by outcome").add(
        1, {**labels, "outcome": outcome}
    )
    if usage is not None:
        tokens = meter.create_counter("taskcraft_model_tokens", "Tokens by direction")
        tokens.add(usage.input_tokens, {**labels, "direction": "input"})
        tokens.add(usage.output_tokens, {**labels, "direction": "output"})
