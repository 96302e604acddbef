package miaw

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token is a Salesforce messaging access token for one end user.
// String and LogValue never reveal AccessToken.
type Token struct {
	AccessToken string
	// LastEventID is the lastEventId Salesforce returned with the token: the
	// stream position to start from when the caller has none.
	LastEventID string
	// Subject is context.endUser.subject, e.g. v2/iamessage/AUTH/<keyset>/uid:<sub>.
	Subject string
	// Expiry is the access token's exp claim (or an estimate, see doc.go).
	Expiry time.Time

	// renewAt is when the cache stops handing this token out: RenewBefore
	// ahead of Expiry, or half the token's lifetime ahead when the lifetime
	// is shorter than twice RenewBefore (otherwise every call would mint).
	renewAt time.Time
}

// String describes the token without its secret.
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	return fmt.Sprintf("miaw.Token{subject=%q expiry=%s access_token=REDACTED}", t.Subject, t.Expiry.UTC().Format(time.RFC3339))
}

// LogValue implements slog.LogValuer without the secret.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("subject", t.Subject),
		slog.Time("expiry", t.Expiry),
		slog.String("access_token", "REDACTED"),
	)
}

// fallbackTokenTTL is assumed when an access token carries no readable exp.
const fallbackTokenTTL = 5 * time.Minute

// tokenCache holds one token per userID.
type tokenCache struct {
	mu     sync.Mutex
	tokens map[string]*Token
}

func (tc *tokenCache) get(userID string) *Token {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.tokens[userID]
}

func (tc *tokenCache) put(userID string, t *Token) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.tokens[userID] = t
}

// invalidate drops userID's token if it is still the given (rejected) one, so
// a token renewed concurrently is kept.
func (tc *tokenCache) invalidate(userID, accessToken string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if t := tc.tokens[userID]; t != nil && (accessToken == "" || t.AccessToken == accessToken) {
		delete(tc.tokens, userID)
	}
}

// loadPrivateKey reads a PEM RSA private key (PKCS#1 or PKCS#8). Errors name
// the file but never include key material.
func loadPrivateKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("miaw: private_key_file: %w", err)
	}
	return parsePrivateKey(data, path)
}

func parsePrivateKey(data []byte, name string) (*rsa.PrivateKey, error) {
	var block *pem.Block
	for {
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("miaw: private_key_file: %s: no PEM private key found", name)
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			break
		}
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("miaw: private_key_file: %s: encrypted keys are not supported", name)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("miaw: private_key_file: %s: invalid PKCS#1 RSA key", name)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("miaw: private_key_file: %s: invalid PKCS#8 key", name)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("miaw: private_key_file: %s: key is %T, want RSA", name, k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("miaw: private_key_file: %s: unsupported PEM type %q", name, block.Type)
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("miaw: private_key_file: %s: RSA key has %d bits, Salesforce needs at least 2048", name, key.N.BitLen())
	}
	return key, nil
}

// identityToken mints the customer identity JWT for userID: header kid,
// claims iss, sub=userID, iat, exp (no aud: Salesforce's own key tool sets none).
func (c *Client) identityToken(userID string) (string, error) {
	method := jwt.SigningMethodRS256
	if c.cfg.SigningAlgorithm == "RS512" {
		method = jwt.SigningMethodRS512
	}
	now := c.now()
	t := jwt.NewWithClaims(method, jwt.RegisteredClaims{
		Issuer:    c.cfg.Issuer,
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(c.cfg.IdentityTokenTTL)),
	})
	t.Header["kid"] = c.cfg.KeyID
	s, err := t.SignedString(c.key)
	if err != nil {
		return "", fmt.Errorf("miaw: sign customer identity token: %w", err)
	}
	return s, nil
}

// Token returns a valid access token for userID: the cached one unless it
// expires within RenewBefore, otherwise a new one (one exchange per user at a
// time; concurrent callers share it).
func (c *Client) Token(ctx context.Context, userID string) (*Token, error) {
	return c.token(ctx, userID, false)
}

// streamToken is Token for a stream's (re)connect. When it must mint a
// token it takes the budget's next free slot instead of queuing (see
// tokenBudget): Token's callers never wait behind reconnecting streams.
func (c *Client) streamToken(ctx context.Context, userID string) (*Token, error) {
	return c.token(ctx, userID, true)
}

// Bounds of one token exchange, its wait for the budget included. A
// stream's is long: a reconnect storm of thousands of streams at 200 tokens
// a minute takes many minutes.
const (
	foregroundMintBound = 60 * time.Second
	backgroundMintBound = 15 * time.Minute
)

