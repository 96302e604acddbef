package miaw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifiedTokenExchange(t *testing.T) {
	f := newFakeSF(t)
	f.lastEventID = "1700000000123-7"
	cfg := testConfig(f)
	c, _ := newTestClient(t, cfg)
	before := time.Now()
	tok, err := c.Token(context.Background(), testUser)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.Subject != "v2/iamessage/AUTH/TestKeyset/uid:"+testUser || tok.LastEventID != "1700000000123-7" {
		t.Fatalf("token = %v (last event %q)", tok, tok.LastEventID)
	}
	if d := time.Until(tok.Expiry); d < 50*time.Minute || d > 61*time.Minute {
		t.Fatalf("expiry %s not read from the access token's exp (1h)", tok.Expiry)
	}
	reqs := f.requests(http.MethodPost, pathAuthenticatedToken)
	if len(reqs) != 1 {
		t.Fatalf("got %d token requests", len(reqs))
	}
	r := reqs[0]
	if r.Header.Get("Authorization") != "" {
		t.Error("access-token request must not carry Authorization")
	}
	if r.Header.Get("X-Org-Id") != testOrgID15 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("headers: %v", r.Header)
	}
	body := r.jsonBody(t)
	for k, want := range map[string]string{"orgId": testOrgID15, "esDeveloperName": testDeployment, "capabilitiesVersion": "1",
		"platform": "Web", "authorizationType": "JWT"} {
		if body[k] != want {
			t.Errorf("body[%s] = %v, want %q", k, body[k], want)
		}
	}
	if ctx, _ := body["context"].(map[string]any); ctx["appName"] == "" || ctx["appName"] == nil {
		t.Errorf("body.context = %v", body["context"])
	}
	// The fake verified the JWT signature, kid and issuer; check the claims.
	f.mu.Lock()
	claims, header := f.lastClaims, f.lastHeader
	f.mu.Unlock()
	if header["kid"] != testKID || header["alg"] != "RS256" {
		t.Errorf("JWT header = %v", header)
	}
	if claims["sub"] != testUser || claims["iss"] != testIssuer || claims["aud"] != nil {
		t.Errorf("JWT claims = %v", claims)
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if iat == nil || exp == nil || iat.Before(before.Add(-2*time.Second)) || exp.Sub(iat.Time) != DefaultIdentityTokenTTL {
		t.Errorf("iat/exp = %v/%v", iat, exp)
	}
}

func TestRS512AndPKCS1(t *testing.T) {
	f := newFakeSF(t)
	cfg := testConfig(f)
	cfg.SigningAlgorithm = "RS512"
	cfg.PrivateKeyFile = testKeyPKCS1
	c, _ := newTestClient(t, cfg)
	if _, err := c.Token(context.Background(), testUser); err != nil {
		t.Fatalf("Token: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lastHeader["alg"] != "RS512" {
		t.Fatalf("alg = %v", f.lastHeader["alg"])
	}
}

func TestTokenCachedPerUserAndSingleFlight(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	var wg sync.WaitGroup
	tokens := make([]*Token, 20)
	errs := make([]error, 20)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], errs[i] = c.Token(context.Background(), testUser)
		}()
	}
	wg.Wait()
	for i := range tokens {
		if errs[i] != nil || tokens[i].AccessToken != tokens[0].AccessToken {
			t.Fatalf("caller %d: %v / different token", i, errs[i])
		}
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token requests for one user, want 1", n)
	}
	other, err := c.Token(context.Background(), "someone-else")
	if err != nil || other.AccessToken == tokens[0].AccessToken || !strings.HasSuffix(other.Subject, "uid:someone-else") {
		t.Fatalf("second user: %v %v", other, err)
	}
	if got := c.Stats().TokenRequests; got != 2 {
		t.Fatalf("Stats.TokenRequests = %d, want 2", got)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFakeSF(t)
	f.tokenTTL = 5 * time.Minute
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	cfg := testConfig(f)
	cfg.RenewBefore = time.Minute
	c, _ := newTestClient(t, cfg, withClock(clock))
	first, err := c.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	now.Add(int64(3 * time.Minute)) // 2 minutes left: still good
	if again, _ := c.Token(context.Background(), testUser); again.AccessToken != first.AccessToken {
		t.Fatal("token renewed too early")
	}
	now.Add(int64(90 * time.Second)) // 30s left: inside RenewBefore
	renewed, err := c.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.AccessToken == first.AccessToken || f.tokenCalls.Load() != 2 {
		t.Fatalf("token not renewed inside RenewBefore (calls=%d)", f.tokenCalls.Load())
	}
}

