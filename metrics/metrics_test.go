package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/metrics"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func newRegistry(t *testing.T, opts metrics.Options) *metrics.Registry {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r, err := metrics.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// scrape GETs url and parses the Prometheus text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var p expfmt.TextParser
	mfs, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// find returns the metric of family name whose labels include want.
func find(mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	mf, ok := mfs[name]
	if !ok {
		return nil
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func counterValue(t *testing.T, mfs map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	m := find(mfs, name, nil)
	require.NotNil(t, m, "metric %s missing", name)
	require.NotNil(t, m.GetCounter(), "metric %s is not a counter", name)
	return m.GetCounter().GetValue()
}

// TestBridgeMetricNames emits the bridge's metrics through the SDK handler
// the way the workflow and the activities do (names from their packages, the
// tags the SDK adds) and pins the names they get on /metrics.
func TestBridgeMetricNames(t *testing.T) {
	reg := newRegistry(t, metrics.Options{ReportInterval: time.Hour})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()

	wf := reg.TemporalMetricsHandler().WithTags(map[string]string{
		"namespace": "default", "task_queue": workflows.TaskQueue, "workflow_type": workflows.WorkflowName,
	})
	wf.Timer(workflows.MetricAcceptLatency).Record(3 * time.Second)
	wf.Timer(workflows.MetricAcceptLatency).Record(90 * time.Second)
	wf.Timer(workflows.MetricAcceptLatency).Record(25 * time.Minute)
	wf.Counter(workflows.MetricAcceptTimeouts).Inc(2)
	wf.Counter(workflows.MetricDuplicateEventsDropped).Inc(4)
	closed := func(r workflows.CloseReason) client.MetricsCounter {
		return wf.WithTags(map[string]string{workflows.MetricTagReason: string(r)}).Counter(workflows.MetricSessionsClosed)
	}
	closed(workflows.CloseAcceptTimeout).Inc(2)
	closed(workflows.CloseUserClosed).Inc(1)
	wf.WithTags(map[string]string{workflows.MetricTagRating: "5"}).Counter(workflows.MetricSurveyRatings).Inc(1)
	wf.Counter(workflows.MetricNoRoutingResult).Inc(1)
	wf.WithTags(map[string]string{workflows.MetricTagResult: "imported"}).Counter(workflows.MetricHistoryImports).Inc(2)
	act := reg.TemporalMetricsHandler().WithTags(map[string]string{
		"namespace": "default", "task_queue": workflows.TaskQueue,
		"activity_type": workflows.ActivityDownloadAttachment, "workflow_type": workflows.WorkflowName,
	})
	act.WithTags(map[string]string{activities.MetricTagDirection: activities.DirectionAgentToUser}).
		Counter(activities.MetricAttachmentFailures).Inc(3)
	act.WithTags(map[string]string{activities.MetricTagContentType: "CarouselMessage"}).
		Counter(activities.MetricUnsupportedContent).Inc(1)
	require.NoError(t, reg.Close(), "flush the buffered counters")

	mfs := scrape(t, srv.URL)
	wfLabels := map[string]string{"workflow_type": workflows.WorkflowName, "task_queue": "live_agent"}
	require.Equal(t, 2.0, find(mfs, "liveagent_accept_timeouts_total", wfLabels).GetCounter().GetValue())
	require.Equal(t, 4.0, find(mfs, "liveagent_duplicate_events_dropped_total", wfLabels).GetCounter().GetValue())
	// Label values are sanitized the Prometheus way: "accept-timeout" → "accept_timeout".
	require.Equal(t, 2.0, find(mfs, "liveagent_sessions_closed_total", map[string]string{"reason": "accept_timeout"}).GetCounter().GetValue())
	require.Equal(t, 1.0, find(mfs, "liveagent_sessions_closed_total", map[string]string{"reason": "user_closed"}).GetCounter().GetValue())
	require.Equal(t, 1.0, find(mfs, "liveagent_survey_ratings_total", map[string]string{"rating": "5"}).GetCounter().GetValue())
	noResult := find(mfs, "liveagent_no_routing_result_total", wfLabels)
	require.NotNil(t, noResult, "the no-routing-result counter is exposed as liveagent_no_routing_result_total")
	require.Equal(t, 1.0, noResult.GetCounter().GetValue())
	require.Equal(t, 2.0, find(mfs, "liveagent_history_imports_total", map[string]string{"result": "imported"}).GetCounter().GetValue())
	unsupported := find(mfs, "liveagent_unsupported_content_total", map[string]string{"content_type": "CarouselMessage"})
	require.NotNil(t, unsupported)
	require.Equal(t, 1.0, unsupported.GetCounter().GetValue())
	fail := find(mfs, "liveagent_attachment_failures_total", map[string]string{
		"direction": "agent_to_user", "activity_type": workflows.ActivityDownloadAttachment,
	})
	require.NotNil(t, fail)
	require.Equal(t, 3.0, fail.GetCounter().GetValue())

	// The timer is a _seconds histogram whose buckets reach half an hour.
	lat := find(mfs, "liveagent_accept_latency_seconds", wfLabels)
	require.NotNil(t, lat)
	h := lat.GetHistogram()
	require.Equal(t, uint64(3), h.GetSampleCount())
	require.InDelta(t, 3+90+1500, h.GetSampleSum(), 1e-6)
	cumulative := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		cumulative[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	require.Equal(t, uint64(0), cumulative[2])
	require.Equal(t, uint64(1), cumulative[5])
	require.Equal(t, uint64(1), cumulative[60])
	require.Equal(t, uint64(2), cumulative[120])
	require.Equal(t, uint64(2), cumulative[1200])
	require.Equal(t, uint64(3), cumulative[1800])
	require.Contains(t, cumulative, 0.001, "millisecond buckets kept for SDK latencies")

	// Runtime and process metrics are on by default (RSS for the load benchmark).
	require.Contains(t, mfs, "go_goroutines")
	require.Contains(t, mfs, "process_resident_memory_bytes")
}

func TestWithoutRuntimeMetrics(t *testing.T) {
	reg := newRegistry(t, metrics.Options{WithoutRuntimeMetrics: true})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	reg.TemporalMetricsHandler().Counter("temporal_request").Inc(1)
	require.NoError(t, reg.Close())
	mfs := scrape(t, srv.URL)
	require.NotContains(t, mfs, "go_goroutines")
	require.NotContains(t, mfs, "process_resident_memory_bytes")
	require.Contains(t, mfs, "temporal_request_total")
	for name := range mfs {
		require.False(t, strings.HasPrefix(name, "tally_internal"), "tally's own cardinality gauges are omitted: %s", name)
	}
}

func TestTemporalMetricsHandlerSharesRegistry(t *testing.T) {
	reg := newRegistry(t, metrics.Options{ReportInterval: 50 * time.Millisecond})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()

	h := reg.TemporalMetricsHandler().WithTags(map[string]string{"namespace": "ns-1", "task_queue": "live-agent"})
	h.Counter("temporal_request").Inc(3)
	h.Timer("temporal_request_latency").Record(250 * time.Millisecond)
	h.Gauge("temporal_worker_task_slots_available").Update(7)
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "liveagent_extra_total", Help: "A collector added by the worker."})
	require.NoError(t, reg.Prometheus().Register(extra))
	extra.Inc()

	// Label values are sanitized the Prometheus way ("-" becomes "_").
	want := map[string]string{"namespace": "ns_1", "task_queue": "live_agent"}
	var mfs map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		mfs = scrape(t, srv.URL)
		m := find(mfs, "temporal_request_total", want)
		return m != nil && m.GetCounter().GetValue() == 3
	}, 30*time.Second, 50*time.Millisecond, "SDK counter never reached the registry")

	require.Equal(t, 1.0, counterValue(t, mfs, "liveagent_extra_total"), "added collectors and SDK metrics on one endpoint")
	require.Eventually(t, func() bool {
		mfs = scrape(t, srv.URL)
		lat := find(mfs, "temporal_request_latency_seconds", want)
		gauge := find(mfs, "temporal_worker_task_slots_available", want)
		return lat != nil && lat.GetHistogram().GetSampleCount() == 1 &&
			gauge != nil && gauge.GetGauge().GetValue() == 7
	}, 30*time.Second, 50*time.Millisecond, "SDK timer (as a _seconds histogram) and gauge never reached the registry")
	lat := find(mfs, "temporal_request_latency_seconds", want).GetHistogram()
	require.InDelta(t, 0.25, lat.GetSampleSum(), 1e-6)
}