func (c *Client) token(ctx context.Context, userID string, background bool) (*Token, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	if t := c.tokens.get(userID); t != nil && c.fresh(t) {
		return t, nil
	}
	var promoted <-chan struct{} // nil: a foreground exchange
	bound := foregroundMintBound
	if background {
		var done func()
		promoted, done = c.budget.background(userID)
		defer done()
		bound = backgroundMintBound
	} else {
		// A stream's exchange for this user that this call joins must
		// not keep it waiting behind others.
		c.budget.promote(userID)
	}
	ch := c.flight.DoChan(userID, func() (any, error) {
		// Re-check: a concurrent flight may just have stored a fresh token.
		if t := c.tokens.get(userID); t != nil && c.fresh(t) {
			return t, nil
		}
		// Another worker may hold a valid token for this user (a stream it
		// held has moved here): Salesforce's token budget is org-wide.
		if t := c.storedToken(userID); t != nil {
			c.tokens.put(userID, t)
			return t, nil
		}
		// Detached from the first caller's ctx so its cancellation does not
		// fail the other waiters; bounded instead.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
		defer cancel()
		t, err := c.mintToken(mctx, userID, promoted)
		if err != nil {
			return nil, err
		}
		c.tokens.put(userID, t)
		c.storeToken(userID, t)
		return t, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	}
}

// accessTokenResponse is the body of the access-token endpoints.
type accessTokenResponse struct {
	AccessToken string `json:"accessToken"`
	LastEventID any    `json:"lastEventId"` // string per the doc; numbers accepted
	Context     struct {
		EndUser struct {
			Subject string `json:"subject"`
		} `json:"endUser"`
	} `json:"context"`
}

type accessTokenContext struct {
	AppName       string `json:"appName"`
	ClientVersion string `json:"clientVersion"`
}

type accessTokenRequest struct {
	OrgID                 string             `json:"orgId"`
	ESDeveloperName       string             `json:"esDeveloperName"`
	CapabilitiesVersion   string             `json:"capabilitiesVersion"`
	Platform              string             `json:"platform"`
	AuthorizationType     string             `json:"authorizationType,omitempty"`
	CustomerIdentityToken string             `json:"customerIdentityToken,omitempty"`
	Context               accessTokenContext `json:"context"`
}

const (
	pathAuthenticatedToken   = "/iamessage/api/v2/authorization/authenticated/access-token"
	pathUnauthenticatedToken = "/iamessage/api/v2/authorization/unauthenticated/access-token"
	pathContinuationToken    = "/iamessage/api/v2/authorization/continuation-access-token"
)

// slowTokenWait is the wait for the token budget from which a token
// exchange is logged: the cause of a delay that would otherwise be silent.
const slowTokenWait = 2 * time.Second

// mintToken exchanges a fresh identity JWT (or nothing, for guests) for an
// access token, waiting for the token budget first: in its queue, or, for a
// background exchange (promoted not nil), for a free slot.
func (c *Client) mintToken(ctx context.Context, userID string, promoted <-chan struct{}) (*Token, error) {
	req := accessTokenRequest{
		OrgID:               c.orgID,
		ESDeveloperName:     c.cfg.DeploymentName,
		CapabilitiesVersion: c.cfg.CapabilitiesVersion,
		Platform:            c.cfg.Platform,
		Context:             accessTokenContext{AppName: appName, ClientVersion: clientVersion},
	}
	path := pathUnauthenticatedToken
	if c.cfg.AuthMode == AuthVerified {
		idt, err := c.identityToken(userID)
		if err != nil {
			return nil, err
		}
		req.AuthorizationType = "JWT"
		req.CustomerIdentityToken = idt
		path = pathAuthenticatedToken
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("miaw: access token: %w", err)
	}
	wait := c.budget.wait
	if promoted != nil {
		wait = func(ctx context.Context) error { return c.budget.waitBackground(ctx, promoted) }
	}
	waitFrom := time.Now()
	if err := wait(ctx); err != nil {
		return nil, &Error{Op: "access token", Method: http.MethodPost, Endpoint: path, Err: err}
	}
	if waited := time.Since(waitFrom); waited >= slowTokenWait {
		c.log.Info("miaw: access token waited for the org's token budget", "user", userID, "waited", waited.Round(time.Millisecond),
			"stream", promoted != nil, "budget_per_minute", c.cfg.TokenRequestsPerMinute)
	}
	c.stats.tokenRequests.Add(1)
	var out accessTokenResponse
	if err := c.send(ctx, "access token", "", call{method: http.MethodPost, endpoint: path, path: path, body: body, contentType: "application/json"}, &out); err != nil {
		return nil, err
	}
	t, err := c.tokenFromResponse("access token", path, &out)
	if err != nil {
		return nil, err
	}
	if c.cfg.AuthMode == AuthVerified && !strings.Contains(t.Subject, "/AUTH/") {
		return nil, fmt.Errorf("miaw: access token for %s: %w", path, ErrUnverifiedSubject)
	}
	c.log.Debug("miaw: access token issued", "user", userID, "token", t)
	return t, nil
}

func (c *Client) tokenFromResponse(op, path string, out *accessTokenResponse) (*Token, error) {
	if out.AccessToken == "" {
		return nil, &Error{Op: op, Method: http.MethodPost, Endpoint: path, Status: http.StatusOK, Message: "response has no accessToken"}
	}
	t := &Token{AccessToken: out.AccessToken, LastEventID: scalarString(out.LastEventID), Subject: out.Context.EndUser.Subject}
	if t.LastEventID != "" && !ValidEventID(t.LastEventID) {
		// It would become the stream cursor and fail every reconnect;
		// without it the stream starts at the live point.
		c.log.Warn("miaw: access token: lastEventId is not a valid event id; ignored", "op", op, "bytes", len(t.LastEventID))
		t.LastEventID = ""
	}
	claims := jwt.MapClaims{}
	// The access token is Salesforce's JWT; we only read its claims, we
	// cannot (and need not) verify its signature.
	if _, _, err := jwt.NewParser().ParseUnverified(out.AccessToken, claims); err == nil {
		if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
			t.Expiry = exp.Time
		}
		if t.Subject == "" {
			t.Subject, _ = claims.GetSubject()
		}
	}
	now := c.now()
	if t.Expiry.IsZero() {
		t.Expiry = now.Add(fallbackTokenTTL)
	}
	margin := c.cfg.RenewBefore
	if half := t.Expiry.Sub(now) / 2; half < margin {
		margin = half
	}
	t.renewAt = t.Expiry.Add(-margin)
	return t, nil
}

