package miaw

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
)

// Conversation History API (Interaction Service API): loads the assistant's
// conversation with the end user into the agent's console. See doc.go and
// notes/historyapi-spec.md for the wire contract.

// HistoryBatchSize is the most entries one conversationHistory call carries.
const HistoryBatchSize = 5

const (
	epHistoryToken  = "/services/oauth2/token"
	epHistoryUpload = "/api/v1/conversationHistory"

	// historyMaxAge is how old an entry may be: Salesforce refuses to import
	// anything older than 24 hours.
	historyMaxAge = 24 * time.Hour
	// historyAssertionTTL is the lifetime of the JWT bearer assertion.
	historyAssertionTTL = 3 * time.Minute
	// historyBotSubject is the Chatbot participant's subject.
	historyBotSubject = "liveagent-bridge-assistant"
	// historyDefaultBotName is the Chatbot's display name when none is given.
	historyDefaultBotName = "Assistant"
	// historyAuthContextType is the AuthorizationContextType header value.
	historyAuthContextType = "EmbeddedMessagingChannel"
	opHistoryToken         = "history access token"
	opHistoryUpload        = "upload history"
)

// historyIDSpace is the UUIDv5 namespace of the stable entry ids.
var historyIDSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/liveagent-bridge/liveagent/miaw/history"))

// HistoryConfig configures a HistoryClient.
type HistoryConfig struct {
	BaseURL                  string       // SCRT base URL, as Config.BaseURL (same https/host rules unless AllowAnyHost)
	AllowAnyHost             bool         // emulator/dev only: http:// and any host, for both BaseURL and LoginURL
	OrgID                    string       // 15 or 18 chars starting 00D; sent in its 15-char form in the OrgId header
	ChannelAddressIdentifier string       // MessagingChannel.ChannelAddressIdentifier
	ConnectedApp             string       // the connected app's developer name: the AuthorizationContext header
	LoginURL                 string       // OAuth host, e.g. https://login.salesforce.com, https://test.salesforce.com or a My Domain URL; https unless AllowAnyHost
	ClientID                 string       // the connected app's consumer key (JWT iss)
	Username                 string       // the integration user the connected app pre-authorizes (JWT sub)
	PrivateKeyFile           string       // PEM RSA private key (PKCS#1 or PKCS#8, >= 2048 bits) of the connected app's certificate
	HTTPClient               *http.Client // optional; default a client with a 30 s timeout
}

// normalized returns c with strings trimmed and URLs without trailing slash.
func (c HistoryConfig) normalized() HistoryConfig {
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	c.LoginURL = strings.TrimRight(strings.TrimSpace(c.LoginURL), "/")
	c.OrgID = strings.TrimSpace(c.OrgID)
	c.ChannelAddressIdentifier = strings.TrimSpace(c.ChannelAddressIdentifier)
	c.ConnectedApp = strings.TrimSpace(c.ConnectedApp)
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.Username = strings.TrimSpace(c.Username)
	c.PrivateKeyFile = strings.TrimSpace(c.PrivateKeyFile)
	return c
}

func historyFieldError(field, format string, args ...any) error {
	return fmt.Errorf("miaw: HistoryConfig.%s %s", field, fmt.Sprintf(format, args...))
}

