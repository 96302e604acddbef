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
