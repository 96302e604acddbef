package miaw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sseEvent is one scripted SSE event of the fake stream.
type sseEvent struct{ id, event, data string }

// fakeStream serves a scripted event log on /eventrouter/v1/sse with
// Last-Event-ID resumption, like Salesforce's replay buffer.
type fakeStream struct {
	mu      sync.Mutex
	events  []sseEvent
	lastIDs []string // Last-Event-ID of each accepted connection ("-" = none)
	// onConnect decides per connection (0-based) how many events to send
	// before ending it (-1 = all, then hold open) and may answer itself.
	plan func(conn int, w http.ResponseWriter) (sendMax int, handled bool)
	// afterSend runs when a connection reached sendMax events; the
	// connection then ends, or stays open silently if it returns true.
	afterSend func(conn int, w http.ResponseWriter) (holdOpen bool)
}

func msgEvent(id string) sseEvent {
	payload := `{"entryType":"Message","id":"m` + id + `","abstractMessage":{"messageType":"StaticContentMessage","id":"m` + id + `","staticContent":{"formatType":"Text","text":"text ` + id + `"}}}`
	return sseEvent{id: id, event: EventMessage, data: string(sseData(testConvID, EntryMessage, "entry-"+id, agent, payload))}
}

func (s *fakeStream) connections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lastIDs)
}

func (s *fakeStream) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	conn := len(s.lastIDs)
	s.mu.Unlock()
	sendMax := -1
	if s.plan != nil {
		var handled bool
		if sendMax, handled = s.plan(conn, w); handled {
			return
		}
	}
	last, ok := r.Header["Last-Event-Id"]
	s.mu.Lock()
	if ok {
		s.lastIDs = append(s.lastIDs, last[0])
	} else {
		s.lastIDs = append(s.lastIDs, "-")
	}
	start := 0
	if ok {
		for i, e := range s.events {
			if e.id == last[0] {
				start = i + 1
			}
		}
	}
	events := slices.Clone(s.events[start:])
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	sent := 0
	for _, e := range events {
		if sendMax >= 0 && sent == sendMax {
			if s.afterSend != nil && s.afterSend(conn, w) {
				<-r.Context().Done()
			}
			return
		}
		if e.id != "" {
			fmt.Fprintf(w, "id: %s\n", e.id)
		}
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.event, e.data)
		fl.Flush()
		if e.event != EventPing {
			sent++
		}
	}
	<-r.Context().Done() // hold open like a live stream
}

// collect runs Stream until want events arrived (or 20s) and returns them.
func collect(t *testing.T, c *Client, opts StreamOptions, want int) ([]Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []Event
	err := c.Stream(ctx, testUser, opts, func(e Event) error {
		got = append(got, e)
		if len(got) == want {
			cancel()
		}
		return nil
	})
	if len(got) < want {
		t.Fatalf("got %d events before %v, want %d", len(got), err, want)
	}
	return got, err
}

