"""Optional OpenTelemetry traces of requests, off by default (``XYD_TRACING_ENABLED``).

FastAPI instruments itself (its ``telemetry`` option): a span per request named by its
route template, and spans for dependencies, the endpoint and serialization. Here the node
gives it a tracer provider of its own (service name, node name, sampling) that exports over
OTLP/HTTP, and nothing personal leaves with the spans: a request's path and query (which
hold credit codes and search text) are replaced by ``[redacted]`` as each span starts (the
route's template, ``http.route``, says which endpoint it was), and FastAPI's telemetry logs,
which carry exception messages, stay off. Request metrics stay with Prometheus (``/metrics``).

The SDK and the exporter are the ``tracing`` extra: a node that does not trace installs
neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xinyidai.core.settings import Settings, UnsafeSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

# Span attributes that would carry what a caller asked for: replaced as the span starts.
REDACTED_ATTRIBUTES = ("url.path", "url.query", "url.full")
REDACTED = "[redacted]"
OFF: dict[str, Any] = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def telemetry_config(
    settings: Settings, *, exporter: SpanExporter | None = None, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """FastAPI's ``telemetry`` option for this node: everything off unless tracing is
    enabled; then a provider that samples, redacts and exports (to ``exporter`` when given,
    else OTLP/HTTP). Requests whose path starts with one of ``skip`` are not traced."""
    if not settings.tracing.enabled:
        return OFF
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ModuleNotFoundError as exc:
        raise UnsafeSettings(
            "XYD_TRACING_ENABLED=true needs the OpenTelemetry SDK, which is not installed: "
            "`uv sync --extra tracing` (or `pip install 'xinyidai[tracing]'`)"
        ) from exc
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "xyd", "service.instance.id": settings.node_name}
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.tracing.sample_ratio)),
    )
    provider.add_span_processor(_Redacting())
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.tracing.endpoint))
        )
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return {
        "tracer_provider": provider,
        "tracing": True,
        "operation_spans": True,
        "metrics": False,  # Prometheus has them (/metrics)
        "logs": False,  # they carry exception messages
        "auto_configure": False,
        "exclude": lambda scope: str(scope.get("path", "")).startswith(skip),
    }


def _Redacting() -> Any:  # noqa: N802 - builds the processor class once the SDK is imported
    from opentelemetry.sdk.trace import SpanProcessor

    class Redacting(SpanProcessor):
        """Replaces what a span would say of the request's path and query."""

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            attributes = span.attributes or {}
            for name in REDACTED_ATTRIBUTES:
                if name in attributes:
                    span.set_attribute(name, REDACTED)

    return Redacting()
