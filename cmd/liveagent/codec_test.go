package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liveagent-bridge/liveagent/internal/temporalclient"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// With codec.enabled the CLI encrypts what it sends: the session's start
// input (the user's description) reaches the server as ciphertext.
func TestStartEncryptsWithCodec(t *testing.T) {
	ts := devtemporal.NewTest(t, devtemporal.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := client.DialContext(ctx, client.Options{HostPort: ts.FrontendAddress(), Namespace: ts.Namespace()})
	require.NoError(t, err)
	defer raw.Close()
	require.NoError(t, temporalclient.EnsureSearchAttributes(ctx, raw, ts.Namespace()))

	dir := t.TempDir()
	yaml := `temporal:
  address: ` + ts.FrontendAddress() + `
  namespace: ` + ts.Namespace() + `
salesforce:
  scrt_url: http://127.0.0.1:8090
  allow_any_host: true
  org_id: 00D000000000001
  deployment: Dev
` + signingKeyYAML(t) + `
session:
  topics: [HR]
attachments:
  dir: ` + filepath.Join(dir, "att") + `
codec:
  enabled: true
  active_key_id: k1
  keys:
    k1: AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=
`
	path := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))

	const description = "cli-secret-description-1234"
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-config", path, "start", "-user", "u-cli", "-topic", "HR", "-description", description}, &stdout, &stderr, nil)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "started")

	it := raw.GetWorkflowHistory(ctx, workflows.WorkflowID("u-cli"), "", false, 0)
	require.True(t, it.HasNext())
	ev, err := it.Next()
	require.NoError(t, err)
	started := ev.GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, started)
	require.NotEmpty(t, started.GetInput().GetPayloads())
	assert.Equal(t, "binary/encrypted", string(started.GetInput().GetPayloads()[0].GetMetadata()["encoding"]))
	assert.False(t, strings.Contains(protojson.Format(ev), description), "the description reached history in clear")
}
