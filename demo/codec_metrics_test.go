package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liveagent-bridge/liveagent/codec"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// checkEncryptedHistoryAndMetrics asserts, on a stack whose demo session has
// run, that the server's history holds none of texts in clear, that the codec
// endpoint the Web UI uses decrypts it from the UI's origin, and that the
// metrics endpoint shows SDK and MIAW client metrics.
func checkEncryptedHistoryAndMetrics(t *testing.T, ctx context.Context, st *stack, texts ...string) {
	t.Helper()

	// A client without the codec sees what the server stores.
	raw, err := client.DialContext(ctx, client.Options{HostPort: st.temporal.FrontendAddress(), Namespace: st.temporal.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var payloads []*commonpb.Payload
	var dump strings.Builder
	it := raw.GetWorkflowHistory(ctx, workflows.WorkflowID(demoUser), "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		dump.WriteString(protojson.Format(ev))
		payloads = append(payloads, eventPayloads(ev)...)
	}
	for _, text := range texts {
		if strings.Contains(dump.String(), text) {
			t.Errorf("raw history contains %q in clear", text)
		}
	}
	if len(payloads) == 0 {
		t.Fatal("no payloads in history")
	}
	for _, p := range payloads {
		if enc := string(p.GetMetadata()["encoding"]); enc != codec.EncodingEncrypted {
			t.Fatalf("a history payload has encoding %q, want %q", enc, codec.EncodingEncrypted)
		}
	}

	// The Web UI is configured with the codec endpoint...
	settings, err := http.Get(st.temporal.UIAddress() + "/api/v1/settings")
	if err != nil {
		t.Fatal(err)
	}
	settingsBody, _ := io.ReadAll(settings.Body)
	settings.Body.Close()
	if !strings.Contains(string(settingsBody), `"Endpoint":"`+st.codecURL+`"`) {
		t.Errorf("the Web UI settings do not name the codec endpoint %s: %s", st.codecURL, settingsBody)
	}

	// ...and posts the payloads there from its origin.
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.codecURL+"/decode", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", st.temporal.UIAddress())
	req.Header.Set("X-Namespace", st.temporal.Namespace())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	decoded, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("codec decode: %d %s", resp.StatusCode, decoded)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != st.temporal.UIAddress() {
		t.Errorf("codec endpoint allows origin %q, want the Web UI's %q", got, st.temporal.UIAddress())
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(decoded, &out); err != nil {
		t.Fatal(err)
	}
	var clear strings.Builder
	for _, p := range out.GetPayloads() {
		clear.Write(p.GetData())
	}
	for _, text := range texts {
		if !strings.Contains(clear.String(), text) {
			t.Errorf("decoded history lacks %q", text)
		}
	}

	// Metrics: the SDK's and the MIAW client's. The session's last workflow
	// task may still be running when the gateway reports it closed, and SDK
	// metrics reach the registry once per report interval: wait for both.
	completed := regexp.MustCompile(`(?m)^temporal_workflow_completed_total\{.*workflow_type="LiveAgentSession".*\} [1-9]`)
	var exposition []byte
	for {
		resp, err := http.Get(st.metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		exposition, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("metrics: %d", resp.StatusCode)
		}
		if completed.Match(exposition) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("metrics never showed the completed session workflow:\n%s", exposition)
		case <-time.After(200 * time.Millisecond):
		}
	}
	m := regexp.MustCompile(`(?m)^liveagent_miaw_token_requests_total (\S+)$`).FindSubmatch(exposition)
	if m == nil {
		t.Fatalf("metrics lack liveagent_miaw_token_requests_total:\n%.3000s", exposition)
	}
	if v, err := strconv.ParseFloat(string(m[1]), 64); err != nil || v <= 0 {
		t.Errorf("liveagent_miaw_token_requests_total = %s, want > 0", m[1])
	}
}

// eventPayloads returns the payloads of the events that carry user data.
func eventPayloads(ev *historypb.HistoryEvent) []*commonpb.Payload {
	var out []*commonpb.Payload
	add := func(ps *commonpb.Payloads) { out = append(out, ps.GetPayloads()...) }
	add(ev.GetWorkflowExecutionStartedEventAttributes().GetInput())
	add(ev.GetWorkflowExecutionSignaledEventAttributes().GetInput())
	add(ev.GetActivityTaskScheduledEventAttributes().GetInput())
	add(ev.GetActivityTaskCompletedEventAttributes().GetResult())
	add(ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetArgs())
	add(ev.GetWorkflowExecutionUpdateCompletedEventAttributes().GetOutcome().GetSuccess())
	add(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult())
	return out
}
