package workflows

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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

	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
)

// fakeActivities records every activity call the workflow makes. The
// activities are registered by name, exactly as package activities does.
type fakeActivities struct {
	mu          sync.Mutex
	created     []CreateConversationInput
	sent        []SendMessageInput
	attachments []SendAttachmentInput
	ended       []EndConversationInput
	delivered   []Delivery
	downloads   []DownloadInput
	listens     []ListenInput

	createErr       error
	deliverErr      func(context.Context, Delivery) error // nil = every delivery succeeds
	deliverAttempts int
	sendErr         func(SendMessageInput) error
}

// streamPositionBeforeCreate is the cursor the fake StreamPosition reports;
// streamPositionOfCreate the later one the fake CreateConversation reports,
// as a create attempt retried after the conversation was created would.
const (
	streamPositionBeforeCreate = "ev-before-create"
	streamPositionOfCreate     = "ev-after-accept"
)

func (f *fakeActivities) StreamPosition(context.Context, StreamPositionInput) (StreamPositionResult, error) {
	return StreamPositionResult{LastEventID: streamPositionBeforeCreate}, nil
}

func (f *fakeActivities) CreateConversation(_ context.Context, in CreateConversationInput) (CreateConversationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, in)
	if f.createErr != nil {
		return CreateConversationResult{}, f.createErr
	}
	return CreateConversationResult{LastEventID: streamPositionOfCreate}, nil
}

func (f *fakeActivities) SendMessage(_ context.Context, in SendMessageInput) (SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	if f.sendErr != nil {
		if err := f.sendErr(in); err != nil {
			return SendResult{}, err
		}
	}
	return SendResult{EntryID: "entry-" + in.MessageID}, nil
}

func (f *fakeActivities) SendAttachment(_ context.Context, in SendAttachmentInput) (SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attachments = append(f.attachments, in)
	return SendResult{EntryID: "entry-" + in.MessageID}, nil
}

func (f *fakeActivities) EndConversation(_ context.Context, in EndConversationInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, in)
	return nil
}

func (f *fakeActivities) DownloadAttachment(_ context.Context, in DownloadInput) (AttachmentRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.downloads = append(f.downloads, in)
	return AttachmentRef{
		Name: in.Attachment.Name, MimeType: in.Attachment.MimeType, Size: 42,
		SHA256: "ab12", URL: "http://127.0.0.1/attachments/ab12",
	}, nil
}

func (f *fakeActivities) Deliver(ctx context.Context, d Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliverAttempts++
	if f.deliverErr != nil {
		if err := f.deliverErr(ctx, d); err != nil {
			return err
		}
	}
	f.delivered = append(f.delivered, d)
	return nil
}

// Listen stands in for the SSE listener; the test env mock below keeps it
// "running" (on the workflow clock) until the workflow cancels it.
func (f *fakeActivities) Listen(context.Context, ListenInput) error { return nil }

func (f *fakeActivities) deliveries(kind DeliveryKind) []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Delivery
	for _, d := range f.delivered {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

func (f *fakeActivities) deliveredTexts(kind DeliveryKind) []string {
	var out []string
	for _, d := range f.deliveries(kind) {
		out = append(out, d.Text)
	}
	return out
}

func (f *fakeActivities) sentTexts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sent {
		out = append(out, s.Text)
	}
	return out
}

// updateRecorder implements testsuite's UpdateCallbacks.
type updateRecorder struct {
	mu        sync.Mutex
	accepted  bool
	rejected  error
	completed bool
	result    UpdateResult
	err       error
}

func (u *updateRecorder) Accept() { u.mu.Lock(); u.accepted = true; u.mu.Unlock() }

func (u *updateRecorder) Reject(err error) { u.mu.Lock(); u.rejected = err; u.mu.Unlock() }

func (u *updateRecorder) Complete(success any, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.completed = true
	u.err = err
	if r, ok := success.(UpdateResult); ok {
		u.result = r
	}
}

