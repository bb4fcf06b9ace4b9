"""Tools: functions as tools (``tool``, ``FunctionTool``), the innermost executor that runs them
(``DirectToolExecutor``), the per-agent ``ToolRegistry`` and the tools' own thread pool.

The direct executor lives here, not in infrastructure: it does no I/O, it is the
application's rule for turning a tool call into a result. The decorators that wrap it
(retry, cache, rate limit, ...) are infrastructure.
"""

from oneringai.application.tools.direct_executor import DirectToolExecutor
from oneringai.application.tools.function_tool import FunctionTool, ToolDefinitionError, tool
from oneringai.application.tools.output import serialise_output
from oneringai.application.tools.registry import ToolRegistry
from oneringai.application.tools.threads import ToolThreadPool

__all__ = [
    "DirectToolExecutor",
    "FunctionTool",
    "ToolDefinitionError",
    "ToolRegistry",
    "ToolThreadPool",
    "serialise_output",
    "tool",
]
