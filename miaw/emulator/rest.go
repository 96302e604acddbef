package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// uuidV4 is the lowercase UUID v4 Salesforce requires for conversationId.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

const msgBadConversationID = "Specify the conversationId in UUID format."

func (s *Server) orgMatches(id string) bool {
	org := s.cfg.OrgID
	return id == org || (len(id) >= 15 && len(org) >= 15 && id[:15] == org[:15] && (len(id) == 15 || len(id) == 18))
}

// deploymentOK reports whether name names the configured deployment; empty
// names are accepted where Salesforce treats the parameter as optional.
func (s *Server) deploymentOK(w http.ResponseWriter, name string, required bool) bool {
	if name == "" && !required {
		return true
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, "esDeveloperName is required")
		return false
	}
	if name != s.cfg.DeploymentName {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("No Embedded Service deployment found with the name %q.", name))
		return false
	}
	return true
}

// authenticate checks the bearer access token of a REST call. X-Org-Id is
// optional there: Salesforce's own sample app sends only Content-Type and
// Authorization on REST calls (src/services/messagingService.js), so a
// missing header is accepted and an invalid or expired token is 401; a
// header naming another org is still 400 "Invalid OrgId".
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*accessClaims, bool) {
	if org := r.Header.Get("X-Org-Id"); org != "" && !s.orgMatches(org) {
		writeError(w, http.StatusBadRequest, "Invalid OrgId")
		return nil, false
	}
	return s.bearerClaims(w, r)
}

// authenticateStream checks the SSE request: X-Org-Id is required there
// (miaw-api.md §2.1; the sample app's eventSourceService.js sends it), then
// the bearer access token.
func (s *Server) authenticateStream(w http.ResponseWriter, r *http.Request) (*accessClaims, bool) {
	org := r.Header.Get("X-Org-Id")
	if org == "" {
		writeError(w, http.StatusBadRequest, "OrgId is required")
		return nil, false
	}
	if !s.orgMatches(org) {
		writeError(w, http.StatusBadRequest, "Invalid OrgId")
		return nil, false
	}
	return s.bearerClaims(w, r)
}

// bearerClaims validates the Authorization: Bearer access token (401 when
// missing, invalid, revoked or expired).
func (s *Server) bearerClaims(w http.ResponseWriter, r *http.Request) (*accessClaims, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		writeError(w, http.StatusUnauthorized, "Unauthorized")
		return nil, false
	}
	c, err := s.parseAccessToken(strings.TrimSpace(raw))
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	return c, true
}

// ownedConversationLocked returns the caller's conversation or writes 404.
func (s *Server) ownedConversationLocked(w http.ResponseWriter, claims *accessClaims, id string) *conversation {
	c := s.convs[id]
	if c == nil || c.owner != claims.Subject {
		writeError(w, http.StatusNotFound, "Conversation not found")
		return nil
	}
	return c
}

// Access tokens.

type tokenRequest struct {
	OrgID                 string          `json:"orgId"`
	ESDeveloperName       string          `json:"esDeveloperName"`
	CapabilitiesVersion   string          `json:"capabilitiesVersion"`
	Platform              string          `json:"platform"`
	AuthorizationType     string          `json:"authorizationType"`
	CustomerIdentityToken string          `json:"customerIdentityToken"`
	DeviceID              string          `json:"deviceId"`
	Context               json.RawMessage `json:"context"`
}

func (s *Server) checkTokenRequest(w http.ResponseWriter, r *http.Request) (*tokenRequest, bool) {
	var req tokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	switch {
	case req.OrgID == "":
		writeError(w, http.StatusBadRequest, "OrgId is required")
		return nil, false
	case !s.orgMatches(req.OrgID):
		writeError(w, http.StatusBadRequest, "Invalid OrgId")
		return nil, false
	case req.CapabilitiesVersion == "":
		writeError(w, http.StatusBadRequest, "capabilitiesVersion is required")
		return nil, false
	case req.Platform == "":
		writeError(w, http.StatusBadRequest, "platform is required")
		return nil, false
	}
	if !s.deploymentOK(w, req.ESDeveloperName, true) {
		return nil, false
	}
	return &req, true
}

