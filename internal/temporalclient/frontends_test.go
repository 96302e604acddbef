package temporalclient

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
)

func TestFrontendTarget(t *testing.T) {
	target, opts := frontendTarget("temporal.internal:7233")
	assert.Equal(t, "temporal.internal:7233", target, "one address is dialled as the SDK does")
	assert.Empty(t, opts)

	target, opts = frontendTarget(" 10.0.0.1:7233, 10.0.0.2:7233 ,")
	assert.Equal(t, "liveagent-frontends:///10.0.0.1:7233,10.0.0.2:7233", target)
	assert.Len(t, opts, 2)
}

// A list with a frontend that is down still reaches the one that is up, on
// every call: round_robin skips the dead address.
func TestDialSkipsDeadFrontend(t *testing.T) {
	srv := devtemporal.NewTest(t, devtemporal.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())

	cfg := config.Default()
	cfg.Temporal.Address = dead + "," + srv.FrontendAddress()
	cfg.Temporal.Namespace = srv.Namespace()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, cfg, nil)
	require.NoError(t, err)
	defer c.Close()
	for range 10 {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.WorkflowService().DescribeNamespace(callCtx, &workflowservice.DescribeNamespaceRequest{Namespace: srv.Namespace()})
		cancel()
		require.NoError(t, err)
	}
}
