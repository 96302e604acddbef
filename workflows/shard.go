package workflows

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Listener shards. With Settings.ListenerShards = N > 0 a session does not run
// its own SSE listener activity (one heartbeat per session per interval, the
// cost that grows with open sessions): it joins listener shard
// ShardOf(user, N), a long-running ShardWorkflow whose one ActivityListenShard
// holds the SSE streams of every member and heartbeats once for all of them.
//
// The shard workflow owns the membership (durable: joins and leaves are
// signals); the shard activity owns the streams and their cursors
// (heartbeated together, so a retried attempt on another worker resumes every
// stream where the last one left it). The activity learns of membership
// changes by querying the shard workflow (QueryShardMembers), which writes
// nothing. Events still reach the session as SignalAgentEvent with their ids,
// so the session's duplicate filter covers a resumed stream.
const (
	ShardWorkflowName = "LiveAgentListenerShard"
	// ListenerShardTaskQueue is where shard workflows and their activities
	// run, on a worker of their own: the activities' heartbeat throttle must
	// stay well under their heartbeat timeout, unlike the per-session
	// listeners', and the workflows' tasks and membership queries must not
	// wait behind the sessions' workflow tasks. Shards started before they
	// moved here run on TaskQueue until they continue as new.
	ListenerShardTaskQueue = "live-agent-listener-shard"
	// SignalShardJoin takes a ShardMember; a member with the same user
	// replaces the one the shard had (a continued run joins with its run id).
	SignalShardJoin = "join"
	// SignalShardLeave takes a ShardLeave.
	SignalShardLeave = "leave"
	// QueryShardMembers takes the ShardView.Version the caller has and
	// returns a ShardView, with Members only when the version differs.
	QueryShardMembers = "members"
	// ActivityListenShard is the shard's SSE listener.
	ActivityListenShard = "ListenShard"

	// MaxListenerShards bounds Settings.ListenerShards.
	MaxListenerShards = 1024
	// ShardHeartbeatTimeout is the shard activity's heartbeat timeout: a
	// shard lost with its worker resumes on another within about this long
	// (plus at most shardRetryMaxInterval). The shard heartbeats three times
	// per timeout, so N shards write 3N/5 heartbeats per second in all.
	ShardHeartbeatTimeout = 5 * time.Second
)

// shardContinueAsNewAfter bounds a shard run's history (joins and leaves);
// a variable for tests.
var shardContinueAsNewAfter = 4000

// ShardWorkflowID is the workflow id of listener shard k.
func ShardWorkflowID(k int) string { return fmt.Sprintf("live-agent-listener-shard-%d", k) }

// ShardOf is the shard of userID among n shards (n > 0): a stable hash, so a
// session and its continued runs always join the same shard.
func ShardOf(userID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(userID))
	return int(h.Sum32() % uint32(n))
}

// ShardMember is one session's stream in a shard: the SSE stream of UserID,
// whose events of ConversationID are signalled to run RunID of WorkflowID,
// starting after LastEventID; Since is when the run joined (Unix ms), from
// which the first catch-up looks back.
type ShardMember struct {
	UserID         string
	WorkflowID     string
	RunID          string
	ConversationID string
	LastEventID    string `json:",omitempty"`
	Since          int64  `json:",omitempty"`
	// Resume is where a drained shard activity left this run's stream
	// (set by the shard workflow when it continues as new).
	Resume *ShardCursor `json:",omitempty"`
}

// ShardLeave removes UserID's member if it is still that of run RunID.
type ShardLeave struct {
	UserID string
	RunID  string
}

// ShardView answers QueryShardMembers.
type ShardView struct {
	// Version changes with every join and leave.
	Version int64
	// Members, ordered by user; nil when the caller already has Version.
	Members []ShardMember `json:",omitempty"`
	// Draining asks the shard activity to stop its streams and return their
	// cursors: the shard is about to continue as new.
	Draining bool `json:",omitempty"`
}

// ShardInput starts (or continues) a shard workflow.
type ShardInput struct {
	Shard   int
	Version int64         `json:",omitempty"`
	Members []ShardMember `json:",omitempty"`
}

// ListenShardInput is the argument of ActivityListenShard.
type ListenShardInput struct {
	ShardWorkflowID string
}

// ListenShardResult is what a drained shard activity returns: the cursor of
// every stream it held, so the next run resumes them.
type ListenShardResult struct {
	Cursors []ShardCursor `json:",omitempty"`
}

// ShardCursor is where the stream of UserID's run RunID is: its last event
// id, the transcript time (Unix ms) of the newest entry handled and the ids
// of the entries signalled at that time (a resumed stream's catch-up lists
// them again and skips them). With WorkflowID and ConversationID it is
// enough to resume the stream before the membership is read again (a
// retried shard activity does).
type ShardCursor struct {
	UserID         string
	RunID          string
	WorkflowID     string   `json:",omitempty"`
	ConversationID string   `json:",omitempty"`
	LastEventID    string   `json:",omitempty"`
	Since          int64    `json:",omitempty"`
	SinceIDs       []string `json:",omitempty"`
}

