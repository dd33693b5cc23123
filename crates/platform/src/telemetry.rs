//! Logs, traces and the W3C trace context.
//!
//! - **Logs**: JSON lines (one event per line) unless stderr is a terminal, level from `RUST_LOG`.
//!   Every line logged inside a span carries `trace_id` and `span_id`, so logs and traces join.
//! - **Traces**: `tracing` spans become OpenTelemetry spans (tracing-opentelemetry). They are
//!   exported over OTLP/gRPC only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the SDK honours the other standard variables
//!   (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER[_ARG]`,
//!   `OTEL_EXPORTER_OTLP_HEADERS`/`_TIMEOUT`, `OTEL_BSP_*`; `OTEL_SDK_DISABLED=true` and
//!   `OTEL_TRACES_EXPORTER=none` turn export off). Without an endpoint nothing is exported and
//!   nothing is sampled: spans still get ids (for the logs and for the context passed on), but
//!   no span is recorded, except under a caller that asked for it.
//! - **Context**: [`inject_http`]/[`extract_http`] (gRPC metadata, HTTP headers) and
//!   [`TraceHeaders`] (outbox rows, NATS headers) carry `traceparent`/`tracestate`.
//!
//! The subscriber is process-wide: the first [`init`]/[`init_with`] installs it and later calls
//! do nothing, so `myaccount up` and every binary can call it. A test binary that wants to see
//! the exported spans or the log lines calls [`init_with`] first, with its own collector
//! endpoint and writer.

use std::fmt;
use std::future::Future;
use std::io::IsTerminal;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use serde_json::{Map, Value};
use tracing::dispatcher::WeakDispatch;
use tracing::{Dispatch, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub use opentelemetry::Context as TraceContext;
/// A log writer for [`TelemetrySettings::writer`] (e.g. a test's buffer).
pub use tracing_subscriber::fmt::writer::BoxMakeWriter as LogWriter;

/// What [`init_with`] installs. [`TelemetrySettings::from_process`] is what [`init`] uses.
pub struct TelemetrySettings {
    /// Used when `RUST_LOG` is not set (`info,sqlx=warn`).
    pub default_filter: String,
    /// `RUST_LOG` as read at start; `None` uses `default_filter`.
    pub filter: Option<String>,
    /// The resource's `service.name`; `None` leaves it to `OTEL_SERVICE_NAME`.
    pub service_name: Option<String>,
    /// Export traces over OTLP/gRPC.
    pub export: Export,
    /// Where log lines go; `None`: stderr (JSON unless it is a terminal).
    pub writer: Option<BoxMakeWriter>,
}

/// Whether and where spans are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    /// Nothing is exported and our own traces are not sampled.
    None,
    /// To the endpoint (and with the settings) the standard `OTEL_EXPORTER_OTLP_*` variables name.
    FromEnvironment,
    /// To this collector (`http://127.0.0.1:4317`): tests.
    Endpoint(String),
}

impl TelemetrySettings {
    /// Reads `RUST_LOG`, `OTEL_SERVICE_NAME` (else the binary's name) and whether an OTLP
    /// endpoint is configured.
    pub fn from_process(default_filter: &str) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        let endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
        let service_name = match var("OTEL_SERVICE_NAME") {
            Some(_) => None,
            None => std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned())),
        };
        Self {
            default_filter: default_filter.to_owned(),
            filter: var("RUST_LOG"),
            service_name,
            export: if endpoint.is_some() && !disabled {
                Export::FromEnvironment
            } else {
                Export::None
            },
            writer: None,
        }
    }
}

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
static EXPORT_RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// Installs the process-wide subscriber from the environment. Safe to call more than once
/// (later calls do nothing), so `myaccount up` and every service binary can call it.
pub fn init(default_filter: &str) {
    let _installed = init_with(TelemetrySettings::from_process(default_filter));
}

/// Installs the process-wide subscriber and tracer provider; returns false (changing nothing)
/// when a subscriber was installed before.
pub fn init_with(settings: TelemetrySettings) -> bool {
    crate::metrics::install();
    if PROVIDER.get().is_some() {
        return false;
    }
    let (dispatch, provider) = subscriber(settings);
    if tracing::dispatcher::set_global_default(dispatch).is_err() {
        return false;
    }
    let _ = PROVIDER.set(provider);
    true
}

