package soak

import (
	"encoding/json"
	"io"
	"math/rand"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const maxWebhookBody = 1 << 20

// webhookReceiver stands in for the assistant: it verifies every delivery's
// signature and records every delivery per user. It deliberately does not
// dedupe by Idempotency-Key to hide anything: each distinct delivery id is
// kept once in first-arrival order, and each repeat of an id is counted.
type webhookReceiver struct {
	verifier *activities.Verifier
	failRate float64

	mu               sync.Mutex
	rng              *rand.Rand
	inboxes          map[string]*inbox // by user id
	posts            int
	redeliveries     int
	badSignatures    int
	malformed        int
	injectedFailures int
	keyMismatches    int

	outageUntil    time.Time // refuse every delivery (503, not recorded) until then
	outageRefusals int
	failPaused     bool // no injected failures (pauseFailures)

	srv      *http.Server
	listener net.Listener
}

// delivery is one distinct delivery id as the user saw it.
type delivery struct {
	workflows.Delivery
	count int       // how many times this id was posted (1 = never redelivered)
	at    time.Time // first arrival
}

type inbox struct {
	byID  map[string]*delivery
	order []*delivery // first arrival order
}

func newWebhookReceiver(secret []byte, failRate float64, seed int64) *webhookReceiver {
	return &webhookReceiver{
		verifier: activities.NewVerifier(secret),
		failRate: failRate,
		rng:      rand.New(rand.NewSource(seed)),
		inboxes:  make(map[string]*inbox),
	}
}

// start serves the receiver on a loopback port and returns its URL.
func (h *webhookReceiver) start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h.listener = ln
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/webhook", nil
}

func (h *webhookReceiver) close() {
	if h.srv != nil {
		_ = h.srv.Close()
	}
}

func (h *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		h.count(&h.malformed)
		http.Error(w, "body unreadable or too large", http.StatusBadRequest)
		return
	}
	if err := h.verifier.Verify(body, r.Header.Get(activities.HeaderSignature)); err != nil {
		h.count(&h.badSignatures)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var payload activities.WebhookPayload
	if err := json.Unmarshal(body, &payload); err != nil || payload.ID == "" || payload.UserID == "" {
		h.count(&h.malformed)
		http.Error(w, "malformed delivery", http.StatusBadRequest)
		return
	}
	d := payload.Delivery()

	h.mu.Lock()
	if time.Now().Before(h.outageUntil) {
		h.outageRefusals++
		h.mu.Unlock()
		http.Error(w, "assistant outage (injected)", http.StatusServiceUnavailable)
		return
	}
	h.posts++
	if key := r.Header.Get(activities.HeaderIdempotencyKey); key != d.ID {
		h.keyMismatches++
	}
	in := h.inboxes[d.UserID]
	if in == nil {
		in = &inbox{byID: make(map[string]*delivery)}
		h.inboxes[d.UserID] = in
	}
	if prev := in.byID[d.ID]; prev != nil {
		prev.count++
		h.redeliveries++
	} else {
		rec := &delivery{Delivery: d, count: 1, at: time.Now()}
		in.byID[d.ID] = rec
		in.order = append(in.order, rec)
	}
	// Simulate an assistant that processed the delivery but failed to
	// acknowledge it: the sink must retry with the same id.
	fail := !h.failPaused && h.failRate > 0 && h.rng.Float64() < h.failRate
	if fail {
		h.injectedFailures++
	}
	h.mu.Unlock()

	if fail {
		http.Error(w, "injected failure after processing", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pauseFailures suspends (true) or resumes the injected failures.
func (h *webhookReceiver) pauseFailures(paused bool) {
	h.mu.Lock()
	h.failPaused = paused
	h.mu.Unlock()
}

// startOutage makes the receiver refuse every delivery for d, as an
// assistant that is down.
func (h *webhookReceiver) startOutage(d time.Duration) {
	h.mu.Lock()
	h.outageUntil = time.Now().Add(d)
	h.mu.Unlock()
}

func (h *webhookReceiver) count(n *int) {
	h.mu.Lock()
	*n++
	h.mu.Unlock()
}

// deliveries returns a copy of the user's distinct deliveries in first-arrival
// order.
func (h *webhookReceiver) deliveries(userID string) []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	in := h.inboxes[userID]
	if in == nil {
		return nil
	}
	out := make([]delivery, len(in.order))
	for i, d := range in.order {
		out[i] = *d
	}
	return out
}

// webhookCounts is a snapshot of the receiver's counters.
type webhookCounts struct {
	Posts, Redeliveries, BadSignatures, Malformed, InjectedFailures, KeyMismatches, OutageRefusals int
}

func (h *webhookReceiver) counts() webhookCounts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return webhookCounts{
		Posts: h.posts, Redeliveries: h.redeliveries, BadSignatures: h.badSignatures,
		Malformed: h.malformed, InjectedFailures: h.injectedFailures, KeyMismatches: h.keyMismatches,
		OutageRefusals: h.outageRefusals,
	}
}