// fresh reports whether the cache may still hand t out.
func (c *Client) fresh(t *Token) bool {
	renewAt := t.renewAt
	if renewAt.IsZero() {
		renewAt = t.Expiry.Add(-c.cfg.RenewBefore)
	}
	return c.now().Before(renewAt)
}

// scalarString renders a JSON string or number as a string ("" for null).
func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return fmt.Sprintf("%.0f", t)
	case json.Number:
		return t.String()
	}
	return ""
}

// ContinuationToken asks Salesforce for a continuation token for userID's
// current session (same subject, new client id, same expiry: it does NOT
// extend the session). The cached token is not replaced.
func (c *Client) ContinuationToken(ctx context.Context, userID string) (*Token, error) {
	if err := checkUserID(userID); err != nil {
		return nil, err
	}
	if err := c.budget.wait(ctx); err != nil {
		return nil, &Error{Op: "continuation token", Method: http.MethodGet, Endpoint: pathContinuationToken, Err: err}
	}
	c.stats.tokenRequests.Add(1)
	var out accessTokenResponse
	if err := c.do(ctx, userID, "continuation token", call{method: http.MethodGet, endpoint: pathContinuationToken, path: pathContinuationToken}, &out); err != nil {
		return nil, err
	}
	t, err := c.tokenFromResponse("continuation token", pathContinuationToken, &out)
	if err != nil {
		return nil, err
	}
	if t.Subject == "" {
		if cur := c.tokens.get(userID); cur != nil {
			t.Subject = cur.Subject
		}
	}
	return t, nil
}

// RevokeToken revokes userID's cached access token (verified mode; use on
// logout) and forgets it. With no cached token, or in guest mode, it only
// forgets. A 401 means the token is already dead and counts as success.
func (c *Client) RevokeToken(ctx context.Context, userID string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	t := c.tokens.get(userID)
	if t == nil {
		t = c.storedToken(userID)
	}
	if t == nil {
		return nil
	}
	c.dropToken(userID, t.AccessToken)
	if c.cfg.AuthMode != AuthVerified {
		return nil
	}
	err := c.send(ctx, "revoke token", t.AccessToken, call{method: http.MethodDelete, endpoint: pathAuthenticatedToken, path: pathAuthenticatedToken}, nil)
	if IsStatus(err, http.StatusUnauthorized) {
		return nil
	}
	return err
}

func checkUserID(userID string) error {
	if strings.TrimSpace(userID) == "" {
		return invalidf("user id", "must not be empty")
	}
	if len(userID) > 255 {
		return invalidf("user id", "must be at most 255 characters")
	}
	return nil
}
