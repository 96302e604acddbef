package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

func TestAgentSequences(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, map[string]string{"Topic": "billing"})
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	e.sendText(tok, conv, "anyone?")
	st.expect(miaw.EventMessage)

	if _, err := e.s.AgentSend(conv, "too early"); !errors.Is(err, ErrState) {
		t.Fatalf("send before accept: %v", err)
	}
	if err := e.s.Accept("00000000-0000-4000-8000-000000000000", "X"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("accept unknown: %v", err)
	}
	// Accept: work result, participant add, Active, then delivery of the waiting message.
	if err := e.s.Accept(conv, "Jane Agent"); err != nil {
		t.Fatal(err)
	}
	evs := st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged, miaw.EventDeliveryAck)
	if _, _, p := evs[0].envelope(t); p["workType"] != "Accepted" {
		t.Fatalf("work result %v", p)
	}
	_, _, p := evs[1].envelope(t)
	pe := p["entries"].([]any)[0].(map[string]any)
	if pe["operation"] != "add" || pe["displayName"] != "Jane Agent" || pe["participant"].(map[string]any)["role"] != miaw.RoleAgent {
		t.Fatalf("participant %v", pe)
	}
	if _, _, p := evs[2].envelope(t); p["sessionStatus"] != miaw.SessionActive || p["sessionStatusPrev"] != miaw.SessionWaiting {
		t.Fatalf("status %v", p)
	}
	if r := e.api("GET", "/conversation/"+conv, tok, nil); r.json(t)["routingStatus"] != RoutingRouted {
		t.Fatalf("routing status %s", r.body)
	}
	if err := e.s.Accept(conv, "Other"); !errors.Is(err, ErrState) {
		t.Fatalf("double accept: %v", err)
	}

	// Text, link, file, typing.
	if _, err := e.s.AgentSend(conv, "Hello"); err != nil {
		t.Fatal(err)
	}
	ev := st.expect(miaw.EventReadAck, miaw.EventMessage)[1]
	_, entry, _ := ev.envelope(t)
	if entry["senderDisplayName"] != "Jane Agent" || entry["sender"].(map[string]any)["role"] != miaw.RoleAgent {
		t.Fatalf("agent message envelope %v", entry)
	}
	if _, err := e.s.AgentSendLink(conv, "https://example.com/kb/1", "KB 1"); err != nil {
		t.Fatal(err)
	}
	_, _, p = st.expect(miaw.EventMessage)[0].envelope(t)
	sc := p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)
	if sc["formatType"] != miaw.FormatRichLink || sc["url"] != "https://example.com/kb/1" || sc["linkItem"].(map[string]any)["titleItem"] != "KB 1" {
		t.Fatalf("rich link %v", sc)
	}
	if _, err := e.s.AgentSendLink(conv, "javascript:alert(1)", "x"); err == nil {
		t.Fatal("non-http link accepted")
	}
	data := []byte("hello file")
	if _, err := e.s.AgentSendFile(conv, "notes.txt", "text/plain", data); err != nil {
		t.Fatal(err)
	}
	_, _, p = st.expect(miaw.EventMessage)[0].envelope(t)
	att := p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["attachments"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(att["url"].(string), e.url+"/emulator/files/") {
		t.Fatalf("attachment url %v not on the emulator host %s", att["url"], e.url)
	}
	if dl := e.do(mustReq(t, "GET", att["url"].(string))); dl.status != 200 || !bytes.Equal(dl.body, data) || !strings.Contains(dl.header.Get("Content-Disposition"), "notes.txt") {
		t.Fatalf("download %d %q %v", dl.status, dl.body, dl.header)
	}
	if err := e.s.AgentTyping(conv, true); err != nil {
		t.Fatal(err)
	}
	_, entry, _ = st.expect(miaw.EventTypingStarted)[0].envelope(t)
	if entry["sender"].(map[string]any)["role"] != miaw.RoleAgent {
		t.Fatal("typing sender")
	}
	_ = e.s.AgentTyping(conv, false)
	st.expect(miaw.EventTypingStopped)

	// Transfer: remove, TRANSFER, RoutingResult(Transfer), work result, add, ROUTED.
	if err := e.s.Transfer(conv, "Bob Agent"); err != nil {
		t.Fatal(err)
	}
	_, _, p = st.expect(miaw.EventParticipantChanged)[0].envelope(t)
	if p["entries"].([]any)[0].(map[string]any)["operation"] != "remove" {
		t.Fatalf("transfer remove %v", p)
	}
	e.s.mu.Lock()
	rs := e.s.convs[conv].routingStatus
	e.s.mu.Unlock()
	if rs != RoutingTransfer && rs != RoutingRouted {
		t.Fatalf("routing status during transfer %s", rs)
	}
	evs = st.expect(miaw.EventRoutingResult, miaw.EventRoutingWorkResult, miaw.EventParticipantChanged)
	if _, _, p := evs[0].envelope(t); p["routingType"] != "Transfer" || p["failureType"] != "None" {
		t.Fatalf("transfer routing %v", p)
	}
	if _, _, p := evs[2].envelope(t); p["entries"].([]any)[0].(map[string]any)["displayName"] != "Bob Agent" {
		t.Fatalf("transfer add %v", p)
	}
	if info, _ := e.s.Conversation(conv); info.Agent != "Bob Agent" || info.RoutingStatus != RoutingRouted {
		t.Fatalf("after transfer %+v", info)
	}

	// Agent ends: remove + Ended by Agent, NEEDS_ROUTING, then 417.
	if err := e.s.AgentEnd(conv); err != nil {
		t.Fatal(err)
	}
	evs = st.expect(miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
	if _, _, p := evs[1].envelope(t); p["sessionStatus"] != miaw.SessionEnded || p["sessionEndedByRole"] != miaw.RoleAgent {
		t.Fatalf("agent end %v", p)
	}
	if r := e.api("GET", "/conversation/"+conv, tok, nil); r.json(t)["routingStatus"] != RoutingNeedsRouting {
		t.Fatalf("routing after end %s", r.body)
	}
	if r := e.sendText(tok, conv, "hello?"); r.status != 417 {
		t.Fatalf("after agent end: %d", r.status)
	}

	tr := e.s.Transcript(conv)
	var roles []string
	for _, te := range tr {
		roles = append(roles, te.Role+":"+te.Text)
	}
	want := []string{"EndUser:anyone?", "Agent:Hello", "Agent:KB 1", "Agent:"}
	if strings.Join(roles, "|") != strings.Join(want, "|") {
		t.Fatalf("transcript %v, want %v", roles, want)
	}
	sum := sha256.Sum256(data)
	if tr[3].Attachment == nil || tr[3].Attachment.SHA256 != hex.EncodeToString(sum[:]) || tr[2].LinkURL != "https://example.com/kb/1" {
		t.Fatalf("transcript details %+v", tr)
	}
}

func TestQueueTimeout(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	first := e.createConversation(tok, nil)
	second := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition,
		miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if err := e.s.TimeoutQueue(first); err != nil {
		t.Fatal(err)
	}
	evs := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if c, _, p := evs[0].envelope(t); c != first || p["failureType"] != "RoutingError" || p["failureReason"] == nil {
		t.Fatalf("timeout routing result %v", p)
	}
	if _, _, p := evs[1].envelope(t); p["sessionStatus"] != miaw.SessionEnded {
		t.Fatalf("timeout status %v", p)
	}
	// The second conversation moved up the queue.
	if c, _, p := evs[2].envelope(t); c != second || p["position"].(float64) != 1 {
		t.Fatalf("requeue %s %v", c, p)
	}
	if err := e.s.TimeoutQueue(first); !errors.Is(err, ErrState) {
		t.Fatalf("timeout twice: %v", err)
	}
}

func TestScriptedAgent(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Agent = &ScriptedAgent{Name: "Robo Agent", AcceptAfter: 50 * time.Millisecond, SendLink: true, SendFile: true, CloseAfter: 2, Greeting: "Hi, Robo here.",
			Reply: func(s string) string { return "re: " + s }}
	})
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	// Accepted after AcceptAfter, then the greeting.
	evs := st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged, miaw.EventMessage)
	if _, entry, p := evs[3].envelope(t); entry["senderDisplayName"] != "Robo Agent" || p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["text"] != "Hi, Robo here." {
		t.Fatalf("greeting %v", p)
	}
	e.sendText(tok, conv, "one")
	// echo, delivery, read, reply, link, file
	evs = st.expect(miaw.EventMessage, miaw.EventDeliveryAck, miaw.EventReadAck, miaw.EventMessage, miaw.EventMessage, miaw.EventMessage)
	if _, _, p := evs[3].envelope(t); p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["text"] != "re: one" {
		t.Fatalf("reply %v", p)
	}
	_, _, p := evs[5].envelope(t)
	att := p["abstractMessage"].(map[string]any)["staticContent"].(map[string]any)["attachments"].([]any)[0].(map[string]any)
	if dl := e.do(mustReq(t, "GET", att["url"].(string))); dl.status != 200 || !strings.Contains(string(dl.body), conv) {
		t.Fatalf("scripted file %d %q", dl.status, dl.body)
	}
	e.sendText(tok, conv, "two")
	// Second message: reply only (no second link/file), then the session ends (CloseAfter 2).
	evs = st.expect(miaw.EventMessage, miaw.EventDeliveryAck, miaw.EventReadAck, miaw.EventMessage, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
	if _, _, p := evs[5].envelope(t); p["sessionStatus"] != miaw.SessionEnded || p["sessionEndedByRole"] != miaw.RoleAgent {
		t.Fatalf("scripted end %v", p)
	}
	// A new session is accepted again and messages sent while waiting are answered.
	m := textMessage("c5b1a3f2-6f7d-4b1e-9c55-2f7d5e0a9b11", "three")
	m["isNewMessagingSession"] = true
	if r := e.api("POST", "/conversation/"+conv+"/message", tok, m); r.status != 202 {
		t.Fatal(r.status)
	}
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition, miaw.EventMessage,
		miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged, miaw.EventDeliveryAck,
		miaw.EventReadAck, miaw.EventMessage, miaw.EventMessage)
	tr := e.s.Transcript(conv)
	if last := tr[len(tr)-1]; last.Role != miaw.RoleAgent || last.Text != "re: three" {
		for _, te := range tr {
			t.Logf("%s %q", te.Role, te.Text)
		}
		t.Fatalf("answer to the message sent while waiting: %+v", last)
	}
}

