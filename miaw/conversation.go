package miaw

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Endpoint templates (used in errors) — see doc.go for the full table.
const (
	epConversation       = "/iamessage/api/v2/conversation"
	epConversationByID   = "/iamessage/api/v2/conversation/{id}"
	epMessage            = "/iamessage/api/v2/conversation/{id}/message"
	epFile               = "/iamessage/api/v2/conversation/{id}/file"
	epEntry              = "/iamessage/api/v2/conversation/{id}/entry"
	epAcknowledgeEntries = "/iamessage/api/v2/conversation/{id}/acknowledge-entries"
	epEntries            = "/iamessage/api/v2/conversation/{id}/entries"
	epConversationList   = "/iamessage/api/v2/conversation/list"
	epSession            = "/iamessage/api/v2/conversation/{id}/session"
)

// DefaultLanguage is sent with isNewMessagingSession=true when the caller
// gave no language (field notes say a language must accompany it).
const DefaultLanguage = "en_US"

// CreateConversationRequest creates a conversation (and its first messaging
// session, which starts routing).
type CreateConversationRequest struct {
	// ConversationID is made by the caller: a lowercase UUID v4.
	ConversationID string
	// RoutingAttributes are the hidden pre-chat fields, a flat string map.
	RoutingAttributes map[string]string
	Language          string // e.g. "en_US"; optional
}

// ValidConversationID reports whether id is a lowercase UUID v4, the only
// form Salesforce accepts for conversationId.
func ValidConversationID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && len(id) == 36 && id == strings.ToLower(id) && u.Version() == 4 && u.Variant() == uuid.RFC4122
}

func checkConversationID(op, id string) error {
	if !ValidConversationID(id) {
		return invalidf(op, "conversation id %q must be a lowercase UUID v4", truncate(id, 64))
	}
	return nil
}

func checkUUID(op, field, id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return invalidf(op, "%s %q must be a UUID", field, truncate(id, 64))
	}
	return nil
}

func checkRoutingAttributes(op string, attrs map[string]string) error {
	for k := range attrs {
		if strings.TrimSpace(k) == "" {
			return invalidf(op, "routing attribute names must not be empty")
		}
	}
	return nil
}

// CreateConversation creates conversation req.ConversationID for userID.
// The response body (empty or {"conversationId"}) is ignored.
func (c *Client) CreateConversation(ctx context.Context, userID string, req CreateConversationRequest) error {
	const op = "create conversation"
	if err := checkConversationID(op, req.ConversationID); err != nil {
		return err
	}
	if err := checkRoutingAttributes(op, req.RoutingAttributes); err != nil {
		return err
	}
	body := createConversationBody{
		ConversationID:    req.ConversationID,
		ESDeveloperName:   c.cfg.DeploymentName,
		Language:          req.Language,
		RoutingAttributes: req.RoutingAttributes,
	}
	return c.do(ctx, userID, op, call{
		method: http.MethodPost, endpoint: epConversation, path: epConversation,
		body: jsonBody(body), contentType: "application/json",
	}, nil)
}

// TextMessage is an end-user text message.
type TextMessage struct {
	// ID is the client message id (UUID) chosen by the caller; re-sending
	// the same id is how retries stay idempotent.
	ID                 string
	Text               string
	InReplyToMessageID string
	// RoutingAttributes and Language are sent only when a new messaging
	// session has to be started (after a 417).
	RoutingAttributes map[string]string
	Language          string
	// NoNewSession makes a 417 (the messaging session has ended) an error
	// instead of re-sending with isNewMessagingSession, for clients whose
	// chat ends with the session: a new session would be routed to an agent
	// again.
	NoNewSession bool
}

// SendResult is what Salesforce acknowledged for a sent message or file.
type SendResult struct {
	EntryID         string // conversation entry id, "" if the body was empty
	ClientTimestamp int64
	NewSession      bool // true if it had to re-send with isNewMessagingSession after a 417
}

// sendResponse is the 202 body of message and file sends.
type sendResponse struct {
	ConversationEntries []struct {
		ID              string `json:"id"`
		ClientTimestamp int64  `json:"clientTimestamp"`
	} `json:"conversationEntries"`
}

func (r *sendResponse) result(newSession bool) *SendResult {
	res := &SendResult{NewSession: newSession}
	if len(r.ConversationEntries) > 0 {
		res.EntryID = r.ConversationEntries[0].ID
		res.ClientTimestamp = r.ConversationEntries[0].ClientTimestamp
	}
	return res
}