// Validate reports the first invalid field as one line naming it, e.g.
// "miaw: HistoryConfig.ClientID is empty". It does not read the key file.
func (c HistoryConfig) Validate() error {
	c = c.normalized()
	if err := checkHistoryURL("BaseURL", c.BaseURL, c.AllowAnyHost, true); err != nil {
		return err
	}
	if c.OrgID == "" {
		return historyFieldError("OrgID", "is empty")
	}
	if !validOrgID(c.OrgID) {
		return historyFieldError("OrgID", "must start with %q and be 15 or 18 letters or digits (got %q)", "00D", truncate(c.OrgID, 40))
	}
	if c.ChannelAddressIdentifier == "" {
		return historyFieldError("ChannelAddressIdentifier", "is empty")
	}
	if !validHeaderText(c.ChannelAddressIdentifier) {
		return historyFieldError("ChannelAddressIdentifier", "must be printable ASCII without spaces")
	}
	if c.ConnectedApp == "" {
		return historyFieldError("ConnectedApp", "is empty")
	}
	if !isDeveloperName(c.ConnectedApp) {
		return historyFieldError("ConnectedApp", "must be a developer name (letters, digits, underscores), got %q", truncate(c.ConnectedApp, 80))
	}
	if err := checkHistoryURL("LoginURL", c.LoginURL, c.AllowAnyHost, false); err != nil {
		return err
	}
	if c.ClientID == "" {
		return historyFieldError("ClientID", "is empty")
	}
	if c.Username == "" {
		return historyFieldError("Username", "is empty")
	}
	if c.PrivateKeyFile == "" {
		return historyFieldError("PrivateKeyFile", "is empty")
	}
	return nil
}

