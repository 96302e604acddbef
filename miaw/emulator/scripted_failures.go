package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// ScriptedFailures serves a Server's Handler and answers chosen end-user
// sends with a scripted HTTP status instead, so a test can make Salesforce
// refuse a call for good (a permanent 4xx) exactly where it wants, which
// the random Faults (503, 429: retried) cannot. Serve it in front of the
// emulator (for example on a second httptest server whose URL the client
// uses as its SCRT URL); every other request passes through untouched,
// streams included. It is safe for concurrent use. Go API only: the control
// API and the console do not offer it.
type ScriptedFailures struct {
	next http.Handler

	mu       sync.Mutex
	scripts  []*sendFailure
	answered int
}

// sendFailure answers the next n sends to conversationID ("" = any) status.
type sendFailure struct {
	conversationID string
	n              int
	status         int
}

// NewScriptedFailures returns a handler that serves next (normally
// Server.Handler()) with no failure scripted yet.
func NewScriptedFailures(next http.Handler) *ScriptedFailures {
	return &ScriptedFailures{next: next}
}

// FailSends makes the next n end-user sends (POST
// /iamessage/api/v2/conversation/{id}/message and …/file) to conversationID
// answer status (a Salesforce-shaped JSON error) without reaching the
// emulator; conversationID "" matches the sends to any conversation, so a
// test can script the very first send of a conversation that does not exist
// yet. Scripts are used in the order they were added; status must be a 4xx
// or 5xx and n positive.
func (f *ScriptedFailures) FailSends(conversationID string, n, status int) error {
	if n <= 0 {
		return fmt.Errorf("emulator: scripted failures: n must be positive, got %d", n)
	}
	if status < 400 || status > 599 {
		return fmt.Errorf("emulator: scripted failures: status must be 4xx or 5xx, got %d", status)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts = append(f.scripts, &sendFailure{conversationID: conversationID, n: n, status: status})
	return nil
}

// Pending is how many scripted answers are still to be given.
func (f *ScriptedFailures) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.scripts {
		n += s.n
	}
	return n
}

// Answered is how many requests got a scripted answer so far.
func (f *ScriptedFailures) Answered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answered
}

// Clear drops every script not used yet.
func (f *ScriptedFailures) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts = nil
}

// ServeHTTP answers a scripted send, or serves the request with the
// emulator.
func (f *ScriptedFailures) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if conv, ok := sendTarget(r); ok {
		if status := f.take(conv); status != 0 {
			writeError(w, status, fmt.Sprintf("%s (scripted failure)", http.StatusText(status)))
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

// take uses one answer of the first script matching conv: its status, or 0.
func (f *ScriptedFailures) take(conv string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, s := range f.scripts {
		if s.conversationID != "" && s.conversationID != conv {
			continue
		}
		s.n--
		if s.n == 0 {
			f.scripts = append(f.scripts[:i:i], f.scripts[i+1:]...)
		}
		f.answered++
		return s.status
	}
	return 0
}

// sendTarget reports whether r is an end-user send, and to which
// conversation.
func sendTarget(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/iamessage/api/v2/conversation/")
	if !ok {
		return "", false
	}
	conv, kind, ok := strings.Cut(rest, "/")
	if !ok || conv == "" || (kind != "message" && kind != "file") {
		return "", false
	}
	return conv, true
}
