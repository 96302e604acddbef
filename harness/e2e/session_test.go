package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"
	"github.com/liveagent-bridge/liveagent/worker"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// waitFor is the generous upper bound of every wait: the tests assert what
// happens, never how fast.
const waitFor = 90 * time.Second

const (
	agentName  = "Jane Agent"
	keyID      = "e2e-key"
	issuer     = "liveagent-e2e"
	publicBase = "http://127.0.0.1:8081/v1/attachments"
)

// recordingSink is the delivery sink of the tests: it keeps every delivery.
type recordingSink struct {
	mu  sync.Mutex
	got []workflows.Delivery
}

func (s *recordingSink) Deliver(_ context.Context, d workflows.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	return nil
}

func (s *recordingSink) forUser(userID string) []workflows.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []workflows.Delivery
	for _, d := range s.got {
		if d.UserID == userID {
			out = append(out, d)
		}
	}
	return out
}

// await waits until a delivery to userID matches and returns it.
func (s *recordingSink) await(t *testing.T, userID, what string, match func(workflows.Delivery) bool) workflows.Delivery {
	t.Helper()
	var found workflows.Delivery
	eventually(t, "delivery to "+userID+": "+what, func() bool {
		for _, d := range s.forUser(userID) {
			if match(d) {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitFor, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testWriter writes to the test's output (shown with -v or on failure) and
// drops whatever background goroutines log after the test has finished.
type testWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.w.Write(p)
}

// testLogger logs warnings and errors of every component into the test
// output; E2E_LOG=1 logs everything (debug).
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{w: t.Output()}
	t.Cleanup(func() { // registered first, so it runs last
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	level := slog.LevelWarn
	if os.Getenv("E2E_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// stack is one Temporal server, one emulator and one production worker.
type stack struct {
	cfg     *config.Config
	emu     *emulator.Server
	tc      client.Client
	sink    *recordingSink
	store   *attachstore.Store
	starter *starter.Client
	logger  *slog.Logger
	// stopWorker stops the running worker (a no-op once stopped).
	stopWorker func()
}

// newStack starts the emulator (with faults), a Temporal test server and the
// production worker wiring, in-process.
func newStack(t *testing.T, faults emulator.Faults) *stack {
	return newStackWith(t, emulator.Config{Faults: faults})
}

// newStackWith is newStack with emulator settings (faults, scripted agent).
func newStackWith(t *testing.T, emu emulator.Config) *stack {
	s := newBackendWith(t, emu)
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	return s
}

// newBackend starts the emulator and a Temporal test server (search
// attributes registered) and returns a stack without a worker.
func newBackend(t *testing.T, faults emulator.Faults) *stack {
	return newBackendWith(t, emulator.Config{Faults: faults})
}

// newBackendWith is newBackend with emulator settings; the key, issuer,
// guest refusal, ping interval and logger are always set here.
func newBackendWith(t *testing.T, emuCfg emulator.Config) *stack {
	logger := testLogger(t)

	// The MIAW emulator with verified (JWT) user authentication; the agent
	// side is driven through its Go API.
	keyDir := t.TempDir()
	keyPath, jwksPath, err := emulator.GenerateKeyPair(keyDir, keyID)
	require.NoError(t, err)
	jwks, err := os.ReadFile(jwksPath)
	require.NoError(t, err)
	emuCfg.Issuer = issuer
	emuCfg.JWKS = jwks
	emuCfg.RejectGuests = true
	emuCfg.PingInterval = 2 * time.Second
	emuCfg.Logger = logger.With("component", "emulator")
	emu, err := emulator.New(emuCfg)
	require.NoError(t, err)
	baseURL, err := emu.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = emu.Close() })

	srv := devtemporal.NewTest(t, devtemporal.Options{})

	cfg := config.Default()
	cfg.Temporal.Address = srv.FrontendAddress()
	cfg.Temporal.Namespace = srv.Namespace()
	cfg.Salesforce.SCRTURL = baseURL
	cfg.Salesforce.AllowAnyHost = true
	cfg.Salesforce.OrgID = "00D000000000001"
	cfg.Salesforce.Deployment = "Live_Agent_Bridge"
	cfg.Salesforce.AuthMode = config.AuthVerified
	cfg.Salesforce.PrivateKeyFile = keyPath
	cfg.Salesforce.KeyID = keyID
	cfg.Salesforce.Issuer = issuer
	cfg.Session.Topics = []string{"HR", "Payroll"}
	cfg.Session.AcceptTimeout = 10 * time.Minute
	cfg.Attachments.Dir = t.TempDir()
	cfg.Attachments.PublicURL = publicBase
	cfg.Worker.ListenerSlots = 20
	cfg.Worker.ActivitySlots = 20
	require.NoError(t, cfg.Validate())

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	tc, err := temporalclient.Dial(ctx, cfg, logger)
	require.NoError(t, err)
	t.Cleanup(tc.Close)

	// Registration is idempotent: the second call finds everything in place.
	require.NoError(t, temporalclient.EnsureSearchAttributes(ctx, tc, cfg.Temporal.Namespace))
	require.NoError(t, temporalclient.EnsureSearchAttributes(ctx, tc, cfg.Temporal.Namespace))

	store, err := attachstore.Open(cfg.Attachments.Dir)
	require.NoError(t, err)
	s := &stack{
		cfg:     cfg,
		emu:     emu,
		tc:      tc,
		sink:    &recordingSink{},
		store:   store,
		starter: starter.New(tc, cfg.SessionSettings(), store),
		logger:  logger,
	}
	return s
}

// startWorker starts a fresh production worker (a new process, as far as
// Temporal can tell).
func (s *stack) startWorker(t *testing.T) {
	t.Helper()
	stop, err := worker.Background(s.cfg, worker.WithClient(s.tc), worker.WithSink(s.sink),
		worker.WithLogger(s.logger), worker.WithStopTimeout(time.Second))
	require.NoError(t, err)
	s.stopWorker = stop
}

// startAccepted starts a session for userID on topic HR, has the emulator's
// agent accept it and waits until the user got the greeting and the session
// is active (the greeting is delivered before the workflow records the
// state: a message sent in between is queued, not sent).
func (s *stack) startAccepted(t *testing.T, userID, description string) (*starter.Session, string) {
	t.Helper()
	sess, err := s.starter.Start(context.Background(), starter.StartRequest{UserID: userID, Topic: "HR", Description: description})
	require.NoError(t, err)
	conv := s.conversationOf(t, userID)
	require.NoError(t, s.emu.Accept(conv, agentName))
	s.sink.await(t, userID, "greeting", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == s.cfg.Session.Greeting
	})
	eventually(t, userID+" active", func() bool {
		v, err := s.starter.State(context.Background(), userID)
		return err == nil && v.State == workflows.StateActive
	})
	return sess, conv
}

// conversationOf waits until the user's session has created its Salesforce
// conversation and is waiting for an agent, and returns the conversation id.
func (s *stack) conversationOf(t *testing.T, userID string) string {
	t.Helper()
	var conv string
	eventually(t, userID+" waiting for an agent", func() bool {
		v, err := s.starter.State(context.Background(), userID)
		if err != nil || v.State != workflows.StateWaiting {
			return false
		}
		conv = v.ConversationID
		return conv != ""
	})
	return conv
}

func (s *stack) awaitEmulatorState(t *testing.T, convID, state string) {
	t.Helper()
	eventually(t, "emulator conversation "+convID+" "+state, func() bool {
		info, err := s.emu.Conversation(convID)
		return err == nil && info.State == state
	})
}

// awaitUserEntry waits until the agent side sees an end-user entry matching.
func (s *stack) awaitUserEntry(t *testing.T, convID, what string, match func(emulator.TranscriptEntry) bool) emulator.TranscriptEntry {
	t.Helper()
	var found emulator.TranscriptEntry
	eventually(t, "agent sees "+what, func() bool {
		for _, e := range s.emu.Transcript(convID) {
			if e.Role == "EndUser" && match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

func countUserTexts(entries []emulator.TranscriptEntry, text string) int {
	n := 0
	for _, e := range entries {
		if e.Role == "EndUser" && e.Text == text {
			n++
		}
	}
	return n
}

func (s *stack) result(t *testing.T, sess *starter.Session) workflows.SessionResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var res workflows.SessionResult
	// An empty run id follows continue-as-new to the final run.
	require.NoError(t, s.tc.GetWorkflow(ctx, sess.WorkflowID, "").Get(ctx, &res))
	return res
}

// assertCompletedWithoutWaitingForListener checks the session's history: its
// listener was asked to stop and the run completed in the same step, without
// waiting for the listener's acknowledgement (a mass close would otherwise
// take a heartbeat interval per session). A sharded session instead told its
// shard it left, once, and completed.
func assertCompletedWithoutWaitingForListener(t *testing.T, s *stack, sess *starter.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var events []*historypb.HistoryEvent
	it := s.tc.GetWorkflowHistory(ctx, sess.WorkflowID, sess.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		events = append(events, ev)
	}
	require.NotEmpty(t, events)
	var listenerScheduled int64
	cancelRequested := false
	leaves := 0
	for _, ev := range events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			if ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes().GetSignalName() == workflows.SignalShardLeave {
				leaves++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivityListen {
				listenerScheduled = ev.GetEventId()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
			cancelRequested = cancelRequested || ev.GetActivityTaskCancelRequestedEventAttributes().GetScheduledEventId() == listenerScheduled
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			assert.NotEqual(t, listenerScheduled, ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId(),
				"the run waited for its listener to acknowledge cancellation")
		}
	}
	if s.cfg.Session.ListenerShards > 0 {
		assert.Zero(t, listenerScheduled, "a sharded session ran a listener of its own")
		assert.Equal(t, 1, leaves, "a sharded session leaves its shard once")
	} else {
		require.NotZero(t, listenerScheduled, "no listener in the history")
		assert.True(t, cancelRequested, "the listener was never asked to stop")
	}
	assert.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestSessions(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	t.Run("AgentAcceptsChatsAndEnds", func(t *testing.T) { testAcceptPath(t, s) })
	t.Run("AcceptTimeout", func(t *testing.T) { testAcceptTimeout(t, s) })
	t.Run("UserCloses", func(t *testing.T) { testUserClose(t, s) })
	t.Run("SecondStartReturnsExisting", func(t *testing.T) { testSecondStart(t, s) })
}

func testAcceptPath(t *testing.T, s *stack) {
	ctx := context.Background()
	const user = "u-accept"
	sess, err := s.starter.Start(ctx, starter.StartRequest{UserID: user, Topic: "HR", Description: "My payslip is wrong"})
	require.NoError(t, err)
	assert.False(t, sess.Existing)
	assert.Equal(t, workflows.WorkflowID(user), sess.WorkflowID)

	conv := s.conversationOf(t, user)
	info, err := s.emu.Conversation(conv)
	require.NoError(t, err)
	assert.Equal(t, user, info.RoutingAttributes["UserId"], "routing attribute: user id")
	assert.Equal(t, "HR", info.RoutingAttributes["Topic"], "routing attribute: topic")
	assert.Contains(t, info.UserSubject, user, "the conversation belongs to the verified user")
	s.awaitUserEntry(t, conv, "the description", func(e emulator.TranscriptEntry) bool { return e.Text == "My payslip is wrong" })

	// While waiting, a message is kept and sent once an agent accepts.
	res, err := s.starter.SendMessage(ctx, user, "m-wait", "Is anyone there?")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateQueued, res.Status)
	assert.Equal(t, 0, countUserTexts(s.emu.Transcript(conv), "Is anyone there?"), "not sent before accept")

	// The session is listed as open.
	eventually(t, "ListOpen shows "+user, func() bool {
		list, err := s.starter.ListOpen(ctx)
		if err != nil {
			return false
		}
		return slices.ContainsFunc(list, func(o starter.SessionSummary) bool {
			return o.UserID == user && o.Topic == "HR" && o.ConversationID == conv
		})
	})

	require.NoError(t, s.emu.Accept(conv, agentName))
	s.sink.await(t, user, "greeting", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == s.cfg.Session.Greeting
	})
	s.awaitUserEntry(t, conv, "the message queued while waiting", func(e emulator.TranscriptEntry) bool { return e.Text == "Is anyone there?" })
	eventually(t, "state active with the agent's name", func() bool {
		v, err := s.starter.State(ctx, user)
		return err == nil && v.State == workflows.StateActive && v.AgentName == agentName
	})

	// User → agent, and a retried update never sends twice.
	res, err = s.starter.SendMessage(ctx, user, "m-1", "Hello, my March payslip is missing overtime")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateSent, res.Status)
	assert.NotEmpty(t, res.EntryID)
	retry, err := s.starter.SendMessage(ctx, user, "m-1", "Hello, my March payslip is missing overtime")
	require.NoError(t, err)
	assert.Contains(t, []workflows.UpdateStatus{workflows.UpdateSent, workflows.UpdateDuplicate}, retry.Status)
	s.awaitUserEntry(t, conv, "the user's message", func(e emulator.TranscriptEntry) bool {
		return e.Text == "Hello, my March payslip is missing overtime"
	})
	assert.Equal(t, 1, countUserTexts(s.emu.Transcript(conv), "Hello, my March payslip is missing overtime"), "sent exactly once")

	// Agent → user: text, link, file.
	_, err = s.emu.AgentSend(conv, "Let me check that for you.")
	require.NoError(t, err)
	msg := s.sink.await(t, user, "agent text", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Text == "Let me check that for you."
	})
	assert.Equal(t, sess.WorkflowID, msg.SessionID)

	_, err = s.emu.AgentSendLink(conv, "https://hr.example.com/payslips", "Payslip FAQ")
	require.NoError(t, err)
	link := s.sink.await(t, user, "agent link", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Link != nil
	})
	assert.Equal(t, "https://hr.example.com/payslips", link.Link.URL)

	form := []byte("Overtime claim form\nName:\nHours:\n")
	_, err = s.emu.AgentSendFile(conv, "overtime-form.txt", "text/plain", form)
	require.NoError(t, err)
	file := s.sink.await(t, user, "agent file", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Attachment != nil
	})
	assert.Equal(t, sha(form), file.Attachment.SHA256)
	assert.Equal(t, int64(len(form)), file.Attachment.Size)
	assert.Equal(t, "overtime-form.txt", file.Attachment.Name)
	assert.Equal(t, publicBase+"/"+sha(form), file.Attachment.URL)
	rc, size, err := s.store.Open(file.Attachment.SHA256)
	require.NoError(t, err)
	stored, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, int64(len(form)), size)
	assert.Equal(t, form, stored, "the agent's file is in the store, by content hash")

	// User → agent: a file.
	shot := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 64)
	res, err = s.starter.SendAttachment(ctx, user, "f-1", "screenshot.png", "image/png", "my payslip", bytes.NewReader(shot))
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateSent, res.Status)
	entry := s.awaitUserEntry(t, conv, "the user's file", func(e emulator.TranscriptEntry) bool { return e.Attachment != nil })
	assert.Equal(t, sha(shot), entry.Attachment.SHA256)
	assert.Equal(t, len(shot), entry.Attachment.Size)
	assert.Equal(t, "image/png", entry.Attachment.MimeType)

	// The agent ends the chat: the user is told, Salesforce is cleaned up.
	require.NoError(t, s.emu.AgentEnd(conv))
	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseAgentEnded, closed.CloseReason)
	s.sink.await(t, user, "agent-ended notice", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == s.cfg.Session.AgentEndedMessage
	})
	r := s.result(t, sess)
	assert.Equal(t, workflows.CloseAgentEnded, r.CloseReason)
	assert.Equal(t, conv, r.ConversationID)
	s.awaitEmulatorState(t, conv, "closed")

	v, err := s.starter.State(ctx, user)
	require.NoError(t, err)
	assert.Equal(t, workflows.StateClosed, v.State)
	assert.Equal(t, workflows.CloseAgentEnded, v.CloseReason)
	var texts []string
	for _, e := range v.Transcript {
		texts = append(texts, e.Text)
	}
	assert.Subset(t, texts, []string{"My payslip is wrong", "Is anyone there?", "Let me check that for you."})

	// Each agent entry reached the user once, even if the stream repeated it.
	seen := map[string]int{}
	for _, d := range s.sink.forUser(user) {
		seen[d.ID]++
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, "delivery %s", id)
	}
}

