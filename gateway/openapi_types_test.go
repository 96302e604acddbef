package gateway_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/gateway"
)

// The document's object schemas have exactly the JSON fields of the Go
// types they describe, and an answer's schema requires exactly the fields
// that are never omitted; request schemas require nothing (the gateway
// answers a missing field with 422 naming it). This catches drift in
// fields the contract test never sees set.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
				Required   []string       `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(gateway.OpenAPI(), &doc))
	answers := map[string]any{
		"ErrorResponse": gateway.ErrorResponse{}, "OfflineResponse": gateway.OfflineResponse{},
		"AvailabilityResponse": gateway.AvailabilityResponse{}, "StartSessionResponse": gateway.StartSessionResponse{},
		"UpdateResponse": gateway.UpdateResponse{}, "TopicsResponse": gateway.TopicsResponse{},
		"SessionStateResponse": gateway.SessionStateResponse{}, "TranscriptEntry": gateway.TranscriptEntry{},
		"Link": gateway.Link{}, "Attachment": gateway.Attachment{}, "SessionSummary": gateway.SessionSummary{},
		"SessionsResponse": gateway.SessionsResponse{}, "WebhookLink": activities.WebhookLink{},
		"WebhookAttachment": activities.WebhookAttachment{}, "WebhookSummary": activities.WebhookSummary{},
		"WebhookReceipt": activities.WebhookReceipt{},
		"TypingResponse": gateway.TypingResponse{}, "ReceiptsResponse": gateway.ReceiptsResponse{},
		"Choices": activities.WebhookChoices{}, "ChoiceOption": activities.WebhookChoiceOption{},
		"Form": activities.WebhookForm{}, "WebView": activities.WebhookWebView{},
		"Survey": gateway.Survey{},
	}
	requests := map[string]any{
		"StartSessionRequest": gateway.StartSessionRequest{}, "HistoryEntry": gateway.HistoryEntry{},
		"SendMessageRequest": gateway.SendMessageRequest{}, "CloseRequest": gateway.CloseRequest{},
		"TypingRequest": gateway.TypingRequest{}, "ReceiptsRequest": gateway.ReceiptsRequest{},
		"Choice": gateway.ChoiceRequest{}, "SurveyRequest": gateway.SurveyRequest{},
	}
	for name, v := range answers {
		s, ok := doc.Components.Schemas[name]
		require.True(t, ok, name)
		all, always := jsonFields(v)
		assert.ElementsMatch(t, all, slices.Collect(maps.Keys(s.Properties)), "%s: properties", name)
		assert.ElementsMatch(t, always, s.Required, "%s: required", name)
	}
	for name, v := range requests {
		s, ok := doc.Components.Schemas[name]
		require.True(t, ok, name)
		all, _ := jsonFields(v)
		assert.ElementsMatch(t, all, slices.Collect(maps.Keys(s.Properties)), "%s: properties", name)
		assert.Empty(t, s.Required, "%s: required", name)
	}
	// Each delivery kind has a subset of the payload's fields, and together
	// they have all of them.
	all, _ := jsonFields(activities.WebhookPayload{})
	var union []string
	for _, kind := range []string{"AgentMessageDelivery", "SystemDelivery", "TypingDelivery", "ClosedDelivery", "ReceiptDelivery"} {
		props := slices.Collect(maps.Keys(doc.Components.Schemas[kind].Properties))
		assert.Subset(t, all, props, kind)
		union = append(union, props...)
	}
	slices.Sort(union)
	assert.ElementsMatch(t, all, slices.Compact(union))
}

// jsonFields lists the JSON names of v's struct fields, and those without
// omitempty.
func jsonFields(v any) (all, always []string) {
	for f := range reflect.TypeOf(v).Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	return all, always
}
