"""Telemetry of the application: the GenAI semantic conventions and the observed provider."""
