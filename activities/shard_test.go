package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// shardTemporal fakes the shard workflow's membership query and records
// every signal. Runs listed in gone answer NotFound.
type shardTemporal struct {
	mu      sync.Mutex
	view    workflows.ShardView
	gone    map[string]bool // run ids
	signals []shardSignal
	// queryErr, when set, answers every membership query; hang makes
	// queries wait for their deadline instead.
	queryErr error
	hang     bool
	// calls logs "query" and "reset-sticky", in order.
	calls []string
}

// WorkflowService makes the fake a stickyResetter.
func (f *shardTemporal) WorkflowService() workflowservice.WorkflowServiceClient {
	return stickyService{f: f}
}

// stickyService answers ResetStickyTaskQueue for shardTemporal; any other
// call panics (the embedded interface is nil).
type stickyService struct {
	workflowservice.WorkflowServiceClient
	f *shardTemporal
}

func (s stickyService) ResetStickyTaskQueue(context.Context, *workflowservice.ResetStickyTaskQueueRequest, ...grpc.CallOption) (*workflowservice.ResetStickyTaskQueueResponse, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.calls = append(s.f.calls, "reset-sticky")
	return &workflowservice.ResetStickyTaskQueueResponse{}, nil
}

func (f *shardTemporal) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

type shardSignal struct {
	workflowID, runID, name string
	arg                     any
}

func (f *shardTemporal) setMembers(draining bool, ms ...workflows.ShardMember) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.view = workflows.ShardView{Version: f.view.Version + 1, Members: ms, Draining: draining}
}

func (f *shardTemporal) QueryWorkflow(ctx context.Context, workflowID, _, queryType string, args ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	f.calls = append(f.calls, "query")
	hang, queryErr := f.hang, f.queryErr
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if queryErr != nil {
		return nil, queryErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if workflowID != "shard-0" || queryType != workflows.QueryShardMembers {
		return nil, fmt.Errorf("unexpected query %s %s", workflowID, queryType)
	}
	v := f.view
	if known, _ := args[0].(int64); known == v.Version {
		v.Members = nil
	}
	return jsonValue{v}, nil
}

func (f *shardTemporal) SignalWorkflow(_ context.Context, workflowID, runID, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone[runID] {
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	f.signals = append(f.signals, shardSignal{workflowID, runID, name, arg})
	return nil
}

// signalled returns the signals sent so far.
func (f *shardTemporal) signalled() []shardSignal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]shardSignal(nil), f.signals...)
}

// jsonValue is a converter.EncodedValue holding v.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return true }
func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

// userStreams scripts one stream per user: each emits its events, then
// ends with its error or waits for cancellation.
type userStreams struct {
	mu     sync.Mutex
	events map[string][]miaw.Event
	fail   map[string]error
	ends   map[string]bool     // the stream ends by itself (nil), as it should never
	starts map[string][]string // user → LastEventID of every start
}

