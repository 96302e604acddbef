package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// Webhook headers.
const (
	// HeaderSignature is "t=<unix seconds>,n=<nonce>,v1=<hex HMAC-SHA256(
	// secret, "<unix seconds>.<nonce>." + raw body)>" (signature.go).
	HeaderSignature = "X-LiveAgent-Signature"
	// HeaderTimestamp repeats the signed send time in Unix seconds.
	HeaderTimestamp = "X-LiveAgent-Timestamp"
	// HeaderIdempotencyKey is Delivery.ID: the same on every retry of one
	// delivery, so the receiver can drop duplicates.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// WebhookPayload is the JSON body the WebhookSink POSTs: one
// workflows.Delivery. Its keys are camelCase and name each concept as the
// gateway's JSON does (workflowId, userId, senderName, mimeType, closeReason,
// queuePosition, estimatedWaitSeconds), so an assistant sees one vocabulary.
// Optional fields are omitted when empty.
//
//	{
//	  "id": "0Xx…",                 // idempotency key (= Idempotency-Key header)
//	  "workflowId": "live-agent-session-u-42",
//	  "userId": "u-42",
//	  "kind": "agent-message",      // agent-message | system | typing | closed
//	  "at": "2026-11-25T10:00:00Z", // RFC 3339
//	  "senderName": "Jane",
//	  "text": "Hello",
//	  "link": {"url": "https://…", "title": "…"},
//	  "attachment": {"name": "invoice.pdf", "mimeType": "application/pdf",
//	                 "size": 1234, "sha256": "…", "url": "https://…/<sha256>"},
//	  "state": "active",            // session state after this delivery
//	  "closeReason": "agent-ended",
//	  "typing": true,
//	  "queuePosition": 2,
//	  "estimatedWaitSeconds": 120,
//	  "summary": {                  // closed deliveries only
//	    "closedBy": "agent",        // user | agent | system
//	    "agentName": "Jane", "waitSeconds": 42, "chatSeconds": 300,
//	    "userMessages": 4, "agentMessages": 5,
//	    "runId": "…",               // the final run, whose state holds the transcript
//	    "transcriptPath": "/v1/sessions/u-42?runId=…",  // on the gateway
//	    "surveyUntil": "…"          // post-chat survey window's end, when it takes one
//	  }
//	}
type WebhookPayload struct {
	ID string `json:"id"`
	// WorkflowID is the session's workflow id (workflows.Delivery.SessionID),
	// the gateway's workflowId.
	WorkflowID           string             `json:"workflowId"`
	UserID               string             `json:"userId"`
	Kind                 string             `json:"kind"`
	At                   *time.Time         `json:"at,omitempty"`
	SenderName           string             `json:"senderName,omitempty"`
	Text                 string             `json:"text,omitempty"`
	Link                 *WebhookLink       `json:"link,omitempty"`
	Attachment           *WebhookAttachment `json:"attachment,omitempty"`
	Choices              *WebhookChoices    `json:"choices,omitempty"`
	Form                 *WebhookForm       `json:"form,omitempty"`
	WebView              *WebhookWebView    `json:"webView,omitempty"`
	State                string             `json:"state,omitempty"`
	CloseReason          string             `json:"closeReason,omitempty"`
	Typing               bool               `json:"typing,omitempty"`
	QueuePosition        int                `json:"queuePosition,omitempty"`
	EstimatedWaitSeconds *int64             `json:"estimatedWaitSeconds,omitempty"`
	Summary              *WebhookSummary    `json:"summary,omitempty"`
	// ExpiresAt is set on a typing delivery with typing true: show the
	// agent as typing until then at most, unless another typing delivery
	// comes (Salesforce does not always send "stopped").
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Receipts are set on a receipt delivery.
	Receipts []WebhookReceipt `json:"receipts,omitempty"`
}

// WebhookReceipt says the agent side received ("delivered") or read
// ("read") one of the user's messages, named by the assistant's own
// message id.
type WebhookReceipt struct {
	MessageID string    `json:"messageId"`
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
}

// WebhookSummary sums a session up in its closed delivery.
type WebhookSummary struct {
	ClosedBy      string `json:"closedBy"`
	AgentName     string `json:"agentName,omitempty"`
	WaitSeconds   int64  `json:"waitSeconds"`
	ChatSeconds   int64  `json:"chatSeconds"`
	UserMessages  int    `json:"userMessages"`
	AgentMessages int    `json:"agentMessages"`
	RunID         string `json:"runId"`
	// TranscriptPath is where the gateway serves the session's final state
	// and transcript, relative to the gateway's base URL.
	TranscriptPath string `json:"transcriptPath"`
	// SurveyUntil is when the session's post-chat survey window ends (POST
	// /v1/sessions/{userId}/survey with runId until then); omitted when it
	// takes no survey.
	SurveyUntil *time.Time `json:"surveyUntil,omitempty"`
}

// TranscriptPath is the gateway path of the final state of a user's
// session run.
func TranscriptPath(userID, runID string) string {
	return "/v1/sessions/" + url.PathEscape(userID) + "?runId=" + url.QueryEscape(runID)
}

// WebhookLink is a rich link in a WebhookPayload.
type WebhookLink struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// WebhookAttachment is a stored attachment in a WebhookPayload.
type WebhookAttachment struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType,omitempty"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	URL      string `json:"url"`
}

