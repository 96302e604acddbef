package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func buildBinary(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, out)
	return bin
}

// writeConfigFile writes cfg's keys the binaries need as a YAML file.
func writeConfigFile(t *testing.T, cfg *config.Config) string {
	t.Helper()
	yaml := fmt.Sprintf(`temporal:
  address: %q
  namespace: %q
salesforce:
  scrt_url: %q
  allow_any_host: true
  org_id: %q
  deployment: %q
  auth_mode: verified
  private_key_file: %q
  key_id: %q
  issuer: %q
session:
  topics: [HR, Payroll]
attachments:
  dir: %q
  public_url: %q
delivery:
  mode: console
worker:
  listener_slots: 5
  activity_slots: 5
log:
  level: debug
  format: json
`, cfg.Temporal.Address, cfg.Temporal.Namespace, cfg.Salesforce.SCRTURL, cfg.Salesforce.OrgID,
		cfg.Salesforce.Deployment, cfg.Salesforce.PrivateKeyFile, cfg.Salesforce.KeyID, cfg.Salesforce.Issuer,
		cfg.Attachments.Dir, cfg.Attachments.PublicURL)
	path := filepath.Join(t.TempDir(), "liveagent.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	loaded, err := config.Load(path)
	require.NoError(t, err, "the file is a valid configuration")
	require.Equal(t, cfg.Temporal.Address, loaded.Temporal.Address)
	return path
}

// The production binaries, as an operator runs them: the worker process
// with a config file and console delivery, and the liveagent CLI driving a
// session; then SIGTERM stops the worker cleanly.
func TestWorkerAndCLIBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	s := newBackend(t, emulator.Faults{})
	bins := t.TempDir()
	workerBin := buildBinary(t, bins, "github.com/liveagent-bridge/liveagent/cmd/liveagent-worker")
	cliBin := buildBinary(t, bins, "github.com/liveagent-bridge/liveagent/cmd/liveagent")
	cfgPath := writeConfigFile(t, s.cfg)

	var wOut, wErr syncbuf.Buffer
	worker := exec.Command(workerBin, "-config", cfgPath)
	worker.Stdout, worker.Stderr = &wOut, &wErr
	require.NoError(t, worker.Start())
	exited := make(chan error, 1)
	go func() { exited <- worker.Wait() }()
	t.Cleanup(func() {
		if worker.ProcessState == nil {
			_ = worker.Process.Kill()
		}
	})
	eventually(t, "worker started", func() bool { return strings.Contains(wErr.String(), "workers started") })

	cli := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		out, err := exec.CommandContext(ctx, cliBin, append([]string{"-config", cfgPath}, args...)...).CombinedOutput()
		require.NoError(t, err, "liveagent %v:\n%s", args, out)
		return string(out)
	}

	const user = "u-cli"
	out := cli("start", "-user", user, "-topic", "HR", "-description", "My address changed")
	assert.Regexp(t, `^Session live-agent-session-u-cli started \(run [0-9a-f-]+\)\. Waiting for an agent\.\.\.\n$`, out)
	out = cli("start", "-user", user, "-topic", "HR", "-description", "My address changed")
	assert.Contains(t, out, "is already running")

	conv := s.conversationOf(t, user)
	eventually(t, "list shows the session", func() bool { return strings.Contains(cli("list"), user) })

	require.NoError(t, s.emu.Accept(conv, agentName))
	eventually(t, "greeting on the worker's console", func() bool {
		return strings.Contains(wOut.String(), user+" [system] "+s.cfg.Session.Greeting)
	})

	out = cli("send", "-user", user, "-id", "cli-1", "Hello", "from", "the", "CLI")
	assert.Regexp(t, `^Message cli-1 sent \(entry .+\)\.\n$`, out)
	s.awaitUserEntry(t, conv, "the CLI message", func(e emulator.TranscriptEntry) bool { return e.Text == "Hello from the CLI" })

	file := filepath.Join(t.TempDir(), "address.txt")
	require.NoError(t, os.WriteFile(file, []byte("New address: 1 Main St\n"), 0o600))
	out = cli("send-file", "-user", user, "-id", "cli-2", "-file", file, "-caption", "proof")
	assert.Contains(t, out, "File cli-2 sent")
	s.awaitUserEntry(t, conv, "the CLI file", func(e emulator.TranscriptEntry) bool {
		return e.Attachment != nil && e.Attachment.SHA256 == sha([]byte("New address: 1 Main St\n"))
	})

	_, err := s.emu.AgentSend(conv, "Thanks, updated.")
	require.NoError(t, err)
	eventually(t, "agent message on the worker's console", func() bool {
		return strings.Contains(wOut.String(), user+" [agent "+agentName+"] Thanks, updated.")
	})

	out = cli("state", "-user", user)
	assert.Contains(t, out, "State:         active\n")
	assert.Contains(t, out, "Agent:         "+agentName+"\n")
	assert.Contains(t, out, "Hello from the CLI")
	assert.Contains(t, out, "Thanks, updated.")

	out = cli("close", "-user", user, "-reason", "done")
	assert.Equal(t, "Session of u-cli: closed.\n", out)
	eventually(t, "closed on the worker's console", func() bool {
		return strings.Contains(wOut.String(), user+" [closed: "+string(workflows.CloseUserClosed))
	})
	s.awaitEmulatorState(t, conv, "closed")

	require.NoError(t, worker.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "worker exits 0 after SIGTERM; stderr tail:\n%s", tail(wErr.String(), 2000))
	case <-time.After(waitFor):
		t.Fatal("worker did not stop after SIGTERM")
	}
	logs := wErr.String()
	assert.Contains(t, logs, "shutting down")
	assert.Contains(t, logs, "workers stopped")
	// No identity JWT or access token (both JWTs: "eyJ...") in the logs, even at debug.
	assert.NotContains(t, logs, "eyJ", "no token in the worker's logs")
	key, err := os.ReadFile(s.cfg.Salesforce.PrivateKeyFile)
	require.NoError(t, err)
	keyLines := strings.Split(strings.TrimSpace(string(key)), "\n")
	assert.NotContains(t, logs, keyLines[1], "no private key material in the logs")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
