package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// maxWebhookBody caps one delivery body.
const maxWebhookBody = 1 << 20

// receiver is the demo assistant's webhook endpoint: it verifies the HMAC
// signature of every delivery, drops retried duplicates (Idempotency-Key),
// prints what the user sees and keeps the deliveries for the script to wait
// on.
type receiver struct {
	verifier *activities.Verifier
	out      *printer

	mu       sync.Mutex
	seen     map[string]bool
	got      []workflows.Delivery
	rejected int
	changed  chan struct{} // closed and replaced on every new delivery
}

func newReceiver(secret []byte, out *printer) *receiver {
	return &receiver{verifier: activities.NewVerifier(secret), out: out, seen: map[string]bool{}, changed: make(chan struct{})}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := rc.verifier.Verify(body, r.Header.Get(activities.HeaderSignature)); err != nil {
		rc.mu.Lock()
		rc.rejected++
		rc.mu.Unlock()
		rc.out.logf("webhook: rejected a delivery: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p activities.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return
	}
	d := p.Delivery()
	rc.mu.Lock()
	if rc.seen[d.ID] {
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK) // a retry of something already shown
		return
	}
	rc.seen[d.ID] = true
	rc.got = append(rc.got, d)
	close(rc.changed)
	rc.changed = make(chan struct{})
	rc.mu.Unlock()

	rc.out.delivery(d)
	w.WriteHeader(http.StatusOK)
}

// snapshot returns the deliveries so far and a channel closed on the next one.
func (rc *receiver) snapshot() ([]workflows.Delivery, <-chan struct{}) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]workflows.Delivery(nil), rc.got...), rc.changed
}

// await waits for the first delivery at index >= from that matches and
// returns it with its index. tick, when not nil, runs every second while
// waiting (progress output).
func (rc *receiver) await(ctx context.Context, from int, what string, match func(workflows.Delivery) bool, tick func()) (workflows.Delivery, int, error) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		got, changed := rc.snapshot()
		for i := from; i < len(got); i++ {
			if match(got[i]) {
				return got[i], i, nil
			}
		}
		select {
		case <-ctx.Done():
			return workflows.Delivery{}, 0, fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-changed:
		case <-ticker.C:
			if tick != nil {
				tick()
			}
		}
	}
}

// count returns how many deliveries arrived so far.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// serveLoopback serves h on a free loopback port and returns its base URL.
func serveLoopback(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + l.Addr().String(), stop, nil
}

// printer writes the conversation as the user sees it, one line per event,
// prefixed with the time since the demo started.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *printer) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "[%6.1fs] %s\n", el, fmt.Sprintf(format, args...))
}

// plain writes without the time prefix (banners, URLs).
func (p *printer) plain(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *printer) logf(format string, args ...any) { p.line("! "+format, args...) }

// delivery prints one thing the bridge delivered to the user.
func (p *printer) delivery(d workflows.Delivery) {
	who := d.SenderName
	if who == "" {
		who = "agent"
	}
	switch d.Kind {
	case workflows.DeliverAgentMessage:
		switch {
		case d.Attachment != nil:
			a := d.Attachment
			p.line("%s sent a file: %s (%s, %d bytes) %s", who, a.Name, a.MimeType, a.Size, a.URL)
		case d.Link != nil:
			p.line("%s shared a link: %q %s", who, d.Link.Title, d.Link.URL)
		case d.Choices != nil:
			opts := make([]string, 0, len(d.Choices.Options))
			for _, o := range d.Choices.Options {
				opts = append(opts, "["+o.Title+"]")
			}
			p.line("%s offers %s: %s %s", who, d.Choices.Kind, d.Choices.Prompt, strings.Join(opts, " "))
		default:
			p.line("%s: %s", who, d.Text)
		}
	case workflows.DeliverTyping:
		if d.Typing {
			p.line("(%s is typing…)", who)
		}
	case workflows.DeliverReceipt:
		for _, r := range d.Receipts {
			p.line("(receipt: the agent side %s %s)", r.Status, r.MessageID)
		}
	case workflows.DeliverSystem:
		text := d.Text
		if text == "" && d.QueuePosition > 0 {
			text = fmt.Sprintf("queue position %d", d.QueuePosition)
		}
		p.line("* %s", strings.TrimSpace(text))
	case workflows.DeliverClosed:
		msg := "* the chat has ended"
		if d.CloseReason != "" {
			msg += " (" + string(d.CloseReason) + ")"
		}
		if d.Text != "" {
			msg += ": " + d.Text
		}
		p.line("%s", msg)
	default:
		p.line("* %s: %s", d.Kind, d.Text)
	}
}
