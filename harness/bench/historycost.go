package bench

import (
	"context"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// HistoryCost is what the brokered messages of the latency samples cost in
// Temporal history: the events the sampled sessions' runs gained over the
// samples, per message (both directions, receipts included).
type HistoryCost struct {
	Sessions int // sampled sessions measured (those whose run did not change)
	Messages int // messages brokered in them
	Events   int64
}

// PerMessage is events per brokered message, 0 when none was measured.
func (h HistoryCost) PerMessage() float64 {
	if h.Messages == 0 {
		return 0
	}
	return float64(h.Events) / float64(h.Messages)
}

// runLength is one run's history length.
type runLength struct {
	runID  string
	length int64
}

// sampledUsers are the sessions the latency samplers use (sample k goes to
// refs[k % len(refs)]), each once, with the messages each gets.
func sampledUsers(refs []sessionRef, samples int) map[string]int {
	users := map[string]int{}
	for k := range samples {
		users[refs[k%len(refs)].user] += 2 // one message each way
	}
	return users
}

// historyLengths describes each user's session; sessions it cannot describe
// are left out.
func (r *run) historyLengths(ctx context.Context, users map[string]int) map[string]runLength {
	out := make(map[string]runLength, len(users))
	for u := range users {
		resp, err := r.tc.DescribeWorkflowExecution(ctx, workflows.WorkflowID(u), "")
		if err != nil {
			continue
		}
		info := resp.GetWorkflowExecutionInfo()
		out[u] = runLength{runID: info.GetExecution().GetRunId(), length: info.GetHistoryLength()}
	}
	return out
}

// settledLengths reads the users' history lengths until two reads a second
// apart agree (for at most settleFor): events that follow a message (the
// agent's receipt of a user message) or an open (the greeting's) may still
// be on their way.
func (r *run) settledLengths(ctx context.Context, users map[string]int) map[string]runLength {
	const settleFor = 30 * time.Second
	var total int64 = -1
	var lengths map[string]runLength
	for deadline := time.Now().Add(settleFor); ctx.Err() == nil; {
		lengths = r.historyLengths(ctx, users)
		var sum int64
		for _, l := range lengths {
			sum += l.length
		}
		if sum == total || time.Now().After(deadline) {
			break
		}
		total = sum
		sleepCtx(ctx, time.Second)
	}
	return lengths
}

// historyCost compares the sampled sessions' history lengths after the
// samples with before; users holds the messages each session got.
func historyCost(users map[string]int, before, after map[string]runLength) HistoryCost {
	var c HistoryCost
	for u, b := range before {
		a, ok := after[u]
		if !ok || a.runID != b.runID {
			continue // continued as new (or unreadable): its events are in two runs
		}
		c.Sessions++
		c.Messages += users[u]
		c.Events += a.length - b.length
	}
	return c
}
