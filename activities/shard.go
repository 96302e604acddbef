package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// ShardQuerier reads a listener shard's membership (a client.Client).
type ShardQuerier interface {
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// stickyResetter is the part of a client.Client that lets a failed
// membership query be retried on the shard workflow's normal task queue.
type stickyResetter interface {
	WorkflowService() workflowservice.WorkflowServiceClient
}

// shardQueryTimeout bounds one membership query. A query is answered by the
// worker that has the shard workflow cached; when that worker died, queries
// wait on its sticky queue until they time out, so a failed query also
// resets the workflow's stickiness (resetSticky) and the next one is
// answered by any live worker. After consecutive failures each query may
// wait longer (shardQueryWait), up to shardQueryTimeoutMax: right after a
// worker restart the worker is busy replaying sessions (and a shard still
// on the session task queue, started before shards had their own, queues
// its queries behind those replays), and a member that joined just then
// gets its stream only once a query answers.
const (
	shardQueryTimeout    = 3 * time.Second
	shardQueryTimeoutMax = 12 * time.Second
)

// shardQueryWait is the timeout of a membership query after failures
// consecutive failed ones: 3 s, then 6, 9 and 12 s.
func shardQueryWait(failures int) time.Duration {
	return min(time.Duration(failures+1)*shardQueryTimeout, shardQueryTimeoutMax)
}

// After a failed membership query the next waits 1 s per consecutive
// failure, up to shardQueryBackoffMax: an overloaded worker or server is not
// asked again every DefaultShardPoll. The sticky queue is reset at most once
// per shardStickyResetEvery: once moves the workflow off a dead worker, and
// each reset costs the next task a full replay.
const (
	shardQueryBackoffMax  = 5 * time.Second
	shardStickyResetEvery = 30 * time.Second
)

// DefaultShardPoll is how often a shard listener asks its shard workflow for
// membership changes. A query writes nothing on the Temporal server; a new
// member's stream opens within this long (its events wait in Salesforce's
// stream meanwhile, nothing is lost).
const DefaultShardPoll = 500 * time.Millisecond

// Restart backoff of one member's stream after it ended on a transient
// failure (the miaw client already reconnects dropped connections itself).
const (
	shardRestartMin = time.Second
	shardRestartMax = 30 * time.Second
)

// ListenShard is the listener of one shard (workflows.ActivityListenShard),
// registered on workflows.ListenerShardTaskQueue. It holds the SSE stream of
// every member of the shard workflow in.ShardWorkflowID, each run like
// ListenEvents runs its one stream (same catch-up, filtering, signalling of
// the member's run only, duplicate guard), and heartbeats once for all: the
// heartbeat details are every stream's cursor ([]workflows.ShardCursor), from
// which a retried attempt, on whatever worker, resumes each stream.
//
// Membership: it queries the shard workflow every DefaultShardPoll and
// starts, replaces (a member's run changed: continue-as-new) or stops streams
// to match. A member whose run is gone (a signal answered NotFound) is
// dropped and reported to the shard workflow with SignalShardLeave; one whose
// stream fails for good is told with an AgentListenerFailed event; a stream
// that ends otherwise is restarted with backoff.
//
// Returns: the cursors when the shard workflow drains (it is about to
// continue as new); nil when the shard workflow is gone; the context error
// when cancelled. Query failures are logged and retried at the next poll.
func (a *Activities) ListenShard(ctx context.Context, in workflows.ListenShardInput) (workflows.ListenShardResult, error) {
	if in.ShardWorkflowID == "" {
		return workflows.ListenShardResult{}, invalidInput("listen shard: ShardWorkflowID is required")
	}
	if a.SF == nil || a.Temporal == nil || a.Shards == nil {
		return workflows.ListenShardResult{}, invalidInput("listen shard: activities are not wired (SF, Temporal and Shards are required)")
	}
	h := &shardHost{
		a:         a,
		id:        in.ShardWorkflowID,
		namespace: activity.GetInfo(ctx).Namespace,
		log:       a.logger().With("shard", in.ShardWorkflowID),
		record:    a.recordHeartbeat,
		version:   -1,
		streams:   map[string]*shardStream{},
		cursors:   map[string]workflows.ShardCursor{},
		gone:      map[string]string{},
		retries:   map[string]shardRetry{},
		members:   map[string]workflows.ShardMember{},
		exits:     make(chan shardExit),
		quit:      make(chan struct{}),
	}
	if h.record == nil {
		h.record = activity.RecordHeartbeat
	}
	if activity.HasHeartbeatDetails(ctx) {
		var cursors []workflows.ShardCursor
		if err := activity.GetHeartbeatDetails(ctx, &cursors); err != nil {
			h.log.Warn("shard listener: cannot decode heartbeat details; resuming from the members' cursors", "error", err)
		}
		for _, c := range cursors {
			h.cursors[c.UserID] = c
		}
	}
	pollEvery := a.shardPoll
	if pollEvery <= 0 {
		pollEvery = DefaultShardPoll
	}
	beatEvery := a.heartbeatEvery
	if beatEvery <= 0 {
		beatEvery = heartbeatCadence(activity.GetInfo(ctx).HeartbeatTimeout)
	}
	attempt := activity.GetInfo(ctx).Attempt
	h.log.Info("shard listener starting", "resumed_streams", len(h.cursors), "attempt", attempt)
	// Resume every heartbeated stream at once: after a worker died, the
	// shard workflow's membership query may be slow to answer (its cached
	// worker is gone), and the streams need nothing but their cursors. The
	// first membership read then stops those that left meanwhile.
	h.resumeHeartbeated(ctx)

	// Heartbeats have a goroutine of their own: a membership query or
	// sticky reset that takes seconds on a loaded server must not make the
	// shard look dead (every stream would restart, adding to the load).
	h.heartbeat(ctx)
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		h.beatLoop(ctx, beatEvery)
	}()
	defer func() {
		h.stopAll()
		<-beating
	}()

	// A retried attempt most likely follows a dead worker, which may have
	// held the shard workflow in its cache: its first membership query
	// would wait on that worker's sticky queue until it timed out, while
	// members that joined just before the death have no stream.
	if attempt > 1 || len(h.cursors) > 0 {
		h.lastReset = time.Now()
		h.resetSticky(ctx)
	}

	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		draining, err := h.poll(ctx)
		if err != nil {
			return workflows.ListenShardResult{}, err
		}
		if draining {
			h.stopAll()
			h.log.Info("shard listener handing over: the shard continues as new", "streams", len(h.cursors))
			return workflows.ListenShardResult{Cursors: h.cursorList()}, nil
		}
		h.restartDue(ctx)
		select {
		case <-ctx.Done():
			if workflowGone(context.Cause(ctx)) {
				h.log.Info("shard listener stopping: the shard run is gone")
				return workflows.ListenShardResult{}, nil
			}
			return workflows.ListenShardResult{}, ctx.Err()
		case <-poll.C:
		case ex := <-h.exits:
			h.exited(ctx, ex)
		}
	}
}