func TestUnauthorizedCallRemintsOnceAndRetries(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET "+conversationPath(testConvID, ""), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"conversationId": testConvID, "routingStatus": RoutingRouted})
	})
	c, _ := newTestClient(t, testConfig(f))
	if _, err := c.Token(context.Background(), testUser); err != nil {
		t.Fatal(err)
	}
	f.revokeAll() // the cached token now gets 401
	status, err := c.RoutingStatus(context.Background(), testUser, testConvID)
	if err != nil || status != RoutingRouted {
		t.Fatalf("RoutingStatus = %q, %v", status, err)
	}
	if n := f.tokenCalls.Load(); n != 2 {
		t.Fatalf("token requests = %d, want 2 (one re-mint)", n)
	}
	calls := f.requests(http.MethodGet, conversationPath(testConvID, ""))
	if len(calls) != 2 || calls[0].Header.Get("Authorization") == calls[1].Header.Get("Authorization") {
		t.Fatalf("want the call retried once with the new token, got %d calls", len(calls))
	}
}

func TestPersistentUnauthorizedIsPermanent(t *testing.T) {
	f := newFakeSF(t)
	f.handle("GET "+conversationPath(testConvID, ""), func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Jwt is expired", http.StatusUnauthorized)
	})
	c, _ := newTestClient(t, testConfig(f))
	_, err := c.RoutingStatus(context.Background(), testUser, testConvID)
	var e *Error
	if !errors.As(err, &e) || e.Status != 401 || e.Message != "Jwt is expired" || IsRetryable(err) {
		t.Fatalf("got %v, want permanent 401 *Error", err)
	}
	if n := len(f.requests(http.MethodGet, conversationPath(testConvID, ""))); n != 2 {
		t.Fatalf("%d attempts, want exactly 2", n)
	}
}

func TestUnverifiedSubjectFails(t *testing.T) {
	f := newFakeSF(t)
	f.subjectPrefix = "" // Salesforce silently answers with an anonymous subject
	c, _ := newTestClient(t, testConfig(f))
	_, err := c.Token(context.Background(), testUser)
	if !errors.Is(err, ErrUnverifiedSubject) || IsRetryable(err) {
		t.Fatalf("got %v, want ErrUnverifiedSubject", err)
	}
	err = c.CreateConversation(context.Background(), testUser, CreateConversationRequest{ConversationID: testConvID})
	if !errors.Is(err, ErrUnverifiedSubject) {
		t.Fatalf("CreateConversation: %v", err)
	}
	if len(c.cachedTokens()) != 0 {
		t.Fatal("an unverified token was cached")
	}
}