func TestScriptedAgentNeverAccepts(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Agent = &ScriptedAgent{Never: true} })
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	evs := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if _, _, p := evs[0].envelope(t); p["estimatedWaitTime"].(map[string]any)["estimatedWaitTimeInSeconds"].(float64) != -1 {
		t.Fatalf("EWT for a never-accepting agent %v", p)
	}
	st.quiet(200 * time.Millisecond)
	if info, _ := e.s.Conversation(conv); info.State != StateWaiting {
		t.Fatalf("state %s", info.State)
	}
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, map[string]string{"Topic": "x"})
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	e.sendText(tok, conv, "hi agent")
	st.expect(miaw.EventMessage)
	ctl := func(method, path string, body any) resp {
		return e.call(method, "/emulator/v1/conversations"+path, "", "", body)
	}

	r := ctl("GET", "", nil)
	list := r.json(t)["conversations"].([]any)
	if r.status != 200 || len(list) != 1 || list[0].(map[string]any)["state"] != StateWaiting || list[0].(map[string]any)["id"] != conv {
		t.Fatalf("list %s", r.body)
	}
	if r := ctl("POST", "/"+conv+"/accept", map[string]string{"agent": ""}); r.status != 400 {
		t.Fatalf("accept without name: %d", r.status)
	}
	if r := ctl("POST", "/"+conv+"/messages", map[string]string{"text": "x"}); r.status != 409 {
		t.Fatalf("message before accept: %d", r.status)
	}
	if r := ctl("POST", "/00000000-0000-4000-8000-000000000000/accept", map[string]string{"agent": "A"}); r.status != 404 {
		t.Fatalf("unknown conversation: %d", r.status)
	}
	if r := ctl("POST", "/"+conv+"/accept", map[string]string{"agent": "Console Agent"}); r.status != 200 {
		t.Fatalf("accept %d %s", r.status, r.body)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged, miaw.EventDeliveryAck)
	r = ctl("POST", "/"+conv+"/messages", map[string]string{"text": "how can I help?"})
	if r.status != 200 || r.json(t)["entryId"] == "" {
		t.Fatalf("message %d %s", r.status, r.body)
	}
	st.expect(miaw.EventReadAck, miaw.EventMessage)
	if r := ctl("POST", "/"+conv+"/links", map[string]string{"url": "https://example.com", "title": "Ex"}); r.status != 200 {
		t.Fatalf("link %d", r.status)
	}
	st.expect(miaw.EventMessage)
	if r := ctl("POST", "/"+conv+"/files", map[string]string{"name": "a.txt", "mimeType": "text/plain", "dataBase64": base64.StdEncoding.EncodeToString([]byte("abc"))}); r.status != 200 {
		t.Fatalf("file %d %s", r.status, r.body)
	}
	st.expect(miaw.EventMessage)
	if r := ctl("POST", "/"+conv+"/files", map[string]string{"name": "a.txt", "dataBase64": "!!"}); r.status != 400 {
		t.Fatalf("bad base64 %d", r.status)
	}
	if r := ctl("POST", "/"+conv+"/typing", map[string]bool{"started": true}); r.status != 200 {
		t.Fatalf("typing %d", r.status)
	}
	st.expect(miaw.EventTypingStarted)
	if r := ctl("POST", "/"+conv+"/transfer", map[string]string{"agent": "Tier 2"}); r.status != 200 {
		t.Fatalf("transfer %d", r.status)
	}
	st.expect(miaw.EventParticipantChanged, miaw.EventRoutingResult, miaw.EventRoutingWorkResult, miaw.EventParticipantChanged)
	r = ctl("GET", "/"+conv+"/transcript", nil)
	entries := r.json(t)["entries"].([]any)
	if r.status != 200 || len(entries) != 4 || entries[0].(map[string]any)["text"] != "hi agent" || entries[3].(map[string]any)["attachment"].(map[string]any)["size"].(float64) != 3 {
		t.Fatalf("transcript %s", r.body)
	}
	if r := ctl("POST", "/"+conv+"/end", nil); r.status != 200 {
		t.Fatalf("end %d", r.status)
	}
	st.expect(miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
	if r := ctl("POST", "/"+conv+"/timeout", nil); r.status != 409 {
		t.Fatalf("timeout after end %d", r.status)
	}
	if r := ctl("POST", "/"+conv+"/messages", "not an object"); r.status != 400 {
		t.Fatalf("bad body %d", r.status)
	}
	r = e.call("GET", "/emulator/v1/stats", "", "", nil)
	if r.status != 200 || r.json(t)["conversations"].(float64) != 1 || r.json(t)["streamsOpened"].(float64) != 1 {
		t.Fatalf("stats %s", r.body)
	}
	r = e.call("GET", "/emulator/console", "", "", nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("console %d", r.status)
	}
}

// Only the conversations behind the one that left the queue are told their new
// position; those ahead did not move and get no event.
func TestRequeueTellsOnlyThoseBehind(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	first := e.createConversation(tok, nil)
	second := e.createConversation(tok, nil)
	third := e.createConversation(tok, nil)
	for range 3 {
		st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	}
	if err := e.s.TimeoutQueue(second); err != nil {
		t.Fatal(err)
	}
	evs := st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if c, _, p := evs[2].envelope(t); c != third || p["position"].(float64) != 2 {
		t.Fatalf("after the second left: %s %v, want the third at position 2", c, p)
	}
	if err := e.s.TimeoutQueue(first); err != nil {
		t.Fatal(err)
	}
	// Had the first been told anything when the second left, it would come
	// before these.
	evs = st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if c, _, _ := evs[0].envelope(t); c != first {
		t.Fatalf("next event is for %s, want the first's timeout", c)
	}
	if c, _, p := evs[2].envelope(t); c != third || p["position"].(float64) != 1 {
		t.Fatalf("after the first left: %s %v, want the third at position 1", c, p)
	}
}
