package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("100, 1000,5000")
	if err != nil || len(got) != 3 || got[0] != 100 || got[2] != 5000 {
		t.Fatalf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "10,x", "-5", "0"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) succeeded", bad)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-sessions", "abc"}, {"-nope"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: wrote to stdout: %q", args, stdout.String())
		}
	}
	var stderr bytes.Buffer
	run(context.Background(), []string{"-sessions", "abc"}, &bytes.Buffer{}, &stderr)
	if !strings.Contains(stderr.String(), "-sessions") {
		t.Fatalf("error does not name the flag: %q", stderr.String())
	}
}

func TestTokenLimitAboveSalesforceIsRefused(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-sessions", "1", "-token-rpm", "250", "-worker-bin", "/nonexistent"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "token rpm") {
		t.Fatalf("exit %d, stderr %q; want 1 and a token rpm error", code, stderr.String())
	}
}
