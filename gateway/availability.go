package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/starter"
)

// AvailabilityResponse answers GET /v1/availability?topic=…[&locale=…]:
// whether a live agent can be offered for the topic now. Times are RFC 3339
// in UTC.
type AvailabilityResponse struct {
	Available bool   `json:"available"`
	Topic     string `json:"topic"`
	// NextOpen is when agents are next expected; omitted while available or
	// when unknown.
	NextOpen string `json:"nextOpen,omitempty"`
	// AvailableUntil is when the current open window ends; omitted when
	// offline or when no end is known.
	AvailableUntil string `json:"availableUntil,omitempty"`
	// OfflineMessage is what the user is told while agents are offline, in
	// the locale asked for (falling back as a session's texts do).
	OfflineMessage string `json:"offlineMessage"`
}

// ErrorAgentsOffline is the error code of a start refused because live
// agents are offline.
const ErrorAgentsOffline = "agents-offline"

// OfflineResponse is the 409 body of POST /v1/sessions while live agents are
// offline: nothing was started. Error is ErrorAgentsOffline.
type OfflineResponse struct {
	Error    string `json:"error"`
	Topic    string `json:"topic"`
	Message  string `json:"message"`
	NextOpen string `json:"nextOpen,omitempty"`
}

// availability answers GET /v1/availability?topic=<topic>[&locale=<locale>].
// A missing or unknown topic, a malformed locale, or another query parameter
// is 400 with the reason.
func (g *Gateway) availability(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		g.fail(w, r, badRequest("malformed query string (want ?topic=<topic>&locale=<locale>)"))
		return
	}
	for name := range q {
		if name != "topic" && name != "locale" {
			g.fail(w, r, badRequest("unknown query parameter %q (want topic, locale)", name))
			return
		}
	}
	if len(q["locale"]) > 1 {
		g.fail(w, r, badRequest("at most one locale query parameter"))
		return
	}
	if len(q["topic"]) != 1 || strings.TrimSpace(q.Get("topic")) == "" {
		g.fail(w, r, badRequest("exactly one topic query parameter is required (one of: %s)", strings.Join(g.topics, ", ")))
		return
	}
	a, err := g.sessions.AvailabilityIn(r.Context(), q.Get("topic"), q.Get("locale"))
	if errors.Is(err, starter.ErrInvalid) {
		g.fail(w, r, badRequest("%s", strings.TrimPrefix(err.Error(), starter.ErrInvalid.Error()+": ")))
		return
	}
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AvailabilityResponse{
		Available:      a.Available,
		Topic:          a.Topic,
		NextOpen:       rfc3339(a.NextOpen),
		AvailableUntil: rfc3339(a.AvailableUntil),
		OfflineMessage: a.OfflineMessage,
	})
}

// writeOffline answers a start refused while agents are offline.
func writeOffline(w http.ResponseWriter, e *starter.OfflineError) {
	writeJSON(w, http.StatusConflict, OfflineResponse{
		Error: ErrorAgentsOffline, Topic: e.Topic, Message: e.Message, NextOpen: rfc3339(e.NextOpen),
	})
}

// rfc3339 formats t in UTC; "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
