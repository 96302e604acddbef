package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// StartSessionRequest is the body of POST /v1/sessions.
type StartSessionRequest struct {
	UserID      string `json:"userId"`
	Topic       string `json:"topic"`
	Description string `json:"description"`
	Locale      string `json:"locale,omitempty"`
	// Summary and History are the assistant's context for the agent.
	Summary string         `json:"summary,omitempty"`
	History []HistoryEntry `json:"history,omitempty"`
}

// HistoryEntry is one turn of the assistant's conversation before the
// handoff.
type HistoryEntry struct {
	From string     `json:"from"` // user | assistant
	Text string     `json:"text"`
	At   *time.Time `json:"at,omitempty"`
}

// StartSessionResponse answers POST /v1/sessions.
type StartSessionResponse struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// Existing is true when the user already had a running session.
	Existing bool   `json:"existing"`
	WebUIURL string `json:"webUiUrl,omitempty"`
	// ContextWithheld is true when the topic never forwards the assistant's
	// context (session.handoff_excluded_topics): the summary and history
	// sent were not given to the agent.
	ContextWithheld bool `json:"contextWithheld,omitempty"`
}

// SendMessageRequest is the body of POST /v1/sessions/{userId}/messages.
type SendMessageRequest struct {
	MessageID string `json:"messageId"`
	Text      string `json:"text"`
	// Choice, when set, answers an agent's choices; Text may then be empty.
	Choice *ChoiceRequest `json:"choice,omitempty"`
}

// CloseRequest is the (optional) body of POST /v1/sessions/{userId}/close.
type CloseRequest struct {
	RequestID string `json:"requestId,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// UpdateResponse answers messages, attachments and close.
type UpdateResponse struct {
	// Status is sent, queued, duplicate, closed or (survey) recorded
	// (workflows.UpdateStatus).
	Status  string `json:"status"`
	EntryID string `json:"entryId,omitempty"`
	// QueuedReason says why a queued item waits: waiting-for-agent or paced.
	QueuedReason string `json:"queuedReason,omitempty"`
}

// TopicsResponse answers GET /v1/topics.
type TopicsResponse struct {
	Topics []string `json:"topics"`
}

// SessionStateResponse answers GET /v1/sessions/{userId}.
type SessionStateResponse struct {
	State          string `json:"state"`
	UserID         string `json:"userId"`
	Topic          string `json:"topic"`
	ConversationID string `json:"conversationId,omitempty"`
	AgentName      string `json:"agentName,omitempty"`
	QueuePosition  int    `json:"queuePosition,omitempty"`
	// EstimatedWaitSeconds is omitted when unknown.
	EstimatedWaitSeconds *float64          `json:"estimatedWaitSeconds,omitempty"`
	StartedAt            *time.Time        `json:"startedAt,omitempty"`
	WaitingSince         *time.Time        `json:"waitingSince,omitempty"`
	CloseReason          string            `json:"closeReason,omitempty"`
	Transcript           []TranscriptEntry `json:"transcript"`
	// SurveyOpen is true while the closed session takes a survey (POST
	// /v1/sessions/{userId}/survey); Survey is the one recorded.
	SurveyOpen bool    `json:"surveyOpen,omitempty"`
	Survey     *Survey `json:"survey,omitempty"`
}

// TranscriptEntry is one line of the conversation as the user sees it.
type TranscriptEntry struct {
	ID         string      `json:"id"`
	At         time.Time   `json:"at"`
	From       string      `json:"from"` // user, agent or system
	SenderName string      `json:"senderName,omitempty"`
	Text       string      `json:"text,omitempty"`
	Link       *Link       `json:"link,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
	// Rich content of an agent line (text is its plain-text fallback), or
	// the option a user line picked.
	Choices *activities.WebhookChoices `json:"choices,omitempty"`
	Form    *activities.WebhookForm    `json:"form,omitempty"`
	WebView *activities.WebhookWebView `json:"webView,omitempty"`
	Choice  *ChoiceRequest             `json:"choice,omitempty"`
}

// Link is a rich link shared by the agent.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// Attachment is a stored file; URL is where it is fetched.
type Attachment struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	URL      string `json:"url,omitempty"`
}

// SessionSummary is one open session in GET /v1/sessions.
type SessionSummary struct {
	WorkflowID     string    `json:"workflowId"`
	RunID          string    `json:"runId"`
	UserID         string    `json:"userId"`
	Topic          string    `json:"topic"`
	State          string    `json:"state"`
	ConversationID string    `json:"conversationId,omitempty"`
	StartTime      time.Time `json:"startTime"`
}

