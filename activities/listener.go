package activities

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// errWorkflowGone stops the stream when the session workflow no longer exists.
var errWorkflowGone = errors.New("session workflow is gone")

// ListenEvents is the SSE listener (workflows.ActivityListen), registered on
// the listener task queue. It streams MIAW events for in.UserID and, for every
// event of in.ConversationID that TranslateEvent keeps, signals
// workflows.SignalAgentEvent to the run of in.WorkflowID that scheduled it
// (never a later run: a stale attempt of a finished session must not signal
// into the same user's next session, and a continued run starts its own
// listener).
//
// Cursor: it resumes from the heartbeat details of a previous attempt when
// there are any, else from in.LastEventID; a cursor that is not a
// miaw.ValidEventID is ignored. After each successful signal it
// heartbeats the event id; it also heartbeats on a ticker
// (DefaultListenerHeartbeat) so that cancellation, which reaches an activity
// only through a heartbeat, is noticed promptly. Skipped events advance the
// cursor too. The heartbeat details are the cursor and, second, the
// transcript time (Unix ms) of the newest entry of the conversation handled.
//
// Catch-up: Salesforce replays missed events after Last-Event-ID only within
// its replay window, and past it the stream carries on without a word. So on
// every connect the listener first fetches the conversation's entries
// transcribed since the newest one it handled (miaw.Client.EntriesSince; a
// retried attempt takes that time from the heartbeat, all entries when the
// heartbeat has none; a first attempt starts firstConnectLookback before it
// was scheduled) and signals each like a streamed event (without an event id;
// typing indicators are skipped as stale), before reading the stream.
// Entries the stream then replays as well are not signalled again by this
// attempt, nor are those a retried attempt's heartbeat names as signalled at
// the time it catches up from (every stream restart would otherwise signal
// its newest entry again: a workflow task, and a replay of the session if
// its worker had evicted it, per stream), and the workflow drops any entry id
// it has handled, so each reaches the user once. This costs one entries
// listing per connect.
//
// Returns: the context error when cancelled; nil when the workflow is gone
// (a signal or heartbeat answered NotFound); a non-retryable ApplicationError for permanent
// stream failures (403, unverified subject) and permanent signal failures; a
// retryable one if the stream ends by itself. Transient signal failures are
// retried with backoff for as long as the activity runs; an event that can
// never be signalled (not encodable, refused by the server) is dropped and
// counted (ListenerStats.Undeliverable).
//
// Run it with a HeartbeatTimeout of ~20-30s and WaitForCancellation. Events
// carry their entry ids, so the workflow drops duplicates that a resumed
// stream or an overlapping attempt may send.
func (a *Activities) ListenEvents(ctx context.Context, in workflows.ListenInput) error {
	if in.WorkflowID == "" {
		return invalidInput("listen: WorkflowID is required")
	}
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return err
	}
	if a.SF == nil || a.Temporal == nil {
		return invalidInput("listen: activities are not wired (SF and Temporal are required)")
	}
	l := &listener{
		a:       a,
		in:      in,
		log:     a.logger().With("workflow_id", in.WorkflowID, "conversation_id", in.ConversationID),
		cursor:  validCursor(in.LastEventID),
		runID:   activity.GetInfo(ctx).WorkflowExecution.RunID,
		hbEvery: a.heartbeatEvery,
		record:  a.recordHeartbeat,
		recent:  newRecentIDs(recentEntryIDs),
	}
	if scheduled := activity.GetInfo(ctx).ScheduledTime; !scheduled.IsZero() {
		l.lastAt = max(scheduled.Add(-firstConnectLookback).UnixMilli(), 0)
	}
	if l.hbEvery <= 0 {
		l.hbEvery = heartbeatCadence(activity.GetInfo(ctx).HeartbeatTimeout)
	}
	if l.record == nil {
		l.record = activity.RecordHeartbeat
	}
	if activity.HasHeartbeatDetails(ctx) {
		var resume string
		var lastAt int64    // absent in heartbeats of older versions: catch up on everything
		var atLast []string // absent in heartbeats of older versions: signal the entries at lastAt again
		if err := activity.GetHeartbeatDetails(ctx, &resume, &lastAt, &atLast); err != nil {
			l.log.Warn("listener: cannot decode heartbeat details; resuming from input cursor", "error", err)
		} else if valid := validCursor(resume); valid != "" {
			l.cursor = valid
			l.lastAt = max(lastAt, 0) // 0 (a heartbeat without it): catch up on the whole conversation
			l.resumeSignalled(atLast)
		} else if resume != "" {
			// Heartbeated before ids were validated: resuming from it would
			// fail every connection attempt.
			l.log.Warn("listener: heartbeated cursor is not a valid event id; resuming from input cursor", "bytes", len(resume))
		}
	}
	l.log.Info("listener starting", "last_event_id", l.cursor, "attempt", activity.GetInfo(ctx).Attempt)

	streamCtx, stop := context.WithCancel(ctx)
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		l.heartbeatLoop(streamCtx)
	}()
	defer func() { stop(); <-tickerDone }()

	l.heartbeat(ctx) // tell the server we are alive and where we start
	err := l.stream(streamCtx)

	switch {
	case ctx.Err() != nil && workflowGone(context.Cause(ctx)):
		// A heartbeat answered NotFound: the run completed without waiting
		// for us (see the workflow's shutdown). Nobody awaits a result, so
		// end quietly rather than report an error.
		l.log.Info("listener stopping: session workflow completed", "last_event_id", l.currentCursor())
		return nil
	case ctx.Err() != nil:
		l.log.Info("listener cancelled", "last_event_id", l.currentCursor())
		return ctx.Err()
	case errors.Is(err, errWorkflowGone):
		l.log.Info("listener stopping: session workflow is gone", "last_event_id", l.currentCursor())
		return nil
	case err == nil:
		return retryableError("listen: stream ended unexpectedly", ErrTypeStreamEnded, 0)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) { // from our handler: already classified
		return err
	}
	return salesforceError(ctx, "listen", err)
}

