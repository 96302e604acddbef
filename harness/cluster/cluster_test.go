package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/harness/soak"
	"github.com/liveagent-bridge/liveagent/internal/devcluster"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// A whole session through the gateway on the cluster, with the bridge's
// production binaries (2 workers, gateway) and the emulator's scripted agent;
// halfway through, the first Temporal node (the first address the workers
// and the gateway know) dies by SIGKILL and the session goes on.
func TestGatewaySessionOnCluster(t *testing.T) {
	c := devcluster.NewTest(t, devcluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	b, err := devcluster.StartBridge(ctx, c, devcluster.BridgeOptions{AcceptAfter: time.Second})
	require.NoError(t, err)
	t.Cleanup(b.Stop)
	g := &gatewayClient{t: t, base: b.GatewayURL, token: b.BearerToken}
	const user = "u-cluster"

	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, g.post("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: "Payroll", Description: "Where is my payslip?"}, &started))
	assert.Equal(t, workflows.WorkflowID(user), started.WorkflowID)
	eventually(t, "the agent accepted", func() bool { return g.state(user).State == string(workflows.StateActive) })

	say := func(id, text string) {
		t.Helper()
		var res gateway.UpdateResponse
		eventually(t, "message "+id+" sent", func() bool {
			code := g.post("/v1/sessions/"+user+"/messages", gateway.SendMessageRequest{MessageID: id, Text: text}, &res)
			return code == http.StatusOK
		})
		eventually(t, "the agent's reply to "+id, func() bool { return g.hasAgentText(user, "You said: "+text) })
	}
	say("m-1", "first, with every node up")
	require.NoError(t, c.KillNode(0))
	say("m-2", "second, node 0 is gone")
	require.NoError(t, c.StartNode(ctx, 0))
	say("m-3", "third, node 0 is back")

	var closed gateway.UpdateResponse
	require.Equal(t, http.StatusOK, g.post("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1", Reason: "done"}, &closed))
	eventually(t, "session ended", func() bool { return g.state(user).State == string(workflows.StateClosed) })
	eventually(t, "Salesforce conversation closed", func() bool {
		var out struct {
			Conversations []struct{ State string } `json:"conversations"`
		}
		resp, err := http.Get(b.EmulatorURL + "/emulator/v1/conversations")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Conversations) != 1 {
			return false
		}
		return out.Conversations[0].State == "closed"
	})
	st := g.state(user)
	for _, text := range []string{"first, with every node up", "second, node 0 is gone", "third, node 0 is back"} {
		assert.Equal(t, 1, countText(st, "user", text), "user message %q once", text)
		assert.Equal(t, 1, countText(st, "agent", "You said: "+text), "reply to %q once", text)
	}
}

// The fault soak at CI size on the cluster, over HTTPS with a workflow cache
// smaller than the sessions: every emulator fault, worker SIGKILLs, and
// before them a SIGKILL of one Temporal node (started again 30 s
// later) and an immediate-mode PostgreSQL restart while messages flow.
// Nothing may be lost, duplicated or stuck, and every Salesforce conversation
// must close.
//
// The node-loss bound (no message in flight while the node is lost delayed
// more than 15 s; soak.FaultNodeKill says which messages count) is a latency
// target: this test measures and logs it, `go run ./cmd/soak -cluster`
// enforces it in its verdict. It is not asserted here because it depends on
// the CPU the machine has left: 10.5–12.6 s on a quiet 2-core machine,
// 15.2–16.2 s with two busy loops beside the test.
func TestSoakOnCluster(t *testing.T) {
	c := devcluster.NewTest(t, devcluster.Options{})
	opts := soak.DefaultOptions()
	opts.Sessions = 50
	opts.Kills = 3
	opts.Cluster = c
	opts.PaceMax = 0 // the cluster pace: messages flow through every fault
	// The production shape reaches Salesforce over TLS, its streams sharing
	// HTTP/2 connections, and holds fewer workflows than sessions in memory:
	// sessions keep leaving the cache and replay at their next event.
	opts.HTTPS = true
	opts.WorkflowCacheSize = 20
	opts.Timeout = 12 * time.Minute
	if dl, ok := t.Deadline(); ok {
		opts.Timeout = min(opts.Timeout, time.Until(dl)-30*time.Second)
	}
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := soak.Run(context.Background(), opts)
	require.NoError(t, err, "soak did not run")
	t.Logf("\n%s", rep)
	if !rep.OK() {
		c.KeepDir()
	}
	assert.Equal(t, rep.Sessions, rep.SessionsStarted, "sessions started")
	assert.True(t, rep.UserToAgent.Clean(), "user→agent: %+v", rep.UserToAgent)
	assert.True(t, rep.AgentToUser.Clean(), "agent→user: %+v", rep.AgentToUser)
	assert.Equal(t, rep.Sessions, rep.SessionsEnded, "sessions ended (none stuck)")
	assert.Equal(t, rep.Sessions, rep.SFClosed, "Salesforce conversations closed")
	assert.GreaterOrEqual(t, rep.WorkerKills, 3, "worker kills")
	require.Len(t, rep.ClusterFaults, 3, "a node kill, its return and a PostgreSQL restart")
	for _, f := range rep.ClusterFaults {
		assert.Empty(t, f.RepairError, "%s repaired", f.Fault)
		assert.Positive(t, f.Messages, "messages flowed during %s", f.Fault)
		if f.Fault == soak.FaultNodeKill && f.MaxDelay > f.Bound {
			t.Logf("node-loss latency target missed (reported, not asserted): longest delay %s, target %s", f.MaxDelay, f.Bound)
		}
	}
	assert.Equal(t, rep.AttachmentsSent, rep.AttachmentsOK, "attachments intact, exactly once")
	assert.Equal(t, rep.Sessions, rep.ClosedNotices, "users told once their session closed")
	assert.Zero(t, rep.WebhookBadSignatures+rep.WebhookMalformed, "webhook posts well formed and signed")
	assert.Zero(t, rep.WorkerCrashes, "worker exits nobody asked for")
	assert.Empty(t, rep.Problems)
}

type gatewayClient struct {
	t     *testing.T
	base  string
	token string
}

func (g *gatewayClient) do(method, path string, in, out any) int {
	g.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		require.NoError(g.t, err)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.base+path, body)
	require.NoError(g.t, err)
	req.Header.Set("Authorization", "Bearer "+g.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(g.t, json.Unmarshal(data, out), "%s %s: %s", method, path, data)
	}
	return resp.StatusCode
}

func (g *gatewayClient) post(path string, in, out any) int {
	return g.do(http.MethodPost, path, in, out)
}

func (g *gatewayClient) state(user string) gateway.SessionStateResponse {
	var st gateway.SessionStateResponse
	g.do(http.MethodGet, "/v1/sessions/"+user, nil, &st)
	return st
}

func (g *gatewayClient) hasAgentText(user, text string) bool {
	return countText(g.state(user), "agent", text) > 0
}

func countText(st gateway.SessionStateResponse, from, text string) int {
	n := 0
	for _, e := range st.Transcript {
		if e.From == from && strings.TrimSpace(e.Text) == text {
			n++
		}
	}
	return n
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 90s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testWriter sends slog output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
