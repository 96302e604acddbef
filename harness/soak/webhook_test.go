package soak

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// sign signs body as the sink signs each attempt.
func sign(secret, body []byte) string { return activities.Sign(secret, time.Now(), body) }

func post(t *testing.T, h http.Handler, body []byte, sig, key string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(activities.HeaderSignature, sig)
	}
	req.Header.Set(activities.HeaderIdempotencyKey, key)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestWebhookReceiverCountsEveryDelivery(t *testing.T) {
	secret := []byte("soak-secret")
	h := newWebhookReceiver(secret, 0, 1)
	body := func(id, text string) []byte {
		b, err := json.Marshal(activities.NewWebhookPayload(workflows.Delivery{
			ID: id, UserID: "u1", Kind: workflows.DeliverAgentMessage, Text: text,
		}))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b1, b2, b3 := body("e1", "hello"), body("e2", "hello"), body("e3", "bye")

	for _, c := range []struct {
		name string
		body []byte
		sig  string
		key  string
		want int
	}{
		{"first delivery", b1, sign(secret, b1), "e1", http.StatusNoContent},
		{"same id again", b1, sign(secret, b1), "e1", http.StatusNoContent},
		{"other id, same text", b2, sign(secret, b2), "e2", http.StatusNoContent},
		{"wrong idempotency key", b3, sign(secret, b3), "nope", http.StatusNoContent},
		{"no signature", b1, "", "e1", http.StatusUnauthorized},
		{"signed with another secret", b1, activities.Sign([]byte("other"), time.Now(), b1), "e1", http.StatusUnauthorized},
		{"not JSON", []byte("{"), sign(secret, []byte("{")), "x", http.StatusBadRequest},
	} {
		if got := post(t, h, c.body, c.sig, c.key); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}

	got := h.deliveries("u1")
	if len(got) != 3 || got[0].ID != "e1" || got[0].count != 2 || got[1].ID != "e2" || got[2].ID != "e3" {
		t.Fatalf("deliveries = %+v, want e1 (twice), e2, e3 in arrival order", got)
	}
	want := webhookCounts{Posts: 4, Redeliveries: 1, BadSignatures: 2, Malformed: 1, KeyMismatches: 1}
	if c := h.counts(); c != want {
		t.Fatalf("counts = %+v, want %+v", c, want)
	}
}

func TestWebhookReceiverInjectedFailuresAreRecorded(t *testing.T) {
	secret := []byte("s")
	h := newWebhookReceiver(secret, 0.9999, 1) // practically always fail
	b, _ := json.Marshal(activities.NewWebhookPayload(workflows.Delivery{ID: "e1", UserID: "u1", Kind: workflows.DeliverAgentMessage, Text: "x"}))
	if got := post(t, h, b, sign(secret, b), "e1"); got != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", got)
	}
	// Processed before failing: the retry is a same-id redelivery.
	if d := h.deliveries("u1"); len(d) != 1 {
		t.Fatalf("deliveries = %+v, want the one recorded before the injected failure", d)
	}
	h.startOutage(time.Hour)
	if got := post(t, h, b, sign(secret, b), "e1"); got != http.StatusServiceUnavailable {
		t.Fatalf("during outage: status %d, want 503", got)
	}
	if c := h.counts(); c.OutageRefusals != 1 || c.Posts != 1 {
		t.Fatalf("counts = %+v, want 1 post and 1 outage refusal", c)
	}
}

func TestFlattenCounters(t *testing.T) {
	type inner struct{ B int64 }
	got := flattenCounters(struct {
		A     int
		In    inner
		M     map[string]int
		Name  string
		small int
	}{A: 1, In: inner{B: 2}, M: map[string]int{"x": 3}, Name: "ignored", small: 9})
	want := map[string]int64{"A": 1, "In.B": 2, "M.x": 3}
	if len(got) != len(want) {
		t.Fatalf("flattenCounters = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("flattenCounters = %v, want %v", got, want)
		}
	}
}

func TestReportOK(t *testing.T) {
	clean := Report{Sessions: 2, SessionsStarted: 2, AttachmentsSent: 4, AttachmentsOK: 4, SessionsEnded: 2, SFClosed: 2, ClosedNotices: 2,
		WorkerKills: 3, KillsRequired: 3,
		UserToAgent: SequenceDiff{Expected: 10, Received: 10}, AgentToUser: SequenceDiff{Expected: 8, Received: 8}}
	if !clean.OK() {
		t.Fatalf("clean report not OK:\n%s", &clean)
	}
	expired := clean
	expired.TokenExpiryRequired = true
	expired.Faults = flattenCounters(emulator.Stats{ExpiredStreams: 1})
	if !expired.OK() {
		t.Fatalf("report with the required token expiry not OK:\n%s", &expired)
	}
	for name, spoil := range map[string]func(r *Report){
		"lost":            func(r *Report) { r.UserToAgent.Lost = 1 },
		"duplicated":      func(r *Report) { r.AgentToUser.Duplicated = 1 },
		"out of order":    func(r *Report) { r.AgentToUser.OutOfOrder = 1 },
		"attachment":      func(r *Report) { r.AttachmentsOK = 3 },
		"not ended":       func(r *Report) { r.SessionsEnded = 1 },
		"SF open":         func(r *Report) { r.SFClosed = 1 },
		"closed untold":   func(r *Report) { r.ClosedNotices = 1 },
		"too few kills":   func(r *Report) { r.WorkerKills = 2 },
		"worker crashed":  func(r *Report) { r.WorkerCrashes = 1 },
		"bad signature":   func(r *Report) { r.WebhookBadSignatures = 1 },
		"problem":         func(r *Report) { r.Problems = []string{"x"} },
		"not all started": func(r *Report) { r.SessionsStarted = 1 },
		"token expiry never exercised": func(r *Report) {
			r.TokenExpiryRequired, r.Faults = true, map[string]int64{expiredStreamsCounter: 0}
		},
	} {
		r := clean
		spoil(&r)
		if r.OK() {
			t.Errorf("%s: report OK, want not OK", name)
		}
	}
}
