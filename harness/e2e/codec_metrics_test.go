package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/metrics"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/worker"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// One real session with the payload codec on and the worker's metrics
// registry wired as the binaries wire them: the server's history holds none
// of the chat texts, the codec client reads the session fine, a client
// without the codec cannot, and /metrics shows the SDK's and the bridge's
// metrics (the workflow's own through the SDK handler).
func TestCodecAndMetricsSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*waitFor)
	defer cancel()
	s := newBackend(t, emulator.Faults{}) // s.tc is a client WITHOUT the codec

	cfg := *s.cfg
	cfg.Codec.Enabled = true
	cfg.Codec.ActiveKeyID = "e2e-2026"
	cfg.Codec.Keys = map[string]string{"e2e-2026": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, codec.KeySize))}
	require.NoError(t, cfg.Validate())

	reg, err := metrics.New(metrics.Options{Logger: s.logger})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	metricsSrv, err := reg.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = metricsSrv.Shutdown(context.Background()) })

	encryption, err := temporalclient.EncryptionOptions(&cfg)
	require.NoError(t, err)
	require.Len(t, encryption, 1)
	ctc, err := temporalclient.Dial(ctx, &cfg, s.logger, append(encryption, temporalclient.WithMetricsHandler(reg.TemporalMetricsHandler()))...)
	require.NoError(t, err)
	t.Cleanup(ctc.Close)
	stop, err := worker.Background(&cfg, worker.WithClient(ctc), worker.WithMetrics(reg), worker.WithSink(s.sink),
		worker.WithLogger(s.logger), worker.WithStopTimeout(time.Second))
	require.NoError(t, err)
	t.Cleanup(stop)
	sessions := starter.New(ctc, cfg.SessionSettings(), s.store)

	const (
		user        = "u-codec"
		description = "codec-secret-description: my salary is 4711"
		userText    = "codec-secret-user-text: my badge number is 0815"
		agentText   = "codec-secret-agent-text: your case is HR-9999"
	)
	sess, err := sessions.Start(ctx, starter.StartRequest{UserID: user, Topic: "HR", Description: description})
	require.NoError(t, err)

	var conv string
	eventually(t, user+" waiting for an agent", func() bool {
		v, err := sessions.State(ctx, user)
		if err != nil || v.State != workflows.StateWaiting {
			return false
		}
		conv = v.ConversationID
		return conv != ""
	})
	require.NoError(t, s.emu.Accept(conv, agentName))
	eventually(t, "state active", func() bool {
		v, err := sessions.State(ctx, user)
		return err == nil && v.State == workflows.StateActive
	})
	// The workflow recorded how long the session waited for the agent, once.
	acceptLatency := regexp.MustCompile(`(?m)^liveagent_accept_latency_seconds_count\{[^}]*workflow_type="LiveAgentSession"[^}]*\} 1$`)
	eventually(t, "liveagent_accept_latency_seconds on /metrics", func() bool {
		return acceptLatency.MatchString(scrape(t, "http://"+metricsSrv.Addr()+metrics.Path))
	})
	res, err := sessions.SendMessage(ctx, user, "m-1", userText)
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateSent, res.Status)
	_, err = s.emu.AgentSend(conv, agentText)
	require.NoError(t, err)
	s.sink.await(t, user, "the agent's text", func(d workflows.Delivery) bool { return d.Text == agentText })

	// (b) The codec client reads the state query: the whole transcript.
	view, err := sessions.State(ctx, user)
	require.NoError(t, err)
	var transcript []string
	for _, e := range view.Transcript {
		transcript = append(transcript, e.Text)
	}
	assert.Contains(t, transcript, userText)
	assert.Contains(t, transcript, agentText)
	// A client without the codec cannot decode the query result.
	_, err = starter.New(s.tc, cfg.SessionSettings(), s.store).State(ctx, user)
	require.Error(t, err, "a client without the codec must not read the session")

	_, err = sessions.Close(ctx, user, "close-1", "codec test done")
	require.NoError(t, err)
	var result workflows.SessionResult
	require.NoError(t, ctc.GetWorkflow(ctx, sess.WorkflowID, sess.RunID).Get(ctx, &result))

	// (a) Raw history, read without the codec, holds none of the texts, and
	// every payload in it is encrypted.
	// Search attributes (user id, topic, state, conversation id) are visible
	// to the server by design; every other payload must be ciphertext.
	var dump, withoutSearchAttrs strings.Builder
	payloads := 0
	it := s.tc.GetWorkflowHistory(ctx, sess.WorkflowID, sess.RunID, false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		dump.WriteString(protojson.Format(ev))
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			a.SearchAttributes = nil
		}
		if a := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			a.SearchAttributes = nil
		}
		withoutSearchAttrs.WriteString(protojson.Format(ev))
	}
	for _, secret := range []string{description, userText, agentText, "codec-secret-"} {
		assert.False(t, strings.Contains(dump.String(), secret), "raw history holds %q in clear", secret)
	}
	encoded := regexp.MustCompile(`"encoding":\s*"([A-Za-z0-9+/=]+)"`).FindAllStringSubmatch(withoutSearchAttrs.String(), -1)
	require.NotEmpty(t, encoded, "history has payloads")
	for _, m := range encoded {
		enc, err := base64.StdEncoding.DecodeString(m[1])
		require.NoError(t, err)
		assert.Equal(t, codec.EncodingEncrypted, string(enc), "every payload in history is encrypted")
		payloads++
	}
	t.Logf("%d encrypted payloads in history", payloads)

	// (c) /metrics: Temporal SDK metrics and the MIAW client's counters. SDK
	// metrics reach the registry once per report interval, and a counter
	// created during one report may only show in the next: poll for both the
	// SDK's completion and our close counter.
	completed := regexp.MustCompile(`(?m)^temporal_workflow_completed_total\{.*workflow_type="LiveAgentSession".*\} [1-9]`)
	closedByUser := regexp.MustCompile(`(?m)^liveagent_sessions_closed_total\{[^}]*reason="user_closed"[^}]*workflow_type="LiveAgentSession"[^}]*\} 1$`)
	var exposition string
	eventually(t, "temporal_workflow_completed_total and liveagent_sessions_closed_total on /metrics", func() bool {
		exposition = scrape(t, "http://"+metricsSrv.Addr()+metrics.Path)
		return completed.MatchString(exposition) && closedByUser.MatchString(exposition)
	})
	assert.Regexp(t, `(?m)^temporal_request_total\{`, exposition)
	assert.Positive(t, sample(t, exposition, "liveagent_miaw_token_requests_total"), "the MIAW client requested a token")
	assert.Positive(t, sample(t, exposition, `liveagent_listener_events_total{outcome="signalled"}`), "the listener signalled events")
	// The workflow's own metrics, tagged by the SDK and sanitized ("user-closed" → "user_closed").
	assert.Regexp(t, `(?m)^liveagent_accept_latency_seconds_bucket\{[^}]*le="1800"[^}]*\} 1$`, exposition)
	assert.NotContains(t, exposition, "liveagent_accept_timeouts_total", "an agent accepted: no timeout was counted")

	metricsURL := "http://" + metricsSrv.Addr() + metrics.Path
	t.Run("stuck in a void is told and counted", func(t *testing.T) { testNoRoutingResultCounted(t, s, ctc, &cfg, metricsURL) })
	t.Run("handoff context is encrypted in history", func(t *testing.T) { testCodecHandoff(t, s, ctc, &cfg) })
}

