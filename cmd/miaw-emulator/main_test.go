package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-gen-keys", t.TempDir(), "-agent-name", "Jane", "-fault-seed", "7"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no base URL printed: %v (stderr %s)", err, stderr.String())
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base URL %q", base)
	}
	body := `{"orgId":"00D000000000001","esDeveloperName":"Live_Agent_Bridge","capabilitiesVersion":"1","platform":"Web"}`
	res, err := http.Post(base+"/iamessage/api/v2/authorization/unauthenticated/access-token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("token: %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if _, err := http.Get(base + "/emulator/console"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-org-id", "123"},
		{"-jwks", "/nonexistent/jwks.json"},
		{"-jwks", "a", "-gen-keys", "b"},
		{"-fault-error-rate", "2"},
		{"-no-such-flag"},
		{"-tls-cert", "c.pem"},
		{"-tls-self-signed", "localhost", "-tls-key", "k.pem"},
		{"-tls-cert-out", "x.pem"},
		{"-tls-cert", "/nonexistent/c.pem", "-tls-key", "/nonexistent/k.pem"},
		{"-history-username", "u@example.com"},
		{"-history-channel", "chan"},
		{"-history-client-id", "key", "-history-username", "u@example.com"},
		{"-history-client-id", "key", "-history-username", "u@example.com", "-history-connected-app", "App"}, // no JWKS to verify assertions
	} {
		var stderr bytes.Buffer
		if err := run(context.Background(), args, io.Discard, &stderr); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// -public-url names the host in agent attachment links (in docker-compose the
// worker reaches the emulator as http://emulator:8090, not its listen address).
func TestPublicURLNamesAttachmentLinks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-public-url", "http://emulator.test:8090"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no base URL printed: %v", err)
	}
	base := strings.TrimSpace(line)
	post := func(path, token, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Org-Id", "00D000000000001")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out := map[string]any{}
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v", path, res.StatusCode, out)
		}
		return out
	}
	tok := post("/iamessage/api/v2/authorization/unauthenticated/access-token", "",
		`{"orgId":"00D000000000001","esDeveloperName":"Live_Agent_Bridge","capabilitiesVersion":"1","platform":"Web"}`)["accessToken"].(string)
	const conv = "3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11"
	post("/iamessage/api/v2/conversation", tok, `{"conversationId":"`+conv+`","esDeveloperName":"Live_Agent_Bridge"}`)
	post("/emulator/v1/conversations/"+conv+"/accept", "", `{"agent":"Jane"}`)
	post("/emulator/v1/conversations/"+conv+"/files", "", `{"name":"a.txt","mimeType":"text/plain","dataBase64":"aGk="}`)
	res, err := http.Get(base + "/emulator/v1/conversations/" + conv + "/transcript")
	if err != nil {
		t.Fatal(err)
	}
	transcript, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(transcript), `"http://emulator.test:8090/emulator/files/`) {
		t.Fatalf("file link does not use -public-url: %s", transcript)
	}
	cancel()
	<-errc
}

// -tls-self-signed serves HTTPS with a generated certificate written to
// -tls-cert-out; -cors-origins lets a page of that origin call the API.
func TestRunServesTLSAndCORS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	certOut := filepath.Join(t.TempDir(), "emulator.pem")
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-tls-self-signed", "*.my.salesforce-scrt.com,localhost,127.0.0.1",
			"-tls-cert-out", certOut, "-cors-origins", "http://localhost:3000"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no base URL printed: %v", err)
	}
	base := strings.TrimSpace(line)
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("base URL %q", base)
	}
	pemBytes, err := os.ReadFile(certOut)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("-tls-cert-out is not a PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "acme.my.salesforce-scrt.com"}}}
	req, _ := http.NewRequest(http.MethodOptions, base+"/iamessage/api/v2/conversation", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Fatalf("preflight over TLS: %d %v", res.StatusCode, res.Header)
	}
	cancel()
	<-errc
}

// The -history-* flags serve the Conversation History API: an assertion
// signed with the emulator's JWKS key gets a token, and uploads must name
// -history-connected-app and -history-channel.
func TestRunServesConversationHistory(t *testing.T) {
	dir := t.TempDir()
	keyPath, jwksPath, err := emulator.GenerateKeyPair(dir, "k1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"-listen", "127.0.0.1:0", "-jwks", jwksPath, "-history-client-id", "consumer-key",
			"-history-username", "integration@example.com", "-history-connected-app", "Bridge_App", "-history-channel", "my-channel"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no base URL printed: %v", err)
	}
	base := strings.TrimSpace(line)

	pemBytes, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "consumer-key", "sub": "integration@example.com",
		"aud": base, "exp": time.Now().Add(time.Minute).Unix()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.PostForm(base+"/services/oauth2/token", map[string][]string{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %d", res.StatusCode)
	}
	// An upload naming the channel passes the channel check and stops at the
	// unknown conversation; another channel is refused.
	upload := func(channel string) (int, int) {
		t.Helper()
		body := `{"channelAddressIdentifier":"` + channel + `","conversationIdentifier":"3c3a1b0e-6f7d-4b1e-9c55-2f7d5e0a9b11"}`
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/conversationHistory", strings.NewReader(body))
		for k, v := range map[string]string{"Authorization": "Bearer " + tok.AccessToken, "Content-Type": "application/json",
			"OrgId": "00D000000000001", "AuthorizationContext": "Bridge_App", "AuthorizationContextType": "EmbeddedMessagingChannel", "RequestId": "r1"} {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b struct {
			Code int `json:"code"`
		}
		_ = json.NewDecoder(res.Body).Decode(&b)
		return res.StatusCode, b.Code
	}
	if st, code := upload("my-channel"); st != 404 || code != 10018 {
		t.Fatalf("upload on -history-channel: %d %d", st, code)
	}
	if st, code := upload("other-channel"); st != 400 || code != 10069 {
		t.Fatalf("upload on another channel: %d %d", st, code)
	}
	cancel()
	<-errc
}
