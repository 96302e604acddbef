package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Recorder is how the bridge reports what it measures. Implementations are
// safe for concurrent use. Call sites are activities and the MIAW client,
// never workflow code (a replayed workflow would count twice).
type Recorder interface {
	// AcceptLatency records the time from session start to an agent
	// accepting the conversation.
	AcceptLatency(time.Duration)
	// AcceptTimeout counts a session closed because no agent accepted.
	AcceptTimeout()
	// StreamReconnect counts an SSE stream reconnection after a drop.
	StreamReconnect()
	// DuplicateDropped counts a duplicate Salesforce event that was dropped.
	DuplicateDropped()
	// AttachmentFailure counts a failed attachment transfer.
	AttachmentFailure()
	// TokenRequest counts an access-token request sent to Salesforce.
	TokenRequest()
}

// Nop is a Recorder that records nothing.
type Nop struct{}

func (Nop) AcceptLatency(time.Duration) {}
func (Nop) AcceptTimeout()              {}
func (Nop) StreamReconnect()            {}
func (Nop) DuplicateDropped()           {}
func (Nop) AttachmentFailure()          {}
func (Nop) TokenRequest()               {}

// OrNop returns r, or Nop{} when r is nil, so structs with an optional
// Recorder field can call it without nil checks.
func OrNop(r Recorder) Recorder {
	if r == nil {
		return Nop{}
	}
	return r
}

var (
	_ Recorder = Nop{}
	_ Recorder = (*Registry)(nil)
)

// Namespace prefixes the bridge's own metric names.
const Namespace = "liveagent"

// DefaultReportInterval is how often Temporal SDK metrics buffered in tally
// are copied into the Prometheus registry when Options.ReportInterval is 0.
const DefaultReportInterval = time.Second

// acceptLatencyBuckets span a fast pick-up (1 s) to a long queue (30 min).
var acceptLatencyBuckets = []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800}

// Options configures New. The zero value is valid.
type Options struct {
	// ReportInterval is the tally flush interval for SDK metrics;
	// 0 means DefaultReportInterval.
	ReportInterval time.Duration
	// WithoutRuntimeMetrics leaves out the Go runtime and process collectors
	// (go_*, process_*), e.g. when another registry already exports them.
	WithoutRuntimeMetrics bool
	// Logger receives metric registration and exposition errors;
	// nil means slog.Default().
	Logger *slog.Logger
}

// Registry is the process's metrics: a Prometheus registry, the Temporal SDK
// metrics handler feeding it, and the bridge's own collectors. It implements
// Recorder. Create one per process with New and Close it on shutdown.
type Registry struct {
	reg    *prometheus.Registry
	scope  tally.Scope
	closer interface{ Close() error }
	sdk    client.MetricsHandler
	logger *slog.Logger

	closeOnce sync.Once
	closeErr  error

	acceptLatency      prometheus.Histogram
	acceptTimeouts     prometheus.Counter
	streamReconnects   prometheus.Counter
	duplicatesDropped  prometheus.Counter
	attachmentFailures prometheus.Counter
	tokenRequests      prometheus.Counter
}

// New builds a Registry with the bridge's collectors registered and a tally
// scope, named the Prometheus way (sdktally.PrometheusSanitizeOptions and
// NewPrometheusNamingScope: counters end in _total, timers are _seconds
// histograms), reporting the SDK metrics into the same registry.
func New(opts Options) (*Registry, error) {
	if opts.ReportInterval <= 0 {
		opts.ReportInterval = DefaultReportInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Registry{reg: prometheus.NewRegistry(), logger: opts.Logger}

	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	}
	r.acceptLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace,
		Name:      "accept_latency_seconds",
		Help:      "Time from session start until a Salesforce agent accepted the conversation.",
		Buckets:   acceptLatencyBuckets,
	})
	r.acceptTimeouts = counter("accept_timeouts_total", "Sessions closed because no agent accepted within the accept timeout.")
	r.streamReconnects = counter("stream_reconnects_total", "SSE stream reconnections after a dropped connection.")
	r.duplicatesDropped = counter("duplicates_dropped_total", "Duplicate Salesforce events dropped by deduplication.")
	r.attachmentFailures = counter("attachment_failures_total", "Attachment downloads or uploads that failed.")
	r.tokenRequests = counter("token_requests_total", "Access-token requests sent to Salesforce.")

	cs := []prometheus.Collector{r.acceptLatency, r.acceptTimeouts, r.streamReconnects,
		r.duplicatesDropped, r.attachmentFailures, r.tokenRequests}
	if !opts.WithoutRuntimeMetrics {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics collector: %w", err)
		}
	}

	// tallyprom.NewReporter, not Configuration.NewReporter: the latter
	// registers on http.DefaultServeMux (and panics on a second call).
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       r.reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		OnRegisterError: func(err error) {
			opts.Logger.Error("register temporal sdk metric", "error", err)
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally_internal_* gauges describe tally itself, not the worker.
		OmitCardinalityMetrics: true,
	}, opts.ReportInterval)
	r.scope = sdktally.NewPrometheusNamingScope(scope)
	r.closer = closer
	r.sdk = sdktally.NewMetricsHandler(r.scope)
	return r, nil
}

// TemporalMetricsHandler is the handler to set as client.Options.MetricsHandler
// (workers inherit it from their client). SDK metrics reach the registry
// within one report interval. Names and label values are sanitized for
// Prometheus: characters outside [a-zA-Z0-9_] become "_", so task queue
// "live-agent" is exported as task_queue="live_agent".
func (r *Registry) TemporalMetricsHandler() client.MetricsHandler { return r.sdk }

// Prometheus exposes the underlying registry to register extra collectors.
func (r *Registry) Prometheus() *prometheus.Registry { return r.reg }

// Handler serves the registry in the Prometheus text (or OpenMetrics)
// exposition format. Mount it on /metrics.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		ErrorLog:          slogPrinter{r.logger},
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
}

// Close flushes buffered SDK metrics into the registry and stops the tally
// reporting loop. The registry can still be scraped afterwards. Safe to call
// more than once.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		if err := r.closer.Close(); err != nil {
			r.closeErr = fmt.Errorf("close temporal sdk metrics scope: %w", err)
		}
	})
	return r.closeErr
}

// AcceptLatency implements Recorder. Negative durations are ignored.
func (r *Registry) AcceptLatency(d time.Duration) {
	if d < 0 {
		return
	}
	r.acceptLatency.Observe(d.Seconds())
}

// AcceptTimeout implements Recorder.
func (r *Registry) AcceptTimeout() { r.acceptTimeouts.Inc() }

// StreamReconnect implements Recorder.
func (r *Registry) StreamReconnect() { r.streamReconnects.Inc() }

// DuplicateDropped implements Recorder.
func (r *Registry) DuplicateDropped() { r.duplicatesDropped.Inc() }

// AttachmentFailure implements Recorder.
func (r *Registry) AttachmentFailure() { r.attachmentFailures.Inc() }

// TokenRequest implements Recorder.
func (r *Registry) TokenRequest() { r.tokenRequests.Inc() }

// slogPrinter adapts slog to promhttp.Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics exposition", "error", fmt.Sprint(v...)) }
