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

// Namespace prefixes the bridge's own metric names.
const Namespace = "liveagent"

// DefaultReportInterval is how often Temporal SDK metrics buffered in tally
// are copied into the Prometheus registry when Options.ReportInterval is 0.
const DefaultReportInterval = time.Second

// timerBuckets are the histogram buckets (seconds) of every timer reported
// through TemporalMetricsHandler: tally's defaults (1 ms to 10 s, for SDK
// request and task latencies) extended to 30 min, so waits measured in
// minutes (liveagent_accept_latency_seconds, schedule-to-start under load)
// do not all land in +Inf.
var timerBuckets = append(tallyprom.DefaultHistogramBuckets(), 30, 60, 120, 300, 600, 1200, 1800)

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

// Registry is the process's metrics: a Prometheus registry and the Temporal
// SDK metrics handler feeding it. The bridge's own metrics are emitted
// through that handler too (by the workflow and the activities), and
// collectors over in-process counters can be added with Prometheus(). Create
// one per process with New and Close it on shutdown.
type Registry struct {
	reg    *prometheus.Registry
	scope  tally.Scope
	closer interface{ Close() error }
	sdk    client.MetricsHandler
	logger *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// New builds a Registry with a tally scope named the Prometheus way
// (sdktally.PrometheusSanitizeOptions and NewPrometheusNamingScope: counters
// end in _total, timers are _seconds histograms with timerBuckets),
// reporting into the Prometheus registry, plus the Go runtime and process
// collectors unless Options.WithoutRuntimeMetrics.
func New(opts Options) (*Registry, error) {
	if opts.ReportInterval <= 0 {
		opts.ReportInterval = DefaultReportInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Registry{reg: prometheus.NewRegistry(), logger: opts.Logger}

	if !opts.WithoutRuntimeMetrics {
		for _, c := range []prometheus.Collector{
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		} {
			if err := r.reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics collector: %w", err)
			}
		}
	}

	// tallyprom.NewReporter, not Configuration.NewReporter: the latter
	// registers on http.DefaultServeMux (and panics on a second call).
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              r.reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: timerBuckets,
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
// (workers inherit it from their client, and workflow.GetMetricsHandler and
// activity.GetMetricsHandler hand it, tagged, to our code). Counters and
// gauges reach the registry within one report interval; timers at once. Names and label values are sanitized for
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

// slogPrinter adapts slog to promhttp.Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics exposition", "error", fmt.Sprint(v...)) }
