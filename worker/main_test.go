package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	out, err := exec.Command(goBin, "list", "-deps", "github.com/liveagent-bridge/liveagent/worker").CombinedOutput()
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

func TestCodecNotWiredIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codec.yaml")
	yaml := `salesforce:
  scrt_url: https://acme.my.salesforce-scrt.com
  org_id: 00D000000000001
  deployment: Bridge
  auth_mode: guest
session:
  topics: [HR]
codec:
  enabled: true
  active_key_id: k1
  keys:
    k1: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-config", path}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "config: codec.enabled: ") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("stderr %q", stderr.String())
	}
}