/// The subscriber [`init_with`] installs, and its tracer provider (to flush).
fn subscriber(settings: TelemetrySettings) -> (Dispatch, SdkTracerProvider) {
    let provider = match tracer_provider(&settings) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("OpenTelemetry export disabled: {e}");
            SdkTracerProvider::builder()
                .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
                .build()
        }
    };
    let tracer = provider.tracer("myaccount");
    // Spans at info and above become OpenTelemetry spans whatever RUST_LOG says, so a quiet log
    // level never breaks a trace. Every call of every page opens several spans, so what a span
    // costs is paid many times a request: no thread attributes (a tokio worker's name, copied per
    // span, says nothing about an async call), no busy/idle timing (two clock reads on every poll
    // of every instrumented future), and no OpenTelemetry context made current on every poll
    // (nothing here reads `Context::current()`: the context travels by `inject_http` and
    // `TraceHeaders`, from the span itself).
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false)
        .with_filter(LevelFilter::INFO);
    let filter = settings
        .filter
        .as_deref()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(&settings.default_filter));
    // The log formatter asks the subscriber for each span's OpenTelemetry context.
    let this = Arc::new(OnceLock::new());
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match settings.writer {
        Some(writer) => json_layer(writer, this.clone()).with_filter(filter).boxed(),
        None if std::io::stderr().is_terminal() => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        None => json_layer(BoxMakeWriter::new(std::io::stderr), this.clone())
            .with_filter(filter)
            .boxed(),
    };
    let dispatch = Dispatch::new(Registry::default().with(logs).with(otel));
    let _ = this.set(dispatch.downgrade());
    (dispatch, provider)
}

fn json_layer<S>(writer: BoxMakeWriter, dispatch: Arc<OnceLock<WeakDispatch>>) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(JsonLines { dispatch })
        .with_writer(writer)
}

fn tracer_provider(settings: &TelemetrySettings) -> Result<SdkTracerProvider, String> {
    let mut resource = opentelemetry_sdk::Resource::builder();
    if let Some(name) = &settings.service_name {
        resource = resource.with_service_name(name.clone());
    }
    let resource = resource.build();
    let builder = match &settings.export {
        // Our own traces are not sampled, a caller's decision is followed.
        Export::None => {
            return Ok(SdkTracerProvider::builder()
                .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
                .with_resource(resource)
                .build());
        }
        Export::FromEnvironment => opentelemetry_otlp::SpanExporter::builder().with_tonic(),
        Export::Endpoint(endpoint) => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone()),
    };
    let runtime = export_runtime()?;
    // The channel is made (and later driven) on the export runtime.
    let exporter = {
        let _entered = runtime.enter();
        builder.build().map_err(|e| e.to_string())?
    };
    let exporter = OnRuntime {
        inner: exporter,
        handle: runtime.handle().clone(),
    };
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// A small runtime of its own drives the OTLP exporter: the SDK's batch processor exports from
/// a plain thread, and tonic needs a Tokio reactor. It also outlives any one test's runtime.
fn export_runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    if let Some(rt) = EXPORT_RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("otel-export")
        .enable_all()
        .build()
        .map_err(|e| format!("export runtime: {e}"))?;
    Ok(EXPORT_RUNTIME.get_or_init(|| rt))
}

/// Runs an exporter's futures inside the export runtime's context.
#[derive(Debug)]
struct OnRuntime<E> {
    inner: E,
    handle: tokio::runtime::Handle,
}

impl<E: SpanExporter> SpanExporter for OnRuntime<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let future = {
            let _entered = self.handle.enter();
            Box::pin(self.inner.export(batch))
        };
        InRuntime {
            handle: self.handle.clone(),
            future,
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

struct InRuntime<F> {
    handle: tokio::runtime::Handle,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for InRuntime<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let _entered = self.handle.enter();
        self.future.as_mut().poll(cx)
    }
}

/// Sends every finished span that is still buffered. Blocks (up to the exporter's timeout):
/// call it from a blocking thread in async code. Services call it when they stop.
pub fn flush() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
    }
}

/// [`flush`] from async code.
pub async fn flush_async() {
    if PROVIDER.get().is_some() {
        let _ = tokio::task::spawn_blocking(flush).await;
    }
}

// ---------------------------------------------------------------------------------------------
// JSON lines with trace ids

/// One JSON object per event: `timestamp`, `level`, `target`, the event's fields, `trace_id`
/// and `span_id` of the innermost traced span, `span` (name and fields) and `spans` (the scope,
/// root first).
struct JsonLines {
    /// The subscriber this formatter is part of (set once it is built).
    dispatch: Arc<OnceLock<WeakDispatch>>,
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                .into(),
        );
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        event.record(&mut JsonVisitor(&mut line));

        let mut ids = Vec::new();
        if let Some(scope) = ctx.event_scope() {
            let mut spans = Vec::new();
            for span in scope.from_root() {
                let mut object = Map::new();
                object.insert("name".into(), span.name().into());
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields.as_str())
                {
                    object.extend(fields);
                }
                ids.push(span.id());
                spans.push(Value::Object(object));
            }
            if let Some(current) = spans.last() {
                line.insert("span".into(), current.clone());
            }
            line.insert("spans".into(), Value::Array(spans));
        }
        // Innermost span first: the nearest one known to OpenTelemetry names the line's span.
        if let Some(dispatch) = self.dispatch.get().and_then(WeakDispatch::upgrade) {
            for id in ids.iter().rev() {
                if let Some(cx) = tracing_opentelemetry::get_otel_context(id, &dispatch) {
                    let span_context = cx.span().span_context().clone();
                    if span_context.is_valid() {
                        line.insert("trace_id".into(), span_context.trace_id().to_string().into());
                        line.insert("span_id".into(), span_context.span_id().to_string().into());
                        break;
                    }
                }
            }
        }
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl tracing::field::Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &tracing::field::Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
}

