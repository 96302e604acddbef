package miaw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"crypto/rsa"

	"golang.org/x/sync/singleflight"
)

const (
	appName       = "liveagent-bridge"
	clientVersion = "1.0.0"
	userAgent     = "liveagent-bridge-miaw/1.0"
	// maxResponseBody bounds JSON bodies read from successful calls.
	maxResponseBody = 8 << 20
	// defaultHTTPTimeout bounds one REST call when no http.Client is given.
	defaultHTTPTimeout = 30 * time.Second
)

// Client speaks MIAW for one org and deployment, for any number of end users
// (identified by the caller's userID). It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   string // BaseURL without trailing slash
	orgID  string // 15-character org id sent on the wire
	key    *rsa.PrivateKey
	http   *http.Client // REST calls
	stream *http.Client // SSE: no overall timeout
	log    *slog.Logger
	now    func() time.Time
	tokens tokenCache
	store  *tokenStore // nil without Config.TokenStoreDir
	flight singleflight.Group
	budget *tokenBudget
	stats  struct {
		tokenRequests, storedTokens, reconnects, malformed, skipped atomic.Int64
	}
}

// Option customises New.
type Option func(*Client)

// WithLogger sets the logger (default slog.Default()). Tokens, keys and
// message texts are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.log = l
		}
	}
}

// WithHTTPClient sets the HTTP client of REST calls and downloads; the SSE
// stream uses a copy without its Timeout. The default is a client on
// http.DefaultTransport (HTTP/2 when the server offers it over TLS) with a
// 30 s timeout. Use it for a proxy or a private certificate authority.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// New validates cfg, loads the signing key (verified mode) and returns a
// Client. It makes no network call.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:    cfg,
		base:   cfg.BaseURL,
		orgID:  cfg.orgID15(),
		http:   &http.Client{Timeout: defaultHTTPTimeout},
		log:    slog.Default(),
		now:    time.Now,
		tokens: tokenCache{tokens: map[string]*Token{}},
	}
	for _, o := range opts {
		o(c)
	}
	sc := *c.http
	sc.Timeout = 0
	c.stream = &sc
	c.budget = newTokenBudget(cfg.TokenRequestsPerMinute)
	if cfg.AuthMode == AuthVerified {
		key, err := loadPrivateKey(cfg.PrivateKeyFile)
		if err != nil {
			return nil, err
		}
		c.key = key
		if cfg.TokenStoreDir != "" {
			if c.store, err = openTokenStore(cfg.TokenStoreDir, key, c.orgID, cfg.DeploymentName); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Stats are counters since New.
type Stats struct {
	TokenRequests   int64 // access-token and continuation-token calls made
	StoredTokens    int64 // tokens taken from the token store instead of minted
	Reconnects      int64 // stream reconnections (after the first connect)
	MalformedEvents int64 // events that failed to decode (logged and skipped)
	SkippedEvents   int64 // ping and unknown event types (skipped)
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	return Stats{
		TokenRequests:   c.stats.tokenRequests.Load(),
		StoredTokens:    c.stats.storedTokens.Load(),
		Reconnects:      c.stats.reconnects.Load(),
		MalformedEvents: c.stats.malformed.Load(),
		SkippedEvents:   c.stats.skipped.Load(),
	}
}

// call describes one REST request. endpoint is the path template used in
// errors ({id} instead of ids); path is the real, escaped path.
type call struct {
	method      string
	endpoint    string
	path        string
	query       url.Values
	body        []byte
	contentType string
	// status, if non-nil, receives the response status.
	status *int
}

// do runs the call for userID with its access token; on a 401 it drops the
// token, mints a new one and retries once.
func (c *Client) do(ctx context.Context, userID, op string, cl call, out any) error {
	tok, err := c.Token(ctx, userID)
	if err != nil {
		return fmt.Errorf("miaw: %s: %w", op, err)
	}
	err = c.send(ctx, op, tok.AccessToken, cl, out)
	if !IsStatus(err, http.StatusUnauthorized) {
		return err
	}
	c.log.Info("miaw: access token rejected, renewing", "op", op, "user", userID)
	c.dropToken(userID, tok.AccessToken)
	if tok, err = c.Token(ctx, userID); err != nil {
		return fmt.Errorf("miaw: %s: %w", op, err)
	}
	return c.send(ctx, op, tok.AccessToken, cl, out)
}

// send performs one HTTP request. accessToken "" sends no Authorization.
// A 2xx body is decoded into out when out is non-nil and the body non-empty.
func (c *Client) send(ctx context.Context, op, accessToken string, cl call, out any) error {
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return &Error{Op: op, Method: cl.method, Endpoint: cl.endpoint, Err: err}
	}
	req.Header.Set("X-Org-Id", c.orgID)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &Error{Op: op, Method: cl.method, Endpoint: cl.endpoint, Err: stripURL(err)}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}()
	if cl.status != nil {
		*cl.status = resp.StatusCode
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorFromResponse(op, cl.method, cl.endpoint, resp)
	}
	if out == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return &Error{Op: op, Method: cl.method, Endpoint: cl.endpoint, Status: resp.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Op: op, Method: cl.method, Endpoint: cl.endpoint, Status: resp.StatusCode, Message: "malformed response body", Err: err}
	}
	return nil
}

// stripURL removes the request URL from a *url.Error (the path holds ids and
// the message would repeat the endpoint), keeping the cause.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// jsonBody marshals a request body (one of the structs in wire.go). They hold
// only strings, bools, string maps and slices of such structs, which always
// marshal, so an error is a programming error and panics.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("miaw: marshal request: %v", err))
	}
	return b
}

// conversationPath returns the escaped path of a conversation sub-resource.
func conversationPath(conversationID, suffix string) string {
	return "/iamessage/api/v2/conversation/" + url.PathEscape(conversationID) + suffix
}

func deploymentQuery(name string) url.Values { return url.Values{"esDeveloperName": {name}} }
