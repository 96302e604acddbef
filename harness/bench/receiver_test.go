package bench

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestReceiverRecordsSignedDeliveries(t *testing.T) {
	secret := []byte("bench-secret")
	h := newReceiver(secret)
	url, err := h.start()
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	ctx := context.Background()

	early := h.expect("u1", "hello") // registered before the delivery
	sink := activities.NewWebhookSink(url, secret, 5*time.Second, nil)
	d := workflows.Delivery{ID: "e-1", UserID: "u1", SessionID: "s", Kind: workflows.DeliverAgentMessage, Text: "hello"}
	if err := sink.Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-early:
		if time.Since(at) > time.Minute || at.IsZero() {
			t.Fatalf("arrival time %v", at)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter registered before the delivery was not woken")
	}
	select { // registered after the delivery: answered at once
	case <-h.expect("u1", "hello"):
	default:
		t.Fatal("late expect did not see the recorded arrival")
	}
	// Same id again: a duplicate, not a second arrival.
	if err := sink.Deliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	// Wrong secret: rejected with 401, nothing recorded.
	bad := activities.NewWebhookSink(url, []byte("other"), 5*time.Second, nil)
	err = bad.Deliver(ctx, workflows.Delivery{ID: "e-2", UserID: "u2", Kind: workflows.DeliverAgentMessage, Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("badly signed delivery: err = %v, want a 401", err)
	}
	select {
	case <-h.expect("u2", "x"):
		t.Fatal("a badly signed delivery was recorded")
	default:
	}
	c := h.counts()
	if c.Posts != 2 || c.Duplicates != 1 || c.Rejected != 1 {
		t.Fatalf("counts = %+v, want 2 posts, 1 duplicate, 1 rejected", c)
	}

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET = %d, want 405", resp.StatusCode)
	}

	h.forget(map[string]bool{"u1": true})
	select {
	case <-h.expect("u1", "hello"):
		t.Fatal("forgotten arrival still answered")
	default:
	}
}