func (u *updateRecorder) requireResult(t *testing.T, status UpdateStatus) UpdateResult {
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

type harness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	sf   *fakeActivities
	logs *syncbuf.Buffer // everything the workflow and the SDK logged
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
	sf := &fakeActivities{}
	Register(env)
	for name, fn := range map[string]any{
		ActivityStreamPosition:     sf.StreamPosition,
		ActivityCreateConversation: sf.CreateConversation,
		ActivitySendMessage:        sf.SendMessage,
		ActivitySendAttachment:     sf.SendAttachment,
		ActivityEndConversation:    sf.EndConversation,
		ActivityDownloadAttachment: sf.DownloadAttachment,
		ActivityDeliver:            sf.Deliver,
		ActivityListen:             sf.Listen,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	// The listener runs until cancelled: keep it pending on the workflow
	// clock (which lets the test env skip time for the accept timer).
	env.OnActivity(ActivityListen, mock.Anything, mock.Anything).After(d).Return(err)
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name != ActivityListen {
			return
		}
		var in ListenInput
		if err := args.Get(&in); err == nil {
			sf.mu.Lock()
			sf.listens = append(sf.listens, in)
			sf.mu.Unlock()
		}
	})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: WorkflowID("u-42"), TaskQueue: TaskQueue})
	return &harness{t: t, env: env, sf: sf, logs: logs}
}

func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

func (h *harness) signalAt(d time.Duration, ev AgentEvent) {
	h.at(d, func() { h.env.SignalWorkflow(SignalAgentEvent, ev) })
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

func (h *harness) queryAt(d time.Duration) *SessionView {
	view := &SessionView{}
	h.at(d, func() {
		v, err := h.env.QueryWorkflow(QueryState)
		require.NoError(h.t, err)
		require.NoError(h.t, v.Get(view))
	})
	return view
}

func (h *harness) run(in SessionInput) {
	h.env.ExecuteWorkflow(WorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
}

func (h *harness) result() SessionResult {
	h.t.Helper()
	require.NoError(h.t, h.env.GetWorkflowError())
	var r SessionResult
	require.NoError(h.t, h.env.GetWorkflowResult(&r))
	return r
}

func (h *harness) conversationID() string {
	h.sf.mu.Lock()
	defer h.sf.mu.Unlock()
	require.Len(h.t, h.sf.created, 1)
	return h.sf.created[0].ConversationID
}

func testSettings() Settings {
	return Settings{
		Topics:                 []string{"billing", "tech"},
		AcceptTimeout:          10 * time.Minute,
		TimeoutMessage:         "No agent is free right now.",
		Greeting:               "Hi, an agent is here.",
		AgentEndedMessage:      "The agent closed the chat.",
		DefaultLocale:          "en_US",
		RoutingUserField:       "LA_UserId",
		RoutingTopicField:      "LA_Topic",
		MaxMessageBytes:        100,
		MaxAttachmentBytes:     1000,
		AllowedAttachmentTypes: []string{"image/png", "application/pdf"},
	}
}

func testInput() SessionInput {
	return SessionInput{Request: SessionRequest{
		UserID:      "u-42",
		Topic:       "billing",
		Description: "My invoice is wrong.",
		Settings:    testSettings(),
	}}
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func acceptEvents(h *harness, at time.Duration, agent string) {
	h.signalAt(at, AgentEvent{EventID: "ev-acc", EntryID: "wr-1", Kind: AgentWorkResult, WorkType: "Accepted"})
	h.signalAt(at+time.Second, AgentEvent{EventID: "ev-join", EntryID: "pc-1", Kind: AgentJoined, SenderName: agent, SenderRole: "Agent"})
	h.signalAt(at+2*time.Second, AgentEvent{EventID: "ev-act", EntryID: "ss-1", Kind: AgentSessionStatus, SessionStatus: "Active"})
}
