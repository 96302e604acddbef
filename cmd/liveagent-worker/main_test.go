package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// The production worker must stay small: it may link the Temporal SDK but
// never the Temporal server (which drags in ~1,300 extra packages).
func TestWorkerDoesNotLinkTemporalServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/liveagent-bridge/liveagent/cmd/liveagent-worker").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	var sdk bool
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server") {
			t.Errorf("worker links %s", pkg)
		}
		if pkg == "go.temporal.io/sdk/worker" {
			sdk = true
		}
	}
	if !sdk {
		t.Fatalf("go list output does not look like the worker's dependencies:\n%.500s", out)
	}
}

func TestInvalidConfigExitsTwoWithOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	yaml := "salesforce:\n  scrt_url: https://acme.my.salesforce-scrt.com\n  org_id: 12345\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-config", path}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d, want 2 (stderr %q)", code, stderr.String())
	}
	want := "config: salesforce.org_id: must start with \"00D\" and be 15 or 18 characters\n"
	if stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}

func TestUsageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, &stdout, &stderr); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"extra"}, &stdout, &stderr); code != 2 {
		t.Fatalf("extra argument: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "unexpected arguments") {
		t.Fatalf("stderr %q", stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"-config", filepath.Join(t.TempDir(), "none.yaml")}, &stdout, &stderr); code != 2 {
		t.Fatalf("missing file: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "file does not exist") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// minimalConfig is a valid configuration with a generated signing key.
func minimalConfig(t *testing.T) string {
	t.Helper()
	keyPath, _, err := emulator.GenerateKeyPair(t.TempDir(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	return `salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Bridge
  private_key_file: ` + keyPath + `
  key_id: k1
  issuer: bridge-test
session:
  topics: [HR]
`
}

// Guest mode stops the worker at start: exit 2, one line that says why.
func TestGuestModeExitsTwoWithTheReason(t *testing.T) {
	path := writeConfig(t, `salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Bridge
  auth_mode: guest
session:
  topics: [HR]
`)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-config", path}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
	}
	got := stderr.String()
	if !strings.HasPrefix(got, "config: salesforce.auth_mode: guest is not supported: ") || strings.Count(got, "\n") != 1 {
		t.Fatalf("stderr %q", got)
	}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "liveagent.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A bad codec key stops the worker before it connects: one line naming the
// key, without the key.
func TestBadCodecKeyExitsTwoWithOneLine(t *testing.T) {
	const shortKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // 29 bytes
	path := writeConfig(t, minimalConfig(t)+`codec:
  enabled: true
  active_key_id: k1
  keys:
    k1: `+shortKey+"\n")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-config", path}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
	}
	got := stderr.String()
	if !strings.HasPrefix(got, `config: codec.keys: entry "k1": `) || strings.Count(got, "\n") != 1 || strings.Contains(got, shortKey) {
		t.Fatalf("stderr %q", got)
	}
}

// A metrics address that cannot be bound fails the start at once (before
// dialing Temporal, which is unreachable here), naming the key.
func TestMetricsListenBusyFailsAtStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	path := writeConfig(t, minimalConfig(t)+"log:\n  level: warn\ntemporal:\n  address: 127.0.0.1:1\nworker:\n  metrics_listen: "+busy.Addr().String()+"\n")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-config", path}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "worker.metrics_listen: cannot serve metrics on "+busy.Addr().String()) {
		t.Fatalf("stderr %q", stderr.String())
	}
	if strings.Contains(stderr.String(), "Temporal") {
		t.Fatalf("the worker dialed Temporal before serving metrics: %q", stderr.String())
	}
}
