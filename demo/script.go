package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const (
	demoUser        = "demo-user-42"
	demoTopic       = "Payroll"
	demoDescription = "My November payslip is missing the overtime I worked on 12 November."
)

// scriptedAgent plays Jane in the emulator: it accepts after acceptAfter,
// answers each user message, shares a link and a file after its first reply
// and ends the chat after the user's sixth message (the description, the
// assistant's conversation file, two messages, a file and a quick-reply
// choice).
func scriptedAgent(acceptAfter time.Duration) *emulator.ScriptedAgent {
	return &emulator.ScriptedAgent{
		Name:        agentName,
		AcceptAfter: acceptAfter,
		SendLink:    true,
		SendFile:    true,
		CloseAfter:  6,
		Reply: func(text string) string {
			t := strings.ToLower(text)
			switch {
			case strings.Contains(t, "conversation-with-assistant"):
				return "" // read, not answered
			case strings.Contains(t, "payslip"):
				return "Hi, I'm Jane from HR. Let me look at your November payslip."
			case strings.Contains(t, "timesheet"):
				return "Thanks, I received your timesheet. I've corrected the payslip."
			case t == strings.ToLower(payNextPayslip), t == strings.ToLower(payTransfer):
				return "Done: " + text + "."
			case strings.Contains(t, "thank"):
				return "You're welcome! I'm closing this chat now. Have a nice day."
			case strings.Contains(t, "overtime"):
				return "I can see the missing entry. Could you send me your timesheet for that week?"
			default:
				return "Noted: " + text
			}
		},
	}
}

// session is one assistant conversation over the gateway.
type session struct {
	api    *gatewayClient
	recv   *receiver
	out    *printer
	userID string
	wfID   string
}

// runScripted plays the assistant through a complete session and returns
// once the agent has closed it.
func runScripted(ctx context.Context, st *stack, out *printer) error {
	api := newGatewayClient(st.gatewayURL, st.token)
	topics, err := api.topics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	out.line("assistant: topics offered to the user: %s", strings.Join(topics, ", "))

	// Ask first: the assistant offers a human only while one is available.
	if a, err := showAvailability(ctx, api, out, demoTopic); err != nil {
		return err
	} else if !a.Available {
		return fmt.Errorf("no live agent available for %s: %s", demoTopic, a.OfflineMessage)
	}
	s := &session{api: api, recv: st.recv, out: out, userID: demoUser}
	if err := s.start(ctx, demoTopic, demoDescription); err != nil {
		return err
	}
	if err := s.waitForAgent(ctx); err != nil {
		return err
	}
	if err := s.checkAgentGotContext(ctx, st); err != nil {
		return err
	}

	// The agent answers the description, then shares a link and a file.
	from := 0
	if _, _, err := s.recv.await(ctx, from, "the agent's file", isAgentFile, nil); err != nil {
		return err
	}
	if err := s.fetchAgentFiles(ctx); err != nil {
		return err
	}

	// The user types (the agent sees it), then a message, retried with
	// the same id: the bridge sends it once (and the typing stops).
	if err := s.showTyping(ctx, st); err != nil {
		return err
	}
	from = s.recv.count()
	text := "The overtime from 12 November (3 hours) is missing."
	if err := s.say(ctx, "msg-1", text); err != nil {
		return err
	}
	res, err := s.api.send(ctx, s.userID, "msg-1", text)
	if err != nil {
		return fmt.Errorf("retry message: %w", err)
	}
	out.line("assistant: retried msg-1 with the same id -> %q (nothing is sent twice)", res.Status)
	answer, _, err := s.recv.await(ctx, from, "the agent's answer", isAgentText, nil)
	if err != nil {
		return err
	}
	if err := s.checkAgentSawOnce(ctx, st, text); err != nil {
		return err
	}
	// The agent read msg-1 before answering: a receipt names it.
	if _, _, err := s.recv.await(ctx, from, "the read receipt of msg-1", isReadReceipt("msg-1"), nil); err != nil {
		return err
	}
	if err := s.readAgentMessage(ctx, answer); err != nil {
		return err
	}

	// A file from the user.
	from = s.recv.count()
	timesheet := []byte("date,hours\n2026-11-12,3\n")
	sum := sha256.Sum256(timesheet)
	out.line("you sent a file: timesheet.csv (text/csv, %d bytes, sha256 %s…) \"My timesheet for that week\"", len(timesheet), hex.EncodeToString(sum[:])[:12])
	res, err = s.api.upload(ctx, s.userID, "file-1", "My timesheet for that week", "timesheet.csv", "text/csv", timesheet)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	out.line("assistant: uploaded as file-1 -> %s", res.Status)
	if _, _, err := s.recv.await(ctx, from, "the agent's answer to the file", isAgentText, nil); err != nil {
		return err
	}

	// Jane offers quick replies (played through the emulator's agent API);
	// the assistant answers with the user's pick.
	if err := s.pickQuickReply(ctx, st); err != nil {
		return err
	}

	// Thanks; the agent closes the chat.
	if err := s.say(ctx, "msg-2", "Great, thank you!"); err != nil {
		return err
	}
	closed, _, err := s.recv.await(ctx, 0, "the end of the chat", isClosed, nil)
	if err != nil {
		return err
	}
	return s.summary(ctx, closed)
}