func (u *userStreams) run(ctx context.Context, userID string, opts miaw.StreamOptions, handle func(miaw.Event) error) error {
	u.mu.Lock()
	u.starts[userID] = append(u.starts[userID], opts.LastEventID)
	events, fail, ends := u.events[userID], u.fail[userID], u.ends[userID]
	u.events[userID] = nil // a restarted stream replays nothing
	u.mu.Unlock()
	if opts.OnConnect != nil { // the catch-up
		if err := opts.OnConnect(opts.LastEventID); err != nil {
			return err
		}
	}
	for _, ev := range events {
		if err := handle(ev); err != nil {
			return err
		}
	}
	if fail != nil {
		return fail
	}
	if ends {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (u *userStreams) startsOf(user string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.starts[user]...)
}

func agentTextIn(id, conv, text string) miaw.Event {
	ev := mkEvent(id, miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg(text))
	ev.ConversationID = conv
	return ev
}

type shardHarness struct {
	a       *Activities
	tmp     *shardTemporal
	streams *userStreams
	beats   chan []workflows.ShardCursor
	done    chan error
	result  workflows.ListenShardResult
	cancel  context.CancelFunc
}

func newShardHarness(t *testing.T, resume []workflows.ShardCursor) *shardHarness {
	t.Helper()
	return newShardHarnessWith(t, resume, nil, 0)
}

// newShardHarnessWith is newShardHarness whose streams emit events (by user)
// from the start and whose membership starts at version; opts adjust the
// activities before the shard listener starts.
func newShardHarnessWith(t *testing.T, resume []workflows.ShardCursor, events map[string][]miaw.Event, version int64, opts ...func(*Activities)) *shardHarness {
	t.Helper()
	a, sf, env := testActivities(t)
	h := &shardHarness{
		a:       a,
		tmp:     &shardTemporal{gone: map[string]bool{}},
		streams: &userStreams{events: map[string][]miaw.Event{}, fail: map[string]error{}, ends: map[string]bool{}, starts: map[string][]string{}},
		beats:   make(chan []workflows.ShardCursor, 1000),
		done:    make(chan error, 1),
	}
	for u, evs := range events {
		h.streams.events[u] = evs
	}
	h.tmp.view.Version = version
	sf.userStream = h.streams.run
	a.Temporal, a.Shards = h.tmp, h.tmp
	a.shardPoll = 5 * time.Millisecond
	a.heartbeatEvery = 10 * time.Millisecond
	a.signalBackoff = time.Millisecond
	a.recordHeartbeat = func(_ context.Context, details ...any) {
		cs, _ := details[0].([]workflows.ShardCursor)
		h.beats <- cs
	}
	for _, o := range opts {
		o(a)
	}
	env.RegisterActivityWithOptions(a.ListenShard, activity.RegisterOptions{Name: workflows.ActivityListenShard})
	if resume != nil {
		env.SetHeartbeatDetails(resume)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	t.Cleanup(cancel)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	go func() {
		v, err := env.ExecuteActivity(workflows.ActivityListenShard, workflows.ListenShardInput{ShardWorkflowID: "shard-0"})
		if err == nil {
			err = v.Get(&h.result)
		}
		h.done <- err
	}()
	return h
}

func (h *shardHarness) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-h.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("shard listener did not return within 10s")
		return nil
	}
}

// eventsTo returns the agent events signalled to run.
func (h *shardHarness) eventsTo(run string) []workflows.AgentEvent {
	var evs []workflows.AgentEvent
	for _, s := range h.tmp.signalled() {
		if ev, ok := s.arg.(workflows.AgentEvent); ok && s.runID == run && s.name == workflows.SignalAgentEvent {
			evs = append(evs, ev)
		}
	}
	return evs
}

func member(user, run, conv, cursor string) workflows.ShardMember {
	return workflows.ShardMember{UserID: user, WorkflowID: workflows.WorkflowID(user), RunID: run, ConversationID: conv, LastEventID: cursor}
}

