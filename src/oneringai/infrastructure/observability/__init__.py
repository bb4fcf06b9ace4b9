"""Observability on OpenTelemetry: the implementation of ``oneringai.domain.telemetry``."""