func TestCloseFlushesSDKMetrics(t *testing.T) {
	// A report interval far longer than the test: only Close can flush.
	reg := newRegistry(t, metrics.Options{ReportInterval: time.Hour})
	reg.TemporalMetricsHandler().Counter("temporal_workflow_completed").Inc(1)
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	if m := find(scrape(t, srv.URL), "temporal_workflow_completed_total", nil); m != nil {
		require.Zero(t, m.GetCounter().GetValue(), "not flushed before Close")
	}

	require.NoError(t, reg.Close())
	require.NoError(t, reg.Close(), "second Close is a no-op")
	require.Equal(t, 1.0, counterValue(t, scrape(t, srv.URL), "temporal_workflow_completed_total"))
}

// WithProfiling serves Go's heap profile beside the metrics.
func TestStartWithProfiling(t *testing.T) {
	reg := newRegistry(t, metrics.Options{})
	s, err := reg.Start("127.0.0.1:0", metrics.WithProfiling())
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	resp, err := http.Get("http://" + s.Addr() + metrics.ProfilePath + "heap")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b, "a gzipped profile")
}

func TestStartAndServe(t *testing.T) {
	reg := newRegistry(t, metrics.Options{})
	reg.TemporalMetricsHandler().Counter("temporal_request").Inc(1)
	require.NoError(t, reg.Close())

	s, err := reg.Start("127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + s.Addr()
	require.Equal(t, 1.0, counterValue(t, scrape(t, base+metrics.Path), "temporal_request_total"))
	for _, path := range []string{"/", metrics.ProfilePath + "heap"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s without WithProfiling", path)
	}

	// The port is taken: a second Start fails fast, naming the address.
	_, err = reg.Start(s.Addr())
	require.ErrorContains(t, err, "metrics listen "+s.Addr())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	require.NoError(t, s.Shutdown(ctx), "second Shutdown is a no-op")
	_, err = http.Get(base + metrics.Path)
	require.Error(t, err, "endpoint must be down after Shutdown")

	// Serve blocks until its context ends, then returns nil.
	serveCtx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- reg.Serve(serveCtx, "127.0.0.1:0") }()
	stop()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	require.ErrorContains(t, reg.Serve(context.Background(), "not-a-valid-address"), "metrics listen")
}

// Every bridge metric the README names is one metrics/doc.go lists (by its
// name on /metrics, _total and all), and every metric doc.go lists is in the
// README's list of metrics.
func TestReadmeMetricNamesMatchDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	name := regexp.MustCompile(`liveagent_[a-z_]*(\*|[a-z])`)
	documented := map[string]bool{}
	var prefixes []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "//\tliveagent_") {
			continue
		}
		for _, n := range name.FindAllString(line, -1) {
			if p, ok := strings.CutSuffix(n, "*"); ok {
				prefixes = append(prefixes, p)
				continue
			}
			documented[n] = true
		}
	}
	require.Contains(t, documented, "liveagent_no_routing_result_total")
	inReadme := map[string]bool{}
	for _, n := range name.FindAllString(string(readme), -1) {
		inReadme[n] = true
		covered := documented[n]
		for _, p := range prefixes {
			covered = covered || strings.HasPrefix(n, p)
		}
		require.True(t, covered, "README names %s, which metrics/doc.go does not list", n)
	}
	for n := range documented {
		require.True(t, inReadme[n], "README does not name %s (metrics/doc.go does)", n)
	}
}