// SessionsResponse answers GET /v1/sessions.
type SessionsResponse struct {
	Sessions []SessionSummary `json:"sessions"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

func updateResponse(r workflows.UpdateResult) UpdateResponse {
	return UpdateResponse{Status: string(r.Status), EntryID: r.EntryID, QueuedReason: r.QueuedReason}
}

func stateResponse(v *workflows.SessionView) SessionStateResponse {
	out := SessionStateResponse{
		State:          string(v.State),
		UserID:         v.UserID,
		Topic:          v.Topic,
		ConversationID: v.ConversationID,
		AgentName:      v.AgentName,
		QueuePosition:  v.QueuePosition,
		StartedAt:      timePtr(v.StartedAt),
		WaitingSince:   timePtr(v.WaitingSince),
		CloseReason:    string(v.CloseReason),
		Transcript:     make([]TranscriptEntry, 0, len(v.Transcript)),
	}
	if v.EstimatedWait >= 0 && v.State == workflows.StateWaiting {
		s := v.EstimatedWait.Seconds()
		out.EstimatedWaitSeconds = &s
	}
	for _, e := range v.Transcript {
		te := TranscriptEntry{ID: e.ID, At: e.At, From: string(e.From), SenderName: e.SenderName, Text: e.Text}
		if e.Link != nil {
			te.Link = &Link{URL: e.Link.URL, Title: e.Link.Title}
		}
		if a := e.Attachment; a != nil {
			te.Attachment = &Attachment{Name: a.Name, MimeType: a.MimeType, Size: a.Size, SHA256: a.SHA256, URL: a.URL}
		}
		richTranscript(&te, e)
		out.Transcript = append(out.Transcript, te)
	}
	surveyResponse(&out, v)
	return out
}

func summaries(in []starter.SessionSummary) SessionsResponse {
	out := SessionsResponse{Sessions: make([]SessionSummary, 0, len(in))}
	for _, s := range in {
		out.Sessions = append(out.Sessions, SessionSummary{
			WorkflowID: s.WorkflowID, RunID: s.RunID, UserID: s.UserID, Topic: s.Topic,
			State: string(s.State), ConversationID: s.ConversationID, StartTime: s.StartTime,
		})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// requestError is an error answer decided while decoding a request.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// tooLarge converts a body-limit error into a 413 answer.
func tooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &requestError{status: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body is larger than the limit of %d bytes", mbe.Limit)}
	}
	return nil
}

// decodeJSON strictly decodes one JSON object from the body into dst (a
// pointer to a struct with json tags): unknown fields, a field given twice
// or spelled in another case (encoding/json would silently take the last or
// the case-insensitive match), trailing data and a non-JSON content type are
// errors. An empty body is an error unless allowEmpty.
func decodeJSON(r *http.Request, dst any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{status: http.StatusUnsupportedMediaType, msg: "content type must be application/json"}
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if e := tooLarge(err); e != nil {
			return e
		}
		return fmt.Errorf("read request body: %w", err)
	}
	if err := checkKeys(body, jsonFieldNames(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if e := tooLarge(err); e != nil {
			return e
		}
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return badRequest("request body is empty; a JSON object is required")
		}
		var syntaxErr *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntaxErr):
			return badRequest("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
		case errors.As(err, &typeErr):
			return badRequest("field %q must be a %s", typeErr.Field, typeErr.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return badRequest("malformed JSON: %v", err)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if e := tooLarge(err); e != nil {
			return e
		}
		return badRequest("request body must hold exactly one JSON object")
	}
	return nil
}

// checkKeys refuses a top-level object key given twice (in any case) or
// spelled in another case than the field it would fill. Syntax errors and
// unknown fields are left to the strict decoder, which words them.
func checkKeys(body []byte, fields []string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]string{} // lower case -> as given
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := tok.(string)
		lower := strings.ToLower(key)
		if prev, dup := seen[lower]; dup {
			return badRequest("field %q is given more than once (also as %q)", key, prev)
		}
		seen[lower] = key
		for _, f := range fields {
			if f != key && strings.EqualFold(f, key) {
				return badRequest("unknown field %q (did you mean %q?)", key, f)
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// jsonFieldNames lists the JSON names of the fields of the struct dst
// points to.
func jsonFieldNames(dst any) []string {
	t := reflect.TypeOf(dst)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	return names
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorResponse{Error: msg})
}
