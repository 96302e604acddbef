package emulator

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config configures a Server. The zero value of every field selects the
// documented default.
type Config struct {
	// OrgID is the Salesforce org id; default "00D000000000001". Requests may
	// use the 15- or 18-character form (the first 15 characters must match).
	OrgID string
	// DeploymentName is the Embedded Service deployment developer name
	// (esDeveloperName); default "Live_Agent_Bridge".
	DeploymentName string
	// Issuer is the expected iss claim of customer identity JWTs. Empty accepts
	// any issuer.
	Issuer string
	// JWKS is the JSON Web Key Set with the public keys that verify customer
	// identity JWTs (looked up by kid). Empty disables the authenticated
	// access-token endpoint (401 for every identity token).
	JWKS []byte
	// KeysetName is the user-verification keyset name used in verified subjects
	// "v2/iamessage/AUTH/<KeysetName>/uid:<sub>"; default "LiveAgentBridgeKeyset".
	KeysetName string
	// AllowGuests is kept for the contract; unauthenticated access tokens are
	// accepted unless RejectGuests is true (Go cannot default a bool to true).
	AllowGuests bool
	// AnonymousOnVerificationFailure reproduces the Salesforce pitfall noted in
	// miaw-api.md §1.2: an identity token that fails verification still gets
	// 200 and an access token, with an anonymous subject
	// "v2/iamessage/ANON/…" instead of 401.
	AnonymousOnVerificationFailure bool
	// RejectGuests makes the unauthenticated access-token endpoint answer 403.
	RejectGuests bool
	// TokenTTL is the access-token lifetime; default 1h.
	TokenTTL time.Duration
	// PingInterval is the SSE keep-alive period; default 30s.
	PingInterval time.Duration
	// ReplayBuffer is the number of events kept per user for Last-Event-ID
	// replay; default 1000.
	ReplayBuffer int
	// ReplayWindow is how long an event stays replayable after it was
	// published (Salesforce keeps events for a limited time); a stream
	// resuming from an older Last-Event-ID gets only the newer events,
	// without an error. 0 = no time limit (the ring alone).
	ReplayWindow time.Duration
	// MaxFileBytes is the largest accepted end-user upload; default 5 MiB.
	// Larger uploads get 413.
	MaxFileBytes int64
	// BlockedMimeTypes are rejected with 415; default executables and scripts
	// (see DefaultBlockedMimeTypes). Files whose name ends in a blocked
	// extension (.exe, .bat, .cmd, .com, .js, .msi, .scr, .sh) are rejected too.
	BlockedMimeTypes []string
	// PrechatFields are the hidden pre-chat fields (routing attributes) of the
	// deployment, name → maxLength. They are listed in the deployment
	// configuration; values longer than maxLength get 400. Routing attributes
	// not listed here are accepted (Salesforce ignores unknown names) and are
	// limited to DefaultAttributeMaxLength characters.
	PrechatFields map[string]int
	// TransferDelay is how long a transfer stays in routing status TRANSFER
	// before the new agent joins; default 300ms, negative = immediate.
	TransferDelay time.Duration
	// RequireAuthForFiles makes attachment downloads under /emulator/files/
	// require a valid bearer access token (401 otherwise).
	RequireAuthForFiles bool
	// PublicURL is the base URL used in attachment download URLs. Default: the
	// address given to Start, or else the scheme and Host of the first request.
	PublicURL string
	// AllowedHosts are the host names (without port) besides loopback ones
	// (localhost, 127.0.0.0/8, ::1) and PublicURL's host that the control
	// API, the console and the file downloads under /emulator/ answer;
	// requests naming another Host get 403 (a DNS-rebinding page would name
	// its own). "*" allows any host: only on a trusted network.
	AllowedHosts []string
	// TLS, when set, makes Start serve HTTPS with it (certificates from files
	// or SelfSignedCert), as Salesforce serves https://<mydomain>.my.salesforce-scrt.com.
	TLS *tls.Config
	// CORSOrigins is the org's CORS allowlist (Salesforce Setup → CORS):
	// browser pages from these origins (scheme://host[:port], exact; "*" =
	// any) may call the MIAW API and open the SSE stream. Preflights are
	// answered (methods GET, POST, DELETE; headers Authorization,
	// Content-Type, X-Org-Id, Last-Event-ID, Cache-Control, Accept; max age
	// 600 s) and responses name the origin. Empty: no cross-origin access.
	// The control API, console and files never answer cross-origin.
	CORSOrigins []string
	// MessageRate limits the end-user messages and files one conversation
	// accepts: at most MessageRate.Count per MessageRate.Window, as
	// Salesforce accepts about 22 inbound messages per conversation per
	// minute. Over it: 429 with Retry-After. The zero value sets no limit
	// (the emulator binary enforces 22 per minute by default).
	MessageRate MessageRate
	// ConversationHistory, when non-nil, serves Salesforce's Conversation
	// History API on the emulator's address: the connected app's OAuth JWT
	// bearer token endpoint POST /services/oauth2/token and the upload
	// POST /api/v1/conversationHistory (history.go). nil: both answer 404.
	ConversationHistory *ConversationHistoryConfig
	// Faults injects failures; the zero value injects none.
	Faults Faults
	// Agent, when non-nil, runs a scripted agent; nil leaves the agent side to
	// the Go API, the control API and the console page.
	Agent *ScriptedAgent
	// Logger receives the emulator's logs; default slog.Default().
	Logger *slog.Logger
}

// MessageRate is a per-conversation limit on inbound (end-user) messages.
type MessageRate struct {
	Count  int
	Window time.Duration
}

