package emulator

import (
	"errors"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// A failed transfer removes the agent, reports an Initial routing failure
// and puts the session back in the queue, where another agent can accept.
func TestFailTransferRequeues(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if err := e.s.FailTransfer(conv); !errors.Is(err, ErrState) {
		t.Fatalf("fail transfer while waiting: %v", err)
	}
	if err := e.s.Accept(conv, "Ann"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)

	r := e.call("POST", "/emulator/v1/conversations/"+conv+"/fail-transfer", "", "", nil)
	if r.status != 200 {
		t.Fatalf("fail transfer %d %s", r.status, r.body)
	}
	evs := st.expect(miaw.EventParticipantChanged, miaw.EventRoutingResult)
	if _, _, p := evs[1].envelope(t); p["routingType"] != "Initial" || p["failureType"] != "RoutingError" {
		t.Fatalf("routing result %v", p)
	}
	info, err := e.s.Conversation(conv)
	if err != nil || info.State != StateWaiting || info.Agent != "" {
		t.Fatalf("after failed transfer: %+v %v", info, err)
	}
	if err := e.s.Accept(conv, "Bob"); err != nil {
		t.Fatalf("accept after failed transfer: %v", err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
}

// An inactive session is reported once and revived by the user's next message.
func TestMarkInactiveAndRevive(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if err := e.s.Accept(conv, "Ann"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)

	if r := e.call("POST", "/emulator/v1/conversations/"+conv+"/inactive", "", "", nil); r.status != 200 {
		t.Fatalf("inactive %d %s", r.status, r.body)
	}
	evs := st.expect(miaw.EventSessionStatusChanged)
	if _, _, p := evs[0].envelope(t); p["sessionStatus"] != miaw.SessionInactive || p["sessionStatusPrev"] != miaw.SessionActive {
		t.Fatalf("inactive status %v", p)
	}
	if err := e.s.MarkInactive(conv); err != nil {
		t.Fatal(err)
	}
	st.quiet(200 * time.Millisecond) // reported once
	e.sendText(tok, conv, "still here")
	evs = st.expect(miaw.EventMessage, miaw.EventSessionStatusChanged, miaw.EventDeliveryAck)
	if _, _, p := evs[1].envelope(t); p["sessionStatus"] != miaw.SessionActive || p["sessionStatusPrev"] != miaw.SessionInactive {
		t.Fatalf("revived status %v", p)
	}
}

// With routing silent, a new conversation gets no routing event at all.
func TestSilentRouting(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	if r := e.call("POST", "/emulator/v1/routing", "", "", map[string]bool{"silent": true}); r.status != 200 {
		t.Fatalf("routing %d %s", r.status, r.body)
	}
	conv := e.createConversation(tok, nil)
	st.quiet(300 * time.Millisecond)
	info, err := e.s.Conversation(conv)
	if err != nil || info.State != StateWaiting {
		t.Fatalf("silent conversation: %+v %v", info, err)
	}
	e.s.SetSilentRouting(false)
	e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
}

// Over Config.MessageRate a conversation answers 429 with Retry-After; a
// retried message id is answered as before and does not count.
func TestInboundMessageRate(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MessageRate = MessageRate{Count: 2, Window: time.Hour} })
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	const firstID = "3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"
	if r := e.api("POST", "/conversation/"+conv+"/message", tok, textMessage(firstID, "one")); r.status != 202 {
		t.Fatalf("one: %d %s", r.status, r.body)
	}
	if r := e.sendText(tok, conv, "two"); r.status != 202 {
		t.Fatalf("two: %d %s", r.status, r.body)
	}
	r := e.sendText(tok, conv, "three")
	if r.status != 429 || r.header.Get("Retry-After") != "3600" {
		t.Fatalf("over the rate: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := e.api("POST", "/conversation/"+conv+"/message", tok, textMessage(firstID, "one")); r.status != 202 {
		t.Fatalf("a retried message over the rate: %d %s", r.status, r.body)
	}
	if got := e.s.Stats().RateLimited; got != 1 {
		t.Fatalf("rateLimited = %d", got)
	}
	other := e.createConversation(tok, nil)
	if r := e.sendText(tok, other, "elsewhere"); r.status != 202 {
		t.Fatalf("another conversation is limited separately: %d", r.status)
	}
}

// A stalled transfer is the start of a transfer and then nothing: the agent
// leaves, routing status TRANSFER, no agent joins and no routing failure
// comes. The end user's messages get no delivery ack while no agent is
// there; a late agent can still accept, as a transfer that completes.
func TestStallTransfer(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	const p = "/emulator/v1/conversations/"
	if r := e.call("POST", p+conv+"/stall-transfer", "", "", nil); r.status != 409 || r.errMessage(t) == "" {
		t.Fatalf("stall while waiting: %d %s", r.status, r.body)
	}
	if r := e.call("POST", p+"3f1c2a9e-6b7d-4e8f-9a0b-1c2d3e4f5a6b/stall-transfer", "", "", nil); r.status != 404 {
		t.Fatalf("stall of an unknown conversation: %d %s", r.status, r.body)
	}
	if err := e.s.StallTransfer("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown conversation: %v", err)
	}
	if err := e.s.Accept(conv, "Ann"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)

	if r := e.call("POST", p+conv+"/stall-transfer", "", "", nil); r.status != 200 {
		t.Fatalf("stall transfer: %d %s", r.status, r.body)
	}
	evs := st.expect(miaw.EventParticipantChanged)
	if _, _, pl := evs[0].envelope(t); pl["entries"].([]any)[0].(map[string]any)["operation"] != "remove" {
		t.Fatalf("participant change %v", pl)
	}
	info, _ := e.s.Conversation(conv)
	if info.State != StateActive || info.Agent != "" || info.RoutingStatus != RoutingTransfer {
		t.Fatalf("stalled: %+v", info)
	}
	if r := e.api("GET", "/conversation/"+conv, tok, nil); r.status != 200 || r.json(t)["routingStatus"] != RoutingTransfer {
		t.Fatalf("routing status %d %s", r.status, r.body)
	}
	if err := e.s.StallTransfer(conv); !errors.Is(err, ErrState) {
		t.Fatalf("stall twice: %v", err)
	}
	if r := e.call("POST", p+conv+"/stall-transfer", "", "", nil); r.status != 409 {
		t.Fatalf("stall twice over the control API: %d", r.status)
	}
	if _, err := e.s.AgentSend(conv, "anyone?"); !errors.Is(err, ErrState) {
		t.Fatalf("agent send without an agent: %v", err)
	}
	// The user writes: echoed, not acknowledged; nothing else comes (the
	// emulator's TransferDelay is 50 ms here).
	if r := e.sendText(tok, conv, "hello?"); r.status != 202 {
		t.Fatal(r.status)
	}
	st.expect(miaw.EventMessage)
	st.quiet(300 * time.Millisecond)

	// A late agent accepts from the control API.
	if r := e.call("POST", p+conv+"/accept", "", "", map[string]string{"agent": "Bob"}); r.status != 200 {
		t.Fatalf("late accept: %d %s", r.status, r.body)
	}
	evs = st.expect(miaw.EventRoutingResult, miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventDeliveryAck)
	if _, _, pl := evs[0].envelope(t); pl["routingType"] != "Transfer" || pl["failureType"] != "None" {
		t.Fatalf("routing result %v", pl)
	}
	if _, _, pl := evs[2].envelope(t); pl["entries"].([]any)[0].(map[string]any)["displayName"] != "Bob" {
		t.Fatalf("joined %v", pl)
	}
	info, _ = e.s.Conversation(conv)
	if info.State != StateActive || info.Agent != "Bob" || info.RoutingStatus != RoutingRouted {
		t.Fatalf("after late accept: %+v", info)
	}
	if _, err := e.s.AgentSend(conv, "Bob here"); err != nil {
		t.Fatal(err)
	}
}

// After a stalled transfer the agent has already left: a routing failure
// (FailTransfer) or the end of the session sends no second removal.
func TestStallTransferThenFailOrEnd(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	stall := func() string {
		conv := e.createConversation(tok, nil)
		st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
		if err := e.s.Accept(conv, "Ann"); err != nil {
			t.Fatal(err)
		}
		st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
		if err := e.s.StallTransfer(conv); err != nil {
			t.Fatal(err)
		}
		st.expect(miaw.EventParticipantChanged)
		return conv
	}
	conv := stall()
	if err := e.s.FailTransfer(conv); err != nil {
		t.Fatal(err)
	}
	evs := st.expect(miaw.EventRoutingResult)
	if _, _, p := evs[0].envelope(t); p["failureType"] != "RoutingError" {
		t.Fatalf("routing result %v", p)
	}
	if info, _ := e.s.Conversation(conv); info.State != StateWaiting {
		t.Fatalf("after failing the stalled transfer: %+v", info)
	}

	conv = stall()
	if r := e.api("DELETE", "/conversation/"+conv+"/session?esDeveloperName="+testDeploy, tok, nil); r.status != 204 {
		t.Fatalf("end session: %d %s", r.status, r.body)
	}
	evs = st.expect(miaw.EventSessionStatusChanged)
	if _, _, p := evs[0].envelope(t); p["sessionStatus"] != miaw.SessionEnded || p["sessionStatusPrev"] != miaw.SessionActive {
		t.Fatalf("ended %v", p)
	}
}
