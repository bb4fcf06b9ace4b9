"""Tools: functions as tools (``tool``, ``FunctionTool``), the innermost executor that runs them
(``DirectToolExecutor``) and the per-agent ``ToolRegistry``.

The direct executor lives here, not in infrastructure: it does no I/O, it is the
application's rule for turning a tool call into a result. The decorators that wrap it
(retry, cache, rate limit, ...) are infrastructure.
"""

from oneringai.application.tools.direct_executor import DirectToolExecutor, serialise_output
from oneringai.application.tools.function_tool import FunctionTool, tool
from oneringai.application.tools.registry import ToolRegistry

__all__ = ["DirectToolExecutor", "FunctionTool", "ToolRegistry", "serialise_output", "tool"]