// ---------------------------------------------------------------------------------------------
// W3C trace context

/// `traceparent` and `tracestate` as text: what the outbox stores and NATS headers carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceHeaders {
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

impl TraceHeaders {
    /// The context of `cx` (nothing when it has no valid span).
    pub fn of(cx: &TraceContext) -> Self {
        let mut headers = Self::default();
        TraceContextPropagator::new().inject_context(cx, &mut headers);
        headers
    }

    /// The context of the current span.
    pub fn current() -> Self {
        Self::of(&tracing::Span::current().context())
    }

    /// The remote context these headers describe (empty when there is none or it is malformed).
    pub fn context(&self) -> TraceContext {
        TraceContextPropagator::new().extract(self)
    }
}

impl Injector for TraceHeaders {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "traceparent" => self.traceparent = Some(value),
            "tracestate" if !value.is_empty() => self.tracestate = Some(value),
            _ => {}
        }
    }
}

impl Extractor for TraceHeaders {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent.as_deref(),
            "tracestate" => self.tracestate.as_deref(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Writes `cx` as `traceparent`/`tracestate` headers (gRPC metadata are HTTP/2 headers).
pub fn inject_http(cx: &TraceContext, headers: &mut http::HeaderMap) {
    TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(headers));
}

/// The caller's context from `traceparent`/`tracestate` headers.
pub fn extract_http(headers: &http::HeaderMap) -> TraceContext {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Makes `span` a child of the remote context `cx`, when `cx` names one.
pub fn set_remote_parent(span: &tracing::Span, cx: TraceContext) {
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The trace id of `span` in hex, when it has one.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let span_context = cx.span().span_context().clone();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn trace_headers_round_trip() {
        let headers = TraceHeaders {
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            tracestate: Some("vendor=value".into()),
        };
        let cx = headers.context();
        assert!(cx.span().span_context().is_remote());
        assert_eq!(TraceHeaders::of(&cx), headers);
        assert!(!TraceHeaders::default().context().span().span_context().is_valid());
        let garbage = TraceHeaders {
            traceparent: Some("garbage".into()),
            tracestate: None,
        };
        assert!(!garbage.context().span().span_context().is_valid());
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Without an exporter (production's default) lines still carry ids, a caller's trace is
    /// continued, and what is passed on names this process's span.
    #[test]
    fn without_export_log_lines_carry_the_trace_and_context_is_passed_on() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let (dispatch, _provider) = subscriber(TelemetrySettings {
            default_filter: "info".into(),
            filter: None,
            service_name: None,
            export: Export::None,
            writer: Some(LogWriter::new(move || writer.clone())),
        });
        let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let passed_on = tracing::dispatcher::with_default(&dispatch, || {
            tracing::info!("outside any span");
            let span = tracing::info_span!("request", user = "someone");
            set_remote_parent(
                &span,
                TraceHeaders {
                    traceparent: Some(caller.into()),
                    tracestate: None,
                }
                .context(),
            );
            let passed_on = {
                let _entered = span.enter();
                tracing::info!(answer = 42, "inside");
                TraceHeaders::current()
            };
            // A trace of our own (not sampled, not exported) still has ids for the logs.
            let root = tracing::info_span!("job");
            let _entered = root.enter();
            tracing::info!("in a root span");
            passed_on
        });
        let text = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf-8");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["message"], "outside any span");
        assert!(lines[0].get("trace_id").is_none());
        assert_eq!(lines[1]["answer"], 42);
        assert_eq!(lines[1]["span"]["name"], "request");
        assert_eq!(lines[1]["span"]["user"], "someone");
        assert_eq!(lines[1]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        let span_id = lines[1]["span_id"].as_str().expect("span_id");
        assert_ne!(span_id, "00f067aa0ba902b7", "a span of our own");
        let traceparent = passed_on.traceparent.expect("context passed on");
        assert_eq!(traceparent, format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{span_id}-01"));
        let own = lines[2]["trace_id"].as_str().expect("a root span has a trace id");
        assert!(own.len() == 32 && own != "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}
