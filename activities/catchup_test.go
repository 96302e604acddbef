package activities

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// agentText is an agent message event transcribed at ms.
func agentText(id string, ms int64, text string) miaw.Event {
	ev := mkEvent(id, miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg(text))
	ev.Entry.TranscriptedTimestamp = ms
	return ev
}

// Every connect first signals the entries listed since the newest one
// handled (the stream may have lost events past Salesforce's replay window),
// in order and each once; what the stream replays afterwards is not
// signalled again, and stale typing and echoes are skipped.
func TestListenerCatchesUpOnReconnect(t *testing.T) {
	h := newListenerHarness(t)
	t0 := time.Now().UnixMilli() // entries of a session that starts now
	one, two, three := agentText("ev-1", t0+1000, "one"), agentText("ev-2", t0+2000, "two"), agentText("ev-3", t0+3000, "three")
	typing := mkEvent("ev-t", miaw.EventTypingStarted, miaw.EntryTypingStarted, miaw.RoleAgent, "Jane", &miaw.TypingPayload{})
	typing.Entry.TranscriptedTimestamp = t0 + 2500
	echo := mkEvent("ev-u", miaw.EventMessage, miaw.EntryMessage, miaw.RoleEndUser, "Guest", textMsg("mine"))
	echo.Entry.TranscriptedTimestamp = t0 + 2600
	h.sf.failNext("EntriesSince", &miaw.Error{Op: "list entries", Status: 503}) // retried
	h.sf.stream = func(ctx context.Context, opts miaw.StreamOptions, handle func(miaw.Event) error) error {
		if err := opts.OnConnect("ev-0"); err != nil { // nothing listed yet
			return err
		}
		if err := handle(one); err != nil {
			return err
		}
		h.sf.mu.Lock()
		h.sf.entries = []miaw.ConversationEntry{one.Entry, two.Entry, typing.Entry, echo.Entry, three.Entry}
		h.sf.mu.Unlock()
		// The connection drops; the reconnect resumes after ev-1, but
		// the server replays only ev-3 (ev-2 left its replay window).
		if err := opts.OnConnect("ev-1"); err != nil {
			return err
		}
		if err := handle(three); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}
	h.start(listenIn)
	h.wantSignalTexts(t, "one", "two", "three")
	if err := waitFor(func() bool { return h.a.ListenerStats().Skipped >= 1 }); err != nil {
		t.Fatal("the replayed ev-3 was not seen")
	}
	h.cancel()
	_ = h.wait(t)
	signals, _, _ := h.sig.snapshot()
	if len(signals) != 3 {
		t.Fatalf("%d signals, want 3 (each entry once): %+v", len(signals), signals)
	}
	if signals[1].EventID != "" || signals[1].EntryID != "entry-ev-2" {
		t.Fatalf("caught-up signal = %+v, want entry-ev-2 without an event id", signals[1])
	}
	if n := len(h.sf.entriesSince); n != 2 || h.sf.entriesSince[1] != t0+1000 {
		t.Fatalf("listed since %v, want one listing per connect, the second since the newest handled entry's time %d", h.sf.entriesSince, t0+1000)
	}
	if st := h.a.ListenerStats(); st.CaughtUp != 2 || st.Signalled != 3 {
		t.Fatalf("stats %+v, want 2 caught up of 3 signalled", st)
	}
}

