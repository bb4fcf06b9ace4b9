"""Agents: the model/tool loop."""

from oneringai.application.agents.agent import Agent, AgentHooks
from oneringai.application.agents.manager import AgentManager
from oneringai.application.agents.support import AgentBusyError, AgentInputError, AgentLimitError

__all__ = ["Agent", "AgentBusyError", "AgentHooks", "AgentInputError", "AgentLimitError", "AgentManager"]