func testAcceptTimeout(t *testing.T, s *stack) {
	ctx := context.Background()
	const user = "u-timeout"
	settings := s.cfg.SessionSettings()
	settings.AcceptTimeout = 3 * time.Second
	short := starter.New(s.tc, settings, s.store)

	sess, err := short.Start(ctx, starter.StartRequest{UserID: user, Topic: "Payroll", Description: "Where is my bonus?"})
	require.NoError(t, err)
	var conv string
	eventually(t, "conversation created", func() bool {
		v, err := short.State(ctx, user)
		if err != nil {
			return false
		}
		conv = v.ConversationID
		return conv != ""
	})

	s.sink.await(t, user, "timeout message", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == settings.TimeoutMessage
	})
	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseAcceptTimeout, closed.CloseReason)
	assert.Equal(t, workflows.CloseAcceptTimeout, s.result(t, sess).CloseReason)
	s.awaitEmulatorState(t, conv, "closed")

	// Nobody accepted, so no greeting was ever shown.
	for _, d := range s.sink.forUser(user) {
		assert.NotEqual(t, settings.Greeting, d.Text)
	}
}

func testUserClose(t *testing.T, s *stack) {
	ctx := context.Background()
	const user = "u-close"
	sess, conv := s.startAccepted(t, user, "Question about leave")

	res, err := s.starter.Close(ctx, user, "close-1", "Solved, thanks")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateClosed, res.Status)

	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseUserClosed, closed.CloseReason)
	assert.Equal(t, workflows.CloseUserClosed, s.result(t, sess).CloseReason)
	s.awaitEmulatorState(t, conv, "closed")
	assertCompletedWithoutWaitingForListener(t, s, sess)
	// The abandoned listener learns at its next heartbeat that the run is
	// gone and leaves no stream open.
	eventually(t, "the listener's stream closed", func() bool { return s.emu.OpenStreams(conv) == 0 })

	// A message after the session ended is refused, not lost silently.
	_, err = s.starter.SendMessage(ctx, user, "m-late", "one more thing")
	require.Error(t, err)
	assert.True(t, errors.Is(err, starter.ErrNoSession) || errors.Is(err, starter.ErrRejected), err.Error())
	assert.Equal(t, 0, countUserTexts(s.emu.Transcript(conv), "one more thing"))

	// A finished session's id can be reused: the user may start again.
	again, err := s.starter.Start(ctx, starter.StartRequest{UserID: user, Topic: "HR", Description: "Another question"})
	require.NoError(t, err)
	assert.False(t, again.Existing)
	assert.NotEqual(t, sess.RunID, again.RunID)
	_, err = s.starter.Close(ctx, user, "close-2", "")
	require.NoError(t, err)
	assert.Equal(t, workflows.CloseUserClosed, s.result(t, again).CloseReason)
}