// SalesforceMessageRate is Salesforce's documented inbound limit.
var SalesforceMessageRate = MessageRate{Count: 22, Window: time.Minute}

// Faults selects injected failures. All random choices come from one RNG
// seeded with Seed, so a run is reproducible for a given request order.
type Faults struct {
	DropStreamEvery int           // close each SSE stream after N events (0 = never)
	DuplicateRate   float64       // fraction of SSE events sent twice (same id)
	ErrorRate       float64       // fraction of REST calls answered 503
	ThrottleRate    float64       // fraction of REST calls answered 429 with Retry-After: 1
	ThrottleBurst   int           // when throttling, answer this many consecutive calls 429 (default 1)
	TokenTTL        time.Duration // overrides TokenTTL (early expiry); streams end at expiry
	// TokenTTLOnce limits the early expiry to each user's first token (later
	// ones get Config.TokenTTL): every user meets one expiry, and a run of
	// many users does not need more tokens than Salesforce's budget allows.
	TokenTTLOnce bool
	EventDelay   time.Duration // delay before each SSE event is written
	Seed         int64
}

// ScriptedAgent is an automatic agent: it accepts every waiting conversation
// after AcceptAfter, answers each end-user message, optionally shares a link
// and a small text file after its first reply, and ends the messaging session
// after answering the CloseAfter-th end-user message of that session.
type ScriptedAgent struct {
	Name        string                       // e.g. "Jane Agent"; default "Emulated Agent"
	AcceptAfter time.Duration                // accept waiting conversations after this
	Greeting    string                       // sent right after accepting when non-empty, e.g. "Hi, I'm Jane. How can I help?"
	Reply       func(userText string) string // nil = default reply `You said: <text>`; "" = no reply
	SendLink    bool                         // after the first reply, share a rich link
	SendFile    bool                         // after the first reply, share a small text file attachment
	CloseAfter  int                          // end the session after this many user messages in it (0 = never)
	Never       bool                         // never accept (lets the queue time out)
}

// DefaultAttributeMaxLength limits routing attribute values not listed in
// Config.PrechatFields.
const DefaultAttributeMaxLength = 255

// DefaultBlockedMimeTypes are the MIME types rejected with 415 by default.
var DefaultBlockedMimeTypes = []string{
	"application/x-msdownload",
	"application/x-msdos-program",
	"application/x-executable",
	"application/x-sh",
	"application/x-bat",
	"application/javascript",
	"text/javascript",
	"application/vnd.microsoft.portable-executable",
}

var blockedExtensions = []string{".exe", ".bat", ".cmd", ".com", ".js", ".msi", ".scr", ".sh"}

func (c *Config) applyDefaults() {
	if c.OrgID == "" {
		c.OrgID = "00D000000000001"
	}
	if c.DeploymentName == "" {
		c.DeploymentName = "Live_Agent_Bridge"
	}
	if c.KeysetName == "" {
		c.KeysetName = "LiveAgentBridgeKeyset"
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = time.Hour
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.ReplayBuffer <= 0 {
		c.ReplayBuffer = 1000
	}
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = 5 << 20
	}
	if c.BlockedMimeTypes == nil {
		c.BlockedMimeTypes = DefaultBlockedMimeTypes
	}
	if c.TransferDelay == 0 {
		c.TransferDelay = 300 * time.Millisecond
	}
	if c.Faults.ThrottleBurst <= 0 {
		c.Faults.ThrottleBurst = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Agent != nil && c.Agent.Name == "" {
		c.Agent.Name = "Emulated Agent"
	}
	if c.ConversationHistory != nil {
		h := *c.ConversationHistory // the caller's value is not shared
		c.ConversationHistory = &h
	}
}

func (c *Config) validate() error {
	if !strings.HasPrefix(c.OrgID, "00D") || (len(c.OrgID) != 15 && len(c.OrgID) != 18) {
		return fmt.Errorf("emulator: org_id: must start with \"00D\" and be 15 or 18 characters, got %q", c.OrgID)
	}
	for name, v := range map[string]float64{"duplicate_rate": c.Faults.DuplicateRate, "error_rate": c.Faults.ErrorRate, "throttle_rate": c.Faults.ThrottleRate} {
		if v < 0 || v > 1 {
			return fmt.Errorf("emulator: faults.%s: must be between 0 and 1, got %v", name, v)
		}
	}
	if c.ReplayWindow < 0 {
		return fmt.Errorf("emulator: replay_window: must not be negative, got %v", c.ReplayWindow)
	}
	if c.Faults.DropStreamEvery < 0 {
		return fmt.Errorf("emulator: faults.drop_stream_every: must not be negative, got %d", c.Faults.DropStreamEvery)
	}
	if c.Agent != nil && (c.Agent.AcceptAfter < 0 || c.Agent.CloseAfter < 0) {
		return fmt.Errorf("emulator: agent: accept_after and close_after must not be negative")
	}
	if err := c.ConversationHistory.validate(c.JWKS); err != nil {
		return fmt.Errorf("emulator: conversation_history: %w", err)
	}
	return nil
}

// tokenTTL is the lifetime of a user's nth access token.
func (c *Config) tokenTTL(nth int) time.Duration {
	if c.Faults.TokenTTL > 0 && (nth == 1 || !c.Faults.TokenTTLOnce) {
		return c.Faults.TokenTTL
	}
	return c.TokenTTL
}

// SplitHosts parses a comma-separated host list (the -allow-hosts flag) into
// Config.AllowedHosts, dropping blanks.
func SplitHosts(list string) []string {
	var out []string
	for _, h := range strings.Split(list, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}