func isAgentFile(d workflows.Delivery) bool {
	return d.Kind == workflows.DeliverAgentMessage && d.Attachment != nil
}

func isAgentText(d workflows.Delivery) bool {
	return d.Kind == workflows.DeliverAgentMessage && d.Attachment == nil && d.Link == nil && d.Text != ""
}

func isClosed(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed }

func isAgentChoices(d workflows.Delivery) bool {
	return d.Kind == workflows.DeliverAgentMessage && d.Choices != nil
}

// The quick replies Jane offers.
const (
	payNextPayslip = "With my December payslip"
	payTransfer    = "As a separate transfer"
)

// pickQuickReply has Jane offer quick replies, and the assistant answer
// with the user's pick (a choice, which reaches Salesforce as a
// ChoicesResponse) and wait for Jane's confirmation.
func (s *session) pickQuickReply(ctx context.Context, st *stack) error {
	view, err := s.api.state(ctx, s.userID)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	from := s.recv.count()
	if _, err := st.emu.AgentSendChoices(view.ConversationID, miaw.FormatQuickReplies, "How would you like the overtime paid?",
		[]emulator.ChoiceOption{{ID: "pay-payslip", Title: payNextPayslip}, {ID: "pay-transfer", Title: payTransfer}}); err != nil {
		return fmt.Errorf("agent quick replies: %w", err)
	}
	offer, _, err := s.recv.await(ctx, from, "the agent's quick replies", isAgentChoices, nil)
	if err != nil {
		return err
	}
	pick := offer.Choices.Options[len(offer.Choices.Options)-1]
	s.out.line("you picked: %s", pick.Title)
	from = s.recv.count()
	res, err := s.api.sendChoice(ctx, s.userID, "choice-1", offer.ID, pick.ID)
	if err != nil {
		return fmt.Errorf("send choice: %w", err)
	}
	s.out.line("assistant: sent choice-1 {inReplyTo: %s, optionId: %s} -> %s", offer.ID, pick.ID, res.Status)
	_, _, err = s.recv.await(ctx, from, "the agent's confirmation", isAgentText, nil)
	return err
}

func (s *session) start(ctx context.Context, topic, description string) error {
	resp, status, err := s.api.start(ctx, gateway.StartSessionRequest{
		UserID: s.userID, Topic: topic, Description: description, Locale: "en_US",
		Summary: demoSummary, History: demoHistory,
	})
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	s.wfID = resp.WorkflowID
	what := "new session"
	if status != 201 {
		what = "existing session"
	}
	s.out.line("you: %s", description)
	s.out.line("assistant: asked for a live agent (topic %s) with its summary and the %d earlier turns -> %s %s",
		topic, len(demoHistory), what, resp.WorkflowID)
	if resp.WebUIURL != "" {
		s.out.plain("\n  Temporal Web UI of this session: %s\n", resp.WebUIURL)
	}
	return nil
}

// waitForAgent shows the wait (elapsed time, queue position) until an agent
// has joined.
func (s *session) waitForAgent(ctx context.Context) error {
	started := time.Now()
	lastPrint := time.Time{}
	tick := func() {
		if time.Since(lastPrint) < 2*time.Second {
			return
		}
		lastPrint = time.Now()
		st, err := s.api.state(ctx, s.userID)
		if err != nil {
			return
		}
		if st.State != string(workflows.StateRouting) && st.State != string(workflows.StateWaiting) {
			return
		}
		msg := fmt.Sprintf("… waiting for an agent: %s elapsed, state %s", time.Since(started).Round(time.Second), st.State)
		if st.QueuePosition > 0 {
			msg += fmt.Sprintf(", queue position %d", st.QueuePosition)
		}
		if st.EstimatedWaitSeconds != nil {
			msg += fmt.Sprintf(", estimated wait %ds", int(*st.EstimatedWaitSeconds))
		}
		s.out.line("%s", msg)
	}
	d, _, err := s.recv.await(ctx, 0, "an agent", func(d workflows.Delivery) bool {
		return d.State == workflows.StateActive || d.Kind == workflows.DeliverClosed
	}, tick)
	if err != nil {
		return err
	}
	if d.Kind == workflows.DeliverClosed {
		return fmt.Errorf("the session closed before an agent joined (%s)", d.CloseReason)
	}
	s.out.line("assistant: an agent joined after %s", time.Since(started).Round(100*time.Millisecond))
	return nil
}

