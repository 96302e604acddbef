package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw"
)

// demoOfflineMessage is the demo's availability.offline_message.
const demoOfflineMessage = "Our payroll team is offline now. Please come back during business hours, or ask me to create a ticket."

// closeBusinessHours makes the emulator's deployment closed now, opening in
// an hour for eight hours (what -offline shows).
func closeBusinessHours(st *stack) time.Time {
	opens := time.Now().Add(time.Hour).Truncate(time.Minute)
	st.emu.SetBusinessHours([]miaw.TimeWindow{{Start: opens, End: opens.Add(8 * time.Hour)}})
	return opens
}

func (c *gatewayClient) availability(ctx context.Context, topic string) (gateway.AvailabilityResponse, error) {
	var out gateway.AvailabilityResponse
	_, err := c.do(ctx, http.MethodGet, "/v1/availability?topic="+url.QueryEscape(topic), "", nil, &out)
	return out, err
}

// showAvailability asks the gateway whether a live agent can be offered for
// topic and prints the answer.
func showAvailability(ctx context.Context, api *gatewayClient, out *printer, topic string) (gateway.AvailabilityResponse, error) {
	a, err := api.availability(ctx, topic)
	if err != nil {
		return a, fmt.Errorf("availability: %w", err)
	}
	body, _ := json.Marshal(a)
	out.line("assistant: GET /v1/availability?topic=%s -> %s", url.QueryEscape(topic), body)
	switch {
	case a.Available && a.AvailableUntil != "":
		out.line("assistant: a live agent is available (business hours until %s)", localTime(a.AvailableUntil))
	case a.Available:
		out.line("assistant: a live agent is available")
	case a.NextOpen != "":
		out.line("assistant: no live agent now; next opening %s", localTime(a.NextOpen))
	default:
		out.line("assistant: no live agent now")
	}
	return a, nil
}

func localTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return rfc3339
	}
	return t.Local().Format("Mon 15:04 MST")
}

// runOffline plays the assistant while the deployment is closed: it asks
// first and is told agents are offline; a start tried anyway is refused with
// 409 agents-offline and the offline message, and nothing reaches Salesforce.
func runOffline(ctx context.Context, st *stack, out *printer) error {
	api := newGatewayClient(st.gatewayURL, st.token)
	out.line("(-offline: the emulator's business hours are closed now; they open at %s)", closeBusinessHours(st).Format("15:04 MST"))
	a, err := showAvailability(ctx, api, out, demoTopic)
	if err != nil {
		return err
	}
	if a.Available {
		return errors.New("availability: agents should be offline with -offline")
	}
	out.line("assistant (to the user): %s", a.OfflineMessage)

	out.line("assistant: starting a session anyway, as a client that did not ask would…")
	var off gateway.OfflineResponse
	status, err := api.postJSON(ctx, "/v1/sessions", gateway.StartSessionRequest{UserID: demoUser, Topic: demoTopic, Description: demoDescription}, nil)
	var ae *apiError
	if !errors.As(err, &ae) || status != http.StatusConflict {
		return fmt.Errorf("start while offline: want 409 agents-offline, got %d %v", status, err)
	}
	if err := json.Unmarshal(ae.Body, &off); err != nil || off.Error != gateway.ErrorAgentsOffline {
		return fmt.Errorf("start while offline: unexpected answer %s", ae.Body)
	}
	out.line("assistant: POST /v1/sessions -> %d %s", status, bytes.TrimSpace(ae.Body))
	if n := len(st.emu.Conversations()); n != 0 {
		return fmt.Errorf("start while offline created %d conversations in the emulator", n)
	}
	out.line("assistant: refused (%s): nothing was started and Salesforce has no conversation", off.Error)
	return nil
}
