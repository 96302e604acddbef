package activities

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// translateWire decodes an agent message as Salesforce sends it on SSE and
// translates it.
func translateWire(t *testing.T, abstractMessage map[string]any) workflows.AgentEvent {
	t.Helper()
	ev, err := miaw.DecodeEvent(miaw.EventMessage, "", sseData(t, miaw.RoleChatbot, "Bot", miaw.EntryMessage,
		map[string]any{"id": "entry-1", "abstractMessage": abstractMessage}))
	require.NoError(t, err)
	ae, keep, reason, err := TranslateEvent(ev)
	require.NoError(t, err)
	require.True(t, keep, "kept (reason %q)", reason)
	require.Equal(t, workflows.AgentMessage, ae.Kind)
	return ae
}

// The ChoicesMessage payload as Salesforce documents it (message types
// reference, Buttons sample), with QuickReplies as formatType.
func TestTranslateChoicesMessage(t *testing.T) {
	option := func(id, title string) map[string]any {
		return map[string]any{"itemType": "TitleOptionItem", "optionIdentifier": id, "optionId": nil,
			"titleItem": map[string]any{"itemType": "TitleItem", "title": title, "subTitle": nil, "secondarySubTitle": nil, "referenceId": nil}}
	}
	for format, kind := range map[string]workflows.ChoiceKind{
		"Buttons": workflows.ChoiceButtons, "QuickReplies": workflows.ChoiceQuickReplies, "Carousel": workflows.ChoiceCarousel,
	} {
		t.Run(format, func(t *testing.T) {
			ae := translateWire(t, map[string]any{"messageType": "ChoicesMessage", "id": "msg-7", "inReplyToMessageId": nil, "references": nil,
				"choices": map[string]any{"formatType": format, "text": "Which team?",
					"optionItems": []any{option("opt-b", "Billing"), option("opt-p", "Payroll"), map[string]any{"titleItem": map[string]any{"title": "no id"}}}}})
			require.NotNil(t, ae.Choices)
			assert.Equal(t, &workflows.Choices{Kind: kind, MessageID: "msg-7", Prompt: "Which team?", Options: []workflows.ChoiceOption{
				{ID: "opt-b", Title: "Billing"}, {ID: "opt-p", Title: "Payroll"},
			}}, ae.Choices, "an option without an identifier cannot be answered and is left out")
			assert.Equal(t, "Which team? Options: 1) Billing 2) Payroll", ae.Text)
			assert.Empty(t, ae.Unsupported)
		})
	}
}

func TestChoicesFallbackWithoutPrompt(t *testing.T) {
	assert.Equal(t, "Pick one: 1) Billing 2) Payroll", ChoicesFallback(&workflows.Choices{Options: []workflows.ChoiceOption{{ID: "b", Title: "Billing"}, {ID: "p", Title: "Payroll"}}}))
}

func TestTranslateFormMessage(t *testing.T) {
	title := func(s string) map[string]any { return map[string]any{"itemType": "TitleItem", "title": s} }
	ae := translateWire(t, map[string]any{"messageType": "FormMessage", "id": "f1",
		"form": map[string]any{"formatType": "Inputs", "formTitle": title("Shipping address"), "message": title("Where should we send it?"), "images": []any{}}})
	assert.Equal(t, &workflows.Form{Title: "Shipping address", Message: "Where should we send it?"}, ae.Form)
	assert.Equal(t, "[The agent sent a form: Shipping address] Where should we send it? (Please answer in text.)", ae.Text)
}

func TestTranslateWebView(t *testing.T) {
	ae := translateWire(t, map[string]any{"messageType": "StaticContentMessage", "id": "w1",
		"staticContent": map[string]any{"formatType": "WebView", "url": "https://example.com/pay", "title": map[string]any{"title": "Pay your invoice"}}})
	assert.Equal(t, &workflows.WebView{URL: "https://example.com/pay", Title: "Pay your invoice"}, ae.WebView)
	assert.Equal(t, "Pay your invoice: https://example.com/pay", ae.Text)
}

