package emulator

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// The end user's typing indicators and acknowledgements are kept, in order,
// and served by UserPresence and GET .../conversations/{id}/presence.
func TestUserPresenceIsRecorded(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	if err := e.s.Accept(conv, "Jane Agent"); err != nil {
		t.Fatal(err)
	}
	agentEntry, err := e.s.AgentSend(conv, "Hi")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{miaw.EntryTypingStarted, miaw.EntryTypingStopped} {
		if r := e.api("POST", "/conversation/"+conv+"/entry", tok, map[string]string{"entryType": typ, "id": uuid.NewString()}); r.status != 202 {
			t.Fatalf("%s: %d %s", typ, r.status, r.body)
		}
	}
	ack := map[string]any{"acks": []map[string]string{
		{"id": uuid.NewString(), "entryType": "Delivery", "conversationEntryId": agentEntry},
		{"id": uuid.NewString(), "entryType": "Read", "conversationEntryId": agentEntry},
	}}
	if r := e.api("POST", "/conversation/"+conv+"/acknowledge-entries", tok, ack); r.status != 202 {
		t.Fatalf("acks: %d %s", r.status, r.body)
	}

	p, err := e.s.UserPresence(conv)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Typing) != 2 || !p.Typing[0].Started || p.Typing[1].Started || p.Typing[0].At.IsZero() {
		t.Fatalf("typing = %+v, want started then stopped", p.Typing)
	}
	if len(p.Acks) != 2 || p.Acks[0].EntryID != agentEntry || p.Acks[0].Type != "Delivery" || p.Acks[1].Type != "Read" {
		t.Fatalf("acks = %+v, want Delivery then Read of %s", p.Acks, agentEntry)
	}

	r := e.call("GET", "/emulator/v1/conversations/"+conv+"/presence", "", "", nil)
	var got Presence
	if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil {
		t.Fatalf("control presence: %d %s", r.status, r.body)
	}
	if len(got.Typing) != 2 || len(got.Acks) != 2 || got.Acks[1].EntryID != agentEntry {
		t.Fatalf("control presence = %s", r.body)
	}
	if r := e.call("GET", "/emulator/v1/conversations/nope/presence", "", "", nil); r.status != 404 {
		t.Fatalf("unknown conversation: %d", r.status)
	}
}
