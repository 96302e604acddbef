package soak

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSoak runs the fault soak at CI size: 50 concurrent sessions (override
// with SOAK_SESSIONS), 20 messages and one attachment each way per session,
// every emulator fault on and at least 3 SIGKILLs of the worker process. It
// asserts that nothing was lost, duplicated or reordered, that every session
// ended and that every Salesforce conversation was closed.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped in -short mode")
	}
	opts := DefaultOptions()
	opts.Sessions = 50
	if v := os.Getenv("SOAK_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_SESSIONS=%q: want a positive integer", v)
		}
		opts.Sessions = n
	}
	opts.Messages = 20
	opts.Kills = 3
	opts.Timeout = 9 * time.Minute
	if dl, ok := t.Deadline(); ok {
		opts.Timeout = min(opts.Timeout, time.Until(dl)-30*time.Second)
	}
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))

	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("soak did not run: %v", err)
	}
	t.Logf("\n%s", rep)

	if rep.WorkerKills < 3 {
		t.Errorf("worker kills = %d, want ≥ 3", rep.WorkerKills)
	}
	if f := rep.Faults; f["FaultDrops"] == 0 || f["FaultDuplicates"] == 0 || f["FaultErrors"] == 0 ||
		f["FaultThrottled"] == 0 || f["ExpiredStreams"] == 0 || f["FaultDelays"] == 0 {
		t.Errorf("not every fault kind was injected: %v", f)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"sessions started", rep.SessionsStarted, rep.Sessions},
		{"user→agent lost", rep.UserToAgent.Lost, 0},
		{"user→agent duplicated", rep.UserToAgent.Duplicated, 0},
		{"user→agent out of order", rep.UserToAgent.OutOfOrder, 0},
		{"user→agent unexpected", rep.UserToAgent.Unexpected, 0},
		{"agent→user lost", rep.AgentToUser.Lost, 0},
		{"agent→user duplicated", rep.AgentToUser.Duplicated, 0},
		{"agent→user out of order", rep.AgentToUser.OutOfOrder, 0},
		{"agent→user unexpected", rep.AgentToUser.Unexpected, 0},
		{"attachments intact", rep.AttachmentsOK, rep.AttachmentsSent},
		{"sessions ended", rep.SessionsEnded, rep.Sessions},
		{"SF conversations closed", rep.SFClosed, rep.Sessions},
		{"users told once that the session closed", rep.ClosedNotices, rep.Sessions},
		{"webhook bad signatures", rep.WebhookBadSignatures, 0},
		{"webhook malformed deliveries", rep.WebhookMalformed, 0},
		{"unexpected worker exits", rep.WorkerCrashes, 0},
		{"problems", len(rep.Problems), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if rep.UserToAgent.Expected != rep.Sessions*(opts.Messages+2) || rep.AgentToUser.Expected != rep.Sessions*(opts.Messages+1) {
		t.Errorf("checked %d user→agent and %d agent→user items, want %d and %d",
			rep.UserToAgent.Expected, rep.AgentToUser.Expected, rep.Sessions*(opts.Messages+2), rep.Sessions*(opts.Messages+1))
	}
}

// testWriter sends slog output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
