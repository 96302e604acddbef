package emulator

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func TestUnauthenticatedAccessToken(t *testing.T) {
	e := newEnv(t, nil)
	r := e.call("POST", "/iamessage/api/v2/authorization/unauthenticated/access-token", "", "", tokenBody())
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if m["lastEventId"] != "0" {
		t.Errorf("lastEventId = %v, want \"0\" for a new user", m["lastEventId"])
	}
	ctx := m["context"].(map[string]any)
	if ctx["deviceId"] == "" || ctx["deviceId"] == nil {
		t.Error("context.deviceId missing")
	}
	subject := ctx["endUser"].(map[string]any)["subject"].(string)
	if strings.Contains(subject, "/AUTH/") || !strings.HasPrefix(subject, "v2/iamessage/") {
		t.Errorf("guest subject %q", subject)
	}
	es := ctx["configuration"].(map[string]any)["embeddedServiceConfig"].(map[string]any)
	if es["name"] != testDeploy || es["deploymentType"] != "api" {
		t.Errorf("embeddedServiceConfig = %v", es)
	}
	if es["embeddedServiceMessagingChannel"].(map[string]any)["authMode"] != "UnAuth" {
		t.Errorf("authMode = %v", es["embeddedServiceMessagingChannel"])
	}
	// The access token is a JWT with exp and the same subject.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(m["accessToken"].(string), claims); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != subject {
		t.Errorf("token sub %v != subject %v", claims["sub"], subject)
	}
	if _, ok := claims["exp"].(float64); !ok {
		t.Error("access token has no exp")
	}
}

func TestUnauthenticatedAccessTokenRejections(t *testing.T) {
	e := newEnv(t, nil)
	const path = "/iamessage/api/v2/authorization/unauthenticated/access-token"
	cases := []struct {
		name   string
		mutate func(map[string]any)
		status int
		msg    string
	}{
		{"missing orgId", func(b map[string]any) { delete(b, "orgId") }, 400, "OrgId is required"},
		{"wrong orgId", func(b map[string]any) { b["orgId"] = "00D000000000999" }, 400, "Invalid OrgId"},
		{"unknown deployment", func(b map[string]any) { b["esDeveloperName"] = "Nope" }, 400, "No Embedded Service deployment"},
		{"missing deployment", func(b map[string]any) { delete(b, "esDeveloperName") }, 400, "esDeveloperName is required"},
		{"missing capabilitiesVersion", func(b map[string]any) { delete(b, "capabilitiesVersion") }, 400, "capabilitiesVersion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tokenBody()
			tc.mutate(b)
			r := e.call("POST", path, "", "", b)
			if r.status != tc.status || !strings.Contains(r.errMessage(t), tc.msg) {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.status, tc.msg)
			}
		})
	}
	// 18-character org id accepted.
	b := tokenBody()
	b["orgId"] = testOrg + "AAA"
	if r := e.call("POST", path, "", "", b); r.status != 200 {
		t.Fatalf("18-char org id: %d %s", r.status, r.body)
	}
	// Guests can be turned off.
	e2 := newEnv(t, func(c *Config) { c.RejectGuests = true })
	if r := e2.call("POST", path, "", "", tokenBody()); r.status != 403 {
		t.Fatalf("RejectGuests: got %d", r.status)
	}
}