// SendMessage sends a text message. On 417 (no active messaging session) it
// re-sends the same message id with isNewMessagingSession=true plus
// msg.RoutingAttributes and msg.Language (DefaultLanguage if empty), unless
// msg.NoNewSession, which returns the 417 (IsStatus(err, 417)).
func (c *Client) SendMessage(ctx context.Context, userID, conversationID string, msg TextMessage) (*SendResult, error) {
	const op = "send message"
	if err := checkConversationID(op, conversationID); err != nil {
		return nil, err
	}
	if err := checkUUID(op, "message id", msg.ID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(msg.Text) == "" {
		return nil, invalidf(op, "text must not be empty")
	}
	if err := checkRoutingAttributes(op, msg.RoutingAttributes); err != nil {
		return nil, err
	}
	build := func(newSession bool) []byte {
		body := sendMessageBody{
			ESDeveloperName: c.cfg.DeploymentName,
			Message: textMessageBody{
				ID:                 strings.ToLower(msg.ID),
				InReplyToMessageID: msg.InReplyToMessageID,
				MessageType:        messageTypeStaticContent,
				StaticContent:      staticTextContent{FormatType: FormatText, Text: msg.Text},
			},
		}
		if newSession {
			body.IsNewMessagingSession = true
			body.RoutingAttributes = newSessionAttributes(msg.RoutingAttributes)
		}
		body.Language = sessionLanguage(newSession, msg.Language)
		return jsonBody(body)
	}
	p := conversationPath(conversationID, "/message")
	return c.sendWithNewSession(ctx, userID, op, !msg.NoNewSession, func(newSession bool) call {
		return call{method: http.MethodPost, endpoint: epMessage, path: p, body: build(newSession), contentType: "application/json"}
	})
}

// The optional session keys follow the official sample app: routingAttributes
// only for a new session, language when known and always for a new session.

// newSessionAttributes returns the routingAttributes that start a new
// messaging session: attrs, or {} when there are none (never null).
func newSessionAttributes(attrs map[string]string) map[string]string {
	if attrs == nil {
		return map[string]string{}
	}
	return attrs
}

// sessionLanguage returns the language to send: lang, or DefaultLanguage
// when a new session is started without one ("" means the key is omitted).
func sessionLanguage(newSession bool, lang string) string {
	if newSession && lang == "" {
		return DefaultLanguage
	}
	return lang
}

// sendWithNewSession posts build(false); on 417 it posts build(true) once
// if allowNew.
func (c *Client) sendWithNewSession(ctx context.Context, userID, op string, allowNew bool, build func(newSession bool) call) (*SendResult, error) {
	var out sendResponse
	err := c.do(ctx, userID, op, build(false), &out)
	if err == nil {
		return out.result(false), nil
	}
	if !allowNew || !IsStatus(err, http.StatusExpectationFailed) {
		return nil, err
	}
	c.log.Info("miaw: no active messaging session (417), re-sending with isNewMessagingSession", "op", op, "user", userID)
	out = sendResponse{}
	if err := c.do(ctx, userID, op, build(true), &out); err != nil {
		return nil, err
	}
	return out.result(true), nil
}

// File is an end-user file upload.
type File struct {
	MessageID string // client message id (UUID), as TextMessage.ID
	FileID    string // UUID; generated when empty
	Name      string // file name sent with the fileData part
	MimeType  string // sniffed from Data when empty
	Caption   string // optional text
	Data      []byte
	// RoutingAttributes, Language and NoNewSession: as in TextMessage.
	RoutingAttributes map[string]string
	Language          string
	NoNewSession      bool
}

// blockedUploadTypes are never uploaded (Salesforce rejects executables
// with 415; we fail before spending the upload).
var blockedUploadTypes = map[string]bool{
	"application/x-msdownload":                      true,
	"application/x-msdos-program":                   true,
	"application/x-dosexec":                         true,
	"application/vnd.microsoft.portable-executable": true,
	"application/x-executable":                      true,
	"application/x-elf":                             true,
	"application/x-sh":                              true,
	"application/x-bat":                             true,
	"application/java-archive":                      true,
	"application/x-ms-installer":                    true,
	"application/x-msi":                             true,
	"text/html":                                     true,
	"application/xhtml+xml":                         true,
	"image/svg+xml":                                 true,
	"text/javascript":                               true,
	"application/javascript":                        true,
}

// blockedExtensions mirror blockedUploadTypes for names whose declared type
// says nothing (application/octet-stream).
var blockedExtensions = map[string]bool{
	".exe": true, ".dll": true, ".bat": true, ".cmd": true, ".com": true, ".msi": true, ".sh": true,
	".js": true, ".jar": true, ".vbs": true, ".ps1": true, ".scr": true, ".html": true, ".htm": true, ".svg": true,
}

// checkFile validates f and returns its clean name and media type.
func (c *Client) checkFile(op string, f *File) (name, mediaType string, err error) {
	if err := checkUUID(op, "message id", f.MessageID); err != nil {
		return "", "", err
	}
	if f.FileID != "" {
		if err := checkUUID(op, "file id", f.FileID); err != nil {
			return "", "", err
		}
	}
	if len(f.Data) == 0 {
		return "", "", invalidf(op, "file is empty")
	}
	if int64(len(f.Data)) > c.cfg.MaxAttachmentBytes {
		return "", "", fmt.Errorf("%w: %s: %d bytes exceeds the %d-byte upload limit", ErrAttachmentTooLarge, op, len(f.Data), c.cfg.MaxAttachmentBytes)
	}
	name = path.Base(strings.ReplaceAll(strings.TrimSpace(f.Name), "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		return "", "", invalidf(op, "file name must not be empty")
	}
	mediaType = f.MimeType
	if mediaType == "" {
		mediaType = http.DetectContentType(f.Data)
	}
	mt, _, perr := mime.ParseMediaType(mediaType)
	if perr != nil {
		return "", "", invalidf(op, "file type %q is not a MIME type", truncate(mediaType, 64))
	}
	if blockedUploadTypes[mt] || blockedExtensions[strings.ToLower(path.Ext(name))] {
		return "", "", invalidf(op, "file type %s (%s) is not allowed", mt, path.Ext(name))
	}
	return name, mediaType, nil
}

// SendFile uploads a file as multipart/form-data: part "messageEntry"
// (application/json) and part "fileData" (the file, with its filename).
// Size (MaxAttachmentBytes) and type are checked before uploading; a 417 is
// handled as in SendMessage.
func (c *Client) SendFile(ctx context.Context, userID, conversationID string, f File) (*SendResult, error) {
	const op = "send file"
	if err := checkConversationID(op, conversationID); err != nil {
		return nil, err
	}
	name, mediaType, err := c.checkFile(op, &f)
	if err != nil {
		return nil, err
	}
	if err := checkRoutingAttributes(op, f.RoutingAttributes); err != nil {
		return nil, err
	}
	fileID := f.FileID
	if fileID == "" {
		fileID = uuid.NewString()
	}
	build := func(newSession bool) (call, error) {
		entry := fileEntryBody{
			ESDeveloperName:       c.cfg.DeploymentName,
			IsNewMessagingSession: newSession,
			Language:              sessionLanguage(newSession, f.Language),
			Message:               fileMessageBody{FileID: strings.ToLower(fileID), ID: strings.ToLower(f.MessageID), Text: f.Caption},
			RoutingAttributes:     map[string]string{}, // as in the documented example
		}
		if newSession {
			entry.RoutingAttributes = newSessionAttributes(f.RoutingAttributes)
		}
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="messageEntry"`)
		h.Set("Content-Type", "application/json")
		pw, err := w.CreatePart(h)
		if err != nil {
			return call{}, err
		}
		if _, err := pw.Write(jsonBody(entry)); err != nil {
			return call{}, err
		}
		h = textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "fileData", "filename": name}))
		h.Set("Content-Type", mediaType)
		if pw, err = w.CreatePart(h); err != nil {
			return call{}, err
		}
		if _, err := pw.Write(f.Data); err != nil {
			return call{}, err
		}
		if err := w.Close(); err != nil {
			return call{}, err
		}
		return call{method: http.MethodPost, endpoint: epFile, path: conversationPath(conversationID, "/file"),
			body: buf.Bytes(), contentType: w.FormDataContentType()}, nil
	}
	var buildErr error
	res, err := c.sendWithNewSession(ctx, userID, op, !f.NoNewSession, func(newSession bool) call {
		cl, err := build(newSession)
		if err != nil {
			buildErr = err
		}
		return cl
	})
	if buildErr != nil {
		return nil, fmt.Errorf("miaw: %s: build multipart body: %w", op, buildErr)
	}
	return res, err
}

// SendTyping sends a TypingStartedIndicator (started) or
// TypingStoppedIndicator entry.
func (c *Client) SendTyping(ctx context.Context, userID, conversationID string, started bool) error {
	const op = "send typing indicator"
	if err := checkConversationID(op, conversationID); err != nil {
		return err
	}
	entryType := EntryTypingStopped
	if started {
		entryType = EntryTypingStarted
	}
	return c.do(ctx, userID, op, call{
		method: http.MethodPost, endpoint: epEntry, path: conversationPath(conversationID, "/entry"),
		body: jsonBody(typingBody{EntryType: entryType, ID: uuid.NewString()}), contentType: "application/json",
	}, nil)
}

// AckType is the kind of acknowledgement sent.
type AckType string

const (
	AckDelivery AckType = "Delivery"
	AckRead     AckType = "Read"
)

// Ack acknowledges one received conversation entry.
type Ack struct {
	Type    AckType
	EntryID string // the received entry's identifier
}

// Acknowledge sends delivery/read acknowledgements, each with a fresh id.
func (c *Client) Acknowledge(ctx context.Context, userID, conversationID string, acks ...Ack) error {
	const op = "acknowledge entries"
	if err := checkConversationID(op, conversationID); err != nil {
		return err
	}
	if len(acks) == 0 {
		return invalidf(op, "no acknowledgements given")
	}
	body := acknowledgeBody{Acks: make([]ackBody, 0, len(acks))}
	for _, a := range acks {
		if a.Type != AckDelivery && a.Type != AckRead {
			return invalidf(op, "ack type must be %q or %q, got %q", AckDelivery, AckRead, a.Type)
		}
		if strings.TrimSpace(a.EntryID) == "" {
			return invalidf(op, "ack entry id must not be empty")
		}
		body.Acks = append(body.Acks, ackBody{ConversationEntryID: a.EntryID, EntryType: string(a.Type), ID: uuid.NewString()})
	}
	return c.do(ctx, userID, op, call{
		method: http.MethodPost, endpoint: epAcknowledgeEntries, path: conversationPath(conversationID, "/acknowledge-entries"),
		body: jsonBody(body), contentType: "application/json",
	}, nil)
}

// EntriesQuery filters ListEntries; zero fields are not sent.
type EntriesQuery struct {
	Limit          int    // 1..50
	StartTimestamp int64  // epoch ms
	EndTimestamp   int64  // epoch ms
	Direction      string // "FromStart" | "FromEnd"
	EntryTypes     []string
}

// ListEntries returns the conversation's entries as Salesforce orders them
// (newest first by default), each with its typed Payload.
func (c *Client) ListEntries(ctx context.Context, userID, conversationID string, q EntriesQuery) ([]ConversationEntry, error) {
	const op = "list entries"
	if err := checkConversationID(op, conversationID); err != nil {
		return nil, err
	}
	query := map[string][]string{}
	if q.Limit < 0 || q.Limit > 50 {
		return nil, invalidf(op, "limit must be between 1 and 50, got %d", q.Limit)
	}
	if q.Limit > 0 {
		query["limit"] = []string{strconv.Itoa(q.Limit)}
	}
	if q.StartTimestamp > 0 {
		query["startTimestamp"] = []string{strconv.FormatInt(q.StartTimestamp, 10)}
	}
	if q.EndTimestamp > 0 {
		query["endTimestamp"] = []string{strconv.FormatInt(q.EndTimestamp, 10)}
	}
	switch q.Direction {
	case "":
	case "FromStart", "FromEnd":
		query["direction"] = []string{q.Direction}
	default:
		return nil, invalidf(op, "direction must be FromStart or FromEnd, got %q", q.Direction)
	}
	if len(q.EntryTypes) > 0 {
		query["entryTypeFilter"] = []string{strings.Join(q.EntryTypes, ",")}
	}
	var out struct {
		ConversationEntries []rawEntry `json:"conversationEntries"`
	}
	if err := c.do(ctx, userID, op, call{
		method: http.MethodGet, endpoint: epEntries, path: conversationPath(conversationID, "/entries"), query: query,
	}, &out); err != nil {
		return nil, err
	}
	entries := make([]ConversationEntry, 0, len(out.ConversationEntries))
	for i, re := range out.ConversationEntries {
		e, err := re.decode()
		if err != nil {
			return nil, &Error{Op: op, Method: http.MethodGet, Endpoint: epEntries, Status: http.StatusOK,
				Message: fmt.Sprintf("malformed entry %d", i), Err: err}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// maxCatchUpPages bounds EntriesSince: 20 pages of 50 entries.
const maxCatchUpPages = 20

// EntriesSince returns the conversation's entries transcribed at or after
// sinceMillis (every entry when 0), oldest first: what a client that lost
// its place in the SSE stream (an outage longer than Salesforce's replay
// window) fetches to catch up. It pages through ListEntries 50 at a time
// (direction FromStart, each page starting at the previous page's newest
// timestamp, entries already returned skipped), for at most 1,000 entries;
// more than 50 entries with one timestamp end the paging early. Entries are
// returned with their typed Payload; EntryEvent makes events of them.
func (c *Client) EntriesSince(ctx context.Context, userID, conversationID string, sinceMillis int64) ([]ConversationEntry, error) {
	const pageSize = 50
	seen := map[string]bool{}
	var out []ConversationEntry
	start := sinceMillis
	for range maxCatchUpPages {
		page, err := c.ListEntries(ctx, userID, conversationID, EntriesQuery{Limit: pageSize, StartTimestamp: start, Direction: "FromStart"})
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, e := range page {
			if e.TranscriptedTimestamp < sinceMillis || seen[e.Identifier] {
				continue
			}
			if e.Identifier != "" {
				seen[e.Identifier] = true
			}
			out = append(out, e)
			fresh++
			start = max(start, e.TranscriptedTimestamp)
		}
		if len(page) < pageSize || fresh == 0 {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b ConversationEntry) int { return cmp.Compare(a.TranscriptedTimestamp, b.TranscriptedTimestamp) })
	return out, nil
}

// ConversationSummary is one row of ListConversations.
type ConversationSummary struct {
	ConversationID string `json:"conversationId"`
	StartTimestamp int64  `json:"startTimestamp"`
	EndTimestamp   int64  `json:"endTimestamp"` // 0 while open
}

// ConversationList is the answer of ListConversations.
type ConversationList struct {
	OpenConversationsFound   int                   `json:"openConversationsFound"`
	ClosedConversationsFound int                   `json:"closedConversationsFound"`
	Conversations            []ConversationSummary `json:"conversations"`
}

// ListConversations lists userID's conversations (limit 1..50, 0 = 20).
func (c *Client) ListConversations(ctx context.Context, userID string, includeClosed bool, limit int) (*ConversationList, error) {
	const op = "list conversations"
	if limit == 0 {
		limit = 20
	}
	if limit < 1 || limit > 50 {
		return nil, invalidf(op, "limit must be between 1 and 50, got %d", limit)
	}
	var out ConversationList
	err := c.do(ctx, userID, op, call{
		method: http.MethodGet, endpoint: epConversationList, path: epConversationList,
		query: map[string][]string{"inclClosedConvs": {strconv.FormatBool(includeClosed)}, "limit": {strconv.Itoa(limit)}},
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Routing statuses returned by RoutingStatus.
const (
	RoutingInitial      = "INITIAL"
	RoutingNeedsRouting = "NEEDS_ROUTING"
	RoutingRouted       = "ROUTED"
	RoutingTransfer     = "TRANSFER"
)

// RoutingStatus returns the conversation's routing status (INITIAL,
// NEEDS_ROUTING, ROUTED or TRANSFER). After an agent leaves, TRANSFER or
// INITIAL mean a transfer is in progress, NEEDS_ROUTING that the agent ended.
func (c *Client) RoutingStatus(ctx context.Context, userID, conversationID string) (string, error) {
	const op = "routing status"
	if err := checkConversationID(op, conversationID); err != nil {
		return "", err
	}
	var out struct {
		RoutingStatus string `json:"routingStatus"`
	}
	if err := c.do(ctx, userID, op, call{method: http.MethodGet, endpoint: epConversationByID, path: conversationPath(conversationID, "")}, &out); err != nil {
		return "", err
	}
	return out.RoutingStatus, nil
}

// EndSession ends the current messaging session but keeps the conversation
// (the next message then needs a new session, handled by SendMessage).
func (c *Client) EndSession(ctx context.Context, userID, conversationID string) error {
	const op = "end messaging session"
	if err := checkConversationID(op, conversationID); err != nil {
		return err
	}
	return c.do(ctx, userID, op, call{method: http.MethodDelete, endpoint: epSession,
		path: conversationPath(conversationID, "/session"), query: deploymentQuery(c.cfg.DeploymentName)}, nil)
}

// CloseConversation closes the conversation permanently.
func (c *Client) CloseConversation(ctx context.Context, userID, conversationID string) error {
	const op = "close conversation"
	if err := checkConversationID(op, conversationID); err != nil {
		return err
	}
	return c.do(ctx, userID, op, call{method: http.MethodDelete, endpoint: epConversationByID,
		path: conversationPath(conversationID, ""), query: deploymentQuery(c.cfg.DeploymentName)}, nil)
}