// Content the bridge cannot show still reaches the user, as a notice, and
// says what it was; it is never dropped.
func TestTranslateUnsupportedContent(t *testing.T) {
	tests := []struct {
		name string
		am   map[string]any
		want string
	}{
		{"unknown message type", map[string]any{"messageType": "HologramMessage", "id": "h1"}, `"HologramMessage"`},
		{"unknown static format", map[string]any{"messageType": "StaticContentMessage", "id": "x1",
			"staticContent": map[string]any{"formatType": "ExternalAttachments", "text": "ignored"}}, `StaticContentMessage/"ExternalAttachments"`},
		{"unknown choices format", map[string]any{"messageType": "ChoicesMessage", "id": "c1",
			"choices": map[string]any{"formatType": "Wheel", "optionItems": []any{map[string]any{"optionIdentifier": "a", "titleItem": map[string]any{"title": "A"}}}}}, `ChoicesMessage/"Wheel"`},
		{"choices without options", map[string]any{"messageType": "ChoicesMessage", "id": "c2",
			"choices": map[string]any{"formatType": "Buttons", "text": "Pick", "optionItems": []any{}}}, `ChoicesMessage/"Buttons"`},
		{"web view with a script URL", map[string]any{"messageType": "StaticContentMessage", "id": "w2",
			"staticContent": map[string]any{"formatType": "WebView", "url": "javascript:alert(1)"}}, "StaticContentMessage/WebView"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae := translateWire(t, tt.am)
			assert.Equal(t, UnsupportedContentText, ae.Text)
			assert.Equal(t, tt.want, ae.Unsupported)
			assert.Nil(t, ae.Choices)
			assert.Nil(t, ae.WebView)
		})
	}
}

// A choice reply goes to Salesforce as a ChoicesResponse naming the choice
// message and the option; a Salesforce client without that method gets the
// text.
func TestSendMessageWithChoice(t *testing.T) {
	sf := &choiceSF{fakeSF: newFakeSF()}
	a := &Activities{SF: sf}
	in := workflows.SendMessageInput{UserID: "u", ConversationID: "conv-1", MessageID: "11111111-1111-4111-8111-111111111111",
		Text: "Billing", Choice: &workflows.ChoiceResponse{InReplyToMessageID: "msg-7", OptionID: "opt-b"}}
	res, err := a.SendMessage(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, "choice-entry", res.EntryID)
	require.Len(t, sf.responses, 1)
	assert.Equal(t, miaw.ChoicesResponse{ID: in.MessageID, InReplyToMessageID: "msg-7", OptionIDs: []string{"opt-b"}, NoNewSession: true}, sf.responses[0])
	assert.Empty(t, sf.fakeSF.messages, "no text message was sent")

	plain := &Activities{SF: newFakeSF()}
	_, err = plain.SendMessage(context.Background(), in)
	require.NoError(t, err)
	assert.Len(t, plain.SF.(*fakeSF).messages, 1, "the text is sent when choices cannot be")
}

type choiceSF struct {
	*fakeSF
	responses []miaw.ChoicesResponse
}

func (f *choiceSF) SendChoicesResponse(_ context.Context, _, _ string, r miaw.ChoicesResponse) (*miaw.SendResult, error) {
	f.responses = append(f.responses, r)
	return &miaw.SendResult{EntryID: "choice-entry"}, nil
}

// The webhook carries the structured fields beside the fallback text.
func TestWebhookPayloadRichContent(t *testing.T) {
	d := workflows.Delivery{ID: "e1", Kind: workflows.DeliverAgentMessage, Text: "Pick one: 1) Billing",
		Choices: &workflows.Choices{Kind: workflows.ChoiceQuickReplies, MessageID: "secret-ish", Options: []workflows.ChoiceOption{{ID: "b", Title: "Billing"}}},
		WebView: &workflows.WebView{URL: "https://example.com"}, Form: &workflows.Form{Title: "T"}}
	b, err := json.Marshal(NewWebhookPayload(d))
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, map[string]any{"kind": "quick-replies", "options": []any{map[string]any{"id": "b", "title": "Billing"}}}, got["choices"])
	assert.Equal(t, map[string]any{"url": "https://example.com"}, got["webView"])
	assert.Equal(t, map[string]any{"title": "T"}, got["form"])
	assert.Equal(t, "Pick one: 1) Billing", got["text"])
	back := NewWebhookPayload(d).Delivery()
	assert.Equal(t, d.Choices.Options, back.Choices.Options)
}

// The listener signals unsupported content (never skips it) and counts it.
func TestListenerCountsUnsupportedContent(t *testing.T) {
	h := newListenerHarness(t)
	hologram := mkEvent("ev-1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane",
		&miaw.MessagePayload{EntryType: "Message", ID: "p", AbstractMessage: miaw.AbstractMessage{MessageType: "HologramMessage"}})
	hello := mkEvent("ev-2", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("Hello"))
	h.sf.stream = scriptedStream(hologram, hello)
	h.start(listenIn)
	first, second := h.nextSignal(t), h.nextSignal(t)
	assert.Equal(t, UnsupportedContentText, first.Text)
	assert.Equal(t, `"HologramMessage"`, first.Unsupported)
	assert.Equal(t, "Hello", second.Text)
	h.cancel()
	if err := h.wait(t); !isCancellation(err) {
		t.Fatalf("listener returned %v, want cancellation", err)
	}
	st := h.a.ListenerStats()
	assert.Equal(t, int64(2), st.Signalled)
	assert.Equal(t, int64(1), st.Unsupported)
}
