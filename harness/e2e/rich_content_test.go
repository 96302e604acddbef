package e2e

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/metrics"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/worker"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Rich content end to end: the emulator's agent offers quick replies, the
// assistant gets them structured and as text, answers with a choice through
// the gateway (an option not offered is 422) and the agent receives the
// matching ChoicesResponse; a web view arrives structured; a message type
// nobody knows arrives as a notice and is counted on /metrics.
func TestRichContent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitFor)
	defer cancel()
	s := newBackend(t, emulator.Faults{})
	reg, err := metrics.New(metrics.Options{Logger: s.logger})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	metricsSrv, err := reg.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = metricsSrv.Shutdown(context.Background()) })
	mtc, err := temporalclient.Dial(ctx, s.cfg, s.logger, temporalclient.WithMetricsHandler(reg.TemporalMetricsHandler()))
	require.NoError(t, err)
	t.Cleanup(mtc.Close)
	stop, err := worker.Background(s.cfg, worker.WithClient(mtc), worker.WithMetrics(reg), worker.WithSink(s.sink),
		worker.WithLogger(s.logger), worker.WithStopTimeout(time.Second))
	require.NoError(t, err)
	t.Cleanup(stop)
	c := gatewayWith(t, s, s.cfg.SessionSettings())

	const user = "u-rich"
	c.start(user, "HR")
	conv := s.conversationOf(t, user)
	require.NoError(t, s.emu.Accept(conv, agentName))
	eventually(t, "active", func() bool { return c.state(user).State == string(workflows.StateActive) })

	// The agent offers quick replies.
	entryID, err := s.emu.AgentSendChoices(conv, miaw.FormatQuickReplies, "Which team?",
		[]emulator.ChoiceOption{{ID: "opt-billing", Title: "Billing"}, {ID: "opt-payroll", Title: "Payroll"}})
	require.NoError(t, err)
	offer := s.sink.await(t, user, "the choices", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Choices != nil
	})
	assert.Equal(t, entryID, offer.ID, "the delivery id is the Salesforce entry id, what a choice names")
	assert.Equal(t, "Which team? Options: 1) Billing 2) Payroll", offer.Text)
	assert.Equal(t, workflows.ChoiceQuickReplies, offer.Choices.Kind)
	assert.Equal(t, "Which team?", offer.Choices.Prompt)
	assert.Equal(t, []workflows.ChoiceOption{{ID: "opt-billing", Title: "Billing"}, {ID: "opt-payroll", Title: "Payroll"}}, offer.Choices.Options)
	// As the webhook carries it: the MIAW message id stays inside.
	wire := activities.NewWebhookPayload(offer)
	require.NotNil(t, wire.Choices)
	assert.Equal(t, "quick-replies", wire.Choices.Kind)

	// An option the agent did not offer is refused with the reason.
	var bad gateway.ErrorResponse
	require.Equal(t, http.StatusUnprocessableEntity, c.postJSON("/v1/sessions/"+user+"/messages", gateway.SendMessageRequest{
		MessageID: "pick-0", Choice: &gateway.ChoiceRequest{InReplyTo: entryID, OptionID: "opt-hr"}}, &bad))
	assert.Contains(t, bad.Error, `option "opt-hr" is not one of the options`)

	// The user picks Payroll; the agent receives a ChoicesResponse for it.
	var res gateway.UpdateResponse
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages", gateway.SendMessageRequest{
		MessageID: "pick-1", Choice: &gateway.ChoiceRequest{InReplyTo: entryID, OptionID: "opt-payroll"}}, &res))
	assert.Equal(t, string(workflows.UpdateSent), res.Status)
	answer := s.awaitUserEntry(t, conv, "the choices response", func(e emulator.TranscriptEntry) bool { return e.Choice != nil })
	assert.Equal(t, []string{"opt-payroll"}, answer.Choice.OptionIDs)
	assert.Equal(t, "Payroll", answer.Text)
	offered := s.emu.Transcript(conv)
	i := slices.IndexFunc(offered, func(e emulator.TranscriptEntry) bool { return e.EntryID == entryID })
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, offered[i].MessageID, answer.Choice.InReplyToMessageID, "the response names the choices message")

	// A web view arrives structured, with its text.
	_, err = s.emu.AgentSendWebView(conv, "https://pay.example.com/invoice/7", "Pay invoice 7")
	require.NoError(t, err)
	web := s.sink.await(t, user, "the web view", func(d workflows.Delivery) bool { return d.WebView != nil })
	assert.Equal(t, &workflows.WebView{URL: "https://pay.example.com/invoice/7", Title: "Pay invoice 7"}, web.WebView)
	assert.Equal(t, "Pay invoice 7: https://pay.example.com/invoice/7", web.Text)

	// A message type nobody knows: a notice, counted.
	_, err = s.emu.AgentSendRaw(conv, map[string]any{"messageType": "HologramMessage", "hologram": map[string]any{"frames": 3}})
	require.NoError(t, err)
	s.sink.await(t, user, "the unsupported-content notice", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Text == activities.UnsupportedContentText
	})
	counted := regexp.MustCompile(`(?m)^liveagent_unsupported_content_total\{[^}]*content_type="HologramMessage"[^}]*\} 1$`)
	eventually(t, "liveagent_unsupported_content_total on /metrics", func() bool {
		return counted.MatchString(scrape(t, "http://"+metricsSrv.Addr()+metrics.Path))
	})

	// The transcript shows the offer and the pick.
	st := c.state(user)
	j := slices.IndexFunc(st.Transcript, func(e gateway.TranscriptEntry) bool { return e.ID == entryID })
	require.GreaterOrEqual(t, j, 0)
	require.NotNil(t, st.Transcript[j].Choices)
	assert.Len(t, st.Transcript[j].Choices.Options, 2)
	k := slices.IndexFunc(st.Transcript, func(e gateway.TranscriptEntry) bool { return e.ID == "pick-1" })
	require.GreaterOrEqual(t, k, 0)
	assert.Equal(t, &gateway.ChoiceRequest{InReplyTo: entryID, OptionID: "opt-payroll"}, st.Transcript[k].Choice)
	assert.Equal(t, "Payroll", st.Transcript[k].Text)

	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
	s.awaitClosed(t, user, workflows.CloseUserClosed)
}