// The shard streams every member to its own run, follows membership (a
// continued run restarts its stream from the new run's cursor, a member
// that left loses its stream), heartbeats the cursors of all, and drains.
func TestShardListenerFollowsMembership(t *testing.T) {
	h := newShardHarness(t, nil)
	h.streams.events["a"] = []miaw.Event{agentTextIn("ev-a1", "conv-a", "to a")}
	h.streams.events["b"] = []miaw.Event{agentTextIn("ev-b1", "conv-b", "to b"), agentTextIn("ev-x", "conv-other", "not b's conversation")}
	h.tmp.setMembers(false, member("a", "a-run1", "conv-a", "ev-a0"), member("b", "b-run1", "conv-b", ""))

	if err := waitFor(func() bool { return len(h.eventsTo("a-run1")) == 1 && len(h.eventsTo("b-run1")) == 1 }); err != nil {
		t.Fatalf("each member's event was not signalled to its run: %+v", h.tmp.signalled())
	}
	if got := h.eventsTo("b-run1")[0]; got.Text != "to b" || got.EventID != "ev-b1" {
		t.Fatalf("b's event = %+v", got)
	}
	if err := waitFor(func() bool {
		cs := <-h.beats
		have := map[string]string{}
		for _, c := range cs {
			have[c.UserID+"/"+c.RunID] = c.LastEventID
		}
		return have["a/a-run1"] == "ev-a1" && have["b/b-run1"] == "ev-x"
	}); err != nil {
		t.Fatal("the heartbeat never carried both streams' cursors")
	}

	// a continued as new; b left.
	h.streams.events["a"] = []miaw.Event{agentTextIn("ev-a2", "conv-a", "to a's new run")}
	h.tmp.setMembers(false, member("a", "a-run2", "conv-a", "ev-a1"))
	if err := waitFor(func() bool { return len(h.eventsTo("a-run2")) == 1 }); err != nil {
		t.Fatalf("the new run got nothing: %+v", h.tmp.signalled())
	}
	if got := h.streams.startsOf("a"); len(got) != 2 || got[0] != "ev-a0" || got[1] != "ev-a1" {
		t.Fatalf("a's stream starts = %v, want [ev-a0 ev-a1] (the new run's cursor)", got)
	}
	if err := waitFor(func() bool { return h.a.ListenerStats().ShardStreams == 1 }); err != nil {
		t.Fatalf("b's stream still runs: %d streams", h.a.ListenerStats().ShardStreams)
	}

	h.tmp.setMembers(true, member("a", "a-run2", "conv-a", "ev-a1"))
	if err := h.wait(t); err != nil {
		t.Fatalf("drained shard listener returned %v", err)
	}
	if len(h.result.Cursors) != 1 || !reflect.DeepEqual(h.result.Cursors[0], workflows.ShardCursor{UserID: "a", RunID: "a-run2",
		WorkflowID: workflows.WorkflowID("a"), ConversationID: "conv-a", LastEventID: "ev-a2", Since: ts, SinceIDs: []string{"entry-ev-a2"}}) {
		t.Fatalf("drained cursors = %+v", h.result.Cursors)
	}
	if n := h.a.ListenerStats().ShardStreams; n != 0 {
		t.Fatalf("%d streams left running after the drain", n)
	}
}

// A retried attempt whose heartbeat names each stream's run and
// conversation resumes them before the membership answers at all (after a
// worker died, the shard workflow's query can be slow).
func TestShardListenerResumesBeforeMembershipAnswers(t *testing.T) {
	// The membership's version is the one a fresh attempt starts with, so
	// every query answers "unchanged" and names no member.
	h := newShardHarnessWith(t, []workflows.ShardCursor{
		{UserID: "a", RunID: "a-run1", WorkflowID: workflows.WorkflowID("a"), ConversationID: "conv-a", LastEventID: "ev-a9", Since: 1},
	}, map[string][]miaw.Event{"a": {agentTextIn("ev-a10", "conv-a", "after the takeover")}}, -1)
	if err := waitFor(func() bool { return len(h.eventsTo("a-run1")) == 1 }); err != nil {
		t.Fatalf("the heartbeated stream did not resume: starts %v", h.streams.startsOf("a"))
	}
	if got := h.streams.startsOf("a"); got[0] != "ev-a9" {
		t.Fatalf("resumed from %q, want the heartbeated ev-a9", got[0])
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("cancelled shard listener returned %v", err)
	}
}

// A retried attempt's streams do not signal again what the heartbeat says
// they signalled at their newest entry time (their catch-ups list those
// entries again): a shard taken over would otherwise cost every member's
// session a workflow task. The cursors go on naming what was signalled.
func TestShardListenerResumeSignalsNoEntryTwice(t *testing.T) {
	seen, unseen := agentText("ev-a9", ts, "seen"), agentText("ev-a10", ts, "same millisecond, not seen")
	h := newShardHarnessWith(t, []workflows.ShardCursor{{UserID: "a", RunID: "a-run1", WorkflowID: workflows.WorkflowID("a"),
		ConversationID: "conv-a", LastEventID: "ev-a9", Since: ts, SinceIDs: []string{seen.Entry.Identifier}}}, nil, -1,
		func(a *Activities) { a.SF.(*fakeSF).entries = []miaw.ConversationEntry{seen.Entry, unseen.Entry} })
	if err := waitFor(func() bool { return len(h.eventsTo("a-run1")) >= 1 }); err != nil {
		t.Fatal("the resumed stream caught up on nothing")
	}
	if err := waitFor(func() bool {
		cs := <-h.beats
		return len(cs) == 1 && slices.Equal(cs[0].SinceIDs, []string{seen.Entry.Identifier, unseen.Entry.Identifier})
	}); err != nil {
		t.Fatal("the heartbeat never named both entries as signalled")
	}
	if got := h.eventsTo("a-run1"); len(got) != 1 || got[0].Text != "same millisecond, not seen" {
		t.Fatalf("signalled %+v, want only the entry not signalled before", got)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("cancelled shard listener returned %v", err)
	}
}

