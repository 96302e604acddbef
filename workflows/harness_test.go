package workflows_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/liveagent-bridge/liveagent/internal/sessionfakes"
	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// updateRecorder implements testsuite's UpdateCallbacks.
type updateRecorder struct {
	mu        sync.Mutex
	accepted  bool
	rejected  error
	completed bool
	result    workflows.UpdateResult
	err       error
}

func (u *updateRecorder) Accept() { u.mu.Lock(); u.accepted = true; u.mu.Unlock() }

func (u *updateRecorder) Reject(err error) { u.mu.Lock(); u.rejected = err; u.mu.Unlock() }

func (u *updateRecorder) Complete(success any, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.completed = true
	u.err = err
	if r, ok := success.(workflows.UpdateResult); ok {
		u.result = r
	}
}

func (u *updateRecorder) requireResult(t *testing.T, status workflows.UpdateStatus) workflows.UpdateResult {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	require.NoError(t, u.rejected, "update rejected")
	require.True(t, u.completed, "update not completed")
	require.NoError(t, u.err)
	require.Equal(t, status, u.result.Status)
	return u.result
}

func (u *updateRecorder) requireRejected(t *testing.T, contains string) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	require.Error(t, u.rejected, "update was not rejected")
	require.ErrorContains(t, u.rejected, contains)
	require.False(t, u.accepted)
}

// harness runs SessionWorkflow in the SDK's test environment with the
// shared fake activities. The listener is mocked: it stays pending on the
// workflow clock until cancelled (or returns its error after its delay).
type harness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	sf   *sessionfakes.Activities
	logs *syncbuf.Buffer // everything the workflow and the SDK logged

	mu      sync.Mutex
	listens []workflows.ListenInput
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWithListener(t, 365*24*time.Hour, nil)
}

// newHarnessWithListener is newHarness with a listener that returns err
// after running for d (workflow clock) unless cancelled first.
func newHarnessWithListener(t *testing.T, d time.Duration, err error) *harness {
	t.Helper()
	return newHarnessWithMetrics(t, d, err, nil)
}

// newHarnessWithMetrics is newHarnessWithListener whose workflow emits its
// metrics to mh (nil: the SDK's no-op handler).
func newHarnessWithMetrics(t *testing.T, d time.Duration, err error, mh client.MetricsHandler) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	// Warnings and errors go to stderr; everything is kept in h.logs.
	logs := &syncbuf.Buffer{}
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
		slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))))
	if mh != nil {
		suite.SetMetricsHandler(mh)
	}
	env := suite.NewTestWorkflowEnvironment()
	h := &harness{t: t, env: env, sf: &sessionfakes.Activities{}, logs: logs}
	workflows.Register(env)
	workflows.RegisterActivities(env, h.sf)
	workflows.RegisterListener(env, h.sf)
	env.OnActivity(workflows.ActivityListen, mock.Anything, mock.Anything).After(d).Return(err)
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name != workflows.ActivityListen {
			return
		}
		var in workflows.ListenInput
		if err := args.Get(&in); err == nil {
			h.mu.Lock()
			h.listens = append(h.listens, in)
			h.mu.Unlock()
		}
	})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.WorkflowID("u-42"), TaskQueue: workflows.TaskQueue})
	return h
}

// listenerStarts returns the inputs the listener was started with.
func (h *harness) listenerStarts() []workflows.ListenInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.listens)
}

func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

func (h *harness) signalAt(d time.Duration, ev workflows.AgentEvent) {
	h.at(d, func() { h.env.SignalWorkflow(workflows.SignalAgentEvent, ev) })
}

// updateAt sends an update at d; the update id is unique per call so the
// test env does not dedupe it (the workflow's own dedupe is under test).
func (h *harness) updateAt(d time.Duration, name string, arg any) *updateRecorder {
	u := &updateRecorder{}
	h.at(d, func() {
		h.env.UpdateWorkflow(name, fmt.Sprintf("%s-%s", name, d), u, arg)
	})
	return u
}

func (h *harness) queryAt(d time.Duration) *workflows.SessionView {
	view := &workflows.SessionView{}
	h.at(d, func() {
		v, err := h.env.QueryWorkflow(workflows.QueryState)
		require.NoError(h.t, err)
		require.NoError(h.t, v.Get(view))
	})
	return view
}

func (h *harness) run(in workflows.SessionInput) {
	h.env.ExecuteWorkflow(workflows.WorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
}

func (h *harness) result() workflows.SessionResult {
	h.t.Helper()
	require.NoError(h.t, h.env.GetWorkflowError())
	var r workflows.SessionResult
	require.NoError(h.t, h.env.GetWorkflowResult(&r))
	return r
}

// finalView is the QueryState answer after the run completed.
func (h *harness) finalView() workflows.SessionView {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryState)
	require.NoError(h.t, err)
	var view workflows.SessionView
	require.NoError(h.t, v.Get(&view))
	return view
}

func (h *harness) conversationID() string {
	created := h.sf.Created()
	require.Len(h.t, created, 1)
	return created[0].ConversationID
}

func testSettings() workflows.Settings {
	return workflows.Settings{
		Topics:                 []string{"billing", "tech"},
		AcceptTimeout:          10 * time.Minute,
		TimeoutMessage:         "No agent is free right now.",
		Greeting:               "Hi, an agent is here.",
		AgentEndedMessage:      "The agent closed the chat.",
		TransferFailedMessage:  "Transfer failed, hold on.",
		DefaultLocale:          "en_US",
		RoutingUserField:       "LA_UserId",
		RoutingTopicField:      "LA_Topic",
		MaxMessageBytes:        100,
		MaxAttachmentBytes:     1000,
		AllowedAttachmentTypes: []string{"image/png", "application/pdf"},
	}
}

func testInput() workflows.SessionInput {
	return workflows.SessionInput{Request: workflows.SessionRequest{
		UserID:      "u-42",
		Topic:       "billing",
		Description: "My invoice is wrong.",
		Settings:    testSettings(),
	}}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func acceptEvents(h *harness, at time.Duration, agent string) {
	h.signalAt(at, workflows.AgentEvent{EventID: "ev-acc", EntryID: "wr-1", Kind: workflows.AgentWorkResult, WorkType: "Accepted"})
	h.signalAt(at+time.Second, workflows.AgentEvent{EventID: "ev-join", EntryID: "pc-1", Kind: workflows.AgentJoined, SenderName: agent, SenderRole: "Agent"})
	h.signalAt(at+2*time.Second, workflows.AgentEvent{EventID: "ev-act", EntryID: "ss-1", Kind: workflows.AgentSessionStatus, SessionStatus: "Active"})
}
