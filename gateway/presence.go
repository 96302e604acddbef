package gateway

import (
	"net/http"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// TypingRequest is the body of POST /v1/sessions/{userId}/typing.
type TypingRequest struct {
	// Typing is true while the user types (report it as often as keystrokes
	// come; repeats are coalesced) and false when they stopped or cleared
	// the input. Required.
	Typing *bool `json:"typing"`
}

// TypingResponse answers POST /v1/sessions/{userId}/typing.
type TypingResponse struct {
	Typing bool `json:"typing"`
	// Forwarded is false when the report was coalesced with a recent one
	// (the session already knew the user was typing).
	Forwarded bool `json:"forwarded"`
}

// ReceiptsRequest is the body of POST /v1/sessions/{userId}/receipts.
type ReceiptsRequest struct {
	// Status is "delivered" (the user's client received the messages) or
	// "read" (the user saw them).
	Status string `json:"status"`
	// MessageIDs are the ids of the agent-message deliveries (their id /
	// Idempotency-Key), at most workflows.MaxReceiptIDs.
	MessageIDs []string `json:"messageIds"`
}

// ReceiptsResponse answers POST /v1/sessions/{userId}/receipts.
type ReceiptsResponse struct {
	// Queued is how many acknowledgements go to Salesforce; messages already
	// acknowledged with this status (or read) are not counted again.
	Queued int `json:"queued"`
}

func (g *Gateway) typing(w http.ResponseWriter, r *http.Request) {
	var req TypingRequest
	if err := decodeJSON(r, &req, false); err != nil {
		g.fail(w, r, err)
		return
	}
	if req.Typing == nil {
		g.fail(w, r, &requestError{status: http.StatusUnprocessableEntity, msg: "typing is required (true or false)"})
		return
	}
	res, err := g.sessions.Typing(r.Context(), r.PathValue("userId"), *req.Typing)
	if err != nil {
		g.fail(w, r, g.closedSession(r, err))
		return
	}
	writeJSON(w, http.StatusAccepted, TypingResponse{Typing: *req.Typing, Forwarded: res.Forwarded})
}

func (g *Gateway) receipts(w http.ResponseWriter, r *http.Request) {
	var req ReceiptsRequest
	if err := decodeJSON(r, &req, false); err != nil {
		g.fail(w, r, err)
		return
	}
	res, err := g.sessions.Receipts(r.Context(), r.PathValue("userId"), workflows.ReceiptStatus(req.Status), req.MessageIDs)
	if err != nil {
		g.fail(w, r, g.closedSession(r, err))
		return
	}
	writeJSON(w, http.StatusAccepted, ReceiptsResponse{Queued: res.Queued})
}
