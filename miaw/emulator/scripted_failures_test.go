package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Scripted sends are answered with their status and never reach the
// emulator; everything else passes through, and the scripts run out.
func TestScriptedFailuresFailSends(t *testing.T) {
	e := newEnv(t, nil)
	f := NewScriptedFailures(e.s.Handler())
	front := httptest.NewServer(f)
	t.Cleanup(front.Close)
	e.url = front.URL // every call of the test goes through the scripted front

	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	other := e.createConversation(tok, nil)

	if err := f.FailSends("", 0, http.StatusForbidden); err == nil {
		t.Fatal("n 0 accepted")
	}
	if err := f.FailSends("", 1, http.StatusOK); err == nil {
		t.Fatal("status 200 accepted")
	}
	if err := f.FailSends(conv, 2, http.StatusForbidden); err != nil {
		t.Fatal(err)
	}
	if err := f.FailSends("", 1, http.StatusBadRequest); err != nil {
		t.Fatal(err)
	}
	if got := f.Pending(); got != 3 {
		t.Fatalf("pending %d, want 3", got)
	}

	// The other conversation is not conv's script: it takes the "any" one.
	if r := e.sendText(tok, other, "to the other"); r.status != http.StatusBadRequest {
		t.Fatalf("other conversation: %d %s", r.status, r.body)
	} else if msg := r.errMessage(t); msg != "Bad Request (scripted failure)" {
		t.Fatalf("message %q", msg)
	}
	for i := range 2 {
		if r := e.sendText(tok, conv, "refused"); r.status != http.StatusForbidden {
			t.Fatalf("send %d: %d %s", i, r.status, r.body)
		}
	}
	if got, want := f.Answered(), 3; got != want {
		t.Fatalf("answered %d, want %d", got, want)
	}
	if r := e.sendText(tok, conv, "through"); r.status != http.StatusAccepted {
		t.Fatalf("after the scripts: %d %s", r.status, r.body)
	}
	if r := e.sendText(tok, other, "through too"); r.status != http.StatusAccepted {
		t.Fatalf("other after the scripts: %d %s", r.status, r.body)
	}
	if f.Pending() != 0 {
		t.Fatalf("pending %d", f.Pending())
	}
	if n := scriptedTextCount(e.s.Transcript(conv), "refused"); n != 0 {
		t.Fatalf("a refused send reached the emulator %d times", n)
	}
	if n := scriptedTextCount(e.s.Transcript(conv), "through"); n != 1 {
		t.Fatalf("the passing send reached the emulator %d times", n)
	}

	// Clear drops unused scripts.
	if err := f.FailSends("", 5, http.StatusForbidden); err != nil {
		t.Fatal(err)
	}
	f.Clear()
	if r := e.sendText(tok, conv, "after clear"); r.status != http.StatusAccepted {
		t.Fatalf("after clear: %d %s", r.status, r.body)
	}
}

func scriptedTextCount(entries []TranscriptEntry, text string) int {
	n := 0
	for _, e := range entries {
		if e.Text == text {
			n++
		}
	}
	return n
}

func TestScriptedFailuresSendTarget(t *testing.T) {
	for _, c := range []struct {
		method, path, conv string
		ok                 bool
	}{
		{"POST", "/iamessage/api/v2/conversation/c1/message", "c1", true},
		{"POST", "/iamessage/api/v2/conversation/c1/file", "c1", true},
		{"GET", "/iamessage/api/v2/conversation/c1/message", "", false},
		{"POST", "/iamessage/api/v2/conversation/c1/entry", "", false},
		{"POST", "/iamessage/api/v2/conversation", "", false},
		{"POST", "/iamessage/api/v2/conversation/c1", "", false},
		{"POST", "/iamessage/api/v2/conversation//message", "", false},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		conv, ok := sendTarget(r)
		if conv != c.conv || ok != c.ok {
			t.Errorf("%s %s: got %q %v, want %q %v", c.method, c.path, conv, ok, c.conv, c.ok)
		}
	}
}
