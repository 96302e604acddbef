package emulator

import (
	"testing"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// The agent's choices reach the end user in the shape miaw decodes, and the
// end user's ChoicesResponse is checked against what was offered and
// recorded in the agent's transcript.
func TestAgentChoicesAndResponse(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if err := e.s.Accept(conv, "Jane"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)

	if _, err := e.s.AgentSendChoices(conv, "Dropdown", "Pick", []ChoiceOption{{Title: "A"}}); err == nil {
		t.Fatal("an unknown format type was sent")
	}
	entryID, err := e.s.AgentSendChoices(conv, miaw.FormatQuickReplies, "Which team?", []ChoiceOption{{ID: "opt-b", Title: "Billing"}, {Title: "Payroll"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := st.expect(miaw.EventMessage)[0]
	decoded, err := miaw.DecodeEvent(ev.Name, ev.ID, []byte(ev.Data))
	if err != nil {
		t.Fatal(err)
	}
	if decoded.Entry.Identifier != entryID {
		t.Fatalf("entry id %q, want %q", decoded.Entry.Identifier, entryID)
	}
	am := decoded.Payload.(*miaw.MessagePayload).AbstractMessage
	choices, err := am.Choices()
	if err != nil {
		t.Fatal(err)
	}
	if choices.FormatType != miaw.FormatQuickReplies || choices.Text != "Which team?" || len(choices.Options) != 2 ||
		choices.Options[0] != (miaw.ChoiceOption{ID: "opt-b", Title: "Billing"}) || choices.Options[1].ID == "" {
		t.Fatalf("choices %+v", choices)
	}

	answer := func(inReplyTo, option string) resp {
		return e.api("POST", "/conversation/"+conv+"/message", tok, map[string]any{"esDeveloperName": testDeploy,
			"message": map[string]any{"id": uuid.NewString(), "messageType": "ChoicesResponseMessage", "inReplyToMessageId": inReplyTo,
				"choicesResponse": map[string]any{"formatType": "Selections", "selectedOptions": []any{map[string]any{"optionIdentifier": option}}}}})
	}
	if r := answer(am.ID, "opt-z"); r.status != 400 {
		t.Fatalf("an option not offered: %d %s", r.status, r.body)
	}
	if r := answer("not-a-choices-message", "opt-b"); r.status != 400 {
		t.Fatalf("an unknown message: %d %s", r.status, r.body)
	}
	if r := answer(am.ID, "opt-b"); r.status != 202 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	tr := e.s.Transcript(conv)
	last := tr[len(tr)-1]
	if last.Role != miaw.RoleEndUser || last.Text != "Billing" || last.Choice == nil ||
		last.Choice.InReplyToMessageID != am.ID || len(last.Choice.OptionIDs) != 1 || last.Choice.OptionIDs[0] != "opt-b" {
		t.Fatalf("recorded answer %+v", last)
	}
}

func TestAgentFormWebViewAndRaw(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if err := e.s.Accept(conv, "Jane"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)

	decode := func() miaw.AbstractMessage {
		t.Helper()
		ev := st.expect(miaw.EventMessage)[0]
		d, err := miaw.DecodeEvent(ev.Name, ev.ID, []byte(ev.Data))
		if err != nil {
			t.Fatal(err)
		}
		return d.Payload.(*miaw.MessagePayload).AbstractMessage
	}
	if _, err := e.s.AgentSendForm(conv, "Address", "Where to?"); err != nil {
		t.Fatal(err)
	}
	if f, err := decode().Form(); err != nil || f.Title != "Address" || f.Message != "Where to?" || f.FormatType != miaw.FormatInputs {
		t.Fatalf("form %+v %v", f, err)
	}
	if _, err := e.s.AgentSendWebView(conv, "javascript:x", "no"); err == nil {
		t.Fatal("a script URL was sent")
	}
	if _, err := e.s.AgentSendWebView(conv, "https://example.com/pay", "Pay"); err != nil {
		t.Fatal(err)
	}
	if w, err := decode().WebView(); err != nil || *w != (miaw.WebViewContent{URL: "https://example.com/pay", Title: "Pay"}) {
		t.Fatalf("web view %+v %v", w, err)
	}
	if _, err := e.s.AgentSendRaw(conv, map[string]any{"messageType": "HologramMessage", "hologram": map[string]any{"x": 1}}); err != nil {
		t.Fatal(err)
	}
	if am := decode(); am.MessageType != "HologramMessage" {
		t.Fatalf("raw %+v", am)
	}
	r := e.call("POST", "/emulator/v1/conversations/"+conv+"/choices", "", "", map[string]any{"text": "Pick", "options": []any{map[string]any{"title": "One"}}})
	if r.status != 200 || r.json(t)["entryId"] == "" {
		t.Fatalf("control choices: %d %s", r.status, r.body)
	}
	if c, err := decode().Choices(); err != nil || c.FormatType != miaw.FormatQuickReplies || c.Options[0].Title != "One" {
		t.Fatalf("control choices %+v %v", c, err)
	}
}
