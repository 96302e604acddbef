package starter

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func handoffClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	store, err := attachstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return New(nil, workflows.Settings{Topics: []string{"HR", "Payroll"}, MaxMessageBytes: 200}, store, opts...)
}

func TestHandoffStoresReadableHistory(t *testing.T) {
	c := handoffClient(t)
	at := time.Date(2026, 11, 29, 10, 0, 1, 0, time.UTC)
	h, err := c.handoff(StartRequest{UserID: "u-1", Topic: "HR", Description: "Badge broken", Summary: "Badge stopped working today.",
		History: []HistoryEntry{{From: FromUser, Text: "my badge\nis broken", At: at}, {From: FromAssistant, Text: "Have you tried…?"}}})
	if err != nil {
		t.Fatal(err)
	}
	summary, file := h.summary, h.file
	if h.turns != nil {
		t.Fatalf("turns stored without WithHistoryImport: %+v", h.turns)
	}
	if summary != "Badge stopped working today." || file == nil || file.MimeType != "text/plain" {
		t.Fatalf("summary %q file %+v", summary, file)
	}
	rc, size, err := c.store.Open(file.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	want := "Conversation with the assistant before the handoff\nUser: u-1 · Topic: HR\n\n" +
		"2026-11-29 10:00:01 UTC  User: my badge\n    is broken\nAssistant: Have you tried…?\n"
	if string(got) != want || size != file.Size {
		t.Fatalf("file %q (size %d/%d), want %q", got, size, file.Size, want)
	}
}

func TestHandoffExcludedTopicForwardsNothing(t *testing.T) {
	c := handoffClient(t, WithHandoffExcludedTopics("Payroll"), WithHistoryImport())
	h, err := c.handoff(StartRequest{UserID: "u-1", Topic: "Payroll", Description: "d", Summary: "secret salary talk",
		History: []HistoryEntry{{From: FromUser, Text: "my salary"}}})
	if err != nil || h != (handoffContext{}) {
		t.Fatalf("handoff %+v err %v", h, err)
	}
}

func TestHandoffLimits(t *testing.T) {
	c := handoffClient(t)
	many := make([]HistoryEntry, MaxHistoryEntries+1)
	for i := range many {
		many[i] = HistoryEntry{From: FromUser, Text: "x"}
	}
	cases := []struct {
		req  StartRequest
		want error
		msg  string
	}{
		{StartRequest{Summary: strings.Repeat("s", MaxSummaryBytes+1)}, ErrTooLarge, "summary is"},
		{StartRequest{Description: strings.Repeat("d", 150), Summary: strings.Repeat("s", 60)}, ErrInvalid, "the limit is 200"},
		{StartRequest{History: many}, ErrTooLarge, "entries"},
		{StartRequest{History: []HistoryEntry{{From: FromUser, Text: strings.Repeat("y", MaxHistoryBytes)}}}, ErrTooLarge, "as a transcript"},
		{StartRequest{History: []HistoryEntry{{From: "bot", Text: "hi"}}}, ErrInvalid, `got "bot"`},
		{StartRequest{History: []HistoryEntry{{From: FromUser, Text: " "}}}, ErrInvalid, "non-empty"},
	}
	for _, tc := range cases {
		tc.req.UserID, tc.req.Topic = "u-1", "HR"
		if tc.req.Description == "" {
			tc.req.Description = "d"
		}
		_, err := c.handoff(tc.req)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("err = %v, want %v containing %q", err, tc.want, tc.msg)
		}
	}
}

func TestHandoffStoresTurnsForTheImport(t *testing.T) {
	c := handoffClient(t, WithHistoryImport())
	at := time.Date(2026, 11, 29, 11, 0, 1, 0, time.FixedZone("CET", 3600))
	h, err := c.handoff(StartRequest{UserID: "u-1", Topic: "HR", Description: "Badge broken",
		History: []HistoryEntry{{From: FromUser, Text: " my badge ", At: at}, {From: FromAssistant, Text: "Have you tried…?"}}})
	if err != nil {
		t.Fatal(err)
	}
	if h.file == nil || h.turns == nil || h.turns.MimeType != "application/json" {
		t.Fatalf("file %+v turns %+v", h.file, h.turns)
	}
	rc, _, err := c.store.Open(h.turns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	turns, err := workflows.DecodeHandoffTurns(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []workflows.HandoffTurn{{FromUser: true, Text: "my badge", At: at.UTC()}, {Text: "Have you tried…?"}}
	if len(turns) != 2 || turns[0] != want[0] || turns[1] != want[1] {
		t.Fatalf("turns %+v, want %+v", turns, want)
	}
}

// The caller learns that an excluded topic withheld the context it sent.
func TestHandoffWithheldContext(t *testing.T) {
	c := handoffClient(t, WithHandoffExcludedTopics("Payroll"))
	for _, tc := range []struct {
		req  StartRequest
		want bool
	}{
		{StartRequest{UserID: "u", Topic: "Payroll", Description: "d", Summary: "s"}, true},
		{StartRequest{UserID: "u", Topic: "Payroll", Description: "d", History: []HistoryEntry{{From: FromUser, Text: "x"}}}, true},
		{StartRequest{UserID: "u", Topic: "Payroll", Description: "d"}, false},
		{StartRequest{UserID: "u", Topic: "HR", Description: "d", Summary: "s"}, false},
	} {
		h, err := c.handoff(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.withheld(tc.req); got != tc.want {
			t.Errorf("%s with summary %q history %d: withheld %v, want %v", tc.req.Topic, tc.req.Summary, len(tc.req.History), got, tc.want)
		}
	}
}