func (s *Server) handleUnauthToken(w http.ResponseWriter, r *http.Request) {
	req, ok := s.checkTokenRequest(w, r)
	if !ok {
		return
	}
	if s.cfg.RejectGuests {
		writeError(w, http.StatusForbidden, "This deployment requires user verification.")
		return
	}
	subject := "v2/iamessage/UNAUTH/NA/uid:" + newUUID()
	s.writeToken(w, subject, "UnAuth", req.DeviceID)
}

func (s *Server) handleAuthToken(w http.ResponseWriter, r *http.Request) {
	req, ok := s.checkTokenRequest(w, r)
	if !ok {
		return
	}
	if req.AuthorizationType != "JWT" {
		writeError(w, http.StatusBadRequest, `authorizationType must be "JWT"`)
		return
	}
	if req.CustomerIdentityToken == "" {
		writeError(w, http.StatusBadRequest, "customerIdentityToken is required")
		return
	}
	sub, err := s.verifyIdentityToken(req.CustomerIdentityToken)
	if err != nil && s.cfg.AnonymousOnVerificationFailure {
		s.log.Info("customer identity token rejected; answering with an anonymous subject", "reason", err.Error())
		s.writeToken(w, "v2/iamessage/ANON/NA/uid:"+newUUID(), "UnAuth", req.DeviceID)
		return
	}
	if err != nil {
		s.log.Info("customer identity token rejected", "reason", err.Error())
		writeError(w, http.StatusUnauthorized, "Invalid customerIdentityToken: "+err.Error())
		return
	}
	subject := "v2/iamessage/AUTH/" + s.cfg.KeysetName + "/uid:" + sub
	s.writeToken(w, subject, "Auth", req.DeviceID)
}

func (s *Server) writeToken(w http.ResponseWriter, subject, authMode, deviceID string) {
	s.mu.Lock()
	u := s.userLocked(subject)
	u.tokens++
	ttl := s.cfg.tokenTTL(u.tokens)
	last := s.lastEventIDLocked(subject)
	s.mu.Unlock()
	tok, err := s.issueAccessToken(subject, authMode, time.Now().Add(ttl))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if deviceID == "" {
		deviceID = newUUID()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"accessToken": tok,
		"lastEventId": last,
		"context": map[string]any{
			"deviceId":      deviceID,
			"endUser":       map[string]any{"subject": subject},
			"configuration": map[string]any{"embeddedServiceConfig": s.esConfig(authMode)},
		},
	})
}

// esConfig is the deployment configuration (token responses and
// /embeddedservice/v1/embedded-service-config).
func (s *Server) esConfig(authMode string) map[string]any {
	hidden := []map[string]any{}
	names := make([]string, 0, len(s.cfg.PrechatFields))
	for n := range s.cfg.PrechatFields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hidden = append(hidden, map[string]any{"name": n, "maxLength": s.cfg.PrechatFields[n]})
	}
	if authMode == "" {
		authMode = "UnAuth"
		if len(s.jwks) > 0 {
			authMode = "Auth"
		}
	}
	return map[string]any{
		"name":           s.cfg.DeploymentName,
		"deploymentType": "api",
		"embeddedServiceMessagingChannel": map[string]any{
			"channelAddressIdentifier": s.channelAddress,
			"authMode":                 authMode,
		},
		"forms":            []map[string]any{{"displayContext": "Conversation", "formFields": []any{}, "hiddenFormFields": hidden}},
		"choiceListConfig": map[string]any{"choiceList": []any{}},
	}
}

func (s *Server) handleContinuation(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	// Same subject, new token id and client id, same expiry (it does not extend the session).
	tok, err := s.issueAccessToken(claims.Subject, claims.AuthMode, claims.ExpiresAt.Time)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	s.mu.Lock()
	last := s.lastEventIDLocked(claims.Subject)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accessToken": tok, "lastEventId": last,
		"context": map[string]any{"endUser": map[string]any{"subject": claims.Subject}}})
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.revoked[claims.ID] = struct{}{}
	if u := s.users[claims.Subject]; u != nil {
		for sub := range u.subs {
			if sub.jti == claims.ID {
				sub.kickLocked()
				delete(u.subs, sub)
			}
		}
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Conversations.

// checkRoutingAttributes validates a routingAttributes object: string values,
// within maxLength, no script content.
func (s *Server) checkRoutingAttributes(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]string{}, nil
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, errors.New("routingAttributes must be a JSON object of strings")
	}
	out := make(map[string]string, len(generic))
	for k, v := range generic {
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("routingAttributes.%s must be a string", k)
		}
		max := DefaultAttributeMaxLength
		if m, ok := s.cfg.PrechatFields[k]; ok && m > 0 {
			max = m
		}
		if n := len([]rune(str)); n > max {
			return nil, fmt.Errorf("routingAttributes.%s is %d characters; the maximum length is %d", k, n, max)
		}
		low := strings.ToLower(str)
		if strings.Contains(low, "javascript:") || strings.Contains(low, "<script") {
			return nil, fmt.Errorf("routingAttributes.%s contains a disallowed value", k)
		}
		out[k] = str
	}
	return out, nil
}

