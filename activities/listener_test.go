package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

var listenIn = workflows.ListenInput{
	WorkflowID: workflows.WorkflowID("u-1"), UserID: "u-1", ConversationID: "conv-1", LastEventID: "ev-0",
}

// listenerHarness runs ListenEvents in the background with a cancellable
// activity context, a fake signaller and recorded heartbeats.
type listenerHarness struct {
	a      *Activities
	sf     *fakeSF
	sig    *fakeSignaler
	hb     *heartbeats
	env    *testsuite.TestActivityEnvironment
	cancel context.CancelFunc
	// cancelCause cancels the activity context with a cause, as the SDK
	// does when a heartbeat answers an error.
	cancelCause context.CancelCauseFunc
	done        chan error
}

func newListenerHarness(t *testing.T) *listenerHarness {
	t.Helper()
	a, sf, env := testActivities(t)
	sig := &fakeSignaler{notify: make(chan workflows.AgentEvent, 100)}
	hb := &heartbeats{notify: make(chan string, 1000)}
	a.Temporal = sig
	a.recordHeartbeat = hb.record
	a.heartbeatEvery = time.Hour // tests that want ticks lower it
	a.signalBackoff = time.Millisecond
	ctx, cancelCause := context.WithCancelCause(context.Background())
	cancel := func() { cancelCause(nil) }
	t.Cleanup(cancel)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	return &listenerHarness{a: a, sf: sf, sig: sig, hb: hb, env: env, cancel: cancel, cancelCause: cancelCause, done: make(chan error, 1)}
}

func (h *listenerHarness) start(in workflows.ListenInput) {
	go func() {
		_, err := h.env.ExecuteActivity(workflows.ActivityListen, in)
		h.done <- err
	}()
}

func (h *listenerHarness) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not return within 10s")
		return nil
	}
}

func (h *listenerHarness) nextSignal(t *testing.T) workflows.AgentEvent {
	t.Helper()
	select {
	case ev := <-h.sig.notify:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no signal within 10s")
		return workflows.AgentEvent{}
	}
}

// wantSignalTexts fails unless the next signals carry texts, in order.
func (h *listenerHarness) wantSignalTexts(t *testing.T, texts ...string) {
	t.Helper()
	got := make([]string, 0, len(texts))
	for range texts {
		got = append(got, h.nextSignal(t).Text)
	}
	if !slices.Equal(got, texts) {
		t.Fatalf("signalled %q, want %q", got, texts)
	}
}

// scriptedStream emits events, then blocks until cancelled.
func scriptedStream(events ...miaw.Event) func(context.Context, miaw.StreamOptions, func(miaw.Event) error) error {
	return func(ctx context.Context, _ miaw.StreamOptions, handle func(miaw.Event) error) error {
		for _, ev := range events {
			if err := handle(ev); err != nil {
				return err
			}
		}
		<-ctx.Done()
		return ctx.Err()
	}
}

// connectedStream connects at lastEventID (the listener catches up), then
// is scriptedStream.
func connectedStream(lastEventID string, events ...miaw.Event) func(context.Context, miaw.StreamOptions, func(miaw.Event) error) error {
	script := scriptedStream(events...)
	return func(ctx context.Context, opts miaw.StreamOptions, handle func(miaw.Event) error) error {
		if err := opts.OnConnect(lastEventID); err != nil {
			return err
		}
		return script(ctx, opts, handle)
	}
}

// isCancellation reports whether the activity ended because its context was
// cancelled. In production the server's cancel request makes that a
// CanceledError; the test environment cancels through the background context,
// which the SDK reports as a failure carrying "context canceled".
func isCancellation(err error) bool {
	var ce *temporal.CanceledError
	return errors.Is(err, context.Canceled) || errors.As(err, &ce) ||
		(err != nil && strings.Contains(err.Error(), context.Canceled.Error()))
}

