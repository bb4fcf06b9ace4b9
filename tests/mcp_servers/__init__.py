"""MCP servers for tests, built with the official SDK (run as subprocesses)."""