// say sends one user message.
func (s *session) say(ctx context.Context, id, text string) error {
	// Printed before sending: the agent may answer before the call returns.
	s.out.line("you: %s", text)
	res, err := s.api.send(ctx, s.userID, id, text)
	if err != nil {
		return fmt.Errorf("send %s: %w", id, err)
	}
	s.out.line("assistant: sent as %s -> %s", id, res.Status)
	return nil
}

// fetchAgentFiles opens every file the agent shared so far as the user's
// browser would: through the signed, expiring link of its delivery, without
// the gateway's bearer token; it checks the SHA-256.
func (s *session) fetchAgentFiles(ctx context.Context) error {
	got, _ := s.recv.snapshot()
	for _, d := range got {
		if !isAgentFile(d) {
			continue
		}
		a := d.Attachment
		u, err := url.Parse(a.URL)
		if err != nil || u.Query().Get(attachstore.LinkSignatureParam) == "" {
			return fmt.Errorf("the link to %s is not signed: %s", a.Name, a.URL)
		}
		n, sum, err := s.api.download(ctx, a.URL, false)
		if err != nil {
			return err
		}
		if sum != a.SHA256 || n != a.Size {
			return fmt.Errorf("downloaded %s: %d bytes sha256 %s, announced %d bytes sha256 %s", a.Name, n, sum, a.Size, a.SHA256)
		}
		expires := u.Query().Get(attachstore.LinkExpiresParam)
		if sec, err := strconv.ParseInt(expires, 10, 64); err == nil {
			expires = time.Unix(sec, 0).UTC().Format(time.RFC3339)
		}
		s.out.line("user's browser: opened %s through its signed link (expires %s), no bearer token: %d bytes, sha256 %s (matches)",
			a.Name, expires, n, sum)
	}
	return nil
}

// summary checks the final state over the gateway and prints it.
func (s *session) summary(ctx context.Context, closed workflows.Delivery) error {
	var st gateway.SessionStateResponse
	var err error
	// The workflow may still be finishing its cleanup.
	for i := 0; i < 50; i++ {
		st, err = s.api.state(ctx, s.userID)
		if err == nil && st.State == string(workflows.StateClosed) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			return fmt.Errorf("final state: %w", err)
		}
	}
	s.out.line("assistant: session %s is %s (%s), %d transcript entries", s.wfID, st.State, closed.CloseReason, len(st.Transcript))
	if st.State != string(workflows.StateClosed) {
		return fmt.Errorf("session state is %q after the agent closed it", st.State)
	}
	return nil
}

// demoSummary and demoHistory are what the assistant knew before the
// handoff; the agent gets them with the first message and as one file.
var (
	demoSummary = "Overtime of 12 November missing from the November payslip; the self-service form did not help."
	demoHistory = []gateway.HistoryEntry{
		{From: "user", Text: "My November payslip is missing overtime."},
		{From: "assistant", Text: "You can claim it with the overtime correction form in the HR portal."},
		{From: "user", Text: "I did, it was rejected. I want to talk to a person."},
	}
)

// checkAgentGotContext looks at the agent's side (the emulator): the
// assistant's conversation arrived as one file.
func (s *session) checkAgentGotContext(ctx context.Context, st *stack) error {
	view, err := s.api.state(ctx, s.userID)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	for _, e := range st.emu.Transcript(view.ConversationID) {
		if a := e.Attachment; a != nil && a.Name == "conversation-with-assistant.txt" {
			s.out.line("agent: received the assistant's summary and its conversation as %s (%d bytes)", a.Name, a.Size)
			return nil
		}
	}
	return errors.New("the agent did not receive the assistant's conversation")
}

// checkAgentSawOnce looks at the agent's side of the conversation (the
// emulator) to show that the retried message reached the agent once.
func (s *session) checkAgentSawOnce(ctx context.Context, st *stack, text string) error {
	view, err := s.api.state(ctx, s.userID)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	seen := 0
	for _, e := range st.emu.Transcript(view.ConversationID) {
		if e.Text == text {
			seen++
		}
	}
	if seen != 1 {
		return fmt.Errorf("the agent saw msg-1 %d times, want exactly once", seen)
	}
	s.out.line("assistant: the agent's side shows msg-1 exactly once")
	return nil
}
