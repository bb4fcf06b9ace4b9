"""Agents: the model/tool loop."""

from oneringai.application.agents.agent import Agent, AgentHooks
from oneringai.application.agents.manager import AgentManager

__all__ = ["Agent", "AgentHooks", "AgentManager"]