func ids(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func seq(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestStreamHeadersAndResumeAcrossDrops(t *testing.T) {
	f := newFakeSF(t)
	f.lastEventID = "0"
	s := &fakeStream{}
	for i := 1; i <= 10; i++ {
		s.events = append(s.events, msgEvent(strconv.Itoa(i)))
		if i%2 == 0 {
			s.events = append(s.events, sseEvent{event: EventPing, data: "3"}) // no id
		}
	}
	s.plan = func(conn int, w http.ResponseWriter) (int, bool) { return 3, false } // drop every 3 events
	f.handle("GET "+pathSSE, s.serve)
	c, _ := newTestClient(t, testConfig(f))
	var connects []string
	got, err := collect(t, c, StreamOptions{OnConnect: func(id string) error { connects = append(connects, id); return nil }}, 10)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream returned %v, want context.Canceled", err)
	}
	if !slices.Equal(ids(got), seq(1, 10)) {
		t.Fatalf("event ids %v: gaps or repeats", ids(got))
	}
	for i, e := range got {
		if m := e.Payload.(*MessagePayload); m.Text() != "text "+e.ID || e.ConversationID != testConvID {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	// First connect from the token's lastEventId, then from the last handled event.
	wantConns := []string{"0", "3", "6", "9"}
	if !slices.Equal(s.connections(), wantConns) || !slices.Equal(connects, wantConns) {
		t.Fatalf("Last-Event-ID per connection %v (OnConnect %v), want %v", s.connections(), connects, wantConns)
	}
	r := f.requests("GET", pathSSE)[0]
	checkAuthed(t, r)
	if r.Header.Get("Accept") != "text/event-stream" {
		t.Errorf("Accept = %q", r.Header.Get("Accept"))
	}
	if st := c.Stats(); st.Reconnects != 3 || st.SkippedEvents < 3 || st.MalformedEvents != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestStreamResumesFromCallerCursor(t *testing.T) {
	f := newFakeSF(t)
	s := &fakeStream{}
	for i := 1; i <= 5; i++ {
		s.events = append(s.events, msgEvent(strconv.Itoa(i)))
	}
	f.handle("GET "+pathSSE, s.serve)
	c, _ := newTestClient(t, testConfig(f))
	got, _ := collect(t, c, StreamOptions{LastEventID: "3"}, 2)
	if !slices.Equal(ids(got), []string{"4", "5"}) || s.connections()[0] != "3" {
		t.Fatalf("got %v from connections %v", ids(got), s.connections())
	}
}

func TestStreamRenewsTokenOn401(t *testing.T) {
	for _, mode := range []string{"401 on reconnect", "Jwt is expired in stream"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeSF(t)
			s := &fakeStream{}
			for i := 1; i <= 6; i++ {
				s.events = append(s.events, msgEvent(strconv.Itoa(i)))
			}
			s.plan = func(conn int, w http.ResponseWriter) (int, bool) {
				if conn == 0 {
					return 2, false
				}
				return -1, false
			}
			s.afterSend = func(conn int, w http.ResponseWriter) bool {
				f.revokeAll() // the token expires while streaming
				if mode == "Jwt is expired in stream" {
					_, _ = io.WriteString(w, "Jwt is expired\n\n")
				}
				return false
			}
			f.handle("GET "+pathSSE, s.serve)
			c, _ := newTestClient(t, testConfig(f))
			got, _ := collect(t, c, StreamOptions{}, 6)
			if !slices.Equal(ids(got), seq(1, 6)) {
				t.Fatalf("ids %v", ids(got))
			}
			if n := f.tokenCalls.Load(); n != 2 {
				t.Fatalf("token requests %d, want 2 (renewed once)", n)
			}
			conns := s.connections()
			if conns[len(conns)-1] != "2" {
				t.Fatalf("resumed from %v, want 2", conns)
			}
		})
	}
}

func TestStreamSkipsAndCountsBadEvents(t *testing.T) {
	f := newFakeSF(t)
	s := &fakeStream{events: []sseEvent{
		msgEvent("1"),
		{event: EventPing, data: "0"},
		{id: "2", event: "CONVERSATION_SOMETHING_NEW", data: `{"x":1}`},
		{id: "3", event: EventMessage, data: `{"conversationId":"c","conversationEntry":{"entryPayload":"{broken"}}`},
		{id: "4", event: EventParticipantChanged, data: `not json at all`},
		msgEvent("5"),
	}}
	s.plan = func(conn int, w http.ResponseWriter) (int, bool) {
		if conn == 0 {
			return 4, false // drop after the bad ones: the cursor must be past them
		}
		return -1, false
	}
	f.handle("GET "+pathSSE, s.serve)
	c, logs := newTestClient(t, testConfig(f))
	got, _ := collect(t, c, StreamOptions{}, 2)
	if !slices.Equal(ids(got), []string{"1", "5"}) {
		t.Fatalf("delivered %v", ids(got))
	}
	st := c.Stats()
	if st.MalformedEvents != 2 || st.SkippedEvents != 2 {
		t.Fatalf("stats %+v, want 2 malformed, 2 skipped", st)
	}
	if n := strings.Count(logs.String(), "malformed event skipped"); n != 2 || !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Fatalf("want 2 warn logs, got %d:\n%s", n, logs.String())
	}
	if conns := s.connections(); len(conns) != 2 || conns[1] != "4" {
		t.Fatalf("connections %v, want the reconnect to resume after the malformed event 4", conns)
	}
}

// A handler's error ends the stream: Stream returns it, GoStream gives it
// to done.
func TestStreamHandlerErrorStops(t *testing.T) {
	for _, api := range []string{"Stream", "GoStream"} {
		t.Run(api, func(t *testing.T) {
			f := newFakeSF(t)
			s := &fakeStream{events: []sseEvent{msgEvent("1"), msgEvent("2")}}
			f.handle("GET "+pathSSE, s.serve)
			c, _ := newTestClient(t, testConfig(f))
			boom := errors.New("boom")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n := 0
			handle := func(e Event) error { n++; return boom }
			var err error
			if api == "Stream" {
				err = c.Stream(ctx, testUser, StreamOptions{}, handle)
			} else {
				ended := make(chan error, 1)
				if err := c.GoStream(ctx, testUser, StreamOptions{}, handle, func(err error) { ended <- err }); err != nil {
					t.Fatalf("GoStream: %v", err)
				}
				select {
				case err = <-ended:
				case <-ctx.Done():
					t.Fatal("done was not called")
				}
			}
			if !errors.Is(err, boom) || n != 1 {
				t.Fatalf("got %v after %d events", err, n)
			}
		})
	}
}

// GoStream refuses invalid arguments at once, and then never calls done.
func TestGoStreamRefusesInvalidArgumentsAtOnce(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	ctx := context.Background()
	called := make(chan struct{}, 3)
	mark := func(error) { called <- struct{}{} }
	if err := c.GoStream(ctx, "", StreamOptions{}, func(Event) error { return nil }, mark); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("empty user: %v, want ErrInvalidRequest", err)
	}
	if err := c.GoStream(ctx, testUser, StreamOptions{}, nil, mark); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("nil handler: %v, want ErrInvalidRequest", err)
	}
	if err := c.GoStream(ctx, testUser, StreamOptions{}, func(Event) error { return nil }, nil); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("nil done: %v, want ErrInvalidRequest", err)
	}
	if len(called) != 0 {
		t.Errorf("done called %d times for calls refused at once", len(called))
	}
}