// checkHistoryURL checks an absolute base URL without path, query or
// credentials: https (http too with allowAny) and, when scrt is set and
// allowAny is not, a host ending in salesforce-scrt.com.
func checkHistoryURL(field, raw string, allowAny, scrt bool) error {
	if raw == "" {
		return historyFieldError(field, "is empty")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return historyFieldError(field, "must be an absolute URL like https://host, got %q", truncate(raw, 200))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Path != "" {
		return historyFieldError(field, "must have no credentials, path, query or fragment, got %q", truncate(u.Redacted(), 200))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowAny:
	case allowAny:
		return historyFieldError(field, "must use http or https, got %q", u.Scheme)
	default:
		return historyFieldError(field, "must use https (http only with AllowAnyHost), got %q", truncate(raw, 200))
	}
	if scrt && !allowAny {
		if h := strings.ToLower(u.Hostname()); !strings.HasSuffix(h, scrtHostSuffix) {
			return historyFieldError(field, "host %q must end in salesforce-scrt.com (set AllowAnyHost for the emulator)", h)
		}
	}
	return nil
}

// validHeaderText reports whether s can be sent as-is in a header or JSON
// identifier: printable ASCII, no spaces.
func validHeaderText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// HistoryClient uploads assistant conversations with the Conversation
// History API. It is safe for concurrent use; all uploads share one access
// token, minted with the connected app's JWT bearer flow and kept until
// Salesforce rejects it (the token answer carries no expiry).
type HistoryClient struct {
	cfg   HistoryConfig
	orgID string // 15-character form
	key   *rsa.PrivateKey
	http  *http.Client
	log   *slog.Logger
	now   func() time.Time

	mu     sync.Mutex
	token  string // cached access token; "" when none
	flight singleflight.Group
}

// HistoryOption customises NewHistoryClient.
type HistoryOption func(*HistoryClient)

// WithHistoryLogger sets the logger (default slog.Default()). Tokens, the
// assertion, keys and message texts are never logged.
func WithHistoryLogger(l *slog.Logger) HistoryOption {
	return func(c *HistoryClient) {
		if l != nil {
			c.log = l
		}
	}
}

// NewHistoryClient validates cfg, reads the private key and returns a
// client. It makes no network call.
func NewHistoryClient(cfg HistoryConfig, opts ...HistoryOption) (*HistoryClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.normalized()
	key, err := loadPrivateKey(cfg.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	c := &HistoryClient{
		cfg:   cfg,
		orgID: Config{OrgID: cfg.OrgID}.orgID15(),
		key:   key,
		http:  cfg.HTTPClient,
		log:   slog.Default(),
		now:   time.Now,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultHTTPTimeout}
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// HistoryEntry is one message of the assistant conversation.
type HistoryEntry struct {
	ID       string    // optional caller id (unused on the wire except as input to the stable id)
	FromUser bool      // true: the end user said it; false: the assistant
	Text     string    // the message text; must not be blank
	At       time.Time // zero when unknown
}

// HistoryUpload is one assistant conversation to load into a MIAW
// conversation.
type HistoryUpload struct {
	ConversationID string         // the MIAW conversation id (UUID)
	UserSubject    string         // the end user's identifier (our userId)
	UserName       string         // display name; default UserSubject
	BotName        string         // display name of the assistant; default "Assistant"
	HandoffAt      time.Time      // when the assistant handed over: the Chatbot's leftTime; required
	Entries        []HistoryEntry // oldest first, at least 1
}

// Upload sends u's entries newest first in batches of at most 5
// (HistoryBatchSize). It skips the first `sent` entries counted from the
// newest (a resumed upload), and calls progress (if non-nil) after each
// accepted batch with the total number sent so far. It returns the
// messagingSessionId of the last answer ("" when nothing was left to send).
//
// Each entry gets a stable id (derived from the conversation id, its index
// and its ID) and a timestamp: its At, or one derived from HandoffAt, forced
// strictly increasing from oldest to newest and no later than HandoffAt. The
// whole upload is refused (an error wrapping ErrInvalidRequest, before any
// call) when the input is invalid or an entry is older than 24 hours. A 401
// drops the cached token, mints one and retries the batch once. Errors are
// *Error (IsRetryable: 429, 5xx and network errors).
func (c *HistoryClient) Upload(ctx context.Context, u HistoryUpload, sent int, progress func(sent int)) (string, error) {
	p, err := c.plan(u, sent)
	if err != nil {
		return "", err
	}
	var sessionID string
	total := sent
	for start := sent; start < len(p.entries); start += HistoryBatchSize {
		batch := p.entries[start:min(start+HistoryBatchSize, len(p.entries))]
		body := jsonBody(historyRequest{
			ChannelAddressIdentifier: c.cfg.ChannelAddressIdentifier,
			ConversationIdentifier:   u.ConversationID,
			ConversationParticipants: p.participants,
			ConversationEntries:      batch,
		})
		sid, err := c.uploadBatch(ctx, body)
		if err != nil {
			c.log.Debug("miaw: history batch failed", "conversation", u.ConversationID, "sent", total, "batch", len(batch), "error", err)
			return "", err
		}
		sessionID = sid
		total += len(batch)
		c.log.Debug("miaw: history batch accepted", "conversation", u.ConversationID, "sent", total, "of", len(p.entries))
		if progress != nil {
			progress(total)
		}
	}
	return sessionID, nil
}

// historyPlan is an upload's wire content: entries newest first.
type historyPlan struct {
	participants []historyParticipant
	entries      []historyEntryWire
}

// plan checks u and sent and builds the wire entries.
func (c *HistoryClient) plan(u HistoryUpload, sent int) (*historyPlan, error) {
	const op = opHistoryUpload
	if err := checkConversationID(op, u.ConversationID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(u.UserSubject) == "" {
		return nil, invalidf(op, "user subject is empty")
	}
	if len(u.UserSubject) > 255 {
		return nil, invalidf(op, "user subject must be at most 255 characters")
	}
	if u.HandoffAt.IsZero() {
		return nil, invalidf(op, "handoff time is missing")
	}
	n := len(u.Entries)
	if n == 0 {
		return nil, invalidf(op, "no entries")
	}
	if sent < 0 || sent > n {
		return nil, invalidf(op, "sent = %d is outside 0..%d", sent, n)
	}
	for i, e := range u.Entries {
		if strings.TrimSpace(e.Text) == "" {
			return nil, invalidf(op, "entry %d has no text", i)
		}
	}

	// Timestamps, newest first: At (or the next newer one's time, starting
	// at the handoff) capped so they strictly increase up to the handoff.
	left := u.HandoffAt.UnixMilli()
	ts := make([]int64, n)
	limit := left
	for i := n - 1; i >= 0; i-- {
		t := limit
		if at := u.Entries[i].At; !at.IsZero() && at.UnixMilli() < limit {
			t = at.UnixMilli()
		}
		ts[i] = t
		limit = t - 1
	}
	joined := ts[0] - 1 // before every entry, so joinedTime < leftTime
	if oldest := c.now().Add(-historyMaxAge).UnixMilli(); joined < oldest {
		return nil, invalidf(op, "the conversation starts %s ago; Salesforce imports nothing older than %s",
			time.Duration(c.now().UnixMilli()-joined)*time.Millisecond, historyMaxAge)
	}

	userName := strings.TrimSpace(u.UserName)
	if userName == "" {
		userName = u.UserSubject
	}
	botName := strings.TrimSpace(u.BotName)
	if botName == "" {
		botName = historyDefaultBotName
	}
	user := historyParty{Subject: u.UserSubject, Role: "EndUser", AppType: "iamessage"}
	bot := historyParty{Subject: historyBotSubject, Role: "Chatbot", AppType: "chatbot"}
	p := &historyPlan{
		participants: []historyParticipant{
			{DisplayName: userName, Participant: user, JoinedTime: joined},
			{DisplayName: botName, Participant: bot, JoinedTime: joined, LeftTime: &left},
		},
		entries: make([]historyEntryWire, 0, n),
	}
	for i := n - 1; i >= 0; i-- {
		e := u.Entries[i]
		sender := bot
		if e.FromUser {
			sender = user
		}
		w := historyEntryWire{ClientTimestamp: ts[i], Sender: sender}
		w.EntryPayload.EntryType = "Message"
		w.EntryPayload.ID = historyID(u.ConversationID, i, e.ID, "entry")
		w.EntryPayload.AbstractMessage.MessageType = "StaticContentMessage"
		w.EntryPayload.AbstractMessage.ID = historyID(u.ConversationID, i, e.ID, "message")
		w.EntryPayload.AbstractMessage.StaticContent.FormatType = "Text"
		w.EntryPayload.AbstractMessage.StaticContent.Text = e.Text
		p.entries = append(p.entries, w)
	}
	return p, nil
}

// historyID derives a stable UUID (v5) for entry index of a conversation,
// so a retried or resumed batch names the same entries.
func historyID(conversationID string, index int, callerID, kind string) string {
	name := conversationID + "\x00" + strconv.Itoa(index) + "\x00" + callerID + "\x00" + kind
	return uuid.NewSHA1(historyIDSpace, []byte(name)).String()
}

// Wire shapes of POST /api/v1/conversationHistory.
type historyRequest struct {
	ChannelAddressIdentifier string               `json:"channelAddressIdentifier"`
	ConversationIdentifier   string               `json:"conversationIdentifier"`
	ConversationParticipants []historyParticipant `json:"conversationParticipants"`
	ConversationEntries      []historyEntryWire   `json:"conversationEntries"`
}

type historyParty struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	AppType string `json:"appType"`
}

type historyParticipant struct {
	DisplayName string       `json:"displayName"`
	Participant historyParty `json:"participant"`
	JoinedTime  int64        `json:"joinedTime"`
	LeftTime    *int64       `json:"leftTime,omitempty"` // Chatbot only: an EndUser must have none
}

type historyEntryWire struct {
	ClientTimestamp int64        `json:"clientTimestamp"`
	Sender          historyParty `json:"sender"`
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

type historyResponse struct {
	Success            *bool  `json:"success"`
	MessagingSessionID string `json:"messagingSessionId"`
	Message            string `json:"message"`
}

// uploadBatch posts one batch with the cached token; on a 401 it drops the
// token, mints one and posts once more.
func (c *HistoryClient) uploadBatch(ctx context.Context, body []byte) (string, error) {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return "", fmt.Errorf("miaw: %s: %w", opHistoryUpload, err)
	}
	sid, err := c.postBatch(ctx, tok, body)
	if !IsStatus(err, http.StatusUnauthorized) {
		return sid, err
	}
	c.log.Info("miaw: history access token rejected, renewing", "op", opHistoryUpload)
	c.dropToken(tok)
	if tok, err = c.accessToken(ctx); err != nil {
		return "", fmt.Errorf("miaw: %s: %w", opHistoryUpload, err)
	}
	return c.postBatch(ctx, tok, body)
}

func (c *HistoryClient) postBatch(ctx context.Context, tok string, body []byte) (string, error) {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+tok)
	h.Set("Content-Type", "application/json")
	h.Set("OrgId", c.orgID)
	h.Set("AuthorizationContext", c.cfg.ConnectedApp)
	h.Set("AuthorizationContextType", historyAuthContextType)
	h.Set("RequestId", uuid.NewString())
	var out historyResponse
	status, err := c.post(ctx, opHistoryUpload, epHistoryUpload, c.cfg.BaseURL+epHistoryUpload, h, body, &out)
	if err != nil {
		return "", err
	}
	fail := func(msg string) *Error {
		return &Error{Op: opHistoryUpload, Method: http.MethodPost, Endpoint: epHistoryUpload, Status: status, Message: msg}
	}
	switch {
	case status != http.StatusOK && status != http.StatusAccepted:
		return "", fail("unexpected success status")
	case out.Success == nil:
		return "", fail("response has no success flag")
	case !*out.Success:
		msg := "success is false"
		if m := strings.TrimSpace(out.Message); m != "" {
			msg += ": " + truncate(m, 500)
		}
		return "", fail(msg)
	}
	return out.MessagingSessionID, nil
}

// accessToken returns the cached token or mints one; concurrent callers
// share one mint.
func (c *HistoryClient) accessToken(ctx context.Context) (string, error) {
	if t := c.cachedToken(); t != "" {
		return t, nil
	}
	ch := c.flight.DoChan("token", func() (any, error) {
		if t := c.cachedToken(); t != "" {
			return t, nil
		}
		// Detached from the first caller's ctx so its cancellation does not
		// fail the other waiters; bounded instead.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		t, err := c.mintToken(mctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.token = t
		c.mu.Unlock()
		return t, nil
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

func (c *HistoryClient) cachedToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// dropToken forgets the cached token if it is still the rejected one, so a
// token minted concurrently is kept.
func (c *HistoryClient) dropToken(rejected string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == rejected {
		c.token = ""
	}
}

// mintToken runs the OAuth 2.0 JWT bearer flow at LoginURL.
func (c *HistoryClient) mintToken(ctx context.Context) (string, error) {
	assertion, err := c.assertion()
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {assertion},
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	var out struct {
		AccessToken string `json:"access_token"`
	}
	status, err := c.post(ctx, opHistoryToken, epHistoryToken, c.cfg.LoginURL+epHistoryToken, h, []byte(form.Encode()), &out)
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", &Error{Op: opHistoryToken, Method: http.MethodPost, Endpoint: epHistoryToken, Status: status, Message: "response has no access_token"}
	}
	c.log.Debug("miaw: history access token issued")
	return out.AccessToken, nil
}

// assertion signs the JWT bearer assertion: iss = consumer key, sub =
// integration user, aud = LoginURL, exp = now + 3 minutes. aud is a plain
// string (jwt's ClaimStrings would marshal an array).
func (c *HistoryClient) assertion() (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": c.cfg.ClientID,
		"sub": c.cfg.Username,
		"aud": c.cfg.LoginURL,
		"exp": c.now().Add(historyAssertionTTL).Unix(),
	})
	s, err := t.SignedString(c.key)
	if err != nil {
		return "", fmt.Errorf("miaw: %s: sign assertion: %w", opHistoryToken, err)
	}
	return s, nil
}

// post sends one POST to rawURL and decodes a 2xx JSON body into out. It
// returns the status; a non-2xx answer or a network failure is an *Error
// naming endpoint (never the URL, the headers or the body sent).
func (c *HistoryClient) post(ctx context.Context, op, endpoint, rawURL string, h http.Header, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, &Error{Op: op, Method: http.MethodPost, Endpoint: endpoint, Err: stripURL(err)}
	}
	req.Header = h
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return 0, &Error{Op: op, Method: http.MethodPost, Endpoint: endpoint, Err: stripURL(err)}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errorFromResponse(op, http.MethodPost, endpoint, resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return resp.StatusCode, &Error{Op: op, Method: http.MethodPost, Endpoint: endpoint, Status: resp.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, &Error{Op: op, Method: http.MethodPost, Endpoint: endpoint, Status: resp.StatusCode, Message: "malformed response body"}
	}
	return resp.StatusCode, nil
}