func TestGuestToken(t *testing.T) {
	f := newFakeSF(t)
	cfg := testConfig(f)
	cfg.AuthMode = AuthGuest
	cfg.PrivateKeyFile, cfg.KeyID, cfg.Issuer = "", "", ""
	c, _ := newTestClient(t, cfg)
	tok, err := c.Token(context.Background(), testUser)
	if err != nil || !strings.Contains(tok.Subject, "UNAUTH") {
		t.Fatalf("guest token %v, %v", tok, err)
	}
	reqs := f.requests(http.MethodPost, pathUnauthenticatedToken)
	if len(reqs) != 1 {
		t.Fatalf("%d unauthenticated token calls", len(reqs))
	}
	body := reqs[0].jsonBody(t)
	if body["orgId"] != testOrgID15 || body["esDeveloperName"] != testDeployment || body["customerIdentityToken"] != nil || body["authorizationType"] != nil {
		t.Fatalf("guest body = %v", body)
	}
	// Guests have nothing to revoke server-side.
	if err := c.RevokeToken(context.Background(), testUser); err != nil {
		t.Fatal(err)
	}
	if len(f.requests(http.MethodDelete, pathAuthenticatedToken)) != 0 {
		t.Fatal("guest revoke called the authenticated endpoint")
	}
}

