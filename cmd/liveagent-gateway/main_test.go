package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"

	"gopkg.in/yaml.v3"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

func writeConfig(t *testing.T, temporalAddr, namespace, extra string) string {
	t.Helper()
	keyPath, _, err := emulator.GenerateKeyPair(t.TempDir(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	yaml := `temporal:
  address: ` + temporalAddr + `
  namespace: ` + namespace + `
salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Live_Agent_Bridge
  private_key_file: ` + keyPath + `
  key_id: k1
  issuer: bridge-test
session:
  topics: [Payroll, Benefits]
attachments:
  dir: ` + filepath.Join(t.TempDir(), "attachments") + `
gateway:
  listen: 127.0.0.1:0
` + extra
	path := filepath.Join(t.TempDir(), "liveagent.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMissingBearerTokenExitsTwo(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-config", writeConfig(t, "127.0.0.1:7233", "default", "")}, &stderr, nil)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "config: gateway.bearer_token: must be set") || strings.Count(got, "\n") != 1 {
		t.Fatalf("stderr %q", got)
	}
}

const codecKey = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" // 32 bytes of 0x01

func TestCodecWithoutOperatorTokenExitsTwo(t *testing.T) {
	var stderr bytes.Buffer
	extra := "  bearer_token: test-token-0123456789abcdef0123456789abcdef\ncodec:\n  enabled: true\n  active_key_id: k1\n  keys:\n    k1: " + codecKey + "\n"
	code := run(context.Background(), []string{"-config", writeConfig(t, "127.0.0.1:7233", "default", extra)}, &stderr, nil)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "config: codec.operator_token: must be set") || strings.Count(got, "\n") != 1 {
		t.Fatalf("stderr %q", got)
	}
}

func TestUsageErrors(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, &stderr, nil); code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
	if code := run(context.Background(), []string{"extra"}, &stderr, nil); code != 2 {
		t.Fatalf("extra argument: exit %d", code)
	}
}

func TestServesAgainstTemporal(t *testing.T) {
	ts := devtemporal.NewTest(t, devtemporal.Options{})
	cfg := writeConfig(t, ts.FrontendAddress(), ts.Namespace(), "  bearer_token: test-token-0123456789abcdef0123456789abcdef\n"+
		"codec:\n  enabled: true\n  active_key_id: k1\n  keys:\n    k1: "+codecKey+"\n  operator_token: operator-token-0123456789abcdef0123456789abcdef\n"+
		"  cors_origins: [\"http://127.0.0.1:8233\"]\n")

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() { done <- run(ctx, []string{"-config", cfg}, &stderr, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("exited %d before serving: %s", code, stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("gateway did not start")
	}

	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz", ""); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	if code, _ := get("/v1/topics", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	code, body := get("/v1/topics", "test-token-0123456789abcdef0123456789abcdef")
	var topics struct{ Topics []string }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &topics) != nil || strings.Join(topics.Topics, ",") != "Payroll,Benefits" {
		t.Fatalf("topics: %d %s", code, body)
	}
	if code, body := get("/v1/sessions/nobody", "test-token-0123456789abcdef0123456789abcdef"); code != http.StatusNotFound {
		t.Fatalf("state of unknown user: %d %s", code, body)
	}
	if strings.Contains(stderr.String(), "test-token-0123456789abcdef0123456789abcdef") {
		t.Fatal("the bearer token was logged")
	}

	// The codec endpoint: the operator token opens it, the assistants' does not.
	codecPost := func(token string) (int, string) {
		body := `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"ImhpIg=="}]}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/codec/encode", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", ts.Namespace())
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := codecPost("test-token-0123456789abcdef0123456789abcdef"); code != http.StatusUnauthorized {
		t.Fatalf("codec with the assistants' token: %d %s", code, body)
	}
	if code, body := codecPost("operator-token-0123456789abcdef0123456789abcdef"); code != http.StatusOK || !strings.Contains(body, "YmluYXJ5L2VuY3J5cHRlZA==") {
		t.Fatalf("codec encode: %d %s", code, body)
	}
	for _, secret := range []string{"operator-token-0123456789abcdef0123456789abcdef", codecKey} {
		if strings.Contains(stderr.String(), secret) {
			t.Fatalf("a codec secret was logged: %s", stderr.String())
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after shutdown: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not stop")
	}
}

// The gateway binary connects to a real cluster; it must not link the
// Temporal server.
func TestGatewayDoesNotLinkTemporalServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/liveagent-bridge/liveagent/cmd/liveagent-gateway").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	var sdk bool
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server") {
			t.Errorf("gateway links %s", pkg)
		}
		if pkg == "go.temporal.io/sdk/client" {
			sdk = true
		}
	}
	if !sdk {
		t.Fatalf("go list output does not look like the gateway's dependencies:\n%.500s", out)
	}
}

// config.example.yaml documents every key and loads as written (with a
// generated dev key in place of ./devkeys).
func TestExampleConfigIsCompleteAndValid(t *testing.T) {
	const path = "../../config.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range config.Keys() {
		if !hasKey(doc, key) {
			t.Errorf("config.example.yaml does not set %s", key)
		}
	}
	keyPath, _, err := emulator.GenerateKeyPair(t.TempDir(), "dev-key-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIVEAGENT_SALESFORCE_PRIVATE_KEY_FILE", keyPath)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}
	if len(cfg.Session.Topics) == 0 || cfg.Salesforce.KeyID != "dev-key-1" {
		t.Fatalf("unexpected values: %+v", cfg.Redacted())
	}
}

// hasKey reports whether the dotted key is present (with any value, even
// null) in the YAML document.
func hasKey(doc map[string]any, key string) bool {
	parts := strings.Split(key, ".")
	m := doc
	for i, part := range parts {
		v, ok := m[part]
		if !ok {
			return false
		}
		if i == len(parts)-1 {
			return true
		}
		if m, ok = v.(map[string]any); !ok {
			return false
		}
	}
	return false
}