// A retried attempt resumes each stream from the heartbeated cursor of the
// same run, and a member whose run changed meanwhile from its own cursor.
func TestShardListenerResumesFromHeartbeat(t *testing.T) {
	h := newShardHarness(t, []workflows.ShardCursor{
		{UserID: "a", RunID: "a-run1", LastEventID: "ev-a9", Since: 1},
		{UserID: "b", RunID: "b-old", LastEventID: "ev-b9", Since: 1},
	})
	h.tmp.setMembers(false, member("a", "a-run1", "conv-a", "ev-a0"), member("b", "b-run2", "conv-b", "ev-b5"))
	if err := waitFor(func() bool { return len(h.streams.startsOf("a")) == 1 && len(h.streams.startsOf("b")) == 1 }); err != nil {
		t.Fatal("streams not started")
	}
	if a, b := h.streams.startsOf("a")[0], h.streams.startsOf("b")[0]; a != "ev-a9" || b != "ev-b5" {
		t.Fatalf("starts a=%q b=%q, want ev-a9 (heartbeat) and ev-b5 (the new run's join)", a, b)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("cancelled shard listener returned %v", err)
	}
}

// A member whose run is gone loses its stream and is reported to the shard
// (leave); one whose stream fails for good (the miaw client returns only
// permanent errors: it reconnects by itself) is told and not restarted; one
// whose stream ends without an error is restarted.
func TestShardListenerGoneFailedAndRestartedStreams(t *testing.T) {
	h := newShardHarness(t, nil)
	h.tmp.gone["gone-run"] = true
	h.streams.events["g"] = []miaw.Event{agentTextIn("ev-g1", "conv-g", "to a finished run")}
	h.streams.fail["p"] = &miaw.Error{Op: "stream", Method: "GET", Endpoint: "/eventrouter/v1/sse", Status: 403, Message: "forbidden"}
	h.streams.ends["r"] = true
	h.tmp.setMembers(false, member("g", "gone-run", "conv-g", ""), member("p", "p-run", "conv-p", ""), member("r", "r-run", "conv-r", ""))

	if err := waitFor(func() bool {
		for _, s := range h.tmp.signalled() {
			if s.name == workflows.SignalShardLeave && s.workflowID == "shard-0" && s.arg == (workflows.ShardLeave{UserID: "g", RunID: "gone-run"}) {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the gone run was not reported to the shard: %+v", h.tmp.signalled())
	}
	if err := waitFor(func() bool {
		evs := h.eventsTo("p-run")
		return len(evs) == 1 && evs[0].Kind == workflows.AgentListenerFailed
	}); err != nil {
		t.Fatalf("the failed stream's session was not told: %+v", h.tmp.signalled())
	}
	if err := waitFor(func() bool { return len(h.streams.startsOf("r")) >= 2 }); err != nil {
		t.Fatalf("the stream that ended was not restarted: %d starts", len(h.streams.startsOf("r")))
	}
	time.Sleep(50 * time.Millisecond) // several polls: neither g nor p restarts
	if g, p := len(h.streams.startsOf("g")), len(h.streams.startsOf("p")); g != 1 || p != 1 {
		t.Fatalf("restarted a gone (%d starts) or failed (%d starts) stream", g, p)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("cancelled shard listener returned %v", err)
	}
}

// Heartbeats do not wait for the membership: a query that hangs (the worker
// holding the shard workflow is overloaded, or dead) must not make the shard
// look dead to Temporal, which would restart every stream.
func TestShardListenerHeartbeatsWhileMembershipHangs(t *testing.T) {
	h := newShardHarnessWith(t, nil, nil, 0)
	h.tmp.mu.Lock()
	h.tmp.hang = true
	h.tmp.mu.Unlock()
	<-h.beats // the first beat, before the loop
	beats := 0
	for deadline := time.After(time.Second); beats < 3; {
		select {
		case <-h.beats:
			beats++
		case <-deadline:
			t.Fatalf("%d heartbeats in 1s of a hanging membership query (cadence 10ms), want at least 3", beats)
		}
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("cancelled shard listener returned %v", err)
	}
}

// After a failed membership query the next one waits (1 s, then 2 s, ...)
// instead of coming every poll: an overloaded server is not asked more.
func TestShardListenerBacksOffFailingMembershipQueries(t *testing.T) {
	h := newShardHarnessWith(t, nil, nil, 0)
	h.tmp.mu.Lock()
	h.tmp.queryErr = serviceerror.NewUnavailable("overloaded")
	h.tmp.mu.Unlock()
	time.Sleep(1500 * time.Millisecond) // 300 polls at 5 ms
	queries := 0
	for _, c := range h.tmp.callLog() {
		if c == "query" {
			queries++
		}
	}
	if queries < 1 || queries > 3 {
		t.Fatalf("%d membership queries in 1.5s while they fail, want 1 to 3 (backoff 1s, 2s)", queries)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("cancelled shard listener returned %v", err)
	}
}

// A membership query that keeps failing gets longer to answer, so that a
// query queued behind a restarted worker's replays can still come back.
func TestShardQueryWaitGrowsWithFailures(t *testing.T) {
	for failures, want := range []time.Duration{3 * time.Second, 6 * time.Second, 9 * time.Second, 12 * time.Second, 12 * time.Second, 12 * time.Second} {
		if got := shardQueryWait(failures); got != want {
			t.Errorf("shardQueryWait(%d) = %s, want %s", failures, got, want)
		}
	}
}

// A retried attempt (it resumes heartbeated streams) first moves the shard
// workflow off the sticky queue of the worker that probably died, so that
// its first membership query does not wait there until it times out. A
// first attempt whose queries answer does not.
func TestShardListenerRetriedAttemptResetsStickinessFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resume []workflows.ShardCursor
		want   []string
	}{
		{"first attempt", nil, []string{"query"}},
		{"retried attempt", []workflows.ShardCursor{{UserID: "a", RunID: "a-run1", WorkflowID: workflows.WorkflowID("a"), ConversationID: "conv-a", LastEventID: "ev-1"}},
			[]string{"reset-sticky", "query"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newShardHarnessWith(t, tc.resume, nil, 0)
			h.tmp.setMembers(false, member("a", "a-run1", "conv-a", ""))
			if err := waitFor(func() bool { return slices.Contains(h.tmp.callLog(), "query") }); err != nil {
				t.Fatalf("no membership query: %v", err)
			}
			h.cancel()
			if err := h.wait(t); !isCancellation(err) {
				t.Fatalf("cancelled shard listener returned %v", err)
			}
			calls := h.tmp.callLog()
			if len(calls) < len(tc.want) || !slices.Equal(calls[:len(tc.want)], tc.want) {
				t.Fatalf("calls %v, want them to begin with %v", calls, tc.want)
			}
			if slices.Contains(calls[len(tc.want):], "reset-sticky") {
				t.Fatalf("calls %v: the sticky queue was reset again while queries answered", calls)
			}
		})
	}
}

// A member the membership read adds is heartbeated at once, not at the
// next beat: until its cursor is in the heartbeat details, a worker death
// leaves it without a stream until a membership read answers again.
func TestShardListenerHeartbeatsNewMembersAtOnce(t *testing.T) {
	h := newShardHarnessWith(t, nil, nil, 0, func(a *Activities) { a.heartbeatEvery = time.Hour })
	h.tmp.setMembers(false, member("a", "a-run1", "conv-a", "ev-7"))
	// With a cadence of an hour, only the start and membership reads beat.
	for deadline := time.After(5 * time.Second); ; {
		select {
		case cs := <-h.beats:
			if len(cs) == 1 && cs[0].UserID == "a" && cs[0].LastEventID == "ev-7" {
				h.cancel()
				if err := h.wait(t); !isCancellation(err) {
					t.Fatalf("cancelled shard listener returned %v", err)
				}
				return
			}
		case <-deadline:
			t.Fatal("the new member's cursor was not heartbeated (beat cadence 1h)")
		}
	}
}
