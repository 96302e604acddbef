package activities

import (
	"context"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// recentEntryIDs bounds the entry ids a listener attempt remembers having
// signalled (the workflow's own de-duplication is the guarantee; this only
// saves signals). The ids it must catch are those one catch-up signalled and
// the stream then replays, a few after any outage shorter than a chat; each
// open session pays for the set in memory: 17 KiB at 128 ids, 133 KiB at
// 1,000 (measured with UUIDs), which a long conversation fills.
const recentEntryIDs = 128

// firstConnectLookback bounds the catch-up of a first attempt's first
// connect, which has no entry time to start from: entries transcribed up to
// this long before the listener was scheduled. The workflow schedules it
// right after creating the conversation, so for a new session that is the
// whole conversation; for a continued run it is a stretch the workflow has
// already seen (it drops those entries by id) rather than the whole history.
const firstConnectLookback = 15 * time.Minute

// catchUp forwards the conversation's entries transcribed since the newest
// one the listener handled, in transcript order, each like a streamed event
// (see ListenEvents and forward). Transient failures of the listing are retried with
// backoff until ctx ends; a permanent one is logged and the stream carries
// on (nothing better can be done). It returns an error only to stop the
// stream, as handle does.
func (l *listener) catchUp(ctx context.Context) error {
	l.mu.Lock()
	since := l.lastAt
	l.mu.Unlock()
	entries, err := l.listSince(ctx, since)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		ev := miaw.EntryEvent(l.in.ConversationID, e)
		ae, keep, _, terr := TranslateEvent(ev)
		stale := ae.Kind == workflows.AgentTypingStarted || ae.Kind == workflows.AgentTypingStopped // the agent typed while we were away
		if terr != nil || !keep || stale || l.recent.has(ae.EntryID) {
			l.handled(e.TranscriptedTimestamp, "")
			continue
		}
		if err := l.forward(ctx, ae, e.TranscriptedTimestamp); err != nil {
			return err
		}
		l.a.stats.caughtUp.Add(1)
		n++
		l.advance(ctx, "", true)
	}
	l.log.Debug("listener: caught up from the entries list", "since_ms", since, "entries", len(entries), "forwarded", n)
	return nil
}

// listSince lists the entries since ms, retrying transient failures. A
// permanent failure is logged and yields no entries.
func (l *listener) listSince(ctx context.Context, ms int64) ([]miaw.ConversationEntry, error) {
	backoff := l.a.signalBackoff
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	const maxBackoff = 10 * time.Second
	for {
		entries, err := l.a.SF.EntriesSince(ctx, l.in.UserID, l.in.ConversationID, ms)
		switch {
		case err == nil:
			return entries, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !miaw.IsRetryable(err):
			l.a.stats.catchUpFailures.Add(1)
			l.log.Warn("listener: cannot list the conversation entries to catch up; events missed by the stream may be lost", "error", redact(err.Error()))
			return nil, nil
		}
		l.log.Warn("listener: listing entries to catch up failed; retrying", "retry_in", backoff, "error", redact(err.Error()))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(max(backoff, miaw.RetryAfter(err))):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// recentIDs is a bounded set of ids: the oldest is forgotten first. Safe for
// concurrent use.
type recentIDs struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
	max   int
}

func newRecentIDs(n int) *recentIDs {
	return &recentIDs{ids: map[string]struct{}{}, max: n}
}

func (r *recentIDs) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

func (r *recentIDs) add(id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.ids[id]; ok {
		return
	}
	r.ids[id] = struct{}{}
	r.order = append(r.order, id)
	if len(r.order) > r.max {
		delete(r.ids, r.order[0])
		r.order = r.order[1:]
	}
}
