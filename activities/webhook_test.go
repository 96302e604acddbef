package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

var secret = []byte("s3cr3t-webhook-key")

type received struct {
	header http.Header
	body   []byte
}

// assistant is an httptest receiver that records requests and answers with
// the scripted statuses (200 once they run out).
type assistant struct {
	mu       sync.Mutex
	got      []received
	statuses []int
	headers  map[string]string
	srv      *httptest.Server
}

func newAssistant(t *testing.T, statuses ...int) *assistant {
	a := &assistant{statuses: statuses, headers: map[string]string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.got = append(a.got, received{header: r.Header.Clone(), body: body})
		status := http.StatusOK
		if len(a.statuses) > 0 {
			status, a.statuses = a.statuses[0], a.statuses[1:]
		}
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		a.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"nope"}`)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func sampleDelivery() workflows.Delivery {
	return workflows.Delivery{
		ID: "0Xx000000001", SessionID: "live-agent-session-u-1", UserID: "u-1",
		Kind: workflows.DeliverAgentMessage, At: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		SenderName: "Jane", Text: "Here is your invoice",
		Attachment: &workflows.AttachmentRef{Name: "invoice.pdf", MimeType: "application/pdf", Size: 1234, SHA256: strings.Repeat("ab", 32), URL: "https://b/x"},
		Link:       &workflows.Link{URL: "https://help", Title: "Help"},
		State:      workflows.StateActive, QueuePosition: 0, EstimatedWait: 90 * time.Second,
	}
}

func TestWebhookSinkDelivers(t *testing.T) {
	as := newAssistant(t)
	sink := NewWebhookSink(as.srv.URL+"/hook", secret, 5*time.Second, nil)
	fixed := time.Unix(1764064800, 0)
	sink.now = func() time.Time { return fixed }
	d := sampleDelivery()
	if err := sink.Deliver(context.Background(), d); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(as.got) != 1 {
		t.Fatalf("%d requests", len(as.got))
	}
	r := as.got[0]
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if got := r.header.Get(HeaderIdempotencyKey); got != d.ID {
		t.Fatalf("Idempotency-Key = %q, want %q", got, d.ID)
	}
	if got := r.header.Get(HeaderTimestamp); got != strconv.FormatInt(fixed.Unix(), 10) {
		t.Fatalf("timestamp = %q", got)
	}
	v := NewVerifier(secret)
	v.now = func() time.Time { return fixed }
	if err := v.Verify(r.body, r.header.Get(HeaderSignature)); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	// The JSON keys are camelCase, as the gateway's, and round-trip to the Delivery.
	var raw map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "workflowId", "userId", "kind", "at", "senderName", "text", "link", "attachment", "state", "estimatedWaitSeconds"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("body lacks %q: %s", key, r.body)
		}
	}
	if raw["estimatedWaitSeconds"] != float64(90) || raw["kind"] != "agent-message" {
		t.Fatalf("body = %s", r.body)
	}
	var p WebhookPayload
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if back := p.Delivery(); !reflect.DeepEqual(back, d) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, d)
	}
	if strings.Contains(string(r.body), string(secret)) {
		t.Fatal("secret in body")
	}
}

func TestWebhookSinkSameIdempotencyKeyOnRetry(t *testing.T) {
	as := newAssistant(t, http.StatusServiceUnavailable)
	sink := NewWebhookSink(as.srv.URL, secret, 5*time.Second, nil)
	d := sampleDelivery()
	if err := sink.Deliver(context.Background(), d); err == nil {
		t.Fatal("503 should fail")
	}
	if err := sink.Deliver(context.Background(), d); err != nil {
		t.Fatalf("retry: %v", err)
	}
	k1, k2 := as.got[0].header.Get(HeaderIdempotencyKey), as.got[1].header.Get(HeaderIdempotencyKey)
	if k1 != d.ID || k1 != k2 {
		t.Fatalf("keys %q, %q; want both %q", k1, k2, d.ID)
	}
	if string(as.got[0].body) != string(as.got[1].body) {
		t.Fatal("retry body differs")
	}
}

func TestWebhookSinkStatusHandling(t *testing.T) {
	tests := []struct {
		status     int
		permanent  bool
		retryAfter string
		wantDelay  time.Duration
	}{
		{http.StatusBadRequest, true, "", 0},
		{http.StatusUnauthorized, true, "", 0},
		{http.StatusNotFound, true, "", 0},
		{http.StatusConflict, true, "", 0},
		{http.StatusRequestTimeout, false, "", 0},
		{http.StatusTooManyRequests, false, "12", 12 * time.Second},
		{http.StatusInternalServerError, false, "", 0},
		{http.StatusBadGateway, false, "", 0},
		{http.StatusServiceUnavailable, false, "3", 3 * time.Second},
		{http.StatusMovedPermanently, false, "", 0}, // unexpected non-2xx: retry
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			as := newAssistant(t, tt.status)
			if tt.retryAfter != "" {
				as.headers["Retry-After"] = tt.retryAfter
			}
			if tt.status == http.StatusMovedPermanently {
				as.headers["Location"] = as.srv.URL + "/elsewhere" // must not be followed
			}
			sink := NewWebhookSink(as.srv.URL, secret, 5*time.Second, nil)
			err := sink.Deliver(context.Background(), sampleDelivery())
			var de *DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v (%T), want *DeliveryError", err, err)
			}
			if de.Status != tt.status || de.Permanent != tt.permanent || de.RetryAfter != tt.wantDelay {
				t.Fatalf("DeliveryError = %+v", de)
			}
			if strings.Contains(err.Error(), string(secret)) {
				t.Fatal("secret in error")
			}
			if len(as.got) != 1 {
				t.Fatalf("%d requests, want exactly 1 (no redirect, no internal retry)", len(as.got))
			}
		})
	}
	t.Run("2xx variants", func(t *testing.T) {
		for _, s := range []int{200, 201, 202, 204} {
			as := newAssistant(t, s)
			if err := NewWebhookSink(as.srv.URL, secret, 5*time.Second, nil).Deliver(context.Background(), sampleDelivery()); err != nil {
				t.Errorf("%d: %v", s, err)
			}
		}
	})
}

func TestWebhookSinkTransportErrorHidesCredentials(t *testing.T) {
	as := newAssistant(t)
	url := strings.Replace(as.srv.URL, "http://", "http://user:pw-in-url@", 1) + "/hook?token=query-secret"
	as.srv.Close() // connection refused
	err := NewWebhookSink(url, secret, 2*time.Second, nil).Deliver(context.Background(), sampleDelivery())
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent {
		t.Fatalf("err = %v, want retryable *DeliveryError", err)
	}
	for _, leak := range []string{"pw-in-url", "query-secret", string(secret)} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error leaks %q: %v", leak, err)
		}
	}
}

func TestWebhookSinkTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	err := NewWebhookSink(srv.URL, secret, 50*time.Millisecond, nil).Deliver(context.Background(), sampleDelivery())
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent {
		t.Fatalf("err = %v, want retryable *DeliveryError", err)
	}
}

func TestWebhookDeliverActivityMapsStatus(t *testing.T) {
	a, _, env := testActivities(t)
	as := newAssistant(t, http.StatusUnprocessableEntity, http.StatusTooManyRequests)
	as.headers["Retry-After"] = "5"
	a.Sink = NewWebhookSink(as.srv.URL, secret, 5*time.Second, nil)
	_, err := env.ExecuteActivity(workflows.ActivityDeliver, sampleDelivery())
	assertNonRetryable(t, err, ErrTypeDeliveryRejected)
	_, err = env.ExecuteActivity(workflows.ActivityDeliver, sampleDelivery())
	assertRetryable(t, err, ErrTypeDeliveryFailed, 5*time.Second)
	if _, err = env.ExecuteActivity(workflows.ActivityDeliver, sampleDelivery()); err != nil {
		t.Fatalf("third delivery: %v", err)
	}
}

func TestWebhookPayloadOmitsEmpty(t *testing.T) {
	b, err := json.Marshal(NewWebhookPayload(workflows.Delivery{ID: "n-1", SessionID: "s", UserID: "u", Kind: workflows.DeliverSystem, Text: "Hi", EstimatedWait: UnknownWait}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"n-1","workflowId":"s","userId":"u","kind":"system","text":"Hi"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// The webhook body is the assistant's contract: every key, byte for byte.
func TestWebhookPayloadJSON(t *testing.T) {
	d := sampleDelivery()
	d.State, d.CloseReason, d.Typing, d.QueuePosition = workflows.StateClosed, workflows.CloseAgentEnded, true, 2
	b, err := json.Marshal(NewWebhookPayload(d))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"0Xx000000001","workflowId":"live-agent-session-u-1","userId":"u-1","kind":"agent-message",` +
		`"at":"2026-11-25T10:00:00Z","senderName":"Jane","text":"Here is your invoice",` +
		`"link":{"url":"https://help","title":"Help"},` +
		`"attachment":{"name":"invoice.pdf","mimeType":"application/pdf","size":1234,"sha256":"` + strings.Repeat("ab", 32) + `","url":"https://b/x"},` +
		`"state":"closed","closeReason":"agent-ended","typing":true,"queuePosition":2,"estimatedWaitSeconds":90}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// The closed delivery's summary: its keys, the gateway path of the
// transcript (user ids are escaped), and the round trip back to a Delivery.
func TestWebhookSummaryJSON(t *testing.T) {
	d := workflows.Delivery{ID: "c-1", SessionID: "s", UserID: "u 1/x", Kind: workflows.DeliverClosed,
		CloseReason: workflows.CloseAgentEnded, EstimatedWait: UnknownWait,
		Summary: &workflows.CloseSummary{ClosedBy: workflows.ClosedByAgent, AgentName: "Jane",
			WaitTime: 42 * time.Second, ChatTime: 5 * time.Minute, UserMessages: 4, AgentMessages: 5, RunID: "run-9"}}
	b, err := json.Marshal(NewWebhookPayload(d))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"c-1","workflowId":"s","userId":"u 1/x","kind":"closed","closeReason":"agent-ended",` +
		`"summary":{"closedBy":"agent","agentName":"Jane","waitSeconds":42,"chatSeconds":300,` +
		`"userMessages":4,"agentMessages":5,"runId":"run-9","transcriptPath":"/v1/sessions/u%201%2Fx?runId=run-9"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var p WebhookPayload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Delivery().Summary; got == nil || *got != *d.Summary {
		t.Fatalf("round trip summary %+v, want %+v", got, d.Summary)
	}
}

func TestWebhookSinkRejectsBadIdempotencyKey(t *testing.T) {
	as := newAssistant(t)
	sink := NewWebhookSink(as.srv.URL, secret, 5*time.Second, nil)
	for _, id := range []string{"", "a\r\nX-Injected: 1"} {
		d := sampleDelivery()
		d.ID = id
		var de *DeliveryError
		if err := sink.Deliver(context.Background(), d); !errors.As(err, &de) || !de.Permanent {
			t.Fatalf("id %q: err = %v, want permanent *DeliveryError", id, err)
		}
	}
	if len(as.got) != 0 {
		t.Fatalf("%d requests sent", len(as.got))
	}
}

// Receivers often echo the request in their error answer (validation errors
// quoting the input). The error ends up in workflow history and ERROR logs,
// so it must not carry the chat text it echoes.
func TestWebhookSinkErrorDoesNotEchoAnswerBody(t *testing.T) {
	d := sampleDelivery()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p WebhookPayload
		_ = json.NewDecoder(r.Body).Decode(&p)
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = fmt.Fprintf(w, `{"detail":[{"msg":"String should have at most 10 characters","input":%q}]}`, p.Text)
	}))
	defer srv.Close()
	err := NewWebhookSink(srv.URL, secret, 5*time.Second, nil).Deliver(context.Background(), d)
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent || de.Status != http.StatusUnprocessableEntity {
		t.Fatalf("err = %v, want permanent *DeliveryError 422", err)
	}
	if strings.Contains(err.Error(), d.Text) {
		t.Fatalf("error carries the chat text: %v", err)
	}
	if !strings.Contains(err.Error(), "422") {
		t.Fatalf("error lacks the status: %v", err)
	}
}
