package activities

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// fakeReceiptQuerier answers QueryReceiptTarget with target (or err) and
// records the requests.
type fakeReceiptQuerier struct {
	mu     sync.Mutex
	target workflows.ReceiptTarget
	err    error
	reqs   []client.QueryWorkflowWithOptionsRequest
}

func (q *fakeReceiptQuerier) QueryWorkflowWithOptions(_ context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reqs = append(q.reqs, *req)
	if q.err != nil {
		return nil, q.err
	}
	return &client.QueryWorkflowWithOptionsResponse{QueryResult: jsonValue{q.target}}, nil
}

func (q *fakeReceiptQuerier) requests() []client.QueryWorkflowWithOptionsRequest {
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

// receiptRun streams a receipt and then an agent message through a listener
// whose session answers the receipt query with target (or queryErr) and
// whose sink fails with sinkErr; it returns what was signalled before the
// message, the deliveries and the queries.
func receiptRun(t *testing.T, ack miaw.Event, target workflows.ReceiptTarget, queryErr, sinkErr error) ([]workflows.AgentEvent, []workflows.Delivery, []client.QueryWorkflowWithOptionsRequest, ListenerStats) {
	t.Helper()
	h := newListenerHarness(t)
	q := &fakeReceiptQuerier{target: target, err: queryErr}
	sink := &syncSink{err: sinkErr}
	h.a.Receipts, h.a.Sink = q, sink
	h.sf.stream = scriptedStream(ack, mkEvent("ev-9", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("next")))
	h.start(listenIn)
	var before []workflows.AgentEvent
	for ev := h.nextSignal(t); ev.Text != "next"; ev = h.nextSignal(t) {
		before = append(before, ev)
	}
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
	return before, sink.delivered(), q.requests(), h.a.ListenerStats()
}

func TestListenerDeliversReceiptTheSessionNames(t *testing.T) {
	for _, tc := range []struct {
		entryType string
		status    workflows.ReceiptStatus
	}{
		{miaw.EntryDeliveryAck, workflows.ReceiptDelivered},
		{miaw.EntryReadAck, workflows.ReceiptRead},
	} {
		t.Run(tc.entryType, func(t *testing.T) {
			signalled, delivered, queries, st := receiptRun(t, ackEvent("ev-1", tc.entryType, "sf-entry-1"),
				workflows.ReceiptTarget{MessageID: "m1", State: workflows.StateActive}, nil, nil)
			if len(signalled) != 0 {
				t.Fatalf("signalled %+v, want the receipt delivered without a signal", signalled)
			}
			wantQuery := client.QueryWorkflowWithOptionsRequest{
				WorkflowID: listenIn.WorkflowID, RunID: "default-test-run-id", QueryType: workflows.QueryReceiptTarget,
				Args: []any{"sf-entry-1"}, QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
			}
			if len(queries) != 1 || !reflect.DeepEqual(queries[0], wantQuery) {
				t.Fatalf("queries = %+v, want [%+v]", queries, wantQuery)
			}
			if len(delivered) != 1 {
				t.Fatalf("delivered %+v, want one receipt", delivered)
			}
			d := delivered[0]
			want := workflows.Delivery{
				ID: workflows.ReceiptDeliveryID("conv-1", "entry-ev-1"), SessionID: listenIn.WorkflowID, UserID: "u-1",
				Kind: workflows.DeliverReceipt, At: d.At, State: workflows.StateActive,
				Receipts: []workflows.Receipt{{MessageID: "m1", Status: tc.status, At: tsTime}},
			}
			if !reflect.DeepEqual(d, want) || d.At.IsZero() {
				t.Fatalf("delivery = %+v\nwant       %+v", d, want)
			}
			if st.ReceiptsDelivered != 1 || st.Signalled != 1 {
				t.Fatalf("stats = %+v, want 1 receipt delivered and 1 signalled (the message)", st)
			}
		})
	}
}

// Whenever the listener cannot deliver a receipt itself, it signals it and
// the session decides: nothing is lost on this path.
func TestListenerSignalsReceiptsItCannotDeliver(t *testing.T) {
	for _, tc := range []struct {
		name          string
		target        workflows.ReceiptTarget
		queryErr      error
		sinkErr       error
		wantDelivered int
	}{
		{"the session names no message", workflows.ReceiptTarget{State: workflows.StateActive}, nil, nil, 0},
		{"the query fails", workflows.ReceiptTarget{}, errors.New("query timed out"), nil, 0},
		{"the delivery fails", workflows.ReceiptTarget{MessageID: "m1", State: workflows.StateActive}, nil, &DeliveryError{Status: 503}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signalled, delivered, _, st := receiptRun(t, ackEvent("ev-1", miaw.EntryDeliveryAck, "sf-entry-1"), tc.target, tc.queryErr, tc.sinkErr)
			if len(signalled) != 1 || signalled[0].Kind != workflows.AgentDeliveryAck || signalled[0].AckedEntryID != "sf-entry-1" {
				t.Fatalf("signalled %+v, want the receipt", signalled)
			}
			if len(delivered) != tc.wantDelivered {
				t.Fatalf("delivered %+v, want %d attempts", delivered, tc.wantDelivered)
			}
			if st.ReceiptsDelivered != 0 {
				t.Fatalf("stats = %+v, want no receipt counted delivered", st)
			}
		})
	}
}

// Without a ReceiptQuerier (or for any other event) nothing is queried.
func TestListenerWithoutReceiptQuerierSignalsReceipts(t *testing.T) {
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