// stream reads the user's stream from the listener's cursor until ctx ends
// (ctx.Err()), the session workflow is gone (errWorkflowGone), a signal
// fails for good (an ApplicationError) or the stream fails for good (a miaw
// error); it catches up on every connect.
func (l *listener) stream(ctx context.Context) error {
	opts, handle := l.streamArgs(ctx)
	return l.a.SF.Stream(ctx, l.in.UserID, opts, handle)
}

// goStream is stream in a goroutine of miaw's (see miaw.Client.GoStream):
// done gets what stream would return. An error is returned at once only
// for invalid arguments, and done is then not called.
func (l *listener) goStream(ctx context.Context, done func(error)) error {
	opts, handle := l.streamArgs(ctx)
	return l.a.SF.GoStream(ctx, l.in.UserID, opts, handle, done)
}

// streamArgs are the options and handler of the listener's stream.
func (l *listener) streamArgs(ctx context.Context) (miaw.StreamOptions, func(miaw.Event) error) {
	return miaw.StreamOptions{
		LastEventID: l.currentCursor(),
		OnConnect: func(lastEventID string) error {
			l.log.Debug("listener connected", "last_event_id", lastEventID)
			l.connected(ctx, lastEventID)
			return l.catchUp(ctx)
		},
	}, func(ev miaw.Event) error { return l.handle(ctx, ev) }
}

type listener struct {
	a       *Activities
	in      workflows.ListenInput
	runID   string // the scheduling run; signals go to it only
	log     *slog.Logger
	hbEvery time.Duration
	record  func(ctx context.Context, details ...any)
	// track, when set, is told every cursor move (a shard keeps its
	// members' cursors with it, and heartbeats them itself).
	track func(cursor string, lastAt int64, atLast []string)

	mu     sync.Mutex // guards cursor, lastAt and atLast and serialises heartbeats
	cursor string
	lastAt int64 // Unix ms of the newest entry of the conversation handled (catch-ups start there)
	// atLast are the ids of the entries signalled at lastAt: a catch-up of
	// a later attempt lists them again and must not signal them again.
	atLast []string

	// recent are entry ids signalled by this attempt: a replayed event the
	// catch-up already signalled is not signalled again.
	recent *recentIDs
}