func TestContinuationToken(t *testing.T) {
	f := newFakeSF(t)
	c, _ := newTestClient(t, testConfig(f))
	cur, err := c.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	cont, err := c.ContinuationToken(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	if cont.AccessToken == cur.AccessToken || cont.Subject != cur.Subject {
		t.Fatalf("continuation %v vs current %v", cont, cur)
	}
	reqs := f.requests(http.MethodGet, pathContinuationToken)
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+cur.AccessToken {
		t.Fatal("continuation call must carry the current bearer token")
	}
	if again, _ := c.Token(context.Background(), testUser); again.AccessToken != cur.AccessToken {
		t.Fatal("continuation token replaced the cached token")
	}
}

func TestRevokeToken(t *testing.T) {
	f := newFakeSF(t)
	revoked := make(chan string, 1)
	f.handle("DELETE "+pathAuthenticatedToken, func(w http.ResponseWriter, r *http.Request) {
		revoked <- r.Header.Get("Authorization")
		w.WriteHeader(http.StatusNoContent)
	})
	c, _ := newTestClient(t, testConfig(f))
	tok, _ := c.Token(context.Background(), testUser)
	if err := c.RevokeToken(context.Background(), testUser); err != nil {
		t.Fatal(err)
	}
	if got := <-revoked; got != "Bearer "+tok.AccessToken {
		t.Fatalf("revoked %q", got)
	}
	if _, err := c.Token(context.Background(), testUser); err != nil || f.tokenCalls.Load() != 2 {
		t.Fatalf("after revoke a new token must be minted (calls=%d, err=%v)", f.tokenCalls.Load(), err)
	}
	// Revoking an already-dead token is fine.
	f.revokeAll()
	f.handle("DELETE "+pathAuthenticatedToken, nil)
	if err := c.RevokeToken(context.Background(), testUser); err != nil {
		t.Fatalf("revoke of expired token: %v", err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	tok := &Token{AccessToken: "secret-access-token", Subject: "v2/iamessage/AUTH/k/uid:u", Expiry: time.Now()}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", tok)
	for _, s := range []string{tok.String(), fmt.Sprint(tok), fmt.Sprintf("%v", tok), buf.String()} {
		if strings.Contains(s, "secret-access-token") || !strings.Contains(s, "REDACTED") {
			t.Fatalf("token printed as %q", s)
		}
	}
}

func TestTokenRateLimiterIsOrgWide(t *testing.T) {
	f := newFakeSF(t)
	cfg := testConfig(f)
	cfg.TokenRequestsPerMinute = 10 // burst 1, then one per 6s
	c, _ := newTestClient(t, cfg)
	if _, err := c.Token(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Token(ctx, "u2")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second user's token inside the limit window: %v, want it to wait", err)
	}
}

// A token whose whole lifetime is shorter than twice RenewBefore (Salesforce
// orgs can set short verified-token lifetimes; the emulator's early-expiry
// fault does) is still reused for half its lifetime instead of being re-minted
// on every call, which would burn the org's 200/min token budget.
func TestShortLivedTokenReusedForHalfItsLifetime(t *testing.T) {
	f := newFakeSF(t)
	f.tokenTTL = 40 * time.Second
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	cfg := testConfig(f)
	cfg.RenewBefore = time.Minute
	c, _ := newTestClient(t, cfg, withClock(clock))
	first, err := c.Token(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	now.Add(int64(10 * time.Second))
	if again, err := c.Token(context.Background(), testUser); err != nil || again.AccessToken != first.AccessToken {
		t.Fatalf("token re-minted after 10s of a 40s lifetime (err %v)", err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	now.Add(int64(15 * time.Second)) // 15s left: past half the lifetime
	renewed, err := c.Token(context.Background(), testUser)
	if err != nil || renewed.AccessToken == first.AccessToken {
		t.Fatalf("token not renewed past half its lifetime (err %v)", err)
	}
}

// Streams reconnecting after a worker's death or an outage wait for the
// token budget's free slots; a user action's token request is served before
// them, however many wait, even when it needs the token a waiting stream
// asked for (it shares that exchange, which then queues in turn).
func TestStreamTokensNeverQueueAheadOfUserActions(t *testing.T) {
	for _, tc := range []struct{ name, action string }{
		{"another user", "user-action"},
		{"a waiting stream's user", "stream-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := exhaustedBudgetClient(t, 120) // then one token every 500 ms
			ctx := context.Background()
			var wg sync.WaitGroup
			for i := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.streamToken(ctx, fmt.Sprintf("stream-%d", i)); err != nil {
						t.Error(err)
					}
				}()
			}
			// The streams wait for the next slot (500 ms away); a user
			// action that comes later still takes it. (On a loaded machine
			// the streams may not be waiting yet; the action then comes
			// first anyway.)
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Token(ctx, tc.action); err != nil {
				t.Fatal(err)
			}
			wg.Wait()

			order := tokenOrder(t, f)
			if len(order) < 15 || order[12] != tc.action {
				t.Errorf("token requests after the burst: %v, want %q first", order[min(12, len(order)):], tc.action)
			}
		})
	}
}

// User actions that alone would use the whole token budget do not starve a
// waiting stream: after a few of them have passed it, it takes its turn.
func TestStreamTokenNotStarvedByUserActions(t *testing.T) {
	c, f := exhaustedBudgetClient(t, 240) // then one token every 250 ms
	ctx := context.Background()
	streamDone := make(chan error, 1)
	go func() {
		_, err := c.streamToken(ctx, "stream")
		streamDone <- err
	}()
	// One user action after the other, each asking as soon as the last has
	// its token: every free slot is wanted by a user action.
	const actions = 8
	for i := range actions {
		if _, err := c.Token(ctx, fmt.Sprintf("action-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-streamDone; err != nil {
		t.Fatal(err)
	}
	order := tokenOrder(t, f)[24:]
	at := slices.Index(order, "stream")
	if at < 0 || at > foregroundShare+2 {
		t.Errorf("token requests after the burst: %v, want the stream's within the first %d", order, foregroundShare+3)
	}
}

// tokenOrder is the users of f's access-token requests, in arrival order.
func tokenOrder(t *testing.T, f *fakeSF) []string {
	t.Helper()
	var order []string
	for _, r := range f.requests(http.MethodPost, pathAuthenticatedToken) {
		idt, _ := r.jsonBody(t)["customerIdentityToken"].(string)
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(idt, claims); err != nil {
			t.Fatal(err)
		}
		sub, _ := claims.GetSubject()
		order = append(order, sub)
	}
	return order
}

// exhaustedBudgetClient is a client with a token budget of perMin whose
// burst (a tenth of it) is used up: its next token waits for the next slot.
func exhaustedBudgetClient(t *testing.T, perMin int) (*Client, *fakeSF) {
	t.Helper()
	f := newFakeSF(t)
	cfg := testConfig(f)
	cfg.TokenRequestsPerMinute = perMin
	c, _ := newTestClient(t, cfg)
	for i := range perMin / 10 {
		if _, err := c.Token(context.Background(), fmt.Sprintf("burst-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return c, f
}
