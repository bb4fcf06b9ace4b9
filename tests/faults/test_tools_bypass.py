"""Ways around the permission layer, and the ``client.tools.execute`` promise (third
adversarial review).

* A deny (or approval) entry written in another case than the tool's name — ``Delete_Repo``
  for ``delete_repo`` — silently denied nothing. Deny and approval lists now match case- and
  Unicode-form-insensitively; allow lists stay exact (both err on the side of refusing).
* An approver answering something other than ``True`` (``"no"``, ``1``) approved the call.
* ``client.tools.execute`` promised "an error result, never an exception", yet a layer that
  raised propagated, and a non-string name leaked pydantic's ``ValidationError``.
"""

from __future__ import annotations

import pytest

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.application.tools_facade import ToolsFacade
from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor
from oneringai.testing import tool_call

RAN: list[str] = []
#: "delete_repo" in full-width letters (NFKC folds it to the ASCII name)
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in "delete_repo")


@tool
def delete_repo() -> str:
    """Dangerous."""
    RAN.append("delete_repo")
    return "deleted"


@pytest.fixture(autouse=True)
def _clear() -> None:
    RAN.clear()


@pytest.mark.parametrize("entry", ["Delete_Repo", "DELETE_REPO", FULLWIDTH])
@pytest.mark.parametrize("where", ["global", "user", "role"])
async def test_a_deny_entry_in_another_case_or_form_still_denies(entry: str, where: str) -> None:
    rules = {"deny": [entry]}
    options = (
        rules if where == "global" else {"users": {"u": rules}} if where == "user" else {"roles": {"r": rules}}
    )
    executor = PermissionToolExecutor(DirectToolExecutor(), **options)
    context = ToolExecutionContext(tools=[delete_repo], user_id="u", roles=frozenset({"r"}))
    result = await executor.execute_tool(tool_call("delete_repo"), context)
    assert result.metadata.get("code") == "permission_denied", result
    assert RAN == []


async def test_an_approval_entry_in_another_case_still_needs_approval() -> None:
    executor = PermissionToolExecutor(DirectToolExecutor(), require_approval=["DELETE_REPO"])
    result = await executor.execute_tool(tool_call("delete_repo"), ToolExecutionContext(tools=[delete_repo]))
    assert result.metadata.get("code") == "approval_required"
    assert RAN == []


async def test_an_allow_list_stays_exact() -> None:
    executor = PermissionToolExecutor(DirectToolExecutor(), allow=["Delete_Repo"])
    result = await executor.execute_tool(tool_call("delete_repo"), ToolExecutionContext(tools=[delete_repo]))
    assert result.metadata.get("code") == "permission_denied"


@pytest.mark.parametrize("verdict", ["no", 1, [False], None])
async def test_only_an_explicit_true_approves(verdict: object) -> None:
    async def approver(call, context) -> object:
        return verdict

    executor = PermissionToolExecutor(DirectToolExecutor(), require_approval=["delete_repo"], approve=approver)
    result = await executor.execute_tool(tool_call("delete_repo"), ToolExecutionContext(tools=[delete_repo]))
    assert result.metadata.get("code") == "not_approved"
    assert RAN == []


async def test_a_plain_function_approver_works() -> None:
    executor = PermissionToolExecutor(
        DirectToolExecutor(), require_approval=["delete_repo"], approve=lambda call, context: True
    )
    result = await executor.execute_tool(tool_call("delete_repo"), ToolExecutionContext(tools=[delete_repo]))
    assert result.output == "deleted"


class _Broken(WrapperToolExecutor):
    async def execute_tool(self, tool_call, context):
        raise RuntimeError("a custom layer broke")


async def test_the_facade_turns_a_raising_layer_into_an_error_result() -> None:
    facade = ToolsFacade(_Broken(DirectToolExecutor()))
    facade.register(delete_repo)
    result = await facade.execute("delete_repo", {})
    assert result.is_error and result.metadata["code"] == "executor_error"
    assert "a custom layer broke" in (result.error or "")


@pytest.mark.parametrize("name", [None, 5, b"delete_repo", ["delete_repo"]])
async def test_the_facade_answers_a_name_that_is_no_string(name: object) -> None:
    facade = ToolsFacade(DirectToolExecutor())
    facade.register(delete_repo)
    result = await facade.execute(name, {})  # type: ignore[arg-type]
    assert result.is_error and result.metadata["code"] == "unknown_tool"
    assert RAN == []


@pytest.mark.parametrize("entry", ["registry", "facade", "agent", "context"])
async def test_one_role_given_as_a_string_is_one_role_not_its_letters(entry: str) -> None:
    """``roles="admin"`` became the roles a, d, m, i, n: a rule for role ``a`` applied to an
    admin and the admin's own rules did not."""
    from oneringai.application.agents import Agent
    from oneringai.application.tools import ToolRegistry
    from oneringai.testing import ScriptedTextProvider

    executor = PermissionToolExecutor(DirectToolExecutor(), roles={"admin": {"allow": ["delete_repo"]}, "a": {"deny": ["*"]}})
    call = tool_call("delete_repo")
    if entry == "registry":
        result = await ToolRegistry([delete_repo], executor).execute(call, roles="admin")  # type: ignore[arg-type]
    elif entry == "facade":
        facade = ToolsFacade(executor)
        facade.register(delete_repo)
        result = await facade.execute("delete_repo", {}, roles="admin")  # type: ignore[arg-type]
    elif entry == "agent":
        agent = Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=executor, roles="admin")  # type: ignore[arg-type]
        assert agent.roles == frozenset({"admin"})
        return
    else:
        result = await executor.execute_tool(call, ToolExecutionContext(tools=[delete_repo], roles="admin"))  # type: ignore[arg-type]
    assert result.output == "deleted", result


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_cache_outside_permissions_keeps_a_denied_role_out(backend: str) -> None:
    """A cache layer above ``permissions`` keyed its results by user id only: an answer computed
    for an admin was a cache hit for a guest whose role denies the tool (same or no user id) —
    the deny never ran (a second black-box judge). Roles are now part of a per-user key."""
    import uuid

    from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
    from oneringai.infrastructure.tool_executors.config import CacheExecutorConfig, PermissionsExecutorConfig
    from tests.conftest import REDIS_URL, require_redis

    if backend == "redis":
        require_redis()
    settings: dict[str, object] = {"backend": backend}
    if backend == "redis":
        settings |= {"redis_url": REDIS_URL, "prefix": f"oneringai:test:bypass:{uuid.uuid4().hex}:"}
    permissions = PermissionToolExecutor(
        DirectToolExecutor(), PermissionsExecutorConfig(roles={"guest": {"deny": ["delete_repo"]}})
    )
    cache = CachingToolExecutor(permissions, CacheExecutorConfig.model_validate(settings))
    try:
        for user in (None, "u1"):
            admin = ToolExecutionContext(tools=[delete_repo], user_id=user, roles=["admin"])
            guest = ToolExecutionContext(tools=[delete_repo], user_id=user, roles=["guest"])
            assert not (await cache.execute_tool(tool_call("delete_repo"), admin)).is_error
            refused = await cache.execute_tool(tool_call("delete_repo"), guest)
            assert refused.metadata.get("code") == "permission_denied", refused
            again = await cache.execute_tool(tool_call("delete_repo"), ToolExecutionContext(
                tools=[delete_repo], user_id=user, roles=["admin"]))
            assert again.metadata.get("cache") == "hit"  # still a cache for the same caller
    finally:
        await cache.aclose()