func TestStreamPermanentErrors(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET "+pathSSE, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, map[string]any{"message": "deployment not allowed"})
	})
	c, _ := newTestClient(t, testConfig(f))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := c.Stream(ctx, testUser, StreamOptions{}, func(Event) error { return nil })
	if !IsStatus(err, 403) || !strings.Contains(err.Error(), "deployment not allowed") {
		t.Fatalf("got %v, want 403", err)
	}
	f.subjectPrefix = "" // new client: anonymous subject
	c2, _ := newTestClient(t, testConfig(f))
	if err := c2.Stream(ctx, testUser, StreamOptions{}, func(Event) error { return nil }); !errors.Is(err, ErrUnverifiedSubject) {
		t.Fatalf("got %v, want ErrUnverifiedSubject", err)
	}
	if err := c.Stream(ctx, testUser, StreamOptions{}, nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("nil handler: %v", err)
	}
}

func TestStreamRetriesServerErrorsAndMissingHeartbeat(t *testing.T) {
	f := newFakeSF(t)
	s := &fakeStream{events: []sseEvent{msgEvent("1"), msgEvent("2")}}
	s.plan = func(conn int, w http.ResponseWriter) (int, bool) {
		switch conn {
		case 0:
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
			s.mu.Lock()
			s.lastIDs = append(s.lastIDs, "503")
			s.mu.Unlock()
			return 0, true
		case 1:
			return 1, false
		}
		return -1, false
	}
	// Connection 1 sends one event then goes silent without closing.
	s.afterSend = func(conn int, w http.ResponseWriter) bool { return true }
	f.handle("GET "+pathSSE, s.serve)
	c, _ := newTestClient(t, testConfig(f))
	got, err := collect(t, c, StreamOptions{HeartbeatTimeout: 300 * time.Millisecond}, 2)
	if !errors.Is(err, context.Canceled) || !slices.Equal(ids(got), []string{"1", "2"}) {
		t.Fatalf("got %v, %v", ids(got), err)
	}
	if conns := s.connections(); len(conns) != 3 || conns[2] != "1" {
		t.Fatalf("connections %v, want 503, first, then a resume from 1 after the silent period", conns)
	}
}

func TestParseFrame(t *testing.T) {
	f := parseFrame([]byte("id: 7\r\nevent:CONVERSATION_MESSAGE\r\ndata: {\"a\":\r\ndata:1}\r\n: comment\r\nretry: 10"))
	if f.id != "7" || f.event != EventMessage || string(f.data) != "{\"a\":\n1}" {
		t.Fatalf("parsed %+v", f)
	}
	if g := parseFrame([]byte("data: x")); g.event != "message" {
		t.Fatalf("default event type: %+v", g)
	}
	if g := parseFrame([]byte(": keep-alive")); !g.empty() {
		t.Fatalf("comment-only frame: %+v", g)
	}
}

func TestBackoffDelay(t *testing.T) {
	for failures := 0; failures < 20; failures++ {
		d := backoffDelay(failures, 0)
		if d < backoffBase/2 || d > backoffCap {
			t.Fatalf("failures=%d: delay %s outside [%s, %s]", failures, d, backoffBase/2, backoffCap)
		}
	}
	if d := backoffDelay(1, 10*time.Second); d != 10*time.Second {
		t.Fatalf("Retry-After not honoured: %s", d)
	}
}

func TestStreamGivesUpWhenFreshTokensAreRejected(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET "+pathSSE, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Jwt is expired", http.StatusUnauthorized)
	})
	c, _ := newTestClient(t, testConfig(f))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Stream(ctx, testUser, StreamOptions{}, func(Event) error { return nil })
	if !IsStatus(err, 401) || IsRetryable(err) {
		t.Fatalf("got %v, want a permanent 401", err)
	}
	if n := f.tokenCalls.Load(); n != maxStreamRejections {
		t.Fatalf("%d tokens minted, want %d (one per rejection)", n, maxStreamRejections)
	}
}