func TestAuthenticatedAccessToken(t *testing.T) {
	e := newEnv(t, nil)
	for _, method := range []jwt.SigningMethod{jwt.SigningMethodRS256, jwt.SigningMethodRS512} {
		b := tokenBody()
		b["authorizationType"] = "JWT"
		b["customerIdentityToken"] = identityJWT(t, method, testKid, testIss, "alice", time.Now().Add(time.Minute))
		r := e.call("POST", "/iamessage/api/v2/authorization/authenticated/access-token", "", "", b)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", method.Alg(), r.status, r.body)
		}
		m := r.json(t)
		subject := m["context"].(map[string]any)["endUser"].(map[string]any)["subject"]
		if subject != "v2/iamessage/AUTH/LiveAgentBridgeKeyset/uid:alice" {
			t.Errorf("%s: subject %v", method.Alg(), subject)
		}
		claims := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(m["accessToken"].(string), claims); err != nil {
			t.Fatal(err)
		}
		if claims["sub"] != subject {
			t.Errorf("access token sub %v", claims["sub"])
		}
		exp, _ := claims.GetExpirationTime()
		if exp == nil || time.Until(exp.Time) < 50*time.Minute || time.Until(exp.Time) > 61*time.Minute {
			t.Errorf("access token exp %v, want about 1h", exp)
		}
	}
}

func TestAuthenticatedAccessTokenRejections(t *testing.T) {
	e := newEnv(t, nil)
	now := time.Now()
	other := func() string {
		// Signed by the right key but HS256 (alg confusion) must be refused.
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "iss": testIss, "exp": now.Add(time.Minute).Unix()})
		tok.Header["kid"] = testKid
		s, _ := tok.SignedString([]byte("secret"))
		return s
	}()
	cases := []struct {
		name, token string
		status      int
		msg         string
	}{
		{"wrong kid", identityJWT(t, jwt.SigningMethodRS256, "other-kid", testIss, "alice", now.Add(time.Minute)), 401, "unknown kid"},
		{"wrong iss", identityJWT(t, jwt.SigningMethodRS256, testKid, "https://evil.example.com", "alice", now.Add(time.Minute)), 401, "issuer"},
		{"expired", identityJWT(t, jwt.SigningMethodRS256, testKid, testIss, "alice", now.Add(-time.Minute)), 401, "expired"},
		{"no sub", identityJWT(t, jwt.SigningMethodRS256, testKid, testIss, "", now.Add(time.Minute)), 401, "sub"},
		{"hs256", other, 401, "signing method"},
		{"garbage", "not-a-jwt", 401, "Invalid customerIdentityToken"},
		{"missing", "", 400, "customerIdentityToken is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tokenBody()
			b["authorizationType"] = "JWT"
			b["customerIdentityToken"] = tc.token
			r := e.call("POST", "/iamessage/api/v2/authorization/authenticated/access-token", "", "", b)
			if r.status != tc.status || !strings.Contains(r.errMessage(t), tc.msg) {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.status, tc.msg)
			}
		})
	}
	b := tokenBody()
	b["customerIdentityToken"] = identityJWT(t, jwt.SigningMethodRS256, testKid, testIss, "alice", now.Add(time.Minute))
	if r := e.call("POST", "/iamessage/api/v2/authorization/authenticated/access-token", "", "", b); r.status != 400 {
		t.Fatalf("missing authorizationType: %d", r.status)
	}
}

