package activities

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// fakeSessionQuerier answers QueryListenerDelivery with answer (or err) and
// records the requests.
type fakeSessionQuerier struct {
	mu     sync.Mutex
	answer workflows.ListenerDelivery
	err    error
	reqs   []client.QueryWorkflowWithOptionsRequest
}

func (q *fakeSessionQuerier) QueryWorkflowWithOptions(_ context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reqs = append(q.reqs, *req)
	if q.err != nil {
		return nil, q.err
	}
	return &client.QueryWorkflowWithOptionsResponse{QueryResult: jsonValue{q.answer}}, nil
}

func (q *fakeSessionQuerier) requests() []client.QueryWorkflowWithOptionsRequest {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.reqs
}

// syncSink records deliveries, failing each with err when set.
type syncSink struct {
	mu  sync.Mutex
	got []workflows.Delivery
	err error
}

func (s *syncSink) Deliver(_ context.Context, d workflows.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, d)
	return s.err
}

func (s *syncSink) delivered() []workflows.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

func ackEvent(id, entryType, acked string) miaw.Event {
	sseType := miaw.EventDeliveryAck
	if entryType == miaw.EntryReadAck {
		sseType = miaw.EventReadAck
	}
	return mkEvent(id, sseType, entryType, miaw.RoleAgent, "Jane", &miaw.AcknowledgementPayload{AcknowledgedEntryID: acked})
}

func typingEvent(id string) miaw.Event {
	return mkEvent(id, miaw.EventTypingStarted, miaw.EntryTypingStarted, miaw.RoleAgent, "Jane", &miaw.TypingPayload{})
}

// presenceRun streams ev and then an agent message through a listener whose
// session answers the delivery query with answer (or queryErr) and whose
// sink fails with sinkErr; it returns what was signalled before the
// message, the deliveries and the queries.
type presenceRun struct {
	signalled []workflows.AgentEvent
	delivered []workflows.Delivery
	queries   []client.QueryWorkflowWithOptionsRequest
	stats     ListenerStats
}

func runPresence(t *testing.T, ev miaw.Event, answer workflows.ListenerDelivery, queryErr, sinkErr error) presenceRun {
	t.Helper()
	h := newListenerHarness(t)
	q := &fakeSessionQuerier{answer: answer, err: queryErr}
	sink := &syncSink{err: sinkErr}
	h.a.Sessions, h.a.Sink = q, sink
	h.sf.stream = scriptedStream(ev, mkEvent("ev-9", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("next")))
	h.start(listenIn)
	var r presenceRun
	for got := h.nextSignal(t); got.Text != "next"; got = h.nextSignal(t) {
		r.signalled = append(r.signalled, got)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
	r.delivered, r.queries, r.stats = sink.delivered(), q.requests(), h.a.ListenerStats()
	return r
}

func TestListenerDeliversWhatTheSessionAnswers(t *testing.T) {
	receipt := workflows.Delivery{ID: "conv-1/receipts/entry-ev-1", SessionID: listenIn.WorkflowID, UserID: "u-1",
		Kind: workflows.DeliverReceipt, State: workflows.StateActive,
		Receipts: []workflows.Receipt{{MessageID: "m1", Status: workflows.ReceiptRead, At: tsTime}, {MessageID: "m2", Status: workflows.ReceiptRead}}}
	typing := workflows.Delivery{ID: "typing/entry-ev-1", SessionID: listenIn.WorkflowID, UserID: "u-1",
		Kind: workflows.DeliverTyping, State: workflows.StateActive, SenderName: "Jane", Typing: true}
	for _, tc := range []struct {
		name   string
		ev     miaw.Event
		answer workflows.ListenerDelivery
		kind   workflows.AgentEventKind
	}{
		{"read receipt", ackEvent("ev-1", miaw.EntryReadAck, "sf-entry-1"), workflows.ListenerDelivery{Delivery: receipt}, workflows.AgentReadAck},
		{"typing", typingEvent("ev-1"), workflows.ListenerDelivery{Delivery: typing, TypingExpiry: 7 * time.Second}, workflows.AgentTypingStarted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			r := runPresence(t, tc.ev, tc.answer, nil, nil)
			if len(r.signalled) != 0 {
				t.Fatalf("signalled %+v, want the event delivered without a signal", r.signalled)
			}
			if len(r.queries) != 1 {
				t.Fatalf("queries = %+v, want one", r.queries)
			}
			q := r.queries[0]
			asked, _ := q.Args[0].(workflows.AgentEvent)
			if q.WorkflowID != listenIn.WorkflowID || q.RunID != "default-test-run-id" || q.QueryType != workflows.QueryListenerDelivery ||
				q.QueryRejectCondition != enumspb.QUERY_REJECT_CONDITION_NOT_OPEN || asked.EntryID != "entry-ev-1" || asked.Kind != tc.kind {
				t.Fatalf("query = %+v", q)
			}
			if len(r.delivered) != 1 {
				t.Fatalf("delivered %+v, want one", r.delivered)
			}
			d := r.delivered[0]
			if d.At.Before(before) || d.At.After(time.Now()) {
				t.Fatalf("delivery At = %v, want the time of delivery", d.At)
			}
			want := tc.answer.Delivery
			want.At = d.At
			if want.Typing {
				want.ExpiresAt = d.At.Add(7 * time.Second)
			}
			if want.Receipts != nil {
				want.Receipts = []workflows.Receipt{want.Receipts[0], {MessageID: "m2", Status: workflows.ReceiptRead, At: d.At}}
			}
			if !reflect.DeepEqual(d, want) {
				t.Fatalf("delivery = %+v\nwant       %+v", d, want)
			}
			if r.stats.Delivered != 1 || r.stats.Signalled != 1 {
				t.Fatalf("stats = %+v, want 1 delivered and 1 signalled (the message)", r.stats)
			}
		})
	}
}

