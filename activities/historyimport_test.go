package activities

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// fakeImporter records uploads; fail, when set, answers an upload instead.
type fakeImporter struct {
	mu      sync.Mutex
	uploads []miaw.HistoryUpload
	from    []int
	fail    error
}

func (f *fakeImporter) Upload(_ context.Context, u miaw.HistoryUpload, sent int, progress func(int)) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	f.uploads = append(f.uploads, u)
	f.from = append(f.from, sent)
	progress(len(u.Entries))
	return "0Mw000000000001", nil
}

func storeTurns(t *testing.T, a *Activities, turns []workflows.HandoffTurn) workflows.UserAttachment {
	t.Helper()
	data, err := workflows.EncodeHandoffTurns(turns)
	if err != nil {
		t.Fatal(err)
	}
	sum, size, err := a.Store.Put(bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return workflows.UserAttachment{Name: "turns.json", MimeType: "application/json", Size: size, SHA256: sum}
}

const importConversation = "5a7c1e0e-1b2c-4d3e-8f40-a1b2c3d4e5f6"

func TestImportHistoryUploadsTheTurns(t *testing.T) {
	a, _, env := testActivities(t)
	imp := &fakeImporter{}
	a.History = imp
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	handoff := at.Add(time.Minute)
	in := workflows.ImportHistoryInput{UserID: "u-1", ConversationID: importConversation, HandoffAt: handoff,
		Turns: storeTurns(t, a, []workflows.HandoffTurn{{FromUser: true, Text: "hi", At: at}, {Text: "hello"}})}
	if _, err := env.ExecuteActivity(workflows.ActivityImportHistory, in); err != nil {
		t.Fatal(err)
	}
	if len(imp.uploads) != 1 {
		t.Fatalf("uploads %d, want 1", len(imp.uploads))
	}
	u := imp.uploads[0]
	want := []miaw.HistoryEntry{{FromUser: true, Text: "hi", At: at}, {Text: "hello"}}
	if u.ConversationID != importConversation || u.UserSubject != "u-1" || !u.HandoffAt.Equal(handoff) ||
		len(u.Entries) != 2 || u.Entries[0] != want[0] || u.Entries[1] != want[1] || imp.from[0] != 0 {
		t.Fatalf("upload %+v from %d", u, imp.from[0])
	}
}

// A retried attempt resumes after the entries Salesforce already took (the
// heartbeat details).
func TestImportHistoryResumesFromHeartbeat(t *testing.T) {
	a, _, env := testActivities(t)
	imp := &fakeImporter{}
	a.History = imp
	env.SetHeartbeatDetails(5)
	in := workflows.ImportHistoryInput{UserID: "u-1", ConversationID: importConversation, HandoffAt: time.Now(),
		Turns: storeTurns(t, a, []workflows.HandoffTurn{{Text: "a"}, {Text: "b"}})}
	if _, err := env.ExecuteActivity(workflows.ActivityImportHistory, in); err != nil {
		t.Fatal(err)
	}
	if imp.from[0] != 5 {
		t.Fatalf("resumed from %d, want 5", imp.from[0])
	}
}

// Every way the import cannot happen fails non-retryably, so the session
// attaches the file at once; Salesforce's transient failures are retried.
func TestImportHistoryFailures(t *testing.T) {
	turns := []workflows.HandoffTurn{{FromUser: true, Text: "hi"}}
	cases := []struct {
		name      string
		setup     func(a *Activities, in *workflows.ImportHistoryInput)
		retryable bool
		errType   string
		contains  string
	}{
		{"not configured", func(a *Activities, _ *workflows.ImportHistoryInput) { a.History = nil }, false, ErrTypeInvalidInput, "not configured"},
		{"file gone", func(_ *Activities, in *workflows.ImportHistoryInput) { in.Turns.SHA256 = strings.Repeat("0", 64) }, false, ErrTypeAttachmentNotFound, "import history"},
		{"not turns", func(a *Activities, in *workflows.ImportHistoryInput) {
			sum, _, _ := a.Store.Put(strings.NewReader(`{"text":"x"}`), 100)
			in.Turns.SHA256 = sum
		}, false, ErrTypeInvalidInput, "handoff turns"},
		{"refused by Salesforce", func(a *Activities, _ *workflows.ImportHistoryInput) {
			a.History = &fakeImporter{fail: &miaw.Error{Op: "upload history", Status: http.StatusForbidden, Message: "10057: no access"}}
		}, false, ErrTypeSalesforcePermanent, "10057"},
		{"Salesforce unavailable", func(a *Activities, _ *workflows.ImportHistoryInput) {
			a.History = &fakeImporter{fail: &miaw.Error{Op: "upload history", Status: http.StatusServiceUnavailable}}
		}, true, ErrTypeSalesforceRetryable, "import history"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, _, env := testActivities(t)
			a.History = &fakeImporter{}
			in := workflows.ImportHistoryInput{UserID: "u-1", ConversationID: importConversation, HandoffAt: time.Now(),
				Turns: storeTurns(t, a, turns)}
			tc.setup(a, &in)
			_, err := env.ExecuteActivity(workflows.ActivityImportHistory, in)
			ae := appError(t, err)
			if ae.NonRetryable() == tc.retryable || ae.Type() != tc.errType || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("err %v (type %s, non-retryable %v), want type %s retryable %v containing %q",
					err, ae.Type(), ae.NonRetryable(), tc.errType, tc.retryable, tc.contains)
			}
		})
	}
}