// shardHost is one ListenShard attempt. Only its loop goroutine touches
// members, streams, gone and retries; cursors are also written by streams.
type shardHost struct {
	a         *Activities
	id        string
	namespace string // of the shard workflow (the activity's)
	log       *slog.Logger
	record    func(ctx context.Context, details ...any)
	version   int64 // membership version last applied

	members map[string]workflows.ShardMember // membership last applied, by user
	streams map[string]*shardStream          // running streams, by user
	gone    map[string]string                // user → run found gone: not restarted
	retries map[string]shardRetry            // by user: streams to restart later
	exits   chan shardExit
	quit    chan struct{} // closed when the attempt ends

	queryFailures int       // consecutive failed membership queries
	queryAfter    time.Time // no membership query before this (backoff)
	lastReset     time.Time // last sticky-queue reset

	mu      sync.Mutex
	cursors map[string]workflows.ShardCursor // by user
}

type shardStream struct {
	member workflows.ShardMember
	cancel context.CancelFunc
	done   chan struct{}
	fails  int // consecutive failures before this start (restart backoff)
}

type shardRetry struct {
	member workflows.ShardMember
	at     time.Time
	fails  int
}

type shardExit struct {
	stream *shardStream
	err    error
}

// poll applies membership changes; it reports whether the shard is
// draining. It fails only when the shard workflow does not exist.
func (h *shardHost) poll(ctx context.Context) (draining bool, err error) {
	if time.Now().Before(h.queryAfter) {
		return false, nil
	}
	view, err := h.query(ctx)
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) && ctx.Err() == nil {
			return false, temporal.NewNonRetryableApplicationError("listen shard: shard workflow "+h.id+" not found", ErrTypeInvalidInput, err)
		}
		if ctx.Err() == nil {
			h.a.stats.shardQueryFailures.Add(1)
			h.queryFailures++
			h.queryAfter = time.Now().Add(min(time.Duration(h.queryFailures)*time.Second, shardQueryBackoffMax))
			h.log.Warn("shard listener: membership query failed; retrying", "error", err, "failures", h.queryFailures)
			if time.Since(h.lastReset) >= shardStickyResetEvery {
				h.lastReset = time.Now()
				h.resetSticky(ctx)
			}
		}
		return false, nil
	}
	h.queryFailures = 0
	if view.Draining {
		return true, nil
	}
	if view.Version != h.version {
		h.reconcile(ctx, view)
		// The new members' cursors are durable only once heartbeated: do
		// not leave them to the next beat, a worker death before it would
		// leave them without a stream until a membership read answers.
		h.heartbeat(ctx)
	}
	return false, nil
}