func (s *Server) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req struct {
		ConversationID    string          `json:"conversationId"`
		ESDeveloperName   string          `json:"esDeveloperName"`
		RoutingAttributes json.RawMessage `json:"routingAttributes"`
		Language          string          `json:"language"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !uuidV4.MatchString(req.ConversationID) {
		writeError(w, http.StatusBadRequest, msgBadConversationID)
		return
	}
	if !s.deploymentOK(w, req.ESDeveloperName, true) {
		return
	}
	attrs, err := s.checkRoutingAttributes(req.RoutingAttributes)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing := s.convs[req.ConversationID]; existing != nil {
		if existing.owner != claims.Subject {
			writeError(w, http.StatusBadRequest, "A conversation with this conversationId already exists.")
			return
		}
		// A retried create is answered like the first one.
		writeJSON(w, http.StatusCreated, map[string]string{"conversationId": existing.id})
		return
	}
	c := &conversation{
		id: req.ConversationID, owner: claims.Subject, authMode: claims.AuthMode, createdAt: time.Now(),
		attrs: attrs, language: req.Language, sent: map[string]sentEntry{},
	}
	if s.cfg.Agent != nil {
		c.script = make(chan func(), 256)
		go runScript(c.script)
	}
	s.convs[c.id] = c
	u := s.userLocked(c.owner)
	u.convIDs = append(u.convIDs, c.id)
	s.stats.conversations.Add(1)
	s.startSessionLocked(c)
	writeJSON(w, http.StatusCreated, map[string]string{"conversationId": c.id})
}

func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, ok := parseLimit(w, q)
	if !ok {
		return
	}
	inclClosed := q.Get("inclClosedConvs") == "true"
	type summary struct {
		ConversationID string `json:"conversationId"`
		StartTimestamp int64  `json:"startTimestamp"`
		EndTimestamp   int64  `json:"endTimestamp"`
	}
	s.mu.Lock()
	var open, closed int
	list := []summary{}
	if u := s.users[claims.Subject]; u != nil {
		for i := len(u.convIDs) - 1; i >= 0; i-- {
			c := s.convs[u.convIDs[i]]
			if c.state == StateClosed {
				closed++
				if !inclClosed {
					continue
				}
			} else {
				open++
			}
			if len(list) < limit {
				sm := summary{ConversationID: c.id, StartTimestamp: millis(c.createdAt)}
				if !c.closedAt.IsZero() {
					sm.EndTimestamp = millis(c.closedAt)
				}
				list = append(list, sm)
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"openConversationsFound": open, "closedConversationsFound": closed, "conversations": list})
}

func (s *Server) handleRoutingStatus(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"conversationId": c.id, "routingStatus": c.routingStatus})
}

func (s *Server) handleCloseConversation(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok || !s.deploymentOK(w, r.URL.Query().Get("esDeveloperName"), false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	if c.state == StateClosed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if c.state == StateWaiting || c.state == StateActive {
		s.endSessionLocked(c, miaw.RoleEndUser)
	}
	c.state = StateClosed
	c.closedAt = time.Now()
	if c.script != nil { // a closed conversation gets no more scripted work
		close(c.script)
		c.script = nil
	}
	s.emitLocked(c, entrySpec{event: miaw.EventCloseConversation, entryType: miaw.EntryCloseConversation,
		sender: systemParticipant, displayName: "Automated Process",
		payload: map[string]any{"conversationIdentifier": c.id}})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok || !s.deploymentOK(w, r.URL.Query().Get("esDeveloperName"), false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	if c.state == StateWaiting || c.state == StateActive {
		s.endSessionLocked(c, miaw.RoleEndUser)
	}
	w.WriteHeader(http.StatusNoContent)
}

// sessionForMessageLocked applies the messaging-session rules for an incoming
// end-user message: 417 after the session ended unless isNewMessagingSession,
// which starts a new session and routing. It writes the error and returns false.
func (s *Server) sessionForMessageLocked(w http.ResponseWriter, c *conversation, newSession bool, attrs json.RawMessage, language string) bool {
	switch c.state {
	case StateClosed:
		writeError(w, http.StatusBadRequest, "The conversation is closed.")
		return false
	case StateEnded:
		if !newSession {
			writeError(w, http.StatusExpectationFailed, "The messaging session has ended. Send the message with isNewMessagingSession set to true to start a new messaging session.")
			return false
		}
		a, err := s.checkRoutingAttributes(attrs)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return false
		}
		if len(a) > 0 {
			c.attrs = a
		}
		if language != "" {
			c.language = language
		}
		s.startSessionLocked(c)
	}
	return true
}

type messageRequest struct {
	Message struct {
		ID                 string `json:"id"`
		MessageType        string `json:"messageType"`
		FileID             string `json:"fileId"`
		Text               string `json:"text"`
		InReplyToMessageID string `json:"inReplyToMessageId"`
		StaticContent      *struct {
			FormatType string `json:"formatType"`
			Text       string `json:"text"`
		} `json:"staticContent"`
		ChoicesResponse json.RawMessage `json:"choicesResponse"`
	} `json:"message"`
	ESDeveloperName       string          `json:"esDeveloperName"`
	IsNewMessagingSession bool            `json:"isNewMessagingSession"`
	RoutingAttributes     json.RawMessage `json:"routingAttributes"`
	Language              string          `json:"language"`
}

func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req messageRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	m := req.Message
	switch {
	case m.ID == "":
		writeError(w, http.StatusBadRequest, "message.id is required")
		return
	case m.MessageType == miaw.MessageTypeChoicesResponse:
		s.handleChoicesResponse(w, r, claims, req)
		return
	case m.MessageType != "" && m.MessageType != "StaticContentMessage":
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Unsupported messageType %q", m.MessageType))
		return
	case m.StaticContent == nil || m.StaticContent.FormatType != miaw.FormatText:
		writeError(w, http.StatusBadRequest, `message.staticContent.formatType must be "Text"`)
		return
	case strings.TrimSpace(m.StaticContent.Text) == "":
		writeError(w, http.StatusBadRequest, "message.staticContent.text is required")
		return
	}
	s.postUserMessage(w, r, claims, req, func(*conversation) (userMessage, bool) {
		return userMessage{
			abstract: map[string]any{"messageType": "StaticContentMessage", "id": m.ID, "inReplyToMessageId": nullable(m.InReplyToMessageID),
				"references": []any{}, "staticContent": map[string]any{"formatType": miaw.FormatText, "text": m.StaticContent.Text}},
			text: m.StaticContent.Text,
		}, true
	})
}

// userMessage is what one end-user message send adds: its abstractMessage
// and how the agent's transcript shows it.
type userMessage struct {
	abstract map[string]any
	text     string
	choice   *ChoicesResponseInfo
}

// postUserMessage is the path every end-user message send shares: the
// deployment, the caller's own conversation, a message id seen before
// answered as before, then build (under s.mu; it may refuse by writing the
// error and returning false), pacing and the messaging session, and finally
// the entry emitted, remembered by message id and handed to the agent side.
func (s *Server) postUserMessage(w http.ResponseWriter, r *http.Request, claims *accessClaims, req messageRequest, build func(c *conversation) (userMessage, bool)) {
	if !s.deploymentOK(w, req.ESDeveloperName, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	if prev, dup := c.sent[req.Message.ID]; dup {
		writeAccepted(w, prev)
		return
	}
	um, ok := build(c)
	if !ok || !s.inboundAllowedLocked(w, c) {
		return
	}
	if !s.sessionForMessageLocked(w, c, req.IsNewMessagingSession, req.RoutingAttributes, req.Language) {
		return
	}
	ts := millis(time.Now())
	sender, name := endUserParticipant(c)
	entryID := s.emitLocked(c, entrySpec{event: miaw.EventMessage, entryType: miaw.EntryMessage, sender: sender, displayName: name,
		clientTS: ts, payload: map[string]any{"abstractMessage": um.abstract, "messageReason": nil}})
	res := sentEntry{entryID: entryID, clientTimestamp: ts}
	c.sent[req.Message.ID] = res
	s.userMessageLocked(c, TranscriptEntry{EntryID: entryID, Role: miaw.RoleEndUser, Sender: name, Text: um.text,
		MessageID: req.Message.ID, At: time.Now(), Choice: um.choice})
	writeAccepted(w, res)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func writeAccepted(w http.ResponseWriter, e sentEntry) {
	writeJSON(w, http.StatusAccepted, map[string]any{"conversationEntries": []map[string]any{{"id": e.entryID, "clientTimestamp": e.clientTimestamp}}})
}

// userMessageLocked records an end-user message on the agent side: transcript,
// delivery ack if an agent is present, and the scripted agent's turn.
func (s *Server) userMessageLocked(c *conversation, te TranscriptEntry) {
	s.stats.messages.Add(1)
	c.transcript = append(c.transcript, te)
	c.userMessages++
	c.sessionMessages++
	if c.state == StateWaiting {
		c.waiting = append(c.waiting, te)
	}
	c.undelivered = append(c.undelivered, te.EntryID)
	c.unread = append(c.unread, te.EntryID)
	c.userTyping = false
	if c.state == StateActive && c.inactive {
		c.inactive = false
		s.emitSessionStatusLocked(c, miaw.SessionActive, miaw.SessionInactive, "")
	}
	if c.state == StateActive && c.agent != "" { // no one to deliver to during a stalled transfer
		s.ackLocked(c, false)
	}
	s.scriptOnUserMessageLocked(c, te)
}

// storedFile is an uploaded or agent-shared file served at /emulator/files/{id}.
type storedFile struct {
	name, mimeType string
	data           []byte
	owner          string // end-user subject that may download it
}

func (s *Server) isBlocked(name, mimeType string) bool {
	mt, _, _ := mime.ParseMediaType(mimeType)
	for _, b := range s.cfg.BlockedMimeTypes {
		if strings.EqualFold(mt, b) {
			return true
		}
	}
	ext := strings.ToLower(path.Ext(name))
	for _, b := range blockedExtensions {
		if ext == b {
			return true
		}
	}
	return false
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxFileBytes+(1<<20))
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "Send the file as multipart/form-data with the parts messageEntry and fileData.")
		return
	}
	var req messageRequest
	var haveEntry bool
	var fileName, fileType string
	var data []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is too large. The maximum size of each file is %d bytes.", s.cfg.MaxFileBytes))
				return
			}
			writeError(w, http.StatusBadRequest, "Invalid multipart body: "+err.Error())
			return
		}
		switch part.FormName() {
		case "messageEntry":
			if err := json.NewDecoder(io.LimitReader(part, 1<<20)).Decode(&req); err != nil {
				writeError(w, http.StatusBadRequest, "Invalid messageEntry: "+err.Error())
				return
			}
			haveEntry = true
		case "fileData":
			fileName = part.FileName()
			fileType = part.Header.Get("Content-Type")
			data, err = io.ReadAll(io.LimitReader(part, s.cfg.MaxFileBytes+1))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is too large. The maximum size of each file is %d bytes.", s.cfg.MaxFileBytes))
					return
				}
				writeError(w, http.StatusBadRequest, "Invalid fileData: "+err.Error())
				return
			}
			if int64(len(data)) > s.cfg.MaxFileBytes {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is too large. The maximum size of each file is %d bytes.", s.cfg.MaxFileBytes))
				return
			}
		}
		part.Close()
	}
	switch {
	case !haveEntry:
		writeError(w, http.StatusBadRequest, "The messageEntry part is required.")
		return
	case data == nil:
		writeError(w, http.StatusBadRequest, "The fileData part is required.")
		return
	case fileName == "":
		writeError(w, http.StatusBadRequest, "The fileData part must have a filename.")
		return
	case req.Message.ID == "":
		writeError(w, http.StatusBadRequest, "message.id is required")
		return
	}
	if fileType == "" {
		fileType = "application/octet-stream"
	}
	if s.isBlocked(fileName, fileType) {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("The file type %s isn't supported.", fileType))
		return
	}
	if !s.deploymentOK(w, req.ESDeveloperName, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	if prev, dup := c.sent[req.Message.ID]; dup {
		writeAccepted(w, prev)
		return
	}
	if !s.inboundAllowedLocked(w, c) {
		return
	}
	if !s.sessionForMessageLocked(w, c, req.IsNewMessagingSession, req.RoutingAttributes, req.Language) {
		return
	}
	fileID := req.Message.FileID
	if fileID == "" {
		fileID = newUUID()
	}
	s.files[fileID] = &storedFile{name: fileName, mimeType: fileType, data: data, owner: c.owner}
	sum := sha256.Sum256(data)
	ts := millis(time.Now())
	sender, name := endUserParticipant(c)
	am := map[string]any{"messageType": "StaticContentMessage", "id": req.Message.ID, "inReplyToMessageId": nullable(req.Message.InReplyToMessageID),
		"references": []any{}, "staticContent": map[string]any{"formatType": miaw.FormatAttachments, "text": nullable(req.Message.Text),
			"attachments": []map[string]any{{"id": fileID, "name": fileName, "mimeType": fileType, "url": s.fileURLLocked(fileID),
				"referenceId": fileID, "attachmentUploadResult": nil}}}}
	entryID := s.emitLocked(c, entrySpec{event: miaw.EventMessage, entryType: miaw.EntryMessage, sender: sender, displayName: name,
		clientTS: ts, payload: map[string]any{"abstractMessage": am, "messageReason": nil}})
	res := sentEntry{entryID: entryID, clientTimestamp: ts}
	c.sent[req.Message.ID] = res
	s.userMessageLocked(c, TranscriptEntry{EntryID: entryID, Role: miaw.RoleEndUser, Sender: name, Text: req.Message.Text, MessageID: req.Message.ID,
		Attachment: &FileInfo{ID: fileID, Name: fileName, MimeType: fileType, Size: len(data), SHA256: hex.EncodeToString(sum[:]), URL: s.fileURLLocked(fileID)}, At: time.Now()})
	writeAccepted(w, res)
}

func (s *Server) fileURLLocked(id string) string {
	return s.baseURL + "/emulator/files/" + id
}

func (s *Server) handleEntry(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req struct {
		EntryType string `json:"entryType"`
		ID        string `json:"id"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.EntryType != miaw.EntryTypingStarted && req.EntryType != miaw.EntryTypingStopped {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("entryType must be %s or %s", miaw.EntryTypingStarted, miaw.EntryTypingStopped))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	if c.state == StateClosed || c.state == StateEnded {
		writeError(w, http.StatusExpectationFailed, "There is no active messaging session.")
		return
	}
	started := req.EntryType == miaw.EntryTypingStarted
	c.userTyping = started
	c.presence.addTyping(UserTypingRecord{Started: started, At: time.Now()})
	event := miaw.EventTypingStopped
	if started {
		event = miaw.EventTypingStarted
	}
	sender, name := endUserParticipant(c)
	s.emitLocked(c, entrySpec{event: event, entryType: req.EntryType, sender: sender, displayName: name, noHistory: true,
		payload: map[string]any{"timestamp": millis(time.Now())}})
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handleAcks(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	var req struct {
		Acks []struct {
			ID                  string `json:"id"`
			EntryType           string `json:"entryType"`
			ConversationEntryID string `json:"conversationEntryId"`
		} `json:"acks"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req.Acks) == 0 {
		writeError(w, http.StatusBadRequest, "acks must not be empty")
		return
	}
	for i, a := range req.Acks {
		if a.EntryType != "Delivery" && a.EntryType != "Read" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf(`acks[%d].entryType must be "Delivery" or "Read"`, i))
			return
		}
		if a.ConversationEntryID == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("acks[%d].conversationEntryId is required", i))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	for _, a := range req.Acks {
		c.presence.addAck(UserAckRecord{EntryID: a.ConversationEntryID, Type: a.EntryType, At: time.Now()})
		for i := range c.transcript {
			te := &c.transcript[i]
			if te.EntryID == a.ConversationEntryID && te.Role != miaw.RoleEndUser {
				te.Delivered = true
				if a.EntryType == "Read" {
					te.Read = true
				}
			}
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handleEntries(w http.ResponseWriter, r *http.Request) {
	claims, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, ok := parseLimit(w, q)
	if !ok {
		return
	}
	direction := q.Get("direction")
	if direction == "" {
		direction = "FromEnd"
	}
	if direction != "FromEnd" && direction != "FromStart" {
		writeError(w, http.StatusBadRequest, `direction must be "FromStart" or "FromEnd"`)
		return
	}
	var start, end int64
	for name, dst := range map[string]*int64{"startTimestamp": &start, "endTimestamp": &end} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, name+" must be epoch milliseconds")
				return
			}
			*dst = n
		}
	}
	types := map[string]bool{}
	for _, t := range strings.Split(q.Get("entryTypeFilter"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.ownedConversationLocked(w, claims, r.PathValue("id"))
	if c == nil {
		return
	}
	out := []wireEntry{}
	n := len(c.history)
	for i := 0; i < n && len(out) < limit; i++ {
		h := c.history[i]
		if direction == "FromEnd" {
			h = c.history[n-1-i]
		}
		if (start > 0 && h.timestamp < start) || (end > 0 && h.timestamp > end) || (len(types) > 0 && !types[h.entry.EntryType]) {
			continue
		}
		out = append(out, h.entry)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversationEntries": out})
}

// embeddedServiceQueryOK checks the orgId and esConfigName query parameters
// of the unauthenticated /embeddedservice/v1 endpoints, answering 400 when
// they are missing or wrong.
func (s *Server) embeddedServiceQueryOK(w http.ResponseWriter, r *http.Request) bool {
	return s.embeddedServiceOrgOK(w, r) && s.deploymentOK(w, r.URL.Query().Get("esConfigName"), true)
}

// embeddedServiceOrgOK is the orgId half of embeddedServiceQueryOK.
func (s *Server) embeddedServiceOrgOK(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if q.Get("orgId") == "" {
		writeError(w, http.StatusBadRequest, "OrgId is required")
		return false
	}
	if !s.orgMatches(q.Get("orgId")) {
		writeError(w, http.StatusBadRequest, "Invalid OrgId")
		return false
	}
	return true
}

func (s *Server) handleESConfig(w http.ResponseWriter, r *http.Request) {
	if !s.embeddedServiceQueryOK(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, s.esConfig(""))
}

func (s *Server) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	s.learnBaseURL(r)
	if s.cfg.RequireAuthForFiles {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		if _, err := s.parseAccessToken(raw); err != nil {
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
	}
	s.mu.Lock()
	f := s.files[r.PathValue("id")]
	s.mu.Unlock()
	if f == nil {
		writeError(w, http.StatusNotFound, "File not found")
		return
	}
	w.Header().Set("Content-Type", f.mimeType)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.name}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.data)
}

// parseLimit reads the listing endpoints' limit query parameter (default 20,
// at most 50, as Salesforce); on a bad value it answers 400 and returns false.
func parseLimit(w http.ResponseWriter, q url.Values) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return 20, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 50 {
		writeError(w, http.StatusBadRequest, "limit must be an integer between 1 and 50")
		return 0, false
	}
	return n, true
}

// inboundAllowedLocked enforces Config.MessageRate on an end-user message
// or file: over the limit it answers 429 with the seconds until the oldest
// counted message leaves the window, and returns false.
func (s *Server) inboundAllowedLocked(w http.ResponseWriter, c *conversation) bool {
	rate := s.cfg.MessageRate
	if rate.Count <= 0 || rate.Window <= 0 {
		return true
	}
	now := time.Now()
	kept := c.inbound[:0]
	for _, at := range c.inbound {
		if now.Sub(at) < rate.Window {
			kept = append(kept, at)
		}
	}
	c.inbound = kept
	if len(c.inbound) >= rate.Count {
		s.stats.rateLimited.Add(1)
		wait := rate.Window - now.Sub(c.inbound[0])
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("More than %d messages in %s for this conversation", rate.Count, rate.Window))
		return false
	}
	c.inbound = append(c.inbound, now)
	return true
}
