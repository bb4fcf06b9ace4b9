"""One export over OTLP/HTTP: an application process sets up the SDK with the OTLP exporter
(as ``oneringai[otel]`` lets it), configures the kit by YAML alone, and a loopback receiver in
this test decodes the protobuf POSTs to ``/v1/traces`` and counts the spans."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.otel_support import write_config
from tests.vendor_server import VendorServer

APP = textwrap.dedent(
    """
    import asyncio, sys
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "otlp-test"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_ENDPOINT
    trace.set_tracer_provider(provider)

    from oneringai import OneRingAI

    async def main():
        async with OneRingAI.from_config(sys.argv[1]) as client:
            await client.text.generate("hi", model="otlp")
            await client.agents.create(model="tools", tools=[get_weather], name="exporter").run("weather?")

    def get_weather(city: str) -> dict:
        \"\"\"Weather for a city.\"\"\"
        return {"city": city}

    asyncio.run(main())
    provider.shutdown()  # flushes the batch
    """
)


class Receiver:
    """Accepts OTLP/HTTP protobuf exports and keeps the decoded spans."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, object]]] = []
        self.resources: list[dict[str, object]] = []
        self.content_types: list[str] = []
        app = web.Application()
        app.router.add_post("/v1/traces", self.traces)
        self.runner = web.AppRunner(app, access_log=None)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def traces(self, request: web.Request) -> web.Response:
        self.content_types.append(request.content_type)
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        for resource_spans in export.resource_spans:
            self.resources.append({a.key: a.value.string_value for a in resource_spans.resource.attributes})
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: _value(a.value) for a in span.attributes}
                    self.spans.append((span.name, attributes))
        return web.Response(body=b"", content_type="application/x-protobuf")


def _value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    return getattr(value, kind) if kind in ("string_value", "int_value", "double_value", "bool_value") else kind


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.runner.cleanup()


async def test_spans_reach_an_otlp_http_receiver(tmp_path: Path, vendor_server: VendorServer, receiver: Receiver):
    text = {"default": "main", "providers": {"main": {
        "kind": "openai", "base_url": f"{vendor_server.url}/v1", "api_key": "sk-otlp-0123456789"}}}
    config = write_config(tmp_path, text, observability={"tracing": True})
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    names = sorted(name for name, _ in receiver.spans)
    assert names == sorted([
        "chat otlp", "invoke_agent exporter", "chat tools", "chat tools",
        "execute_tool get_weather", "execute_tool get_weather",
    ]), json.dumps(receiver.spans)[:2000]
    assert receiver.content_types and set(receiver.content_types) == {"application/x-protobuf"}
    assert all(r.get("service.name") == "otlp-test" for r in receiver.resources)
    chat = dict(receiver.spans)["chat otlp"]
    assert chat["gen_ai.provider.name"] == "openai" and chat["gen_ai.usage.output_tokens"] == 7