func testSecondStart(t *testing.T, s *stack) {
	ctx := context.Background()
	const user = "u-dup"
	first, err := s.starter.Start(ctx, starter.StartRequest{UserID: user, Topic: "HR", Description: "First try"})
	require.NoError(t, err)
	assert.False(t, first.Existing)
	conv := s.conversationOf(t, user)

	second, err := s.starter.Start(ctx, starter.StartRequest{UserID: user, Topic: "Payroll", Description: "Second try"})
	require.NoError(t, err)
	assert.True(t, second.Existing, "the running session is returned")
	assert.Equal(t, first.WorkflowID, second.WorkflowID)
	assert.Equal(t, first.RunID, second.RunID)

	var mine []string
	for _, c := range s.emu.Conversations() {
		if c.RoutingAttributes["UserId"] == user {
			mine = append(mine, c.ID)
		}
	}
	assert.Equal(t, []string{conv}, mine, "one Salesforce conversation for the user")
	assert.Equal(t, 0, countUserTexts(s.emu.Transcript(conv), "Second try"))

	_, err = s.starter.Close(ctx, user, "", fmt.Sprintf("cleanup %s", t.Name()))
	require.NoError(t, err)
	assert.Equal(t, workflows.CloseUserClosed, s.result(t, first).CloseReason)
	s.awaitEmulatorState(t, conv, "closed")
}

