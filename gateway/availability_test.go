package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/locales"
	"github.com/liveagent-bridge/liveagent/starter"
)

// AvailabilityIn answers like a starter without a checker: always
// available; the offline message is French for a French locale.
func (f *fakeSessions) AvailabilityIn(_ context.Context, topic, locale string) (starter.Availability, error) {
	if topic != "Payroll" && topic != "Benefits" {
		return starter.Availability{}, fmt.Errorf("%w: topic %q is not configured (one of: Payroll, Benefits)", starter.ErrInvalid, topic)
	}
	l, err := locales.Normalize(locale)
	if err != nil {
		return starter.Availability{}, fmt.Errorf("%w: %s", starter.ErrInvalid, err)
	}
	msg := starter.DefaultOfflineMessage
	if strings.HasPrefix(l, "fr") {
		msg = "Nos conseillers sont absents."
	}
	return starter.Availability{Topic: topic, Decision: availability.Decision{Available: true}, OfflineMessage: msg}, nil
}

// offlineSessions is fakeSessions with agents offline until next: starts are
// refused the way starter refuses them.
type offlineSessions struct {
	*fakeSessions
	next time.Time
}

func (o offlineSessions) AvailabilityIn(ctx context.Context, topic, locale string) (starter.Availability, error) {
	a, err := o.fakeSessions.AvailabilityIn(ctx, topic, locale)
	if err == nil {
		a.Decision = availability.Decision{NextOpen: o.next}
		a.OfflineMessage = "We are closed, back at 9."
	}
	return a, err
}

func (o offlineSessions) Start(ctx context.Context, req starter.StartRequest) (*starter.Session, error) {
	return nil, &starter.OfflineError{Topic: req.Topic, Message: "We are closed, back at 9.", NextOpen: o.next}
}

func TestAvailabilityEndpoint(t *testing.T) {
	h := newHarness(t)
	status, body := h.json(http.MethodGet, "/v1/availability?topic=Payroll", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, map[string]any{"available": true, "topic": "Payroll", "offlineMessage": starter.DefaultOfflineMessage}, body)

	next := time.Date(2026, 11, 30, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	h = newHarness(t, func(o *gateway.Options) { o.Sessions = offlineSessions{newFake(), next} })
	status, body = h.json(http.MethodGet, "/v1/availability?topic="+url.QueryEscape("Benefits"), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, map[string]any{"available": false, "topic": "Benefits", "nextOpen": "2026-11-30T07:00:00Z",
		"offlineMessage": "We are closed, back at 9."}, body)
}

func TestAvailabilityUntil(t *testing.T) {
	until := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	h := newHarness(t, func(o *gateway.Options) { o.Sessions = untilSessions{newFake(), until} })
	status, body := h.json(http.MethodGet, "/v1/availability?topic=Payroll", "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, true, body["available"])
	assert.Equal(t, "2026-11-30T17:00:00Z", body["availableUntil"])
	assert.NotContains(t, body, "nextOpen")
}

type untilSessions struct {
	*fakeSessions
	until time.Time
}

func (u untilSessions) AvailabilityIn(ctx context.Context, topic, locale string) (starter.Availability, error) {
	a, err := u.fakeSessions.AvailabilityIn(ctx, topic, locale)
	a.AvailableUntil = u.until
	return a, err
}

// A missing, repeated or unknown topic, or another parameter, is 400 with
// the reason; without the token 401.
func TestAvailabilityBadRequests(t *testing.T) {
	h := newHarness(t)
	for query, reason := range map[string]string{
		"":                                   "exactly one topic query parameter is required (one of: Payroll, Benefits)",
		"?topic=":                            "exactly one topic query parameter is required",
		"?topic=Payroll&topic=HR":            "exactly one topic query parameter is required",
		"?topic=Gardening":                   `topic "Gardening" is not configured`,
		"?topic=Payroll&user=u-1":            `unknown query parameter "user"`,
		"?topic=Payroll&%zz=invalid":         "malformed query string",
		"?topic=Payroll&locale=fr_CA-x":      `locale "fr_CA-x" mixes - and _`,
		"?topic=Payroll&locale=fr&locale=de": "at most one locale query parameter",
	} {
		status, body := h.json(http.MethodGet, "/v1/availability"+query, "")
		assert.Equal(t, http.StatusBadRequest, status, "%q: %v", query, body)
		assert.Contains(t, body["error"], reason, "%q", query)
	}
	resp, _ := h.do(http.MethodGet, "/v1/availability?topic=Payroll", "", nil, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// A start while agents are offline is 409 with the agents-offline code, the
// offline message and the next opening.
func TestStartWhileOfflineIsConflict(t *testing.T) {
	next := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	h := newHarness(t, func(o *gateway.Options) { o.Sessions = offlineSessions{newFake(), next} })
	status, body := h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-1","topic":"Payroll","description":"payslip"}`)
	require.Equal(t, http.StatusConflict, status)
	assert.Equal(t, map[string]any{"error": gateway.ErrorAgentsOffline, "topic": "Payroll",
		"message": "We are closed, back at 9.", "nextOpen": "2026-11-30T08:00:00Z"}, body)
}

// The locale query parameter asks for the offline message in that locale.
func TestAvailabilityInALocale(t *testing.T) {
	h := newHarness(t)
	status, body := h.json(http.MethodGet, "/v1/availability?topic=Payroll&locale=fr-CA", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "Nos conseillers sont absents.", body["offlineMessage"])
	status, body = h.json(http.MethodGet, "/v1/availability?topic=Payroll&locale=", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, starter.DefaultOfflineMessage, body["offlineMessage"])
}
