package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const sampleExposition = `# HELP temporal_request_total temporal_request counter
# TYPE temporal_request_total counter
temporal_request_total{namespace="default",operation="RecordActivityTaskHeartbeat",task_queue="live-agent-listener"} 120
temporal_request_total{namespace="default",operation="RecordActivityTaskHeartbeat",task_queue="other"} 3
temporal_request_total{namespace="default",operation="SignalWorkflowExecution",task_queue="_unknown_"} 45
temporal_request_total{namespace="default",operation="PollActivityTaskQueue"} 7
temporal_request_latency_seconds_bucket{operation="SignalWorkflowExecution",le="0.1"} 44
liveagent_token_requests_total 12
weird{label="a \"quoted\", value",operation="SignalWorkflowExecution"} 1e3
broken{operation="x" 5
`

func TestParsePromText(t *testing.T) {
	samples, err := parsePromText(strings.NewReader(sampleExposition))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 7 { // the broken line is skipped
		t.Fatalf("parsed %d samples, want 7: %+v", len(samples), samples)
	}
	hb, ok := sumMetric(samples, requestCounterNames, map[string]string{"operation": "RecordActivityTaskHeartbeat"})
	if !ok || hb != 123 {
		t.Fatalf("heartbeats = %v (%v), want 123", hb, ok)
	}
	w, ok := sumMetric(samples, []string{"weird"}, map[string]string{"label": `a "quoted", value`})
	if !ok || w != 1000 {
		t.Fatalf("escaped label value: %v (%v)", w, ok)
	}
	if _, ok := sumMetric(samples, requestCounterNames, map[string]string{"operation": "Nope"}); ok {
		t.Fatal("matched a label value that is not there")
	}
}

func TestScrapeWorker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, sampleExposition)
	}))
	defer srv.Close()
	wc, err := scrapeWorker(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !wc.OK || wc.Heartbeats != 123 || wc.Signals != 45 {
		t.Fatalf("counters = %+v, want OK, 123 heartbeats, 45 signals", wc)
	}

	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "go_goroutines 12")
	}))
	defer empty.Close()
	wc, err = scrapeWorker(context.Background(), empty.Client(), empty.URL)
	if err != nil || wc.OK {
		t.Fatalf("endpoint without SDK counters: %+v, %v; want not OK, no error", wc, err)
	}

	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	if _, err := scrapeWorker(context.Background(), gone.Client(), gone.URL); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404 endpoint: err = %v", err)
	}
}