// The emulator's scripted agent (what the demo uses) accepts on its own,
// answers, shares a link and a file, and ends the chat after two user
// messages (the description and one more).
func TestScriptedAgentSession(t *testing.T) {
	s := newStackWith(t, emulator.Config{Agent: &emulator.ScriptedAgent{
		Name:        "Scripted Sam",
		AcceptAfter: 300 * time.Millisecond,
		SendLink:    true,
		SendFile:    true,
		CloseAfter:  2,
	}})
	ctx := context.Background()
	const user = "u-scripted"
	sess, err := s.starter.Start(ctx, starter.StartRequest{UserID: user, Topic: "HR", Description: "Holiday balance?"})
	require.NoError(t, err)

	s.sink.await(t, user, "greeting", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == s.cfg.Session.Greeting
	})
	s.sink.await(t, user, "reply to the description", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Text == "You said: Holiday balance?" && d.SenderName == "Scripted Sam"
	})
	s.sink.await(t, user, "link", func(d workflows.Delivery) bool { return d.Link != nil && d.Link.URL != "" })
	file := s.sink.await(t, user, "file", func(d workflows.Delivery) bool { return d.Attachment != nil })
	assert.Equal(t, "agent-notes.txt", file.Attachment.Name)
	rc, _, err := s.store.Open(file.Attachment.SHA256)
	require.NoError(t, err)
	notes, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, file.Attachment.SHA256, sha(notes))

	res, err := s.starter.SendMessage(ctx, user, "m-1", "Thanks!")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateSent, res.Status)
	s.sink.await(t, user, "reply", func(d workflows.Delivery) bool { return d.Text == "You said: Thanks!" })
	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseAgentEnded, closed.CloseReason)
	assert.Equal(t, workflows.CloseAgentEnded, s.result(t, sess).CloseReason)
}
