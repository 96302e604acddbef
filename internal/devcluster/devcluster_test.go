package devcluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/devcluster"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
)

// The cluster serves through either node while the other is down, and again
// after PostgreSQL restarts.
func TestClusterSurvivesNodeAndDatabaseLoss(t *testing.T) {
	c := devcluster.NewTest(t, devcluster.Options{})
	cfg := config.Default()
	cfg.Temporal.Address = c.Address()
	cfg.Temporal.Namespace = c.Namespace()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tc, err := temporalclient.Dial(ctx, cfg, nil)
	require.NoError(t, err)
	defer tc.Close()
	describe := func(what string) {
		t.Helper()
		require.Eventually(t, func() bool {
			callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_, err := tc.WorkflowService().DescribeNamespace(callCtx, &workflowservice.DescribeNamespaceRequest{Namespace: c.Namespace()})
			return err == nil
		}, time.Minute, 200*time.Millisecond, what)
	}
	describe("both nodes up")
	for i := range 2 {
		require.NoError(t, c.KillNode(i))
		describe("one node down")
		require.NoError(t, c.StartNode(ctx, i))
	}
	require.NoError(t, c.RestartPostgres(ctx, time.Second))
	describe("after a PostgreSQL restart")
}
