package activities_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/gateway/openapitest"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// webhookOfKind names the document's webhook for each delivery kind.
var webhookOfKind = map[workflows.DeliveryKind]string{
	workflows.DeliverAgentMessage: "agentMessage",
	workflows.DeliverSystem:       "system",
	workflows.DeliverTyping:       "typing",
	workflows.DeliverClosed:       "closed",
	workflows.DeliverReceipt:      "receipt",
}

// Every delivery kind, as the WebhookSink really POSTs it (body and
// headers), matches its webhook in the gateway's OpenAPI document and the
// WebhookPayload union; a payload with an unknown key or of another kind's
// shape does not.
func TestWebhookDeliveriesMatchOpenAPI(t *testing.T) {
	doc, err := openapitest.Load()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"agentMessage", "system", "typing", "closed", "receipt"}, doc.Webhooks())

	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	sum := strings.Repeat("ab", 32)
	base := func(id string, kind workflows.DeliveryKind, state workflows.State) workflows.Delivery {
		return workflows.Delivery{ID: id, SessionID: "live-agent-session-u-42", UserID: "u-42", Kind: kind, At: at, State: state}
	}
	with := func(d workflows.Delivery, f func(*workflows.Delivery)) workflows.Delivery { f(&d); return d }
	deliveries := map[string]workflows.Delivery{
		"text": with(base("e1", workflows.DeliverAgentMessage, workflows.StateActive), func(d *workflows.Delivery) {
			d.SenderName, d.Text = "Jane", "Hello"
		}),
		"link": with(base("e2", workflows.DeliverAgentMessage, workflows.StateActive), func(d *workflows.Delivery) {
			d.SenderName, d.Text, d.Link = "Jane", "See", &workflows.Link{URL: "https://example.com/p", Title: "Policy"}
		}),
		"attachment": with(base("e3", workflows.DeliverAgentMessage, workflows.StateActive), func(d *workflows.Delivery) {
			d.SenderName = "Jane"
			d.Attachment = &workflows.AttachmentRef{Name: "invoice.pdf", MimeType: "application/pdf", Size: 1234, SHA256: sum,
				URL: "https://files.example.com/v1/attachments/" + sum}
		}),
		"choices": with(base("e4", workflows.DeliverAgentMessage, workflows.StateActive), func(d *workflows.Delivery) {
			d.SenderName, d.Text = "Jane", "Which team? Options: 1) Billing 2) Payroll"
			d.Choices = &workflows.Choices{Kind: workflows.ChoiceQuickReplies, MessageID: "m", Prompt: "Which team?",
				Options: []workflows.ChoiceOption{{ID: "b", Title: "Billing", Subtitle: "invoices"}, {ID: "p", Title: "Payroll"}}}
		}),
		"form and web view": with(base("e5", workflows.DeliverAgentMessage, workflows.StateActive), func(d *workflows.Delivery) {
			d.Text = "[The agent sent a form: Address]"
			d.Form = &workflows.Form{Title: "Address", Message: "Where?"}
			d.WebView = &workflows.WebView{URL: "https://example.com/pay", Title: "Pay"}
		}),
		"greeting": with(base("n1", workflows.DeliverSystem, workflows.StateRouting), func(d *workflows.Delivery) {
			d.Text = "Connecting you to an agent."
		}),
		"queue": with(base("n2", workflows.DeliverSystem, workflows.StateWaiting), func(d *workflows.Delivery) {
			d.Text, d.QueuePosition, d.EstimatedWait = "You are number 2.", 2, 2*time.Minute
		}),
		"accepted": with(base("n3", workflows.DeliverSystem, workflows.StateActive), func(d *workflows.Delivery) {
			d.Text, d.SenderName = "Jane joined.", "Jane"
		}),
		"typing started": with(base("t1", workflows.DeliverTyping, workflows.StateActive), func(d *workflows.Delivery) {
			d.SenderName, d.Typing, d.ExpiresAt = "Jane", true, at.Add(10*time.Second)
		}),
		"receipts": with(base("r1", workflows.DeliverReceipt, workflows.StateActive), func(d *workflows.Delivery) {
			d.Receipts = []workflows.Receipt{{MessageID: "m-1", Status: workflows.ReceiptDelivered, At: at},
				{MessageID: "m-1", Status: workflows.ReceiptRead, At: at.Add(time.Second)}}
		}),
		"typing stopped": with(base("t2", workflows.DeliverTyping, workflows.StateActive), func(d *workflows.Delivery) {
			d.SenderName = "Jane"
		}),
		"closed": with(base("c1", workflows.DeliverClosed, workflows.StateClosed), func(d *workflows.Delivery) {
			d.CloseReason = workflows.CloseAgentEnded
			d.Summary = &workflows.CloseSummary{ClosedBy: workflows.ClosedByAgent, AgentName: "Jane", WaitTime: 42 * time.Second,
				ChatTime: 5 * time.Minute, UserMessages: 4, AgentMessages: 5, RunID: "0195f3c2-8d4e-7a1b-9c3d-2e4f5a6b7c8d"}
		}),
		"closed unaccepted": with(base("c2", workflows.DeliverClosed, workflows.StateClosed), func(d *workflows.Delivery) {
			d.CloseReason = workflows.CloseAcceptTimeout
			d.Summary = &workflows.CloseSummary{ClosedBy: workflows.ClosedBySystem, WaitTime: time.Minute, RunID: "r"}
		}),
	}

	// The sink's real requests: headers and body.
	type posted struct {
		header http.Header
		body   []byte
	}
	got := make(chan posted, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got <- posted{r.Header.Clone(), body}
	}))
	defer srv.Close()
	sink := activities.NewWebhookSink(srv.URL, []byte("webhook-secret"), 5*time.Second, nil)
	for name, d := range deliveries {
		require.NoError(t, sink.Deliver(t.Context(), d), name)
		p := <-got
		hook := webhookOfKind[d.Kind]
		assert.NoError(t, doc.ValidateWebhook(hook, p.header, p.body), name)
		assert.NoError(t, doc.ValidateSchema("WebhookPayload", p.body), name)
		for other, h := range webhookOfKind {
			if other != d.Kind {
				assert.Error(t, doc.ValidateWebhook(h, nil, p.body), "%s must not pass as %s", name, other)
			}
		}

		var m map[string]any
		require.NoError(t, json.Unmarshal(p.body, &m))
		m["unexpected"] = true
		strict, err := json.Marshal(m)
		require.NoError(t, err)
		assert.Error(t, doc.ValidateWebhook(hook, nil, strict), "%s with an unknown key", name)
		assert.Error(t, doc.ValidateSchema("WebhookPayload", strict), "%s with an unknown key", name)
	}
	closed := mustJSON(t, activities.NewWebhookPayload(deliveries["closed"]))
	assert.Error(t, doc.ValidateWebhook("closed", http.Header{}, closed), "a delivery without its signature headers")
	assert.Error(t, doc.ValidateWebhook("closed", http.Header{
		activities.HeaderSignature: {"v1=abc"}, activities.HeaderTimestamp: {"1"}, activities.HeaderIdempotencyKey: {"c1"},
	}, closed), "a malformed signature header")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}
