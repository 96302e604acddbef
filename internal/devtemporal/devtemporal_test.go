package devtemporal_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func greet(ctx workflow.Context, name string) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.SearchAttrState.ValueSet(string(workflows.StateClosed))); err != nil {
		return "", err
	}
	return "hello " + name, nil
}

func startServer(t *testing.T, opts devtemporal.Options) *devtemporal.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal dev server (skipped with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// The server process ends by itself when its parent goes away (its stdin
// closes), so a killed test or demo leaves no server behind.
func TestServerStopsWhenItsParentGoes(t *testing.T) {
	srv := startServer(t, devtemporal.Options{NoUI: true})
	c := dial(t, srv)
	runGreet(t, c, "greet-parent", "u-1")
	c.Close()

	srv.DetachParent()
	select {
	case <-srv.Exited():
	case <-time.After(time.Minute):
		t.Fatal("server still running a minute after its parent's pipe closed")
	}
	_, err := net.DialTimeout("tcp", srv.FrontendAddress(), time.Second)
	assert.Error(t, err, "frontend still accepts connections")
}

func dial(t *testing.T, srv *devtemporal.Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: srv.Namespace()})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// runGreet runs one workflow carrying the live-agent search attributes and
// waits for its result.
func runGreet(t *testing.T, c client.Client, id, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := worker.New(c, "devtemporal-test", worker.Options{})
	w.RegisterWorkflow(greet)
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: "devtemporal-test",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchAttrUser.ValueSet(user),
			workflows.SearchAttrTopic.ValueSet("Payroll"),
		),
	}, greet, "world")
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	assert.Equal(t, "hello world", out)
}

// listByUser returns the workflow ids visibility finds for a LiveAgentUser.
func listByUser(t *testing.T, c client.Client, user string) []string {
	t.Helper()
	resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: "LiveAgentUser = '" + user + "' AND LiveAgentState = 'closed'",
	})
	require.NoError(t, err)
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

func TestServerRunsWorkflowsAndFindsThemBySearchAttribute(t *testing.T) {
	srv := startServer(t, devtemporal.Options{})
	assert.Equal(t, "default", srv.Namespace())
	c := dial(t, srv)

	runGreet(t, c, "greet-1", "u-42")

	// Visibility is eventually consistent.
	require.Eventually(t, func() bool {
		ids := listByUser(t, c, "u-42")
		return len(ids) == 1 && ids[0] == "greet-1"
	}, 30*time.Second, 100*time.Millisecond, "workflow not found by LiveAgentUser / LiveAgentState")
	assert.Empty(t, listByUser(t, c, "someone-else"))

	// The Web UI serves its HTML page for the workflow.
	uiURL := srv.WorkflowURL("greet-1")
	assert.Equal(t, srv.UIAddress()+"/namespaces/default/workflows/greet-1", uiURL)
	resp, err := http.Get(uiURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, strings.ToLower(string(body)), "<html")

	// The UI reaches the server: its API lists our namespace.
	resp, err = http.Get(srv.UIAddress() + "/api/v1/namespaces/default")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"default"`)

	require.NoError(t, srv.Stop())
	require.NoError(t, srv.Stop(), "second Stop is a no-op")
}

func TestServerPersistsToFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "temporal.db")

	srv := startServer(t, devtemporal.Options{DatabaseFile: db, NoUI: true, Namespace: "live"})
	assert.Empty(t, srv.UIAddress())
	c := dial(t, srv)
	runGreet(t, c, "greet-persisted", "u-7")
	require.Eventually(t, func() bool { return len(listByUser(t, c, "u-7")) == 1 },
		30*time.Second, 100*time.Millisecond)
	c.Close()
	require.NoError(t, srv.Stop())

	srv = startServer(t, devtemporal.Options{DatabaseFile: db, NoUI: true, Namespace: "live"})
	c = dial(t, srv)
	ids := listByUser(t, c, "u-7")
	assert.Equal(t, []string{"greet-persisted"}, ids, "workflow survives a restart on the same file")
}

func TestStartFailsWhenUIPortIsTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	_, err = devtemporal.Start(context.Background(), devtemporal.Options{UIPort: port})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ui port")
}
