package emulator

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// Salesforce's Conversation History API, which loads a third-party bot's
// conversation into the agent's console before the handoff
// (docs: /work/notes/historyapi-spec.md). Two endpoints on the emulator's
// one address, both enabled by Config.ConversationHistory (nil: 404
// {"code":404,"message"}):
//
//   - POST /services/oauth2/token: the connected app's OAuth 2.0 JWT bearer
//     flow. Form grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and
//     assertion=<RS256 JWT> with iss = ClientID, sub = Username, aud = the
//     emulator's base URL (with or without a trailing slash; the URL the
//     request came in on counts too) or https://login.salesforce.com or
//     https://test.salesforce.com, and exp in the future but at most 5
//     minutes ahead. 200 {"access_token","instance_url","id","token_type",
//     "scope","issued_at"} with an opaque token kept server-side for
//     Config.TokenTTL (Faults.TokenTTL when set); 400
//     {"error","error_description"} otherwise (invalid_grant,
//     unsupported_grant_type, invalid_request).
//   - POST /api/v1/conversationHistory: imports up to 5 entries of a bot
//     conversation into a conversation of this deployment. 202
//     {"success":true,"conversationIdentifier","messagingSessionId"}; errors
//     are {"code":N,"message"} as listed at handleConversationHistory.
//
// Both go through the same middleware as the MIAW REST calls, so
// Faults.ErrorRate and Faults.ThrottleRate apply (with the MIAW error body).

// ConversationHistoryConfig enables the Conversation History API (see
// Config.ConversationHistory).
type ConversationHistoryConfig struct {
	// ClientID is the connected app's consumer key: the iss of the JWT
	// bearer assertions. Required.
	ClientID string
	// Username is the integration user: the sub of the assertions. Required.
	Username string
	// ConnectedApp is the connected app's developer name, which uploads must
	// send as the AuthorizationContext header. Required.
	ConnectedApp string
	// ChannelAddressIdentifier is the messaging channel's address that
	// uploads must name; empty = the deployment's own channel address (the
	// channelAddressIdentifier of its SSE events, ChannelAddressIdentifier()).
	ChannelAddressIdentifier string
	// PublicKey verifies the assertions (RS256). nil: any RSA key of
	// Config.JWKS verifies them (the kid header, when it names one of them,
	// selects it) — in development the bridge signs both its identity
	// tokens and its assertions with one key.
	PublicKey *rsa.PublicKey
}

func (h *ConversationHistoryConfig) validate(jwks []byte) error {
	switch {
	case h == nil:
		return nil
	case strings.TrimSpace(h.ClientID) == "":
		return errors.New("client id is required")
	case strings.TrimSpace(h.Username) == "":
		return errors.New("username is required")
	case strings.TrimSpace(h.ConnectedApp) == "":
		return errors.New("connected app is required")
	case h.PublicKey == nil && len(bytes.TrimSpace(jwks)) == 0:
		return errors.New("no key verifies the JWT bearer assertions: set PublicKey or JWKS")
	}
	return nil
}

// ImportedEntry is one entry of a conversation imported with the
// Conversation History API, as the agent sees it.
type ImportedEntry struct {
	At         time.Time `json:"at"`         // the entry's clientTimestamp
	From       string    `json:"from"`       // EndUser or Chatbot
	SenderName string    `json:"senderName"` // the sender's displayName among the participants
	Text       string    `json:"text"`
}

// importedEntry is an ImportedEntry with its entryPayload id (dedupe).
type importedEntry struct {
	ImportedEntry
	id string
}

// ConversationView is what GET /emulator/v1/conversations/{id} answers: the
// conversation's info and its imported history (oldest first, never null).
type ConversationView struct {
	ConversationInfo
	ImportedHistory []ImportedEntry `json:"importedHistory"`
}

