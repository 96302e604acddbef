package miaw

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// An event whose id could not be sent back as Last-Event-ID (a control
// character, or hundreds of bytes) is still delivered, but never becomes the
// cursor: the next reconnect resumes from the last valid id and later events
// arrive.
func TestStreamIgnoresInvalidEventIDs(t *testing.T) {
	f := newFakeSF(t)
	f.lastEventID = "0"
	ctrl, long := msgEvent("2"), msgEvent("3")
	ctrl.id, long.id = "2\x01", strings.Repeat("3", MaxEventIDLen+1)
	s := &fakeStream{events: []sseEvent{msgEvent("1"), ctrl, long, msgEvent("4")}}
	s.plan = func(conn int, w http.ResponseWriter) (int, bool) {
		if conn == 0 {
			return 3, false // drop after the bad ids: the reconnect must work
		}
		return -1, false
	}
	f.handle("GET "+pathSSE, s.serve)
	c, _ := newTestClient(t, testConfig(f))
	// 1, 2, 3, then from cursor 1 again: 2, 3 (duplicates; entry ids dedupe), 4.
	got, _ := collect(t, c, StreamOptions{}, 6)
	if want := []string{"1", "", "", "", "", "4"}; !slices.Equal(ids(got), want) {
		t.Fatalf("delivered ids %q, want %q", ids(got), want)
	}
	if conns := s.connections(); !slices.Equal(conns, []string{"0", "1"}) {
		t.Fatalf("Last-Event-ID per connection %q, want [0 1]", conns)
	}
	if st := c.Stats(); st.MalformedEvents < 2 {
		t.Fatalf("MalformedEvents = %d, want the bad ids counted", st.MalformedEvents)
	}
}

// A lastEventId in the access-token response that is not a valid event id
// is ignored (the stream starts at the live point) rather than sent as a
// header that fails every connection attempt.
func TestStreamIgnoresInvalidTokenLastEventID(t *testing.T) {
	f := newFakeSF(t)
	f.lastEventID = "bad\x01id"
	s := &fakeStream{events: []sseEvent{msgEvent("1")}}
	f.handle("GET "+pathSSE, s.serve)
	c, _ := newTestClient(t, testConfig(f))
	got, _ := collect(t, c, StreamOptions{}, 1)
	if ids(got)[0] != "1" {
		t.Fatalf("delivered %q", ids(got))
	}
	if conns := s.connections(); conns[0] != "-" {
		t.Fatalf("first Last-Event-ID %q, want none", conns[0])
	}
}

func TestStreamRefusesInvalidCallerCursor(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	err := c.Stream(t.Context(), testUser, StreamOptions{LastEventID: "a b"}, func(Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "LastEventID") {
		t.Fatalf("err = %v, want the invalid cursor refused", err)
	}
}

func TestValidEventID(t *testing.T) {
	for id, want := range map[string]bool{
		"1700000000123-0": true, "abc:DEF_~": true, strings.Repeat("9", MaxEventIDLen): true,
		"": false, "a b": false, "a\tb": false, "a\x00": false, "a\x7f": false, "é": false,
		strings.Repeat("9", MaxEventIDLen+1): false,
	} {
		if got := ValidEventID(id); got != want {
			t.Errorf("ValidEventID(%q) = %v, want %v", id, got, want)
		}
	}
}

// A timestamp beyond year 9999 (here the largest int64) reads as unknown,
// so the decoded event can be encoded again.
func TestDecodeEventClampsImpossibleTimestamps(t *testing.T) {
	data := `{"conversationId":"c","conversationEntry":{"identifier":"e","entryType":"Message",` +
		`"transcriptedTimestamp":9223372036854775807,"clientTimestamp":-5,` +
		`"entryPayload":{"entryType":"Message","id":"e","abstractMessage":{"messageType":"StaticContentMessage","id":"e","staticContent":{"formatType":"Text","text":"hi"}}}}}`
	ev, err := DecodeEvent(EventMessage, "1", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Entry.TranscriptedTimestamp != 0 || ev.Entry.ClientTimestamp != 0 {
		t.Fatalf("timestamps %d / %d, want 0 (unknown)", ev.Entry.TranscriptedTimestamp, ev.Entry.ClientTimestamp)
	}
	if PlausibleMillis(1700000000000) != 1700000000000 || PlausibleMillis(MaxMillis+1) != 0 {
		t.Fatal("PlausibleMillis range")
	}
	if _, err := DecodeEvent(EventMessage, "bad\nid", []byte(data)); err == nil {
		t.Fatal("an invalid id was accepted")
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
}