// gatewayOver serves the gateway over sessions, every answer checked
// against the OpenAPI document.
func gatewayOver(t *testing.T, s *stack, sessions *starter.Client) *gatewayClient {
	t.Helper()
	g, err := gateway.New(gateway.Options{Sessions: sessions, Files: s.store, BearerToken: gatewayToken,
		Topics: s.cfg.Session.Topics, MaxBodyBytes: s.cfg.Gateway.MaxBodyBytes, Logger: s.logger})
	require.NoError(t, err)
	return &gatewayClient{t: t, base: serveChecked(t, g).URL}
}

// rawHistory is a run's history as the Temporal server stores it, read
// with tc (a client without the codec).
func rawHistory(t *testing.T, tc client.Client, workflowID, runID string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var dump strings.Builder
	it := tc.GetWorkflowHistory(ctx, workflowID, runID, false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		dump.WriteString(protojson.Format(ev))
	}
	return dump.String()
}

// Routing says nothing within session.routing_result_timeout (the
// emulator's silent routing): the session ends, the user is told, and the
// worker's /metrics counts liveagent_no_routing_result once more.
func testNoRoutingResultCounted(t *testing.T, s *stack, ctc client.Client, cfg *config.Config, metricsURL string) {
	const user = "u-void-metric"
	counted := regexp.MustCompile(`(?m)^liveagent_no_routing_result_total\{[^}]*workflow_type="LiveAgentSession"[^}]*\} (\S+)$`)
	before := 0.0
	if m := counted.FindStringSubmatch(scrape(t, metricsURL)); m != nil {
		var err error
		before, err = strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
	}

	settings := cfg.SessionSettings()
	settings.RoutingResultTimeout = 3 * time.Second
	c := gatewayOver(t, s, starter.New(ctc, settings, s.store))
	s.emu.SetSilentRouting(true)
	t.Cleanup(func() { s.emu.SetSilentRouting(false) })
	c.start(user, "HR")
	var conv string
	eventually(t, user+" waiting", func() bool {
		st := c.state(user)
		conv = st.ConversationID
		return st.State == string(workflows.StateWaiting) && conv != ""
	})
	s.emu.SetSilentRouting(false) // only this session's routing is silent

	s.awaitNotice(t, user, "Sorry, we could not reach an agent queue. Please try again later.")
	s.awaitClosed(t, user, workflows.CloseNoRoutingResult)
	s.awaitEmulatorState(t, conv, emulator.StateClosed)
	// SDK metrics reach the registry once per report interval.
	eventually(t, "liveagent_no_routing_result_total counted once more", func() bool {
		m := counted.FindStringSubmatch(scrape(t, metricsURL))
		if m == nil {
			return false
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return err == nil && v == before+1
	})
}

// With the codec on, the assistant's summary and history travel to the
// agent but the Temporal server's history of the session holds neither
// them nor the description in clear.
func testCodecHandoff(t *testing.T, s *stack, ctc client.Client, cfg *config.Config) {
	const (
		user        = "u-codec-handoff"
		description = "codec-handoff-description: my relocation allowance was not paid"
		summary     = "codec-handoff-summary: allowance approved in March, missing from the April payslip."
		said        = "codec-handoff-history: where is my relocation allowance?"
		answered    = "codec-handoff-history: it should be on the April payslip."
	)
	c := gatewayOver(t, s, starter.New(ctc, cfg.SessionSettings(), s.store))
	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions", gateway.StartSessionRequest{
		UserID: user, Topic: "HR", Description: description, Summary: summary,
		History: []gateway.HistoryEntry{{From: "user", Text: said}, {From: "assistant", Text: answered}},
	}, &started))
	var conv string
	eventually(t, user+" waiting", func() bool {
		st := c.state(user)
		conv = st.ConversationID
		return st.State == string(workflows.StateWaiting) && conv != ""
	})

	// The agent reads all of it.
	first := s.awaitUserEntry(t, conv, "the first message", func(e emulator.TranscriptEntry) bool {
		return strings.HasPrefix(e.Text, description)
	})
	assert.Contains(t, first.Text, summary)
	file := s.awaitUserEntry(t, conv, "the conversation file", func(e emulator.TranscriptEntry) bool {
		return e.Attachment != nil && e.Attachment.Name == "conversation-with-assistant.txt"
	})
	resp, err := http.Get(file.Attachment.URL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(body), said)

	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
	s.awaitClosed(t, user, workflows.CloseUserClosed)
	var result workflows.SessionResult
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, ctc.GetWorkflow(ctx, started.WorkflowID, started.RunID).Get(ctx, &result))

	dump := rawHistory(t, s.tc, started.WorkflowID, started.RunID)
	require.NotEmpty(t, dump)
	for _, secret := range []string{description, summary, said, answered, "codec-handoff-"} {
		assert.False(t, strings.Contains(dump, secret), "raw history holds %q in clear", secret)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// sample returns the value of the series named exactly series (with its
// labels) in a Prometheus text exposition.
func sample(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("no series %s on /metrics", series)
	return 0
}