// NewWebhookPayload converts a Delivery to its JSON shape.
func NewWebhookPayload(d workflows.Delivery) WebhookPayload {
	p := WebhookPayload{
		ID: d.ID, WorkflowID: d.SessionID, UserID: d.UserID, Kind: string(d.Kind),
		SenderName: d.SenderName, Text: d.Text, State: string(d.State), CloseReason: string(d.CloseReason),
		Typing: d.Typing, QueuePosition: d.QueuePosition,
		Choices: NewWebhookChoices(d.Choices), Form: NewWebhookForm(d.Form), WebView: NewWebhookWebView(d.WebView),
	}
	if !d.At.IsZero() {
		at := d.At.UTC()
		p.At = &at
	}
	if d.Link != nil {
		p.Link = &WebhookLink{URL: d.Link.URL, Title: d.Link.Title}
	}
	if att := d.Attachment; att != nil {
		p.Attachment = &WebhookAttachment{Name: att.Name, MimeType: att.MimeType, Size: att.Size, SHA256: att.SHA256, URL: att.URL}
	}
	if d.EstimatedWait > 0 {
		secs := int64(d.EstimatedWait.Round(time.Second) / time.Second)
		p.EstimatedWaitSeconds = &secs
	}
	if !d.ExpiresAt.IsZero() {
		exp := d.ExpiresAt.UTC()
		p.ExpiresAt = &exp
	}
	for _, r := range d.Receipts {
		p.Receipts = append(p.Receipts, WebhookReceipt{MessageID: r.MessageID, Status: string(r.Status), At: r.At.UTC()})
	}
	if s := d.Summary; s != nil {
		p.Summary = &WebhookSummary{
			ClosedBy: string(s.ClosedBy), AgentName: s.AgentName,
			WaitSeconds: seconds(s.WaitTime), ChatSeconds: seconds(s.ChatTime),
			UserMessages: s.UserMessages, AgentMessages: s.AgentMessages,
			RunID: s.RunID, TranscriptPath: TranscriptPath(d.UserID, s.RunID),
		}
		if !s.SurveyUntil.IsZero() {
			until := s.SurveyUntil.UTC()
			p.Summary.SurveyUntil = &until
		}
	}
	return p
}

func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

// Delivery converts the payload back (the assistant side uses it after
// Verifier.Verify). Unknown estimated wait comes back as a negative duration.
func (p WebhookPayload) Delivery() workflows.Delivery {
	d := workflows.Delivery{
		ID: p.ID, SessionID: p.WorkflowID, UserID: p.UserID, Kind: workflows.DeliveryKind(p.Kind),
		SenderName: p.SenderName, Text: p.Text, State: workflows.State(p.State),
		CloseReason: workflows.CloseReason(p.CloseReason), Typing: p.Typing, QueuePosition: p.QueuePosition,
		EstimatedWait: UnknownWait,
		Choices:       p.Choices.choices(), Form: p.Form.form(), WebView: p.WebView.webView(),
	}
	if p.At != nil {
		d.At = *p.At
	}
	if p.Link != nil {
		d.Link = &workflows.Link{URL: p.Link.URL, Title: p.Link.Title}
	}
	if a := p.Attachment; a != nil {
		d.Attachment = &workflows.AttachmentRef{Name: a.Name, MimeType: a.MimeType, Size: a.Size, SHA256: a.SHA256, URL: a.URL}
	}
	if p.EstimatedWaitSeconds != nil {
		d.EstimatedWait = time.Duration(*p.EstimatedWaitSeconds) * time.Second
	}
	if p.ExpiresAt != nil {
		d.ExpiresAt = *p.ExpiresAt
	}
	for _, r := range p.Receipts {
		d.Receipts = append(d.Receipts, workflows.Receipt{MessageID: r.MessageID, Status: workflows.ReceiptStatus(r.Status), At: r.At})
	}
	if s := p.Summary; s != nil {
		d.Summary = &workflows.CloseSummary{
			ClosedBy: workflows.ClosedBy(s.ClosedBy), AgentName: s.AgentName,
			WaitTime: time.Duration(s.WaitSeconds) * time.Second, ChatTime: time.Duration(s.ChatSeconds) * time.Second,
			UserMessages: s.UserMessages, AgentMessages: s.AgentMessages, RunID: s.RunID,
		}
		if s.SurveyUntil != nil {
			d.Summary.SurveyUntil = *s.SurveyUntil
		}
	}
	return d
}