func (l *listener) currentCursor() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursor
}

// advance moves the cursor to id and, if beat, heartbeats it at once.
// track, when set, sees every move.
func (l *listener) advance(ctx context.Context, id string, beat bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id != "" {
		l.cursor = id
	}
	atLast := slices.Clip(l.atLast) // later appends never show through it
	if l.track != nil {
		l.track(l.cursor, l.lastAt, atLast)
	}
	if beat {
		l.record(ctx, l.cursor, l.lastAt, atLast)
	}
}

// maxSignalledAtLast bounds the entry ids remembered at the newest entry
// time; entries past it that share that millisecond are at worst signalled
// again by a retried attempt (the workflow drops them).
const maxSignalledAtLast = 16

// handled notes that the conversation's entry transcribed at ms (0 =
// unknown) was handled, and signalled its entry id when it was signalled:
// catch-ups start from the newest entry time and skip the ids signalled at
// it.
func (l *listener) handled(ms int64, signalled string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ms > l.lastAt {
		l.lastAt, l.atLast = ms, nil
	}
	if signalled != "" && ms > 0 && ms == l.lastAt && len(l.atLast) < maxSignalledAtLast && !slices.Contains(l.atLast, signalled) {
		l.atLast = append(l.atLast, signalled)
	}
}

// resumeSignalled adopts the ids an earlier attempt signalled at lastAt,
// which its catch-up will list again.
func (l *listener) resumeSignalled(ids []string) {
	if l.lastAt <= 0 || len(ids) == 0 {
		return
	}
	l.atLast = slices.Clone(ids[:min(len(ids), maxSignalledAtLast)])
	for _, id := range l.atLast {
		l.recent.add(id)
	}
}

func (l *listener) heartbeat(ctx context.Context) { l.advance(ctx, "", true) }

// connected adopts the position the stream connected at when the listener
// had none (a first attempt without a cursor starts from the lastEventId of
// the access token) and heartbeats it at once. Otherwise a retry, perhaps in
// another process with a newer token, would resume from that token's
// lastEventId and silently skip every event since this connection.
func (l *listener) connected(ctx context.Context, lastEventID string) {
	l.mu.Lock()
	adopt := l.cursor == "" && lastEventID != ""
	l.mu.Unlock()
	if adopt {
		l.advance(ctx, lastEventID, true)
	}
}

func (l *listener) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(l.hbEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.heartbeat(ctx)
		}
	}
}

// handle is called by miaw.Stream for every decoded event. It returns an
// error only to stop the stream (context ended, workflow gone, permanent
// signal failure).
func (l *listener) handle(ctx context.Context, ev miaw.Event) error {
	if !sameConversation(ev.ConversationID, l.in.ConversationID) {
		l.a.stats.skipped.Add(1)
		l.log.Debug("listener: event of another conversation skipped", "event_id", ev.ID, "event_conversation_id", ev.ConversationID)
		l.advance(ctx, ev.ID, false)
		return nil
	}
	ae, keep, reason, err := TranslateEvent(ev)
	if err != nil {
		l.a.stats.malformed.Add(1)
		l.log.Warn("listener: malformed event skipped", "event_id", ev.ID, "type", ev.Type, "error", err)
		l.advance(ctx, ev.ID, false)
		return nil
	}
	if !keep {
		l.handled(ev.Entry.TranscriptedTimestamp, "")
		l.a.stats.skipped.Add(1)
		l.log.Debug("listener: event skipped", "event_id", ev.ID, "type", ev.Type, "reason", reason)
		l.advance(ctx, ev.ID, false)
		return nil
	}
	if l.recent.has(ae.EntryID) {
		l.handled(ev.Entry.TranscriptedTimestamp, ae.EntryID)
		l.a.stats.skipped.Add(1)
		l.log.Debug("listener: event already signalled by a catch-up", "event_id", ev.ID, "entry_id", ae.EntryID)
		l.advance(ctx, ev.ID, false)
		return nil
	}
	if err := l.forward(ctx, ae, ev.Entry.TranscriptedTimestamp); err != nil {
		return err
	}
	l.advance(ctx, ev.ID, true)
	return nil
}

