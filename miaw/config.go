package miaw

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// AuthMode selects how end users are authenticated towards Salesforce.
type AuthMode string

const (
	// AuthVerified mints a customer identity JWT per user and exchanges it at
	// the authenticated access-token endpoint (User Verification). Default.
	AuthVerified AuthMode = "verified"
	// AuthGuest uses the unauthenticated access-token endpoint; each userID
	// gets its own anonymous Salesforce subject, and each renewal a new one:
	// a guest's conversation does not survive its first token (the bridge's
	// config refuses guest mode for that reason; see config.AuthGuest).
	AuthGuest AuthMode = "guest"
)

// Defaults applied by New (and by Validate before checking).
const (
	DefaultCapabilitiesVersion    = "1"
	DefaultPlatform               = "Web"
	DefaultSigningAlgorithm       = "RS256"
	DefaultIdentityTokenTTL       = 5 * time.Minute
	DefaultRenewBefore            = 60 * time.Second
	DefaultMaxDownloadBytes       = 25 << 20
	DefaultDownloadTimeout        = 60 * time.Second
	DefaultMaxAttachmentBytes     = 5 << 20
	DefaultTokenRequestsPerMinute = 180
)

// scrtHostSuffix is the host suffix every real SCRT (Messaging) URL has.
const scrtHostSuffix = ".salesforce-scrt.com"

// Config configures a Client. The zero values of optional fields mean "use
// the default" (see the Default* constants).
type Config struct {
	// BaseURL is the SCRT base URL, e.g. https://acme.my.salesforce-scrt.com.
	// It must be https with a host ending in salesforce-scrt.com unless
	// AllowAnyHost is set.
	BaseURL string
	// AllowAnyHost (emulator/dev only) allows http:// and any host, e.g.
	// http://127.0.0.1:8090. It also allows http:// attachment downloads.
	AllowAnyHost bool
	// OrgID is the Salesforce org id: 15 or 18 characters starting with 00D.
	// The client sends its 15-character form everywhere (see doc.go).
	OrgID string
	// DeploymentName is the Embedded Service deployment developer name
	// (esDeveloperName); the deployment must be of type Custom Client.
	DeploymentName      string
	CapabilitiesVersion string // default "1"
	Platform            string // default "Web"
	AuthMode            AuthMode
	// PrivateKeyFile is a PEM RSA private key (PKCS#1 or PKCS#8, >= 2048
	// bits) used to sign customer identity JWTs (verified mode only).
	PrivateKeyFile string
	// KeyID is the JWT kid header: the key's id in the Salesforce keyset.
	KeyID string
	// Issuer is the JWT iss claim; it must equal the keyset's Issuer.
	Issuer string
	// SigningAlgorithm is RS256 (default) or RS512.
	SigningAlgorithm string
	// IdentityTokenTTL is the lifetime of each customer identity JWT.
	IdentityTokenTTL time.Duration
	// RenewBefore renews cached access tokens this long before their exp.
	RenewBefore time.Duration
	// AttachmentHosts lists extra hosts agent attachments may be downloaded
	// from, besides BaseURL's host. "*.example.com" matches any subdomain.
	AttachmentHosts  []string
	MaxDownloadBytes int64         // default 25 MiB
	DownloadTimeout  time.Duration // default 60s
	// MaxAttachmentBytes is the largest file SendFile uploads; default and
	// maximum 5 MiB (Salesforce's limit).
	MaxAttachmentBytes int64
	// TokenRequestsPerMinute caps access-token calls for the whole org
	// (Salesforce allows 200/min/org). Default 180.
	TokenRequestsPerMinute int
	// TokenStoreDir, when set (verified mode), keeps access tokens sealed in
	// this directory so every worker sharing it reuses a valid token instead
	// of spending the org's token budget (see tokenstore.go). Empty: tokens
	// live in this process only.
	TokenStoreDir string
}

// withDefaults returns c with defaults filled in and strings trimmed.
func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	c.OrgID = strings.TrimSpace(c.OrgID)
	c.DeploymentName = strings.TrimSpace(c.DeploymentName)
	if c.CapabilitiesVersion == "" {
		c.CapabilitiesVersion = DefaultCapabilitiesVersion
	}
	if c.Platform == "" {
		c.Platform = DefaultPlatform
	}
	if c.AuthMode == "" {
		c.AuthMode = AuthVerified
	}
	if c.SigningAlgorithm == "" {
		c.SigningAlgorithm = DefaultSigningAlgorithm
	}
	if c.IdentityTokenTTL == 0 {
		c.IdentityTokenTTL = DefaultIdentityTokenTTL
	}
	if c.RenewBefore == 0 {
		c.RenewBefore = DefaultRenewBefore
	}
	if c.MaxDownloadBytes == 0 {
		c.MaxDownloadBytes = DefaultMaxDownloadBytes
	}
	if c.DownloadTimeout == 0 {
		c.DownloadTimeout = DefaultDownloadTimeout
	}
	if c.MaxAttachmentBytes == 0 {
		c.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if c.TokenRequestsPerMinute == 0 {
		c.TokenRequestsPerMinute = DefaultTokenRequestsPerMinute
	}
	return c
}

func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("miaw: %s: %s", field, fmt.Sprintf(format, args...))
}