// Whenever the listener cannot deliver an event itself, it signals it and
// the session decides: nothing is lost on this path.
func TestListenerSignalsWhatItCannotDeliver(t *testing.T) {
	answer := workflows.ListenerDelivery{Delivery: workflows.Delivery{ID: "conv-1/receipts/entry-ev-1", Kind: workflows.DeliverReceipt,
		Receipts: []workflows.Receipt{{MessageID: "m1", Status: workflows.ReceiptDelivered}}}}
	for _, tc := range []struct {
		name          string
		answer        workflows.ListenerDelivery
		queryErr      error
		sinkErr       error
		wantDelivered int
	}{
		{"the session answers with no delivery", workflows.ListenerDelivery{}, nil, nil, 0},
		{"the query fails", answer, errors.New("query timed out"), nil, 0},
		{"the delivery fails", answer, nil, &DeliveryError{Status: 503}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runPresence(t, ackEvent("ev-1", miaw.EntryDeliveryAck, "sf-entry-1"), tc.answer, tc.queryErr, tc.sinkErr)
			if len(r.signalled) != 1 || r.signalled[0].Kind != workflows.AgentDeliveryAck || r.signalled[0].AckedEntryID != "sf-entry-1" {
				t.Fatalf("signalled %+v, want the receipt", r.signalled)
			}
			if len(r.delivered) != tc.wantDelivered {
				t.Fatalf("delivered %+v, want %d attempts", r.delivered, tc.wantDelivered)
			}
			if r.stats.Delivered != 0 {
				t.Fatalf("stats = %+v, want nothing counted delivered", r.stats)
			}
		})
	}
}

// Only typing and receipts are asked about: an agent message is signalled
// without a query, whatever the session would answer.
func TestListenerAsksOnlyAboutTypingAndReceipts(t *testing.T) {
	answer := workflows.ListenerDelivery{Delivery: workflows.Delivery{ID: "x", Kind: workflows.DeliverAgentMessage}}
	r := runPresence(t, mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("hello")), answer, nil, nil)
	if len(r.signalled) != 1 || r.signalled[0].Text != "hello" || len(r.queries) != 0 || len(r.delivered) != 0 {
		t.Fatalf("signalled %+v, queries %+v, delivered %+v: want the message signalled, nothing asked", r.signalled, r.queries, r.delivered)
	}
}

// Without a SessionQuerier every event is signalled.
func TestListenerWithoutSessionQuerierSignalsPresence(t *testing.T) {
	h := newListenerHarness(t)
	h.sf.stream = scriptedStream(ackEvent("ev-1", miaw.EntryReadAck, "sf-entry-1"))
	h.start(listenIn)
	if ev := h.nextSignal(t); ev.Kind != workflows.AgentReadAck {
		t.Fatalf("signalled %+v, want the read receipt", ev)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
}

// Entries a catch-up lists go the same way as streamed events: a receipt
// the stream missed is delivered by the listener, not signalled.
func TestListenerDeliversCaughtUpReceipts(t *testing.T) {
	h := newListenerHarness(t)
	h.env.SetHeartbeatDetails("ev-42") // no entry time: catch up on everything
	missed := ackEvent("ev-9", miaw.EntryDeliveryAck, "sf-entry-1")
	missed.Entry.TranscriptedTimestamp = 9000
	h.sf.entries = []miaw.ConversationEntry{missed.Entry}
	h.sf.stream = connectedStream("ev-42", agentText("ev-43", 9500, "next"))
	q := &fakeSessionQuerier{answer: workflows.ListenerDelivery{Delivery: workflows.Delivery{ID: "conv-1/receipts/entry-ev-9",
		Kind: workflows.DeliverReceipt, Receipts: []workflows.Receipt{{MessageID: "m1", Status: workflows.ReceiptDelivered, At: tsTime}}}}}
	sink := &syncSink{}
	h.a.Sessions, h.a.Sink = q, sink
	h.start(listenIn)
	h.wantSignalTexts(t, "next") // the receipt before it was not signalled
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
	if d := sink.delivered(); len(d) != 1 || d[0].ID != "conv-1/receipts/entry-ev-9" {
		t.Fatalf("delivered %+v, want the caught-up receipt", d)
	}
	if st := h.a.ListenerStats(); st.CaughtUp != 1 || st.Delivered != 1 || st.Signalled != 1 {
		t.Fatalf("stats = %+v, want 1 caught up and delivered, 1 signalled (the live message)", st)
	}
}
