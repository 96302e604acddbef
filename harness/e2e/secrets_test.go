package e2e

import (
	"bytes"
	"context"
	"encoding/pem"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/liveagent-bridge/liveagent/internal/syncbuf"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// TestNoSecretInHistoryOrLogs runs a whole session, with stream drops forcing
// reconnects and token use, and then reads the raw history (every event,
// serialized exactly as the server stores it, no codec) and the worker's logs
// at debug level. Neither may hold a JWT (identity or access token: both
// start "eyJ"), a bearer header, or any part of the private key. The chat
// texts must be visible in the same raw bytes (no codec here), which proves
// the scan sees payload contents.
func TestNoSecretInHistoryOrLogs(t *testing.T) {
	s := newBackend(t, emulator.Faults{DropStreamEvery: 4})
	logs := &syncbuf.Buffer{}
	s.logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })

	ctx := context.Background()
	const user = "u-secrets"
	const userText, agentText = "my employee number is 4711", "thanks, I found your record"
	sess, conv := s.startAccepted(t, user, "payslip question")
	_, err := s.starter.SendMessage(ctx, user, "m-1", userText)
	require.NoError(t, err)
	_, err = s.emu.AgentSend(conv, agentText)
	require.NoError(t, err)
	_, err = s.emu.AgentSendFile(conv, "notes.txt", "text/plain", []byte("agent file"))
	require.NoError(t, err)
	s.sink.await(t, user, "agent text", func(d workflows.Delivery) bool { return d.Text == agentText })
	s.sink.await(t, user, "agent file", func(d workflows.Delivery) bool { return d.Attachment != nil })
	_, err = s.starter.Close(ctx, user, "close-1", "done")
	require.NoError(t, err)
	s.result(t, sess)

	var raw bytes.Buffer
	iter := s.tc.GetWorkflowHistory(ctx, sess.WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		b, err := proto.Marshal(ev)
		require.NoError(t, err)
		raw.Write(b)
	}
	history := raw.String()
	require.Contains(t, history, userText, "control: the scan must see payload contents")
	require.Contains(t, history, agentText, "control: the scan must see payload contents")

	keyPEM, err := os.ReadFile(s.cfg.Salesforce.PrivateKeyFile)
	require.NoError(t, err)
	block, _ := pem.Decode(keyPEM)
	require.NotNil(t, block)
	keyBody := strings.Join(strings.Split(strings.TrimSpace(string(keyPEM)), "\n")[1:5], "")

	workerLogs := logs.String()
	require.NotEmpty(t, workerLogs, "debug logs were captured")
	for where, text := range map[string]string{"history": history, "worker logs": workerLogs} {
		assert.NotContains(t, text, "eyJ", "%s holds a JWT", where)
		assert.NotContains(t, text, "Bearer ", "%s holds a bearer header", where)
		assert.NotContains(t, text, "PRIVATE KEY", "%s holds key material", where)
		assert.NotContains(t, text, keyBody[:48], "%s holds private key material", where)
		assert.NotContains(t, text, string(block.Bytes[:32]), "%s holds raw private key bytes", where)
	}
}
