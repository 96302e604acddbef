package bench

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
)

const maxWebhookBody = 1 << 20

// arrivalKey identifies a delivery the benchmark waits for: a user and the
// exact text shown to them (texts carry a unique tag).
type arrivalKey struct{ user, text string }

// receiver is the assistant's webhook endpoint: it verifies signatures and
// records when each (user, text) first arrived, waking whoever waits for it.
// Both bridges (durable worker and baseline) deliver here.
type receiver struct {
	verifier *activities.Verifier

	mu         sync.Mutex
	arrived    map[arrivalKey]time.Time
	waiters    map[arrivalKey][]chan time.Time
	ids        map[string]struct{} // delivery ids seen (Idempotency-Key)
	posts      int64
	duplicates int64 // posts repeating a delivery id already seen
	rejected   int64 // bad signature or malformed body

	srv *http.Server
	url string
}

func newReceiver(secret []byte) *receiver {
	return &receiver{
		verifier: activities.NewVerifier(secret),
		arrived:  map[arrivalKey]time.Time{},
		waiters:  map[arrivalKey][]chan time.Time{},
		ids:      map[string]struct{}{},
	}
}

// start serves on a loopback port and returns the webhook URL.
func (h *receiver) start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	h.url = "http://" + ln.Addr().String() + "/webhook"
	return h.url, nil
}

func (h *receiver) close() {
	if h.srv != nil {
		_ = h.srv.Close()
	}
}

func (h *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		h.reject()
		http.Error(w, "body unreadable or too large", http.StatusBadRequest)
		return
	}
	if err := h.verifier.Verify(body, r.Header.Get(activities.HeaderSignature)); err != nil {
		h.reject()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p activities.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" || p.UserID == "" {
		h.reject()
		http.Error(w, "malformed delivery", http.StatusBadRequest)
		return
	}
	h.record(p.ID, p.UserID, p.Text, now)
	w.WriteHeader(http.StatusNoContent)
}

func (h *receiver) reject() {
	h.mu.Lock()
	h.rejected++
	h.mu.Unlock()
}

func (h *receiver) record(id, user, text string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.posts++
	if _, seen := h.ids[id]; seen {
		h.duplicates++
		return
	}
	h.ids[id] = struct{}{}
	if text == "" {
		return
	}
	k := arrivalKey{user, text}
	if _, ok := h.arrived[k]; ok {
		return
	}
	h.arrived[k] = at
	for _, ch := range h.waiters[k] {
		ch <- at
	}
	delete(h.waiters, k)
}

// expect returns a channel that receives the arrival time of the first
// delivery of text to user (at once if it already arrived). Register before
// causing the delivery.
func (h *receiver) expect(user, text string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	k := arrivalKey{user, text}
	h.mu.Lock()
	defer h.mu.Unlock()
	if at, ok := h.arrived[k]; ok {
		ch <- at
		return ch
	}
	h.waiters[k] = append(h.waiters[k], ch)
	return ch
}

// forget drops what is recorded for user (after a session is closed), so
// memory does not grow across sizes.
func (h *receiver) forget(users map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.arrived {
		if users[k.user] {
			delete(h.arrived, k)
		}
	}
	for k := range h.waiters {
		if users[k.user] {
			delete(h.waiters, k)
		}
	}
}

type receiverCounts struct{ Posts, Duplicates, Rejected int64 }

func (h *receiver) counts() receiverCounts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return receiverCounts{Posts: h.posts, Duplicates: h.duplicates, Rejected: h.rejected}
}
