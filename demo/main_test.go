package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The README's main command: a complete session on the embedded stack,
// exit 0 once the agent has closed it.
func TestScriptedSessionCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo stack (skipped with -short)")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-ui-port", "0", "-accept-after", "2s"}, strings.NewReader(""), &stdout, &stderr)
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	for _, want := range []string{
		`assistant: GET /v1/availability?topic=Payroll -> {"available":true,"topic":"Payroll","availableUntil":`,
		"assistant: a live agent is available (business hours until",
		"with its summary and the 3 earlier turns",
		"agent: received the assistant's summary and its conversation as conversation-with-assistant.txt",
		"Temporal Web UI of this session: http://127.0.0.1:",
		"Metrics            http://127.0.0.1:",
		"Workflow history is encrypted (AES-256-GCM, a key made for this run); the Web UI decodes it through http://127.0.0.1:",
		"/namespaces/default/workflows/live-agent-session-demo-user-42",
		"waiting for an agent",
		"queue position",
		"* Welcome to HR Live Chat!",
		"Jane Agent: Hi, I'm Jane from HR.",
		"Jane Agent shared a link:",
		"Jane Agent sent a file: agent-notes.txt",
		"user's browser: opened agent-notes.txt through its signed link (expires ",
		"no bearer token: ",
		"(matches)",
		"you: The overtime from 12 November (3 hours) is missing.",
		"assistant: the user is typing -> forwarded true",
		`agent: sees "the user is typing…"`,
		"assistant: sent as msg-1 -> sent",
		"(receipt: the agent side read msg-1)",
		"assistant: told the agent the user read its answer -> 1 acknowledgement(s) queued",
		"the agent's side shows msg-1 exactly once",
		"you sent a file: timesheet.csv",
		"assistant: uploaded as file-1 -> sent",
		"Jane Agent: Thanks, I received your timesheet.",
		"Jane Agent offers quick-replies: How would you like the overtime paid? [With my December payslip] [As a separate transfer]",
		"assistant: sent choice-1 {inReplyTo: ",
		"Jane Agent: Done: As a separate transfer.",
		"* the chat has ended (agent-ended)",
		"is closed (agent-ended)",
		"The session is closed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	}
	if strings.Contains(stderr.String(), "webhook: rejected") || strings.Contains(out, "webhook: rejected") {
		t.Error("a webhook delivery failed signature verification")
	}
}

// -offline: the availability answer says offline and a start is refused
// with the offline message; nothing is created.
func TestOfflineRefusesStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo stack (skipped with -short)")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-ui-port", "0", "-offline"}, strings.NewReader(""), &stdout, &stderr)
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	for _, want := range []string{
		`assistant: GET /v1/availability?topic=Payroll -> {"available":false,"topic":"Payroll","nextOpen":`,
		"assistant: no live agent now; next opening",
		"assistant (to the user): " + demoOfflineMessage,
		`assistant: POST /v1/sessions -> 409 {"error":"agents-offline","topic":"Payroll","message":"` + demoOfflineMessage + `","nextOpen":`,
		"nothing was started and Salesforce has no conversation",
		"Live agents are offline",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out, stderr.String())
	}
}

// When nobody accepts before -timeout the demo fails with a clear message.
func TestTimeoutFailsClearly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo stack (skipped with -short)")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-ui-port", "0", "-accept-after", "10m", "-timeout", "4s"}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	want := "demo: FAILED: waiting for an agent: the session did not close within -timeout 4s"
	if !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr %q lacks %q", stderr.String(), want)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-ui-port", "70000"}, {"-timeout", "0s"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
