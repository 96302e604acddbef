package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// In interactive mode the terminal is the user and the emulator's agent
// side (here its Go API, in real use the console page) is a person.
func TestInteractiveSession(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo stack (skipped with -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout syncbuf.Buffer
	out := &printer{w: &stdout, start: time.Now()}
	st, err := startStack(ctx, stackOptions{
		acceptTimeout: 10 * time.Minute,
		logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		out:           out,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()

	stdin, typing := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runInteractive(ctx, st, out, stdin) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s\nstdout:\n%s", what, stdout.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if _, err := io.WriteString(typing, "My laptop cannot reach the VPN\n"); err != nil {
		t.Fatal(err)
	}
	var conv string
	waitFor("a waiting conversation", func() bool {
		for _, c := range st.emu.Conversations() {
			if c.State == "waiting" {
				conv = c.ID
				return true
			}
		}
		return false
	})
	if err := st.emu.Accept(conv, "Bob Agent"); err != nil {
		t.Fatal(err)
	}
	waitFor("the greeting", func() bool { return strings.Contains(stdout.String(), "Welcome to HR Live Chat!") })
	if _, err := io.WriteString(typing, "hello from the terminal\n"); err != nil {
		t.Fatal(err)
	}
	waitFor("the message at the agent", func() bool {
		for _, e := range st.emu.Transcript(conv) {
			if e.Text == "hello from the terminal" {
				return true
			}
		}
		return false
	})
	if _, err := st.emu.AgentSend(conv, "hello from the console"); err != nil {
		t.Fatal(err)
	}
	waitFor("the agent's reply", func() bool { return strings.Contains(stdout.String(), "Bob Agent: hello from the console") })
	if _, err := st.emu.AgentSendChoices(conv, miaw.FormatButtons, "Which office?", []emulator.ChoiceOption{{ID: "o-ber", Title: "Berlin"}, {ID: "o-par", Title: "Paris"}}); err != nil {
		t.Fatal(err)
	}
	waitFor("the choices", func() bool {
		return strings.Contains(stdout.String(), "Bob Agent offers buttons: Which office? [Berlin] [Paris]")
	})
	if _, err := io.WriteString(typing, "/pick 2\n"); err != nil {
		t.Fatal(err)
	}
	waitFor("the pick at the agent", func() bool {
		for _, e := range st.emu.Transcript(conv) {
			if e.Choice != nil && len(e.Choice.OptionIDs) == 1 && e.Choice.OptionIDs[0] == "o-par" {
				return true
			}
		}
		return false
	})
	if _, err := io.WriteString(typing, "/close\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatalf("interactive session did not end\nstdout:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "/emulator/console") {
		t.Error("the console URL is not printed")
	}
	checkEncryptedHistoryAndMetrics(t, ctx, st, "My laptop cannot reach the VPN", "hello from the terminal")
}
