package bench

import (
	"strings"
	"testing"
	"time"
)

func TestWriteMarkdown(t *testing.T) {
	lat := func(p50, p95, p99 time.Duration) Latency {
		return Latency{Samples: 300, P50: p50, P95: p95, P99: p99}
	}
	rep := &Report{
		Setup: Setup{CPUs: 2, GoVersion: "go1.26.8", Database: "SQLite in memory", Concurrency: 50, Samples: 300, SampleRate: 25,
			Hold: 30 * time.Second, TokenRPM: 180, ListenerHeartbeatTimeout: 30 * time.Second, ListenerSlots: 1100, ActivitySlots: 200, HistoryCache: 8096},
		Rows: []Row{
			{Sessions: 100,
				Durable: &PhaseResult{Bridge: BridgeDurable, Sessions: 100, Opened: 100, OpenComplete: true, OpenTime: 28 * time.Second,
					RSSPerSession: 20 << 10, CPUTotal: 12500 * time.Millisecond, RatesSource: RatesWorkerMetrics, HeartbeatsPerSec: 4.2, SignalsPerSec: 55,
					TokenMax60s: 100, AgentToUser: lat(40*time.Millisecond, 80*time.Millisecond, 120*time.Millisecond),
					UserToAgent: lat(8*time.Millisecond, 12*time.Millisecond, 20*time.Millisecond), Closed: 100,
					History: HistoryCost{Sessions: 100, Messages: 600, Events: 3300}},
				Baseline: &PhaseResult{Bridge: BridgeBaseline, Sessions: 100, Opened: 100, OpenComplete: true, OpenTime: 27 * time.Second,
					TokenMax60s: 100, AgentToUser: lat(2*time.Millisecond, 4*time.Millisecond, 6*time.Millisecond),
					UserToAgent: lat(time.Millisecond, 2*time.Millisecond, 4*time.Millisecond), Closed: 100}},
			{Sessions: 5000,
				Durable: &PhaseResult{Bridge: BridgeDurable, Sessions: 5000, Opened: 812, OpenTime: 620 * time.Second, HeartbeatsPerSec: -1,
					OpenNote: "open deadline reached", TokenMax60s: 199, Closed: 5000}},
		},
		TokenRequests: 5200, TokenMax60s: 199, Duration: 20 * time.Minute,
	}
	var b strings.Builder
	rep.WriteMarkdown(&b)
	out := b.String()
	for _, want := range []string{
		"| N | open time | worker RSS/session | worker CPU s | heartbeats/s | signals/s | token req/min (max 60 s) |",
		"| 100 | 28.0 s | 20.0 KiB | 12.5 | 4.2 | 55.0 | 100 ✓ <200 (baseline 100) | 40.0 ms / 80.0 ms / 120 ms | 8.00 ms / 12.0 ms / 20.0 ms | 2.00 ms / 4.00 ms / 6.00 ms | 1.00 ms / 2.00 ms / 4.00 ms | ×20.0 / ×20.0 / ×20.0 | ×8.0 / ×6.0 / ×5.0 |",
		"| 5000 | **incomplete**: 812/5000 in 620 s |",
		"≈0.0", // rates not from the worker are marked as estimates
		"N=5000 durable: open deadline reached",
		"at most 199 in any 60 s window",
		"History at N=100: 5.5 events per brokered message (3300 events for 600 messages, both ways, receipts included, in 100 sampled sessions).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !rep.Incomplete() {
		t.Fatal("a report with an incomplete size is not Incomplete")
	}
	if !strings.Contains(out, "a listener per session (heartbeat timeout 30s, a heartbeat every third)") {
		t.Errorf("setup line lacks the per-session listeners' heartbeat timeout:\n%s", out)
	}
	sharded := *rep
	sharded.Setup.ListenerShards = 8
	var shardedOut strings.Builder
	sharded.WriteMarkdown(&shardedOut)
	if !strings.Contains(shardedOut.String(), "8 listener shards (one heartbeat every 1.7s each") {
		t.Errorf("setup line lacks the listener shards:\n%s", shardedOut.String())
	}
	rep.Rows = rep.Rows[:1]
	if rep.Incomplete() {
		t.Fatal("a clean report is Incomplete")
	}
}

func TestSampledUsersCountMessagesEachWay(t *testing.T) {
	refs := []sessionRef{{user: "a"}, {user: "b"}, {user: "c"}}
	got := sampledUsers(refs, 4) // samples 0..3 go to a, b, c, a
	if len(got) != 3 || got["a"] != 4 || got["b"] != 2 || got["c"] != 2 {
		t.Fatalf("sampledUsers = %v, want a:4 b:2 c:2", got)
	}
}

func TestHistoryCostLeavesOutContinuedRuns(t *testing.T) {
	users := map[string]int{"a": 4, "b": 2, "c": 2}
	before := map[string]runLength{"a": {"r1", 50}, "b": {"r2", 40}, "c": {"r3", 40}}
	after := map[string]runLength{"a": {"r1", 72}, "b": {"r2", 51}, "c": {"r4", 3}} // c continued as new
	got := historyCost(users, before, after)
	if want := (HistoryCost{Sessions: 2, Messages: 6, Events: 33}); got != want || got.PerMessage() != 5.5 {
		t.Fatalf("historyCost = %+v (%.2f per message), want %+v (5.5)", got, got.PerMessage(), want)
	}
}

func TestTokenCellFlagsTheLimit(t *testing.T) {
	if got := tokenCell(199); !strings.Contains(got, "✓") {
		t.Fatalf("199 = %q", got)
	}
	if got := tokenCell(200); !strings.Contains(got, "✗") {
		t.Fatalf("200 = %q", got)
	}
}

func TestOptions(t *testing.T) {
	o := Options{}.withDefaults()
	if len(o.Sessions) != 2 || o.Sessions[0] != 100 || o.Sessions[1] != 1000 || o.TokenRPM != 180 {
		t.Fatalf("defaults = %+v", o)
	}
	if err := (Options{Sessions: []int{10}, TokenRPM: 201}).withDefaults().validate(); err == nil || !strings.Contains(err.Error(), "token rpm") {
		t.Fatalf("rpm 201: %v", err)
	}
	if err := (Options{Sessions: []int{10}, TokenRPM: 5000, LiftTokenLimit: true}).withDefaults().validate(); err != nil {
		t.Errorf("a lifted token limit is accepted: %v", err)
	}
	if err := (Options{Sessions: []int{10}, ListenerHeartbeatTimeout: 5 * time.Second}).withDefaults().validate(); err == nil ||
		!strings.Contains(err.Error(), "listener heartbeat timeout") {
		t.Fatalf("heartbeat timeout 5s: %v", err)
	}
	if err := (Options{Sessions: []int{0}}).withDefaults().validate(); err == nil || !strings.Contains(err.Error(), "sessions") {
		t.Fatalf("0 sessions: %v", err)
	}
	// 1,000 sessions at 180/min: 5.55 min × 1.5 + 2 min.
	if got, want := o.openTimeout(1000), 10*time.Minute+20*time.Second; got != want {
		t.Fatalf("open timeout = %v, want %v", got, want)
	}
}