// ShardWorkflow keeps a listener shard's membership and runs its listener
// activity, restarting it whenever it ends, until the history is long enough
// to continue as new (carrying the members with the cursors the drained
// activity returned). It never completes otherwise.
func ShardWorkflow(ctx workflow.Context, in ShardInput) error {
	sh := &shard{version: in.Version, members: map[string]ShardMember{}}
	for _, m := range in.Members {
		sh.members[m.UserID] = m
	}
	if err := workflow.SetQueryHandler(ctx, QueryShardMembers, sh.view); err != nil {
		return err
	}
	joins := workflow.GetSignalChannel(ctx, SignalShardJoin)
	leaves := workflow.GetSignalChannel(ctx, SignalShardLeave)
	logger := workflow.GetLogger(ctx)

	for {
		listening := workflow.ExecuteActivity(shardListenerOptions(ctx), ActivityListenShard,
			ListenShardInput{ShardWorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID})
		var listenErr error
		for done := false; !done; {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(joins, func(c workflow.ReceiveChannel, _ bool) { sh.join(receive[ShardMember](ctx, c)) })
			sel.AddReceive(leaves, func(c workflow.ReceiveChannel, _ bool) { sh.leave(receive[ShardLeave](ctx, c)) })
			sel.AddFuture(listening, func(f workflow.Future) {
				done = true
				var res ListenShardResult
				if listenErr = f.Get(ctx, &res); listenErr == nil {
					sh.resume(res.Cursors)
				}
			})
			sel.Select(ctx)
			if !sh.draining && sh.runFull(ctx) {
				sh.draining = true // the activity sees it at its next query and returns
			}
		}
		if sh.draining && listenErr == nil {
			sh.applyBuffered(joins, leaves)
			return workflow.NewContinueAsNewError(shardContinueContext(ctx), ShardWorkflowName, sh.input(in.Shard))
		}
		// The activity is retried until it drains, so it ended on a
		// non-retryable failure: pause before the next one rather than spin.
		logger.Error("Shard listener ended without draining; restarting it", "error", listenErr)
		if err := workflow.Sleep(ctx, 5*time.Second); err != nil {
			return err
		}
	}
}

// shardRetryMaxInterval caps the pause before a shard listener's next
// attempt. Its attempts pile up over a deployment's life (each worker lost
// while holding it is one), so the usual growing backoff would soon add
// seconds to every takeover; a retry costs one connect per stream.
const shardRetryMaxInterval = time.Second

// shardListenerOptions is for ActivityListenShard: retried forever, and
// lost with its worker after ShardHeartbeatTimeout.
func shardListenerOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           ListenerShardTaskQueue,
		StartToCloseTimeout: listenerAttemptTimeout,
		HeartbeatTimeout:    ShardHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    shardRetryMaxInterval,
		},
		Summary: "listen to the shard's Salesforce streams",
	})
}

// runFull reports whether the shard run should continue as new: its
// history is long, or it handled many signals (each adds a few events).
func (sh *shard) runFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > shardContinueAsNewAfter ||
		sh.signals >= shardContinueAsNewAfter/2
}

// receive reads one value of a channel the selector found ready.
func receive[T any](ctx workflow.Context, c workflow.ReceiveChannel) T {
	var v T
	c.Receive(ctx, &v)
	return v
}

type shard struct {
	signals  int // joins and leaves handled by this run
	version  int64
	members  map[string]ShardMember
	draining bool
}

// applyBuffered applies the joins and leaves received but not yet read.
func (sh *shard) applyBuffered(joins, leaves workflow.ReceiveChannel) {
	for {
		var m ShardMember
		var l ShardLeave
		switch {
		case joins.ReceiveAsync(&m):
			sh.join(m)
		case leaves.ReceiveAsync(&l):
			sh.leave(l)
		default:
			return
		}
	}
}

func (sh *shard) join(m ShardMember) {
	sh.signals++
	if m.UserID == "" || m.RunID == "" {
		return
	}
	sh.members[m.UserID] = m
	sh.version++
}

func (sh *shard) leave(l ShardLeave) {
	sh.signals++
	if m, ok := sh.members[l.UserID]; ok && (l.RunID == "" || m.RunID == l.RunID) {
		delete(sh.members, l.UserID)
		sh.version++
	}
}

// resume adopts the cursors a drained activity returned.
func (sh *shard) resume(cursors []ShardCursor) {
	for _, c := range cursors {
		if m, ok := sh.members[c.UserID]; ok && m.RunID == c.RunID {
			m.Resume = &c
			sh.members[c.UserID] = m
		}
	}
}

func (sh *shard) view(known int64) (ShardView, error) {
	v := ShardView{Version: sh.version, Draining: sh.draining}
	if known != sh.version {
		v.Members = sh.sortedMembers()
	}
	return v, nil
}

func (sh *shard) sortedMembers() []ShardMember {
	ms := make([]ShardMember, 0, len(sh.members))
	for _, m := range sh.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b ShardMember) int { return strings.Compare(a.UserID, b.UserID) })
	return ms
}

func (sh *shard) input(k int) ShardInput {
	return ShardInput{Shard: k, Version: sh.version + 1, Members: sh.sortedMembers()}
}
