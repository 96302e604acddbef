package metrics_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/metrics"
)

// greetWorkflow emits a metric of its own the way SessionWorkflow does.
func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	workflow.GetMetricsHandler(ctx).Counter("liveagent_greetings").Inc(1)
	return "hello " + name, nil
}

// TestSDKMetricsFromRealClientAndWorker wires the handler into a real client
// and worker (in-process Temporal server) and checks that the SDK's own
// metrics and one the workflow emits through workflow.GetMetricsHandler show
// up on the scrape.
func TestSDKMetricsFromRealClientAndWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an in-process Temporal server")
	}
	reg := newRegistry(t, metrics.Options{ReportInterval: 100 * time.Millisecond})
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()

	ts := devtemporal.NewTest(t, devtemporal.Options{})
	tc := ts.Dial(t, client.Options{MetricsHandler: reg.TemporalMetricsHandler()})
	devtemporal.StartWorker(t, tc, "metrics_queue", func(r worker.Registry) { r.RegisterWorkflow(greetWorkflow) }, worker.Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "metrics_queue"}, greetWorkflow, "metrics")
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "hello metrics", out)

	var mfs map[string]*dto.MetricFamily
	completed := func() *dto.Metric {
		return find(mfs, "temporal_workflow_completed_total", map[string]string{"workflow_type": "greetWorkflow", "task_queue": "metrics_queue"})
	}
	require.Eventually(t, func() bool {
		mfs = scrape(t, srv.URL)
		m := completed()
		return m != nil && m.GetCounter().GetValue() >= 1
	}, 30*time.Second, 100*time.Millisecond, "temporal_workflow_completed_total never appeared")

	start := find(mfs, "temporal_request_total", map[string]string{"operation": "StartWorkflowExecution"})
	require.NotNil(t, start, "client request counter missing")
	require.GreaterOrEqual(t, start.GetCounter().GetValue(), 1.0)
	require.Contains(t, mfs, "temporal_request_latency_seconds")
	require.Contains(t, mfs, "temporal_workflow_endtoend_latency_seconds")
	require.Eventually(t, func() bool {
		mfs = scrape(t, srv.URL)
		m := find(mfs, "liveagent_greetings_total", map[string]string{"workflow_type": "greetWorkflow", "task_queue": "metrics_queue"})
		return m != nil && m.GetCounter().GetValue() == 1
	}, 30*time.Second, 100*time.Millisecond, "the workflow's own counter never appeared (tagged by the SDK)")
}