func TestListenerSignalsFiltersAndHeartbeats(t *testing.T) {
	h := newListenerHarness(t)
	other := mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("other conversation"))
	other.ConversationID = "conv-2"
	echo := mkEvent("ev-2", miaw.EventMessage, miaw.EntryMessage, miaw.RoleEndUser, "Guest", textMsg("my own words"))
	joined := mkEvent("ev-3", miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "", &miaw.ParticipantChangedPayload{Entries: []miaw.ParticipantEntry{
		{Operation: "add", DisplayName: "Jane", Participant: miaw.Participant{Role: miaw.RoleAgent}}}})
	malformed := miaw.Event{ID: "ev-4", Type: miaw.EventMessage, ConversationID: "conv-1", Entry: miaw.ConversationEntry{Identifier: "e4", EntryType: miaw.EntryMessage}}
	hello := mkEvent("ev-5", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("Hello"))
	hello.ConversationID = "CONV-1" // ids compare case-insensitively
	h.sf.stream = scriptedStream(other, echo, joined, malformed, hello)

	h.start(listenIn)
	first, second := h.nextSignal(t), h.nextSignal(t)
	if first.Kind != workflows.AgentJoined || first.EventID != "ev-3" || first.SenderName != "Jane" {
		t.Fatalf("first signal = %+v", first)
	}
	if second.Kind != workflows.AgentMessage || second.Text != "Hello" || second.EntryID != "entry-ev-5" {
		t.Fatalf("second signal = %+v", second)
	}
	if err := waitFor(func() bool { return h.hb.last() == "ev-5" }); err != nil {
		t.Fatalf("cursor not heartbeated after the last signal: heartbeats %v", h.hb.all())
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}

	signals, targets, _ := h.sig.snapshot()
	if len(signals) != 2 {
		t.Fatalf("%d signals, want 2: %+v", len(signals), signals)
	}
	for _, target := range targets {
		// The run that scheduled the listener (the test environment's run id), never "latest run".
		if target != workflows.WorkflowID("u-1")+"/default-test-run-id/"+workflows.SignalAgentEvent {
			t.Fatalf("signal target = %q", target)
		}
	}
	hbs := h.hb.all()
	if hbs[0] != "ev-0" {
		t.Fatalf("first heartbeat = %q, want the start cursor ev-0", hbs[0])
	}
	if !contains(hbs, "ev-3") {
		t.Fatalf("heartbeats %v lack ev-3 (recorded after its signal)", hbs)
	}
	if got := h.sf.streamOpts[0].LastEventID; got != "ev-0" {
		t.Fatalf("stream resumed from %q, want input cursor ev-0", got)
	}
	st := h.a.ListenerStats()
	if st.Signalled != 2 || st.Skipped != 2 || st.Malformed != 1 {
		t.Fatalf("stats = %+v, want 2 signalled, 2 skipped, 1 malformed", st)
	}
}

func TestListenerResumesFromHeartbeatDetails(t *testing.T) {
	h := newListenerHarness(t)
	h.env.SetHeartbeatDetails("ev-42")
	h.start(listenIn)
	if err := waitFor(func() bool { return h.sf.callCount("Stream") == 1 }); err != nil {
		t.Fatal(err)
	}
	h.cancel()
	_ = h.wait(t)
	if got := h.sf.streamOpts[0].LastEventID; got != "ev-42" {
		t.Fatalf("stream resumed from %q, want heartbeat cursor ev-42", got)
	}
	if hbs := h.hb.all(); len(hbs) == 0 || hbs[0] != "ev-42" {
		t.Fatalf("heartbeats = %v, want first ev-42", hbs)
	}
}

func TestHeartbeatCadenceIsAThirdOfTheTimeout(t *testing.T) {
	for timeout, want := range map[time.Duration]time.Duration{
		0: DefaultListenerHeartbeat,
		// The default timeout gives the default cadence.
		workflows.DefaultListenerHeartbeatTimeout: DefaultListenerHeartbeat,
		90 * time.Second: 30 * time.Second,
	} {
		if got := heartbeatCadence(timeout); got != want {
			t.Errorf("heartbeatCadence(%s) = %s, want %s", timeout, got, want)
		}
	}
}