func TestContinuationAndRevoke(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.verifiedToken("bob")
	r := e.api("GET", "/authorization/continuation-access-token", tok, nil)
	if r.status != 200 {
		t.Fatalf("continuation: %d %s", r.status, r.body)
	}
	m := r.json(t)
	cont := m["accessToken"].(string)
	if cont == tok || m["lastEventId"] == nil {
		t.Fatalf("continuation response %s", r.body)
	}
	c1, c2 := jwt.MapClaims{}, jwt.MapClaims{}
	_, _, _ = jwt.NewParser().ParseUnverified(tok, c1)
	_, _, _ = jwt.NewParser().ParseUnverified(cont, c2)
	if c1["sub"] != c2["sub"] || c1["exp"] != c2["exp"] {
		t.Fatalf("continuation token must keep subject and exp: %v/%v vs %v/%v", c1["sub"], c1["exp"], c2["sub"], c2["exp"])
	}
	if c1["jti"] == c2["jti"] {
		t.Fatal("continuation token must be a new token")
	}
	// Both work on the same conversations.
	conv := e.createConversation(tok, nil)
	if r := e.api("GET", "/conversation/"+conv, cont, nil); r.status != 200 {
		t.Fatalf("continuation token cannot read the conversation: %d", r.status)
	}
	// Revoke ends that token only.
	if r := e.api("DELETE", "/authorization/authenticated/access-token", cont, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.api("GET", "/conversation/"+conv, cont, nil); r.status != 401 {
		t.Fatalf("revoked token: %d", r.status)
	}
	if r := e.api("GET", "/conversation/"+conv, tok, nil); r.status != 200 {
		t.Fatalf("original token after revoking the continuation: %d", r.status)
	}
}

func TestBearerAndOrgIDRejections(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TokenTTL = 2 * time.Second })
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	// REST calls need no X-Org-Id (Salesforce's sample app sends only
	// Content-Type and Authorization); a wrong one is still refused.
	if r := e.call("GET", "/iamessage/api/v2/conversation/"+conv, tok, "", nil); r.status != 200 {
		t.Fatalf("REST without X-Org-Id: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/iamessage/api/v2/conversation/"+conv, tok, "00D00000000XXXX", nil); r.status != 400 {
		t.Fatalf("wrong X-Org-Id: %d %s", r.status, r.body)
	}
	if r := e.api("GET", "/conversation/"+conv, "", nil); r.status != 401 || r.errMessage(t) != "Unauthorized" {
		t.Fatalf("no bearer: %d %s", r.status, r.body)
	}
	if r := e.api("GET", "/conversation/"+conv, "garbage", nil); r.status != 401 || r.errMessage(t) != "Unauthorized" {
		t.Fatalf("garbage bearer: %d %s", r.status, r.body)
	}
	// A token of another emulator instance (other HMAC key) is refused.
	e2 := newEnv(t, nil)
	tok2, _ := e2.guestToken()
	if r := e.api("GET", "/conversation/"+conv, tok2, nil); r.status != 401 {
		t.Fatalf("foreign token: %d", r.status)
	}
	// Expired: JWT exp has one-second resolution, so wait past it.
	eventually(t, "token expiry", func() bool {
		r := e.api("GET", "/conversation/"+conv, tok, nil)
		return r.status == 401 && r.errMessage(t) == "Jwt is expired"
	})
	// The SSE endpoint gives the same answers.
	if st := e.openStream(tok, "Last-Event-ID", ""); st.status != 401 {
		t.Fatalf("SSE with expired token: %d", st.status)
	}
	r := e.call("GET", "/eventrouter/v1/sse", tok, "", nil)
	if r.status != 400 || r.errMessage(t) != "OrgId is required" {
		t.Fatalf("SSE without X-Org-Id: %d %s", r.status, r.body)
	}
}