// A retried attempt whose heartbeat has no entry time catches up on the
// whole conversation; a permanent listing error is logged and the stream
// carries on.
func TestListenerCatchesUpOnRetriedAttempt(t *testing.T) {
	h := newListenerHarness(t)
	h.env.SetHeartbeatDetails("ev-42") // a heartbeat without the entry time: catch up on everything
	h.sf.entries = []miaw.ConversationEntry{agentText("ev-9", 9000, "missed").Entry}
	h.sf.stream = func(ctx context.Context, opts miaw.StreamOptions, handle func(miaw.Event) error) error {
		if err := opts.OnConnect("ev-42"); err != nil {
			return err
		}
		h.sf.failNext("EntriesSince", &miaw.Error{Op: "list entries", Status: 403})
		if err := opts.OnConnect("ev-42"); err != nil {
			return errors.New("a permanent listing error stopped the stream: " + err.Error())
		}
		if err := handle(agentText("ev-43", 9500, "live")); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}
	h.start(listenIn)
	h.wantSignalTexts(t, "missed", "live") // the missed entry, then the live event
	h.cancel()
	_ = h.wait(t)
	if h.sf.entriesSince[0] != 0 {
		t.Fatalf("listed since %v, want 0 (the heartbeat has no entry time)", h.sf.entriesSince)
	}
	if st := h.a.ListenerStats(); st.CatchUpFailures != 1 {
		t.Fatalf("stats %+v, want 1 catch-up failure", st)
	}
}

// A retried attempt's catch-up lists again the entries its predecessor
// signalled at the newest entry time. Its heartbeat names them, so they are
// not signalled again (each would cost the session a workflow task, and a
// replay if its worker had evicted it, on every stream restart); an entry
// of the same millisecond that was not signalled is.
func TestListenerRetriedAttemptSignalsNoEntryTwice(t *testing.T) {
	h := newListenerHarness(t)
	seen, unseen := agentText("ev-9", 9000, "seen"), agentText("ev-10", 9000, "same millisecond, not seen")
	h.env.SetDataConverter(detailsConverter{converter.GetDefaultDataConverter()})
	h.env.SetHeartbeatDetails(heartbeatDetails{"ev-9", int64(9000), []string{seen.Entry.Identifier}})
	h.sf.entries = []miaw.ConversationEntry{seen.Entry, unseen.Entry}
	h.sf.stream = connectedStream("ev-9", agentText("ev-11", 9500, "live"))
	h.start(listenIn)
	h.wantSignalTexts(t, "same millisecond, not seen", "live") // not "seen": it was signalled before
	h.cancel()
	_ = h.wait(t)
	if signals, _, _ := h.sig.snapshot(); len(signals) != 2 {
		t.Fatalf("%d signals, want 2: %+v", len(signals), signals)
	}
	if got := h.hb.lastDetails(); len(got) != 3 || got[1] != int64(9500) || !slices.Equal(got[2].([]string), []string{"entry-ev-11"}) {
		t.Fatalf("last heartbeat %v, want the newest entry's time 9500 and the id signalled at it", got)
	}
}

// heartbeatDetails are several heartbeat details for SetHeartbeatDetails,
// which takes one value: detailsConverter encodes each as a payload of its
// own, as RecordHeartbeat does.
type heartbeatDetails []any

type detailsConverter struct{ converter.DataConverter }

func (c detailsConverter) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	if len(values) == 1 {
		if d, ok := values[0].(heartbeatDetails); ok {
			return c.DataConverter.ToPayloads(d...)
		}
	}
	return c.DataConverter.ToPayloads(values...)
}

// The set of recently signalled entry ids is bounded: past its size it
// forgets the oldest, and an id added again does not push another out.
func TestRecentIDsForgetTheOldest(t *testing.T) {
	r := newRecentIDs(3)
	for _, id := range []string{"a", "b", "c", "b", ""} {
		r.add(id)
	}
	if !r.has("a") || !r.has("b") || !r.has("c") || r.has("") {
		t.Fatalf("after a, b, c (b again, and an empty id): a %v b %v c %v empty %v", r.has("a"), r.has("b"), r.has("c"), r.has(""))
	}
	r.add("d")
	if r.has("a") || !r.has("b") || !r.has("c") || !r.has("d") {
		t.Fatalf("after d: a %v b %v c %v d %v, want a forgotten", r.has("a"), r.has("b"), r.has("c"), r.has("d"))
	}
}