func (s *Server) conversationView(conversationID string) (ConversationView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversationID]
	if c == nil {
		return ConversationView{}, fmt.Errorf("%w: %s", ErrNotFound, conversationID)
	}
	return ConversationView{ConversationInfo: infoLocked(c), ImportedHistory: importedLocked(c)}, nil
}

func importedLocked(c *conversation) []ImportedEntry {
	out := make([]ImportedEntry, len(c.imported))
	for i, e := range c.imported {
		out[i] = e.ImportedEntry
	}
	return out
}

// ImportedHistory returns the entries imported into a conversation with the
// Conversation History API, oldest first (ErrNotFound for an unknown
// conversation).
func (s *Server) ImportedHistory(conversationID string) ([]ImportedEntry, error) {
	v, err := s.conversationView(conversationID)
	return v.ImportedHistory, err
}

// SetConversationHistoryRefused makes the history upload answer 403 code
// 10057 (the org has no access to the API) while refused is true.
func (s *Server) SetConversationHistoryRefused(refused bool) {
	s.historyRefused.Store(refused)
	s.log.Info("conversation history API", "refused", refused)
}

// ConversationHistoryRefused reports the SetConversationHistoryRefused switch.
func (s *Server) ConversationHistoryRefused() bool { return s.historyRefused.Load() }

// RevokeConversationHistoryTokens forgets every OAuth token issued by
// /services/oauth2/token: the next upload with one answers 401 code 10004,
// as after an expiry.
func (s *Server) RevokeConversationHistoryTokens() {
	s.mu.Lock()
	clear(s.oauthTokens)
	s.mu.Unlock()
}

// ChannelAddressIdentifier is the deployment's channel address (the
// channelAddressIdentifier of its SSE events), which history uploads name
// unless ConversationHistoryConfig.ChannelAddressIdentifier says otherwise.
func (s *Server) ChannelAddressIdentifier() string { return s.channelAddress }

func (s *Server) historyChannelAddress() string {
	if a := s.cfg.ConversationHistory.ChannelAddressIdentifier; a != "" {
		return a
	}
	return s.channelAddress
}

// writeHistoryDisabled answers an endpoint of a disabled API.
func writeHistoryDisabled(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, historyError{Code: http.StatusNotFound,
		Message: "Not Found: the Conversation History API is not enabled on this emulator (Config.ConversationHistory)"})
}

// The OAuth token endpoint.

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// maxAssertionAhead is how far in the future an assertion's exp may be.
const maxAssertionAhead = 5 * time.Minute

func writeOAuthError(w http.ResponseWriter, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": description})
}

func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	h := s.cfg.ConversationHistory
	if h == nil {
		writeHistoryDisabled(w)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, "invalid_request", "send the parameters as application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, "invalid_request", "the form body cannot be read")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != jwtBearerGrant {
		writeOAuthError(w, "unsupported_grant_type", "this endpoint only serves the JWT bearer grant ("+jwtBearerGrant+")")
		return
	}
	assertion := r.PostForm.Get("assertion")
	if assertion == "" {
		writeOAuthError(w, "invalid_request", "the assertion parameter is missing")
		return
	}
	if err := s.verifyAssertion(r, assertion); err != nil {
		s.log.Debug("conversation history: token refused", "reason", err.Error())
		writeOAuthError(w, "invalid_grant", err.Error())
		return
	}
	tok, err := s.issueOAuthToken()
	if err != nil {
		s.log.Error("conversation history: issue token", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "cannot issue a token"})
		return
	}
	base := s.ownBaseURL(r)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"instance_url": base,
		"id":           base + "/id/" + s.cfg.OrgID + "/" + agentSubjectFor(h.Username),
		"token_type":   "Bearer",
		"scope":        "interaction_api api",
		"issued_at":    strconv.FormatInt(millis(time.Now()), 10),
	})
}