// DeliveryError is a failed delivery. Permanent means the receiver rejected it
// for good (4xx other than 408 and 429); RetryAfter is the receiver's hint.
type DeliveryError struct {
	Status     int // HTTP status, 0 for transport failures
	Permanent  bool
	RetryAfter time.Duration
	Message    string
}

func (e *DeliveryError) Error() string { return e.Message }

// WebhookSink POSTs each Delivery as a signed WebhookPayload to the
// assistant. A 2xx answer means delivered; 4xx other than 408/429 is a
// permanent *DeliveryError; anything else is retryable. It is safe for
// concurrent use. The secret is never logged or put in an error.
type WebhookSink struct {
	url     string
	target  string // url without credentials or query, for errors
	secret  []byte
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
}

// maxWebhookResponse bounds how much of an answer body is read.
const maxWebhookResponse = 4 << 10

// NewWebhookSink returns a sink posting to url. timeout bounds each request
// (0 means 10s); httpClient nil means a default client (its transport, TLS
// settings etc. are used; redirects are never followed).
func NewWebhookSink(url string, secret []byte, timeout time.Duration, httpClient *http.Client) *WebhookSink {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{}
	if httpClient != nil {
		c := *httpClient // shallow copy: the caller's client is not modified
		client = &c
	}
	// Never follow redirects: a 301/302 would turn the POST into a bodiless
	// GET that "succeeds". A 3xx is reported as a (retryable) failure.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &WebhookSink{
		url: url, target: redactURL(url), secret: append([]byte(nil), secret...),
		timeout: timeout, client: client, now: time.Now,
	}
}

// Deliver implements Sink.
func (s *WebhookSink) Deliver(ctx context.Context, d workflows.Delivery) error {
	if d.ID == "" || strings.ContainsFunc(d.ID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &DeliveryError{Permanent: true, Message: fmt.Sprintf("webhook: delivery id %q is not a valid idempotency key", d.ID)}
	}
	body, err := json.Marshal(NewWebhookPayload(d))
	if err != nil {
		return &DeliveryError{Permanent: true, Message: "webhook: encode delivery: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return &DeliveryError{Permanent: true, Message: "webhook: build request for " + s.target + ": " + redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/json")
	sentAt := s.now()
	req.Header.Set(HeaderSignature, Sign(s.secret, sentAt, body))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(sentAt.Unix(), 10))
	req.Header.Set(HeaderIdempotencyKey, d.ID)

	resp, err := s.client.Do(req)
	if err != nil {
		return &DeliveryError{Message: "webhook: POST " + s.target + ": " + transportError(err)}
	}
	defer resp.Body.Close()
	// Drain (a bounded part of) the answer so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookResponse))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	de := &DeliveryError{
		Status:     resp.StatusCode,
		Permanent:  resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests,
		RetryAfter: retryAfterHeader(resp.Header.Get("Retry-After")),
		Message:    fmt.Sprintf("webhook: POST %s: %s", s.target, resp.Status),
	}
	// The answer body is deliberately left out: receivers often echo the
	// request (e.g. validation errors quoting the offending input), and this
	// message ends up in workflow history and ERROR logs, where the agent's
	// chat text must not appear.
	return de
}

// transportError describes a transport failure without the URL (which
// *url.Error would repeat, possibly with credentials in it).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return redact(err.Error())
}

// redactURL keeps scheme, host and path: user info and query may hold
// credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid webhook url)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func retryAfterHeader(v string) time.Duration {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}