// restartDue restarts the streams whose restart backoff is over.
func (h *shardHost) restartDue(ctx context.Context) {
	now := time.Now()
	for user, r := range h.retries {
		if now.Before(r.at) {
			continue
		}
		delete(h.retries, user)
		if m, ok := h.members[user]; ok && m.RunID == r.member.RunID {
			h.start(ctx, m, r.fails)
		}
	}
}

// resumeHeartbeated starts the stream of every heartbeated cursor that
// carries enough to run it, as if its member had been read.
func (h *shardHost) resumeHeartbeated(ctx context.Context) {
	for _, c := range h.cursorList() {
		if c.WorkflowID == "" || c.ConversationID == "" {
			continue // heartbeated by an older version: wait for the membership
		}
		m := workflows.ShardMember{UserID: c.UserID, WorkflowID: c.WorkflowID, RunID: c.RunID, ConversationID: c.ConversationID}
		h.members[m.UserID] = m
		h.start(ctx, m, 0)
	}
}

// resetSticky makes the shard workflow's next task (and query) go to its
// normal task queue, not to the sticky queue of a worker that may be dead.
func (h *shardHost) resetSticky(ctx context.Context) {
	r, ok := h.a.Shards.(stickyResetter)
	if !ok || h.namespace == "" {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, shardQueryTimeout)
	defer cancel()
	_, err := r.WorkflowService().ResetStickyTaskQueue(rctx, &workflowservice.ResetStickyTaskQueueRequest{
		Namespace: h.namespace,
		Execution: &commonpb.WorkflowExecution{WorkflowId: h.id},
	})
	if err != nil {
		h.log.Warn("shard listener: cannot reset the shard workflow's sticky queue", "error", err)
	}
}

func (h *shardHost) query(ctx context.Context) (workflows.ShardView, error) {
	qctx, cancel := context.WithTimeout(ctx, shardQueryWait(h.queryFailures))
	defer cancel()
	var view workflows.ShardView
	v, err := h.a.Shards.QueryWorkflow(qctx, h.id, "", workflows.QueryShardMembers, h.version)
	if err != nil {
		return view, err
	}
	if err := v.Get(&view); err != nil {
		return view, fmt.Errorf("decode shard view: %w", err)
	}
	return view, nil
}

// reconcile makes the streams match view's members: a member that left or
// whose run changed loses its stream; a new one (or the new run) gets one.
func (h *shardHost) reconcile(ctx context.Context, view workflows.ShardView) {
	want := make(map[string]workflows.ShardMember, len(view.Members))
	for _, m := range view.Members {
		want[m.UserID] = m
	}
	for user, st := range h.streams {
		if m, ok := want[user]; !ok || m.RunID != st.member.RunID {
			h.stop(st)
		}
	}
	for user, old := range h.members {
		if m, ok := want[user]; !ok || m.RunID != old.RunID {
			delete(h.retries, user)
			delete(h.gone, user)
			if !ok {
				h.dropCursor(user)
			}
		}
	}
	h.members, h.version = want, view.Version
	for user, m := range want {
		_, running := h.streams[user]
		_, waiting := h.retries[user]
		if !running && !waiting && h.gone[user] != m.RunID {
			h.start(ctx, m, 0)
		}
	}
}

// start runs m's stream from its cursor: the one this shard holds for m's
// run, else the one the shard workflow carried over, else m's join position.
func (h *shardHost) start(ctx context.Context, m workflows.ShardMember, fails int) {
	cur := h.cursorFor(m)
	l := &listener{
		a:      h.a,
		in:     workflows.ListenInput{WorkflowID: m.WorkflowID, UserID: m.UserID, ConversationID: m.ConversationID},
		runID:  m.RunID,
		log:    h.log.With("workflow_id", m.WorkflowID, "conversation_id", m.ConversationID),
		cursor: validCursor(cur.LastEventID),
		lastAt: cur.Since,
		recent: newRecentIDs(recentEntryIDs),
		record: func(context.Context, ...any) {}, // the shard heartbeats for all
		track: func(cursor string, lastAt int64, atLast []string) {
			h.setCursor(workflows.ShardCursor{UserID: m.UserID, RunID: m.RunID, WorkflowID: m.WorkflowID,
				ConversationID: m.ConversationID, LastEventID: cursor, Since: lastAt, SinceIDs: atLast})
		},
	}
	l.resumeSignalled(cur.SinceIDs)
	h.setCursor(cur)
	sctx, cancel := context.WithCancel(ctx)
	st := &shardStream{member: m, cancel: cancel, done: make(chan struct{}), fails: fails}
	h.streams[m.UserID] = st
	h.a.stats.shardStreams.Add(1)
	// The stream runs in a goroutine of miaw's: an idle stream's stack
	// then holds no frame of ours (see miaw.Client.GoStream).
	done := func(err error) { h.exit(sctx, st, err) }
	if err := l.goStream(sctx, done); err != nil {
		go done(err) // the shard's loop, our caller, takes exits
	}
}