// TestRESTWithoutOrgIDAnswersLikeSalesforce: the calls of Salesforce's sample
// app (Content-Type and Authorization only) are served, and an expired or
// invalid token on them is 401, so a client knows to renew it.
func TestRESTWithoutOrgIDAnswersLikeSalesforce(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	claims, err := e.s.parseAccessToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := e.s.issueAccessToken(claims.Subject, claims.AuthMode, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	conv := uuid.NewString()
	body := map[string]any{"conversationId": conv, "esDeveloperName": testDeploy}
	if r := e.call("POST", "/iamessage/api/v2/conversation", expired, "", body); r.status != 401 || r.errMessage(t) != "Jwt is expired" {
		t.Fatalf("create with an expired token, no X-Org-Id: %d %s", r.status, r.body)
	}
	if r := e.call("POST", "/iamessage/api/v2/conversation", "garbage", "", body); r.status != 401 {
		t.Fatalf("create with an invalid token, no X-Org-Id: %d %s", r.status, r.body)
	}
	if r := e.call("POST", "/iamessage/api/v2/conversation", tok, "", body); r.status/100 != 2 {
		t.Fatalf("create with a valid token, no X-Org-Id: %d %s", r.status, r.body)
	}
	msg := map[string]any{"message": map[string]any{"id": uuid.NewString(), "messageType": "StaticContentMessage",
		"staticContent": map[string]any{"formatType": "Text", "text": "hi"}}, "esDeveloperName": testDeploy}
	if r := e.call("POST", "/iamessage/api/v2/conversation/"+conv+"/message", tok, "", msg); r.status != 202 {
		t.Fatalf("send with a valid token, no X-Org-Id: %d %s", r.status, r.body)
	}
	if r := e.call("POST", "/iamessage/api/v2/conversation/"+conv+"/message", expired, "", msg); r.status != 401 {
		t.Fatalf("send with an expired token, no X-Org-Id: %d %s", r.status, r.body)
	}
}

func TestGenerateKeyPairIsUsable(t *testing.T) {
	dir := t.TempDir()
	keyPath, jwksPath, err := GenerateKeyPair(dir, "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{keyPath, jwksPath} {
		if !strings.HasPrefix(p, dir) {
			t.Fatalf("%s not in %s", p, dir)
		}
	}
	keyPEM, err := readFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := readFile(jwksPath)
	s, err := New(Config{JWKS: jwks, Issuer: "iss"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "u1", "iss": "iss", "exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["kid"] = "dev-1"
	raw, _ := tok.SignedString(key)
	if sub, err := s.verifyIdentityToken(raw); err != nil || sub != "u1" {
		t.Fatalf("verify: %q %v", sub, err)
	}
	if _, _, err := GenerateKeyPair(dir, ""); err == nil {
		t.Fatal("empty kid accepted")
	}
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]Config{
		"org id":   {OrgID: "001000000000001"},
		"rate":     {Faults: Faults{ErrorRate: 1.5}},
		"jwks":     {JWKS: []byte("{")},
		"drop":     {Faults: Faults{DropStreamEvery: -1}},
		"jwks kid": {JWKS: []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`)},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		} else if !strings.HasPrefix(err.Error(), "emulator: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
}

func TestAnonymousOnVerificationFailure(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AnonymousOnVerificationFailure = true })
	b := tokenBody()
	b["authorizationType"] = "JWT"
	b["customerIdentityToken"] = identityJWT(t, jwt.SigningMethodRS256, "unknown-kid", testIss, "alice", time.Now().Add(time.Minute))
	r := e.call("POST", "/iamessage/api/v2/authorization/authenticated/access-token", "", "", b)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	subject := r.json(t)["context"].(map[string]any)["endUser"].(map[string]any)["subject"].(string)
	if strings.Contains(subject, "/AUTH/") || !strings.Contains(subject, "/ANON/") {
		t.Fatalf("subject %q", subject)
	}
	// A valid token is still verified.
	if r := e.verifiedTokenResp("alice"); !strings.Contains(string(r.body), "/AUTH/LiveAgentBridgeKeyset/uid:alice") {
		t.Fatalf("valid token: %s", r.body)
	}
}

func TestRequireAuthForFiles(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RequireAuthForFiles = true })
	tok, _ := e.guestToken()
	conv := e.createConversation(tok, nil)
	if err := e.s.Accept(conv, "A"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.AgentSendFile(conv, "a.txt", "text/plain", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	tr := e.s.Transcript(conv)
	url := tr[len(tr)-1].Attachment.URL
	if r := e.do(mustReq(t, "GET", url)); r.status != 401 {
		t.Fatalf("without bearer: %d", r.status)
	}
	req := mustReq(t, "GET", url)
	req.Header.Set("Authorization", "Bearer "+tok)
	if r := e.do(req); r.status != 200 || string(r.body) != "secret" {
		t.Fatalf("with bearer: %d %q", r.status, r.body)
	}
	if r := e.do(mustReq(t, "GET", e.url+"/emulator/files/nope")); r.status != 401 {
		t.Fatalf("unknown file without auth: %d", r.status)
	}
}