func TestListenerHeartbeatsOnTicker(t *testing.T) {
	h := newListenerHarness(t)
	h.a.heartbeatEvery = 5 * time.Millisecond
	h.sf.stream = scriptedStream(mkEvent("ev-7", miaw.EventQueuePosition, miaw.EntryQueuePosition, miaw.RoleSystem, "", &miaw.QueuePositionPayload{Position: 3}))
	h.start(listenIn)
	h.nextSignal(t)
	// With no further events, the ticker keeps heartbeating the cursor.
	if err := waitFor(func() bool {
		n := 0
		for _, v := range h.hb.all() {
			if v == "ev-7" {
				n++
			}
		}
		return n >= 4
	}); err != nil {
		t.Fatalf("ticker heartbeats missing: %v", h.hb.all())
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
}

func TestListenerStopsWhenWorkflowGone(t *testing.T) {
	h := newListenerHarness(t)
	h.sig.errs = []error{serviceerror.NewNotFound("workflow execution already completed")}
	h.sf.stream = scriptedStream(mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("late")))
	h.start(listenIn)
	if err := h.wait(t); err != nil {
		t.Fatalf("listener returned %v, want nil when the workflow is gone", err)
	}
}

// A completed session does not wait for its listener: the listener's next
// heartbeat answers NotFound, the SDK cancels the activity context with that
// cause, and the listener ends quietly instead of reporting an error.
func TestListenerEndsQuietlyWhenHeartbeatFindsWorkflowGone(t *testing.T) {
	h := newListenerHarness(t)
	h.sf.stream = scriptedStream()
	h.start(listenIn)
	if err := waitFor(func() bool { return len(h.hb.all()) > 0 }); err != nil {
		t.Fatal("listener never heartbeated")
	}
	h.cancelCause(serviceerror.NewNotFound("workflow execution already completed"))
	if err := h.wait(t); err != nil {
		t.Fatalf("listener returned %v, want nil when the workflow is gone", err)
	}
}

func TestListenerRetriesTransientSignalFailures(t *testing.T) {
	h := newListenerHarness(t)
	h.sig.errs = []error{serviceerror.NewUnavailable("frontend down"), errors.New("connection reset")}
	h.sf.stream = scriptedStream(mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("persist")))
	h.start(listenIn)
	ev := h.nextSignal(t)
	if ev.Text != "persist" {
		t.Fatalf("signal = %+v", ev)
	}
	_, _, calls := h.sig.snapshot()
	if calls != 3 {
		t.Fatalf("%d signal attempts, want 3", calls)
	}
	if st := h.a.ListenerStats(); st.SignalRetries != 2 {
		t.Fatalf("SignalRetries = %d, want 2", st.SignalRetries)
	}
	h.cancel()
	_ = h.wait(t)
}

func TestListenerDropsEventTheServerRefuses(t *testing.T) {
	h := newListenerHarness(t)
	h.sig.errs = []error{serviceerror.NewInvalidArgument("payload too large")}
	h.sf.stream = scriptedStream(
		mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("huge")),
		mkEvent("ev-2", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("next")),
	)
	h.start(listenIn)
	if ev := h.nextSignal(t); ev.Text != "next" {
		t.Fatalf("signal = %+v", ev)
	}
	if st := h.a.ListenerStats(); st.Undeliverable != 1 {
		t.Fatalf("Undeliverable = %d", st.Undeliverable)
	}
	h.cancel()
	_ = h.wait(t)
}

func TestListenerPermanentErrors(t *testing.T) {
	t.Run("stream 403", func(t *testing.T) {
		h := newListenerHarness(t)
		h.sf.stream = func(context.Context, miaw.StreamOptions, func(miaw.Event) error) error {
			return &miaw.Error{Op: "stream", Method: "GET", Endpoint: "/eventrouter/v1/sse", Status: 403, Message: "forbidden"}
		}
		h.start(listenIn)
		assertNonRetryable(t, h.wait(t), ErrTypeSalesforcePermanent)
	})
	t.Run("unverified subject", func(t *testing.T) {
		h := newListenerHarness(t)
		h.sf.stream = func(context.Context, miaw.StreamOptions, func(miaw.Event) error) error {
			return fmt.Errorf("token: %w", miaw.ErrUnverifiedSubject)
		}
		h.start(listenIn)
		assertNonRetryable(t, h.wait(t), ErrTypeSalesforcePermanent)
	})
	t.Run("signal permission denied", func(t *testing.T) {
		h := newListenerHarness(t)
		h.sig.errs = []error{serviceerror.NewPermissionDenied("no", "")}
		h.sf.stream = scriptedStream(mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("x")))
		h.start(listenIn)
		assertNonRetryable(t, h.wait(t), ErrTypeSignalFailed)
	})
	t.Run("stream ends by itself: retryable", func(t *testing.T) {
		h := newListenerHarness(t)
		h.sf.stream = func(context.Context, miaw.StreamOptions, func(miaw.Event) error) error { return nil }
		h.start(listenIn)
		assertRetryable(t, h.wait(t), ErrTypeStreamEnded, 0)
	})
}