// ownBaseURL is the emulator's base URL (as learned by learnBaseURL), or
// else the one the request came in on.
func (s *Server) ownBaseURL(r *http.Request) string {
	s.mu.Lock()
	base := s.baseURL
	s.mu.Unlock()
	if base == "" {
		base = oauthRequestOrigin(r)
	}
	return base
}

func oauthRequestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// verifyAssertion checks a JWT bearer assertion; its error is the
// error_description.
func (s *Server) verifyAssertion(r *http.Request, raw string) error {
	h := s.cfg.ConversationHistory
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if h.PublicKey != nil {
			return h.PublicKey, nil
		}
		if kid, _ := t.Header["kid"].(string); kid != "" {
			if k, ok := s.jwks[kid]; ok {
				return k, nil
			}
		}
		set := jwt.VerificationKeySet{}
		for _, k := range s.jwks {
			set.Keys = append(set.Keys, k)
		}
		if len(set.Keys) == 0 {
			return nil, errors.New("no key configured")
		}
		return set, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return errors.New("the assertion has expired")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errors.New("the assertion has no exp claim")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return errors.New("the assertion's signature does not verify with the connected app's certificate")
	case err != nil:
		return errors.New("the assertion is malformed, not signed with RS256 or not valid yet")
	}
	exp, _ := claims.GetExpirationTime()
	if exp == nil || time.Until(exp.Time) > maxAssertionAhead {
		return errors.New("the assertion's exp is more than 5 minutes ahead")
	}
	if iss, _ := claims.GetIssuer(); iss != h.ClientID {
		return errors.New("the assertion's iss is not the connected app's consumer key")
	}
	if sub, _ := claims.GetSubject(); sub != h.Username {
		return errors.New("the assertion's sub is not the integration user")
	}
	auds, _ := claims.GetAudience()
	want := []string{s.ownBaseURL(r), oauthRequestOrigin(r), "https://login.salesforce.com", "https://test.salesforce.com"}
	for _, a := range auds {
		a = strings.TrimSuffix(a, "/")
		for _, wnt := range want {
			if strings.EqualFold(a, strings.TrimSuffix(wnt, "/")) {
				return nil
			}
		}
	}
	return errors.New("the assertion's aud is not this login URL")
}

func oauthTokenKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// issueOAuthToken mints an opaque token valid for the access-token lifetime.
func (s *Server) issueOAuthToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := s.cfg.OrgID + "!" + base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.oauthTokens {
		if !now.Before(exp) {
			delete(s.oauthTokens, k)
		}
	}
	s.oauthTokens[oauthTokenKey(tok)] = now.Add(s.cfg.tokenTTL(1))
	return tok, nil
}

func (s *Server) oauthTokenValid(tok string) bool {
	if tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.oauthTokens[oauthTokenKey(tok)]
	return ok && time.Now().Before(exp)
}

// The upload endpoint.

// historyError is the Interaction Service error body.
type historyError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// historyFailure is a refused upload: HTTP status, error code, message.
type historyFailure struct {
	status, code int
	message      string
}