// Validate reports the first invalid field as one line naming it, e.g.
// `miaw: org_id: must start with "00D" and be 15 or 18 characters`.
// Defaults are applied before checking, so optional fields may be zero.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := c.baseURL(); err != nil {
		return err
	}
	if !validOrgID(c.OrgID) {
		return fieldError("org_id", "must start with %q and be 15 or 18 letters or digits (got %q)", "00D", c.OrgID)
	}
	if c.DeploymentName == "" {
		return fieldError("deployment_name", "is required (the Embedded Service deployment developer name)")
	}
	if !isDeveloperName(c.DeploymentName) {
		return fieldError("deployment_name", "must be a developer name (letters, digits, underscores), got %q", c.DeploymentName)
	}
	if !isDigits(c.CapabilitiesVersion) {
		return fieldError("capabilities_version", "must be a number like \"1\", got %q", c.CapabilitiesVersion)
	}
	switch c.AuthMode {
	case AuthVerified:
		if strings.TrimSpace(c.PrivateKeyFile) == "" {
			return fieldError("private_key_file", "is required in verified auth mode")
		}
		if strings.TrimSpace(c.KeyID) == "" {
			return fieldError("key_id", "is required in verified auth mode (the kid of the key in the Salesforce keyset)")
		}
		if strings.TrimSpace(c.Issuer) == "" {
			return fieldError("issuer", "is required in verified auth mode (must equal the keyset Issuer)")
		}
	case AuthGuest:
		if c.TokenStoreDir != "" {
			return fieldError("token_store_dir", "needs verified auth mode (a guest token is an identity of its own, not shareable)")
		}
	default:
		return fieldError("auth_mode", "must be %q or %q, got %q", AuthVerified, AuthGuest, c.AuthMode)
	}
	switch c.SigningAlgorithm {
	case "RS256", "RS512":
	default:
		return fieldError("signing_algorithm", "must be RS256 or RS512, got %q", c.SigningAlgorithm)
	}
	if c.IdentityTokenTTL < 0 || c.IdentityTokenTTL > time.Hour {
		return fieldError("identity_token_ttl", "must be between 0 and 1h, got %s", c.IdentityTokenTTL)
	}
	if c.RenewBefore < 0 {
		return fieldError("renew_before", "must not be negative, got %s", c.RenewBefore)
	}
	for _, h := range c.AttachmentHosts {
		if !validHostPattern(h) {
			return fieldError("attachment_hosts", "%q is not a host name (optional \"*.\" prefix and \":port\"; no scheme or path)", h)
		}
	}
	if c.MaxDownloadBytes < 0 {
		return fieldError("max_download_bytes", "must be positive, got %d", c.MaxDownloadBytes)
	}
	if c.DownloadTimeout < 0 {
		return fieldError("download_timeout", "must be positive, got %s", c.DownloadTimeout)
	}
	if c.MaxAttachmentBytes < 0 || c.MaxAttachmentBytes > DefaultMaxAttachmentBytes {
		return fieldError("max_attachment_bytes", "must be between 1 and %d (Salesforce's limit), got %d", DefaultMaxAttachmentBytes, c.MaxAttachmentBytes)
	}
	if c.TokenRequestsPerMinute < 0 || (c.TokenRequestsPerMinute > 200 && !c.AllowAnyHost) {
		return fieldError("token_requests_per_minute", "must be between 1 and 200 (Salesforce's org limit; more only with AllowAnyHost, against the emulator), got %d", c.TokenRequestsPerMinute)
	}
	return nil
}

// baseURL parses and checks BaseURL.
func (c Config) baseURL() (*url.URL, error) {
	if c.BaseURL == "" {
		return nil, fieldError("base_url", "is required (the SCRT URL, e.g. https://acme.my.salesforce-scrt.com)")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fieldError("base_url", "must be an absolute URL like https://acme.my.salesforce-scrt.com, got %q", c.BaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fieldError("base_url", "must have no credentials, path, query or fragment, got %q", c.BaseURL)
	}
	if c.AllowAnyHost {
		if u.Scheme != "https" && u.Scheme != "http" {
			return nil, fieldError("base_url", "must use http or https, got %q", u.Scheme)
		}
		return u, nil
	}
	if u.Scheme != "https" {
		return nil, fieldError("base_url", "must use https (http is allowed only with allow_any_host), got %q", c.BaseURL)
	}
	if h := strings.ToLower(u.Hostname()); !strings.HasSuffix(h, scrtHostSuffix) {
		return nil, fieldError("base_url", "host %q must end in salesforce-scrt.com (set allow_any_host for the emulator)", h)
	}
	return u, nil
}

// orgID15 returns the 15-character form of the (validated) org id.
func (c Config) orgID15() string {
	if len(c.OrgID) == 18 {
		return c.OrgID[:15]
	}
	return c.OrgID
}

func validOrgID(id string) bool {
	if (len(id) != 15 && len(id) != 18) || !strings.HasPrefix(id, "00D") {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func isDeveloperName(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case (r >= '0' && r <= '9' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// validHostPattern accepts "host.example.com", "*.example.com" and either
// with ":port".
func validHostPattern(h string) bool {
	h, port := splitHostPattern(h)
	if port != "" && (!isDigits(port) || len(port) > 5) {
		return false
	}
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// splitHostPattern splits "host:port" (port may be absent).
func splitHostPattern(p string) (host, port string) {
	if i := strings.LastIndexByte(p, ':'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, ""
}