// forward hands ae, the event of the conversation's entry transcribed at ms,
// to the session: delivered to the assistant by the listener when the
// session answers with its delivery (listenerdelivery.go), else signalled;
// then notes it handled. Streamed and caught-up events both come this way.
// It returns an error only to stop the stream.
func (l *listener) forward(ctx context.Context, ae workflows.AgentEvent, ms int64) error {
	if l.deliverInstead(ctx, ae) {
		l.a.stats.delivered.Add(1)
		l.log.Debug("listener: event delivered", "entry_id", ae.EntryID, "kind", ae.Kind)
	} else {
		if err := l.signalWorkflow(ctx, ae); err != nil {
			return err
		}
		l.a.stats.signalled.Add(1)
		l.a.countUnsupported(ctx, ae)
		l.log.Debug("listener: event signalled", "entry_id", ae.EntryID, "kind", ae.Kind)
	}
	l.recent.add(ae.EntryID)
	l.handled(ms, ae.EntryID)
	return nil
}

// signalWorkflow signals one event to the session workflow, retrying
// transient failures until ctx ends. An event that can never be signalled
// (it cannot be encoded, or the server refuses the payload) is counted,
// logged and dropped: retrying it would block every later event.
func (l *listener) signalWorkflow(ctx context.Context, ev workflows.AgentEvent) error {
	backoff := l.a.signalBackoff
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	const maxBackoff = 10 * time.Second
	for {
		err := l.a.Temporal.SignalWorkflow(ctx, l.in.WorkflowID, l.runID, workflows.SignalAgentEvent, ev)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var (
			notFound   *serviceerror.NotFound
			invalid    *serviceerror.InvalidArgument
			denied     *serviceerror.PermissionDenied
			nsNotFound *serviceerror.NamespaceNotFound
		)
		switch {
		case errors.As(err, &notFound):
			return errWorkflowGone
		case errors.Is(err, converter.ErrUnableToEncode):
			l.a.stats.undeliverable.Add(1)
			l.log.Warn("listener: event cannot be encoded; dropped", "event_id", ev.EventID, "entry_id", ev.EntryID, "kind", ev.Kind, "error", err)
			return nil
		case errors.As(err, &invalid):
			// The server will never take this payload (e.g. too large):
			// drop it rather than block the stream.
			l.a.stats.undeliverable.Add(1)
			l.log.Warn("listener: event refused by the server; dropped", "event_id", ev.EventID, "entry_id", ev.EntryID, "kind", ev.Kind, "error", err)
			return nil
		case errors.As(err, &denied), errors.As(err, &nsNotFound):
			return temporal.NewNonRetryableApplicationError("listen: signal workflow: "+err.Error(), ErrTypeSignalFailed, nil)
		}
		l.a.stats.signalRetries.Add(1)
		l.log.Warn("listener: signal failed; retrying", "event_id", ev.EventID, "retry_in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// validCursor returns id when it can be a stream cursor, else "" (start from
// the access token's position).
func validCursor(id string) string {
	if miaw.ValidEventID(id) {
		return id
	}
	return ""
}

// heartbeatCadence is how often a listener with the given heartbeat timeout
// heartbeats when no event arrives: a third of the timeout, so two beats may
// be late or lost before the server gives up on it; DefaultListenerHeartbeat
// when the activity has no heartbeat timeout.
func heartbeatCadence(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return DefaultListenerHeartbeat
	}
	return timeout / 3
}

// workflowGone reports whether cause, the reason the activity context was
// cancelled, says the scheduling workflow no longer exists: the SDK cancels
// the context with the heartbeat's NotFound error.
func workflowGone(cause error) bool {
	var notFound *serviceerror.NotFound
	return errors.As(cause, &notFound)
}

func sameConversation(a, b string) bool { return strings.EqualFold(a, b) }