func historyFail(status, code int, format string, args ...any) *historyFailure {
	return &historyFailure{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func historyBad(code int, format string, args ...any) *historyFailure {
	return historyFail(http.StatusBadRequest, code, format, args...)
}

// Wire shapes of an upload.
type historyRequest struct {
	ChannelAddressIdentifier string               `json:"channelAddressIdentifier"`
	ConversationIdentifier   string               `json:"conversationIdentifier"`
	ConversationParticipants []historyParticipant `json:"conversationParticipants"`
	ConversationEntries      []historyEntryIn     `json:"conversationEntries"`
	MessagingSession         json.RawMessage      `json:"messagingSession"`
}

type historySubject struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	AppType string `json:"appType"`
}

type historyParticipant struct {
	DisplayName string         `json:"displayName"`
	Participant historySubject `json:"participant"`
	JoinedTime  int64          `json:"joinedTime"`
	LeftTime    *int64         `json:"leftTime"`
}

type historyEntryIn struct {
	ClientTimestamp int64          `json:"clientTimestamp"`
	Sender          historySubject `json:"sender"`
	EntryPayload    struct {
		EntryType       string `json:"entryType"`
		ID              string `json:"id"`
		AbstractMessage struct {
			MessageType   string `json:"messageType"`
			ID            string `json:"id"`
			StaticContent struct {
				FormatType string `json:"formatType"`
				Text       string `json:"text"`
			} `json:"staticContent"`
		} `json:"abstractMessage"`
	} `json:"entryPayload"`
}

// Limits of an upload.
const (
	maxHistoryParticipants = 3
	maxHistoryEntries      = 5
	maxHistoryAge          = 24 * time.Hour
	maxHistoryAhead        = 5 * time.Minute // clock skew tolerated on clientTimestamp
)

// handleConversationHistory serves POST /api/v1/conversationHistory. Checks
// in order, with the HTTP status and error code of a refusal:
//
//	Authorization: Bearer <token from /services/oauth2/token>   401 10004
//	OrgId: the org id (15 or 18 characters), missing or other   400 10016
//	AuthorizationContextType: EmbeddedMessagingChannel          400 10093
//	AuthorizationContext: ConnectedApp                          403 10005
//	RequestId present                                           400 10016
//	Content-Type application/json                               400 10016
//	SetConversationHistoryRefused(true)                         403 10057
//	empty body / not JSON / wrong types                         400 10100 / 10078
//	a "messagingSession" member (environment not ready)         400 10063
//	channelAddressIdentifier empty / not the channel's          400 10052 / 10069
//	conversationIdentifier empty / unknown to the deployment    400 10018 / 404 10018
//	participants: not 1..3, joinedTime missing                  400 10053
//	  role not EndUser or Chatbot                               400 10043
//	  subject empty                                             400 10054
//	  same role and subject twice                               400 10101
//	  EndUser with a leftTime or appType other than iamessage   400 10065
//	  no EndUser / more than one                                400 10042 / 10044
//	  Chatbot without leftTime / leftTime not after joinedTime  400 10066 / 10067
//	entries: not 1..5                                           400 10078
//	  sender not among the participants (subject and role)      400 10068
//	  clientTimestamp missing, older than 24 h or > 5 min ahead 400 10046
//	  entryType other than Message                              400 10045
//	  entryPayload.id or abstractMessage.id empty               400 10059
//	  messageType other than StaticContentMessage               400 10047
//	  formatType other than Text                                400 10048
//	  empty text                                                400 10049
//
// Unknown members are ignored. Accepted entries are kept on the
// conversation, deduplicated by entryPayload.id and ordered by
// clientTimestamp; the answer is 202 with the conversation's
// messagingSessionId (the messaging session it had at its first import,
// the same for every later upload).
func (s *Server) handleConversationHistory(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ConversationHistory == nil {
		writeHistoryDisabled(w)
		return
	}
	out, f := s.importHistory(w, r)
	if f != nil {
		s.stats.historyRefused.Add(1)
		s.log.Debug("conversation history upload refused", "status", f.status, "code", f.code, "reason", f.message)
		writeJSON(w, f.status, historyError{Code: f.code, Message: f.message})
		return
	}
	s.stats.historyAccepted.Add(1)
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Server) importHistory(w http.ResponseWriter, r *http.Request) (map[string]any, *historyFailure) {
	h := s.cfg.ConversationHistory
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.oauthTokenValid(strings.TrimSpace(tok)) {
		return nil, historyFail(http.StatusUnauthorized, 10004, "The access token is missing, invalid or expired.")
	}
	if org := r.Header.Get("OrgId"); org == "" || !s.orgMatches(org) {
		return nil, historyBad(10016, "The OrgId header must name this org (15- or 18-character id).")
	}
	if t := r.Header.Get("AuthorizationContextType"); t != "EmbeddedMessagingChannel" {
		return nil, historyBad(10093, "The AuthorizationContextType header must be EmbeddedMessagingChannel.")
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("AuthorizationContext")), []byte(h.ConnectedApp)) != 1 {
		return nil, historyFail(http.StatusForbidden, 10005, "The AuthorizationContext header does not name the connected app the token was issued to.")
	}
	if strings.TrimSpace(r.Header.Get("RequestId")) == "" {
		return nil, historyBad(10016, "The RequestId header is required.")
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return nil, historyBad(10016, "The Content-Type header must be application/json.")
	}
	if s.historyRefused.Load() {
		return nil, historyFail(http.StatusForbidden, 10057, "This org cannot use the Conversation History API: it is open only to Bring Your Own Channel for CCaaS partners. Ask your Salesforce admin.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, historyBad(10078, "The request body cannot be read (at most 1 MiB).")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, historyBad(10100, "The request body is empty.")
	}
	var req historyRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, historyBad(10078, "The request body is not a valid history payload: %v", err)
	}
	if len(req.MessagingSession) > 0 {
		return nil, historyBad(10063, "This environment cannot attach a messaging session to a history upload: leave out messagingSession.")
	}
	switch {
	case req.ChannelAddressIdentifier == "":
		return nil, historyBad(10052, "channelAddressIdentifier is required.")
	case req.ChannelAddressIdentifier != s.historyChannelAddress():
		return nil, historyBad(10069, "channelAddressIdentifier does not name the messaging channel of this authorization context.")
	case req.ConversationIdentifier == "":
		return nil, historyBad(10018, "conversationIdentifier is required.")
	}
	s.mu.Lock()
	known := s.convs[req.ConversationIdentifier] != nil
	s.mu.Unlock()
	if !known {
		return nil, historyFail(http.StatusNotFound, 10018, "No conversation %s on this channel.", req.ConversationIdentifier)
	}
	names, f := checkHistoryParticipants(req.ConversationParticipants)
	if f != nil {
		return nil, f
	}
	entries, f := checkHistoryEntries(req.ConversationEntries, names, time.Now())
	if f != nil {
		return nil, f
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[req.ConversationIdentifier]
	if c == nil {
		return nil, historyFail(http.StatusNotFound, 10018, "No conversation %s on this channel.", req.ConversationIdentifier)
	}
	if c.importedIDs == nil {
		c.importedIDs = map[string]struct{}{}
	}
	added := 0
	for _, e := range entries {
		if _, dup := c.importedIDs[e.id]; dup {
			continue
		}
		c.importedIDs[e.id] = struct{}{}
		c.imported = append(c.imported, e)
		added++
	}
	slices.SortStableFunc(c.imported, func(a, b importedEntry) int { return a.At.Compare(b.At) })
	if c.historySessionID == "" {
		c.historySessionID = c.sessionID
		if c.historySessionID == "" {
			c.historySessionID = sfID("0Mw")
		}
	}
	s.log.Info("conversation history imported", "conversation", c.id, "entries", len(entries), "new", added)
	return map[string]any{"success": true, "conversationIdentifier": c.id, "messagingSessionId": c.historySessionID}, nil
}

func participantKey(p historySubject) string { return p.Role + "\x00" + p.Subject }

// checkHistoryParticipants validates the participants; it returns their
// display names by role and subject.
func checkHistoryParticipants(ps []historyParticipant) (map[string]string, *historyFailure) {
	if len(ps) < 1 || len(ps) > maxHistoryParticipants {
		return nil, historyBad(10053, "conversationParticipants must list 1 to %d participants, got %d.", maxHistoryParticipants, len(ps))
	}
	names := map[string]string{}
	endUsers := 0
	for i, p := range ps {
		switch {
		case p.Participant.Role != miaw.RoleEndUser && p.Participant.Role != miaw.RoleChatbot:
			return nil, historyBad(10043, "conversationParticipants[%d]: the role must be EndUser or Chatbot.", i)
		case strings.TrimSpace(p.Participant.Subject) == "":
			return nil, historyBad(10054, "conversationParticipants[%d]: the participant's subject is empty.", i)
		case p.JoinedTime <= 0:
			return nil, historyBad(10053, "conversationParticipants[%d]: joinedTime (epoch milliseconds) is required.", i)
		}
		k := participantKey(p.Participant)
		if _, dup := names[k]; dup {
			return nil, historyBad(10101, "conversationParticipants[%d]: the same participant is listed twice.", i)
		}
		names[k] = p.DisplayName
		if p.Participant.Role == miaw.RoleEndUser {
			endUsers++
			if p.LeftTime != nil || p.Participant.AppType != "iamessage" {
				return nil, historyBad(10065, "conversationParticipants[%d]: an end user stays in the conversation (no leftTime) and has appType iamessage.", i)
			}
			continue
		}
		if p.LeftTime == nil {
			return nil, historyBad(10066, "conversationParticipants[%d]: a chatbot that handed the conversation over needs a leftTime.", i)
		}
		if *p.LeftTime <= p.JoinedTime {
			return nil, historyBad(10067, "conversationParticipants[%d]: joinedTime must be before leftTime.", i)
		}
	}
	switch {
	case endUsers == 0:
		return nil, historyBad(10042, "conversationParticipants must include the end user.")
	case endUsers > 1:
		return nil, historyBad(10044, "conversationParticipants must include only one end user.")
	}
	return names, nil
}

// checkHistoryEntries validates the entries against the participants.
func checkHistoryEntries(es []historyEntryIn, names map[string]string, now time.Time) ([]importedEntry, *historyFailure) {
	if len(es) < 1 || len(es) > maxHistoryEntries {
		return nil, historyBad(10078, "conversationEntries must hold 1 to %d entries, got %d.", maxHistoryEntries, len(es))
	}
	out := make([]importedEntry, 0, len(es))
	for i, e := range es {
		name, ok := names[participantKey(e.Sender)]
		if !ok {
			return nil, historyBad(10068, "conversationEntries[%d]: the sender is not one of conversationParticipants.", i)
		}
		at := time.UnixMilli(e.ClientTimestamp)
		switch {
		case e.ClientTimestamp <= 0:
			return nil, historyBad(10046, "conversationEntries[%d]: clientTimestamp (epoch milliseconds) is required.", i)
		case at.Before(now.Add(-maxHistoryAge)):
			return nil, historyBad(10046, "conversationEntries[%d]: clientTimestamp is more than 24 hours old; it cannot be imported.", i)
		case at.After(now.Add(maxHistoryAhead)):
			return nil, historyBad(10046, "conversationEntries[%d]: clientTimestamp is in the future.", i)
		}
		p := e.EntryPayload
		am := p.AbstractMessage
		switch {
		case p.EntryType != miaw.EntryMessage:
			return nil, historyBad(10045, "conversationEntries[%d]: entryType must be Message.", i)
		case p.ID == "" || am.ID == "":
			return nil, historyBad(10059, "conversationEntries[%d]: entryPayload.id and abstractMessage.id are required.", i)
		case am.MessageType != "StaticContentMessage":
			return nil, historyBad(10047, "conversationEntries[%d]: messageType must be StaticContentMessage.", i)
		case am.StaticContent.FormatType != "Text":
			return nil, historyBad(10048, "conversationEntries[%d]: formatType must be Text.", i)
		case strings.TrimSpace(am.StaticContent.Text) == "":
			return nil, historyBad(10049, "conversationEntries[%d]: the text is empty.", i)
		}
		out = append(out, importedEntry{id: p.ID, ImportedEntry: ImportedEntry{
			At: at.UTC(), From: e.Sender.Role, SenderName: name, Text: am.StaticContent.Text,
		}})
	}
	return out, nil
}
