package activities

import (
	"errors"
	"math"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func linkMsg(url string) *miaw.MessagePayload {
	return &miaw.MessagePayload{EntryType: "Message", ID: "p", AbstractMessage: miaw.AbstractMessage{
		MessageType: "StaticContentMessage", StaticContent: &miaw.StaticContent{FormatType: miaw.FormatRichLink, URL: url, Title: "T"}}}
}

// Only absolute http(s) links reach the user's UI.
func TestTranslateKeepsOnlyHTTPLinks(t *testing.T) {
	for url, keep := range map[string]bool{
		"https://help.example.com/a?b=c": true, "HTTP://example.com": true,
		"javascript:alert(1)": false, " JavaScript:alert(1)": false, "data:text/html,<script>x</script>": false,
		"//example.com/x": false, "/relative": false, "https:opaque": false, "ftp://example.com/f": false, "vbscript:x": false,
	} {
		ev := mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", linkMsg(url))
		ae, kept, _, err := TranslateEvent(ev)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		if got := kept && ae.Link != nil; got != keep {
			t.Errorf("%q: link kept = %v, want %v (%+v)", url, got, keep, ae.Link)
		}
	}
}

// An impossible timestamp (the largest int64, year 292278994) reads as
// unknown, so the signal payload can be encoded.
func TestTranslateImpossibleTimestampEncodes(t *testing.T) {
	ev := mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("hi"))
	ev.Entry.TranscriptedTimestamp = math.MaxInt64
	ev.Entry.ClientTimestamp = math.MaxInt64
	ae, keep, _, err := TranslateEvent(ev)
	if err != nil || !keep {
		t.Fatalf("keep=%v err=%v", keep, err)
	}
	if !ae.At.IsZero() {
		t.Fatalf("At = %v, want zero (unknown)", ae.At)
	}
	if _, err := converter.GetDefaultDataConverter().ToPayload(ae); err != nil {
		t.Fatalf("signal payload cannot be encoded: %v", err)
	}
}

// An event the data converter cannot encode is dropped and counted, not
// retried forever: later events still arrive.
func TestListenerDropsEventThatCannotBeEncoded(t *testing.T) {
	_, encErr := converter.GetDefaultDataConverter().ToPayload(workflows.AgentEvent{At: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !errors.Is(encErr, converter.ErrUnableToEncode) {
		t.Fatalf("converter error %v", encErr)
	}
	h := newListenerHarness(t)
	h.sig.errs = []error{encErr}
	h.sf.stream = scriptedStream(
		mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("bad")),
		mkEvent("ev-2", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("next")),
	)
	h.start(listenIn)
	if ev := h.nextSignal(t); ev.Text != "next" {
		t.Fatalf("signal = %+v, want the event after the unencodable one", ev)
	}
	if st := h.a.ListenerStats(); st.Undeliverable != 1 || st.SignalRetries != 0 {
		t.Fatalf("stats %+v, want 1 undeliverable and no retries", st)
	}
	h.cancel()
	_ = h.wait(t)
}

// A cursor that is not a valid event id (an input from an old history, or
// heartbeated before ids were validated) is never sent back to the stream.
func TestListenerIgnoresInvalidCursors(t *testing.T) {
	t.Run("input", func(t *testing.T) {
		h := newListenerHarness(t)
		in := listenIn
		in.LastEventID = "ev\x01bad"
		h.start(in)
		if err := waitFor(func() bool { return h.sf.callCount("Stream") == 1 }); err != nil {
			t.Fatal(err)
		}
		h.cancel()
		_ = h.wait(t)
		if got := h.sf.streamOpts[0].LastEventID; got != "" {
			t.Fatalf("stream resumed from %q, want the token's position", got)
		}
	})
	t.Run("heartbeat", func(t *testing.T) {
		h := newListenerHarness(t)
		h.env.SetHeartbeatDetails("ev 42\r\n")
		h.start(listenIn)
		if err := waitFor(func() bool { return h.sf.callCount("Stream") == 1 }); err != nil {
			t.Fatal(err)
		}
		h.cancel()
		_ = h.wait(t)
		if got := h.sf.streamOpts[0].LastEventID; got != listenIn.LastEventID {
			t.Fatalf("stream resumed from %q, want the input cursor %q", got, listenIn.LastEventID)
		}
	})
}
