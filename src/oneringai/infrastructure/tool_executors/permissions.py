"""Allow/deny lists per tool, per user and per role, plus an optional approval callback.
Deny always wins; an allow list, when set, admits only its tools.

Deny and approval entries match the name the model sees and, for a tool from an MCP server,
also the server's own name without ``tool_prefix`` (``deny: [delete_file]`` denies
``files_delete_file``, as docs/mcp.md's example expects); allow entries match the name the
model sees only. Each errs on the side of refusing."""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.config import PermissionsExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["ApprovalCallback", "PermissionToolExecutor"]

ApprovalCallback = Callable[[ToolCall, ToolExecutionContext], Awaitable[bool] | bool]


def _folded(name: str) -> str:
    """A tool name as deny and approval lists compare it: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


class PermissionToolExecutor(WrapperToolExecutor):
    config: PermissionsExecutorConfig
    config_model = PermissionsExecutorConfig

    def __init__(
        self,
        wrapped: IToolExecutor,
        config: PermissionsExecutorConfig | None = None,
        *,
        approve: ApprovalCallback | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wrapped, config, **kwargs)
        self.approve = approve
        self._only_global = not self.config.users and not self.config.roles
        self._deny = frozenset(map(_folded, self.config.deny))
        self._allow = None if self.config.allow is None else frozenset(self.config.allow)
        self._approval = frozenset(map(_folded, self.config.require_approval))

    @staticmethod
    def _folded_names(tool: str, context: ToolExecutionContext) -> frozenset[str]:
        """The names a deny or approval entry may use for ``tool``, folded: its own and, for a
        tool from an MCP server, the server's name for it (``tool_prefix`` not included)."""
        folded = _folded(tool)
        remote = getattr(context.find_tool(tool), "server_tool_name", None)
        if isinstance(remote, str) and remote and remote != tool:
            return frozenset((folded, _folded(remote)))
        return frozenset((folded,))

    def denial(self, tool: str, context: ToolExecutionContext) -> str | None:
        """Why ``tool`` is not allowed for this caller, or None. Deny lists match whatever the
        case or Unicode form (``Delete_Repo`` denies ``delete_repo``), and an MCP tool's
        server-side name too; allow lists match exactly — each errs on the side of refusing."""
        folded = self._folded_names(tool, context)
        if self._only_global:  # the common case, decided with set lookups
            if not folded.isdisjoint(self._deny) or "*" in self._deny:
                return f"tool {tool!r} is denied (global)"
            if self._allow is not None and tool not in self._allow and "*" not in self._allow:
                return f"tool {tool!r} is not in an allow list (global)"
            return None
        rules: list[tuple[str, dict[str, list[str]]]] = [("global", {"deny": self.config.deny})]
        if self.config.allow is not None:
            rules[0][1]["allow"] = self.config.allow
        if context.user_id and context.user_id in self.config.users:
            rules.append((f"user {context.user_id}", self.config.users[context.user_id]))
        for role in sorted(context.roles):
            if role in self.config.roles:
                rules.append((f"role {role}", self.config.roles[role]))
        for where, rule in rules:
            deny = {_folded(name) for name in rule.get("deny", [])}
            if not folded.isdisjoint(deny) or "*" in deny:
                return f"tool {tool!r} is denied ({where})"
        # An allow list that is present (even empty) restricts; any one that admits the tool is enough.
        allow_lists = [(where, rule["allow"]) for where, rule in rules if rule.get("allow") is not None]
        if allow_lists and not any(tool in allowed or "*" in allowed for _, allowed in allow_lists):
            return f"tool {tool!r} is not in an allow list ({', '.join(w for w, _ in allow_lists)})"
        return None

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        name = tool_call.function.name
        reason = self.denial(name, context)
        if reason is not None:
            span_event("oneringai.tool.denied", {"oneringai.permission.code": "permission_denied"})
            return ToolResult.failure(tool_call, f"permission denied: {reason}", code="permission_denied")
        if self._approval and not self._folded_names(name, context).isdisjoint(self._approval):
            if self.approve is None:
                span_event("oneringai.tool.denied", {"oneringai.permission.code": "approval_required"})
                return ToolResult.failure(
                    tool_call,
                    f"tool {name!r} needs approval and no approver is configured",
                    code="approval_required",
                )
            verdict = self.approve(tool_call, context)
            if inspect.isawaitable(verdict):  # an async approver, or a plain function
                verdict = await verdict
            if verdict is not True:  # only an explicit True approves ("no", a coroutine: not)
                span_event("oneringai.tool.denied", {"oneringai.permission.code": "not_approved"})
                return ToolResult.failure(tool_call, f"tool {name!r} was not approved", code="not_approved")
        return await self.call_wrapped(tool_call, context)