func TestListenerCancelledWhileSignalRetrying(t *testing.T) {
	h := newListenerHarness(t)
	// The server keeps failing: the listener must still stop on cancel.
	for range 10000 {
		h.sig.errs = append(h.sig.errs, serviceerror.NewUnavailable("down"))
	}
	h.a.signalBackoff = 20 * time.Millisecond
	h.sf.stream = scriptedStream(mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("x")))
	h.start(listenIn)
	if err := waitFor(func() bool { _, _, n := h.sig.snapshot(); return n >= 2 }); err != nil {
		t.Fatal(err)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
}

func TestListenerInvalidInput(t *testing.T) {
	h := newListenerHarness(t)
	h.start(workflows.ListenInput{UserID: "u", ConversationID: "c"})
	assertNonRetryable(t, h.wait(t), ErrTypeInvalidInput)
}

// TestListenerHeartbeatThroughSDK uses the SDK's own heartbeat path (no test
// hook): the first heartbeat, sent at once, carries the start cursor.
func TestListenerHeartbeatThroughSDK(t *testing.T) {
	a, _, env := testActivities(t)
	a.Temporal = &fakeSignaler{}
	got := make(chan string, 10)
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var cursor string
		if err := details.Get(&cursor); err == nil {
			got <- cursor
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(workflows.ActivityListen, listenIn)
		done <- err
	}()
	select {
	case c := <-got:
		if c != "ev-0" {
			t.Fatalf("heartbeat details = %q, want ev-0", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat reached the SDK")
	}
	cancel()
	select {
	case err := <-done:
		if !isCancellation(err) {
			t.Fatalf("listener returned %v, want cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not stop")
	}
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// A first attempt has no cursor: the stream starts from the access token's
// lastEventId. That position must be heartbeated on connect, or a retry (with
// a newer token, e.g. after a worker crash) skips the events since then.
func TestListenerHeartbeatsConnectCursorWhenStartingWithout(t *testing.T) {
	h := newListenerHarness(t)
	h.sf.stream = func(ctx context.Context, opts miaw.StreamOptions, _ func(miaw.Event) error) error {
		_ = opts.OnConnect("tok-17") // the position the client connected at
		<-ctx.Done()
		return ctx.Err()
	}
	in := listenIn
	in.LastEventID = ""
	h.start(in)
	if err := waitFor(func() bool { return h.hb.last() == "tok-17" }); err != nil {
		t.Fatalf("connect cursor not heartbeated: %v", h.hb.all())
	}
	h.cancel()
	_ = h.wait(t)
}

// With a cursor of its own the listener keeps it: the connect position is the
// same cursor (or, from a resumed client, never an older one it must adopt).
func TestListenerKeepsOwnCursorOnConnect(t *testing.T) {
	h := newListenerHarness(t)
	h.sf.stream = func(ctx context.Context, opts miaw.StreamOptions, _ func(miaw.Event) error) error {
		_ = opts.OnConnect("other")
		<-ctx.Done()
		return ctx.Err()
	}
	h.start(listenIn)
	if err := waitFor(func() bool { return h.sf.callCount("Stream") == 1 }); err != nil {
		t.Fatal(err)
	}
	h.cancel()
	_ = h.wait(t)
	for _, v := range h.hb.all() {
		if v != "ev-0" {
			t.Fatalf("heartbeats = %v, want only the input cursor ev-0", h.hb.all())
		}
	}
}
