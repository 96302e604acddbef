package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func writeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	yaml := `
salesforce:
  scrt_url: http://127.0.0.1:8090
  allow_any_host: true
  org_id: 00D000000000001
  deployment: Dev
` + signingKeyYAML(t) + `
session:
  topics: [HR]
attachments:
  dir: ` + filepath.Join(dir, "att") + "\n"
	p := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(yaml), 0o600))
	return p
}

// signingKeyYAML is the salesforce.* lines of a generated signing key.
func signingKeyYAML(t *testing.T) string {
	t.Helper()
	keyPath, _, err := emulator.GenerateKeyPair(t.TempDir(), "k1")
	require.NoError(t, err)
	return "  private_key_file: " + keyPath + "\n  key_id: k1\n  issuer: cli-test"
}

// cli runs the program with tc as the Temporal client.
func cli(t *testing.T, tc client.Client, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	dial := func(context.Context, *config.Config) (client.Client, error) { return tc, nil }
	code = run(context.Background(), args, &out, &errOut, dial)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	code, _, stderr := cli(t, nil)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "usage: liveagent")

	code, _, stderr = cli(t, nil, "-config", writeConfig(t), "fly")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `unknown command "fly"`)

	code, _, stderr = cli(t, nil, "state", "-user", "u", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "unexpected arguments")

	code, _, stderr = cli(t, nil, "send-file", "-user", "u")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "-file is required")
}

func TestInvalidConfigIsOneLine(t *testing.T) {
	t.Setenv("LIVEAGENT_SESSION_TOPICS", "")
	code, _, stderr := cli(t, nil, "list")
	assert.Equal(t, 2, code)
	assert.Equal(t, "liveagent: config: salesforce.scrt_url: must be set (the Salesforce SCRT URL, https://<org>.my.salesforce-scrt.com)\n", stderr)
}

func TestStartValidationNeverReachesTemporal(t *testing.T) {
	tc := mocks.NewClient(t) // no expectations: any call fails the test
	tc.On("Close").Return()
	code, _, stderr := cli(t, tc, "-config", writeConfig(t), "start", "-user", "u-42", "-topic", "Sales", "-description", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `topic "Sales" is not configured`)
}

func TestStartPrintsSession(t *testing.T) {
	tc := mocks.NewClient(t)
	tc.On("Close").Return()
	id := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, id, "").Return(nil, serviceerror.NewNotFound("none"))
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return(id)
	run.On("GetRunID").Return("run-9")
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).Return(run, nil)
	code, stdout, stderr := cli(t, tc, "-config", writeConfig(t), "start", "-user", "u-42", "-topic", "HR", "-description", "payslip")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Session live-agent-session-u-42 started (run run-9). Waiting for an agent...\n", stdout)
}

func TestSendJoinsArgsAndReportsNoSession(t *testing.T) {
	tc := mocks.NewClient(t)
	tc.On("Close").Return()
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.UpdateID == "m1" && o.Args[0].(workflows.UserMessage).Text == "hello there"
	})).Return(nil, serviceerror.NewNotFound("workflow not found"))
	code, _, stderr := cli(t, tc, "-config", writeConfig(t), "send", "-user", "u-42", "-id", "m1", "hello", "there")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no live-agent session")
}

type value struct{ p *commonpb.Payloads }

func (v value) HasValue() bool    { return true }
func (v value) Get(ptr any) error { return converter.GetDefaultDataConverter().FromPayloads(v.p, ptr) }

func TestStatePrintsTranscript(t *testing.T) {
	at := time.Date(2026, 11, 26, 4, 30, 0, 0, time.Local)
	view := workflows.SessionView{
		State: workflows.StateActive, UserID: "u-42", Topic: "HR", AgentName: "Jane Agent", EstimatedWait: -1,
		Transcript: []workflows.TranscriptEntry{
			{At: at, From: workflows.FromUser, Text: "payslip"},
			{At: at, From: workflows.FromAgent, SenderName: "Jane Agent", Text: "See", Link: &workflows.Link{URL: "https://hr.example/faq", Title: "FAQ"}},
			{At: at, From: workflows.FromAgent, SenderName: "Jane Agent", Attachment: &workflows.AttachmentRef{Name: "form.txt", MimeType: "text/plain", Size: 12, URL: "http://x/att/abc"}},
		},
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(view)
	require.NoError(t, err)
	tc := mocks.NewClient(t)
	tc.On("Close").Return()
	tc.On("QueryWorkflow", mock.Anything, workflows.WorkflowID("u-42"), "", workflows.QueryState).Return(value{p}, nil)
	code, stdout, stderr := cli(t, tc, "-config", writeConfig(t), "state", "-user", "u-42")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "State:         active\n")
	assert.Contains(t, stdout, "Agent:         Jane Agent\n")
	assert.Contains(t, stdout, "Transcript (3):")
	assert.Contains(t, stdout, "user:            payslip")
	assert.Contains(t, stdout, "[link] FAQ <https://hr.example/faq>")
	assert.Contains(t, stdout, "[file] form.txt (text/plain, 12 bytes) http://x/att/abc")
	assert.Equal(t, 8, strings.Count(stdout, "\n"))
}