// exit reports st's end to the shard's loop, unless st was stopped on
// purpose (stop waits for done) or the attempt is over.
func (h *shardHost) exit(ctx context.Context, st *shardStream, err error) {
	defer close(st.done)
	defer h.a.stats.shardStreams.Add(-1)
	select {
	case h.exits <- shardExit{stream: st, err: err}:
	case <-ctx.Done():
	case <-h.quit:
	}
}

// cursorFor is where m's stream starts.
func (h *shardHost) cursorFor(m workflows.ShardMember) workflows.ShardCursor {
	h.mu.Lock()
	c, ok := h.cursors[m.UserID]
	h.mu.Unlock()
	switch {
	case ok && c.RunID == m.RunID:
		return c
	case m.Resume != nil && m.Resume.RunID == m.RunID:
		return *m.Resume
	}
	since := int64(0)
	if m.Since > 0 {
		since = max(m.Since-firstConnectLookback.Milliseconds(), 0)
	}
	return workflows.ShardCursor{UserID: m.UserID, RunID: m.RunID, WorkflowID: m.WorkflowID,
		ConversationID: m.ConversationID, LastEventID: m.LastEventID, Since: since}
}

// stop ends st's stream and waits for it.
func (h *shardHost) stop(st *shardStream) {
	st.cancel()
	<-st.done
	if h.streams[st.member.UserID] == st {
		delete(h.streams, st.member.UserID)
	}
}

// stopAll ends every stream; the attempt is over.
func (h *shardHost) stopAll() {
	select {
	case <-h.quit:
		return
	default:
	}
	close(h.quit)
	for _, st := range h.streams {
		st.cancel()
	}
	for _, st := range h.streams {
		<-st.done
	}
	clear(h.streams)
}

// exited handles a stream that ended by itself.
func (h *shardHost) exited(ctx context.Context, ex shardExit) {
	st, m := ex.stream, ex.stream.member
	if h.streams[m.UserID] != st || ctx.Err() != nil {
		return // stopped on purpose
	}
	delete(h.streams, m.UserID)
	if errors.Is(ex.err, errWorkflowGone) {
		h.gone[m.UserID] = m.RunID
		h.log.Info("shard listener: session run is gone; dropping its stream", "workflow_id", m.WorkflowID, "run_id", m.RunID)
		h.signal(ctx, h.id, "", workflows.SignalShardLeave, workflows.ShardLeave{UserID: m.UserID, RunID: m.RunID})
		return
	}
	var appErr *temporal.ApplicationError
	classified := ex.err
	if !errors.As(classified, &appErr) {
		classified = salesforceError(ctx, "listen", ex.err)
	}
	if errors.As(classified, &appErr) && appErr.NonRetryable() {
		h.gone[m.UserID] = m.RunID
		h.log.Error("shard listener: stream failed for good; telling the session", "workflow_id", m.WorkflowID, "error", classified)
		h.signal(ctx, m.WorkflowID, m.RunID, workflows.SignalAgentEvent,
			workflows.AgentEvent{Kind: workflows.AgentListenerFailed, Text: classified.Error()})
		return
	}
	fails := st.fails + 1
	wait := min(shardRestartMin<<min(fails-1, 5), shardRestartMax)
	h.log.Warn("shard listener: stream ended; restarting it", "workflow_id", m.WorkflowID, "retry_in", wait, "error", ex.err)
	h.retries[m.UserID] = shardRetry{member: m, at: time.Now().Add(wait), fails: fails}
}

// signal sends one signal, best effort: failures are logged.
func (h *shardHost) signal(ctx context.Context, workflowID, runID, name string, arg any) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.a.Temporal.SignalWorkflow(sctx, workflowID, runID, name, arg); err != nil {
		h.log.Warn("shard listener: signal failed", "workflow_id", workflowID, "signal", name, "error", err)
	}
}

func (h *shardHost) setCursor(c workflows.ShardCursor) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cursors[c.UserID] = c
}

func (h *shardHost) dropCursor(user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.cursors, user)
}

// cursorList is every stream's cursor, the heartbeat details.
func (h *shardHost) cursorList() []workflows.ShardCursor {
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := make([]workflows.ShardCursor, 0, len(h.cursors))
	for _, c := range h.cursors {
		cs = append(cs, c)
	}
	return cs
}

func (h *shardHost) heartbeat(ctx context.Context) { h.record(ctx, h.cursorList()) }

// beatLoop heartbeats every interval until the attempt ends.
func (h *shardHost) beatLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.quit:
			return
		case <-t.C:
			h.heartbeat(ctx)
		}
	}
}
