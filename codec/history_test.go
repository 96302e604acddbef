package codec_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/liveagent-bridge/liveagent/codec"
)

// Names used by the history test workflow.
const (
	secretSignal = "user-message"
	secretUpdate = "user-update"
)

// secrets are the plaintexts the workflow receives through every channel a
// chat session uses: start input, a signal, an update, and an activity
// failure message. Each is unique so a hit cannot come from anything else.
type secrets struct {
	Input, Signal, Update, ActivityError string
}

func newSecrets() secrets {
	tag := strings.ReplaceAll(uuid.NewString(), "-", "")
	return secrets{
		Input:         "PLAINTEXT-INPUT-my-ssn-078-05-1120-" + tag,
		Signal:        "PLAINTEXT-SIGNAL-card-4111111111111111-" + tag,
		Update:        "PLAINTEXT-UPDATE-password-hunter2-" + tag,
		ActivityError: "PLAINTEXT-ACTIVITY-ERROR-salary-123456-" + tag,
	}
}

func (s secrets) all() []string { return []string{s.Input, s.Signal, s.Update, s.ActivityError} }

// secretActivity fails with a message quoting user data, as a careless
// delivery error might.
func secretActivity(_ context.Context, s secrets) (string, error) {
	return "", temporal.NewNonRetryableApplicationError("deliver failed: "+s.ActivityError, "DeliveryFailed", nil)
}

// secretWorkflow receives a secret as input, waits for a signal and an update
// carrying secrets, runs an activity that fails with a secret in its message,
// and returns everything it saw.
func secretWorkflow(ctx workflow.Context, s secrets) (string, error) {
	var fromUpdate string
	if err := workflow.SetUpdateHandler(ctx, secretUpdate, func(ctx workflow.Context, text string) (string, error) {
		fromUpdate = text
		return "ack " + text, nil
	}); err != nil {
		return "", err
	}
	var fromSignal string
	workflow.GetSignalChannel(ctx, secretSignal).Receive(ctx, &fromSignal)
	if err := workflow.Await(ctx, func() bool { return fromUpdate != "" }); err != nil {
		return "", err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	actErr := workflow.ExecuteActivity(actx, secretActivity, s).Get(ctx, nil)
	if actErr == nil {
		return "", errors.New("activity unexpectedly succeeded")
	}
	var appErr *temporal.ApplicationError
	if !errors.As(actErr, &appErr) {
		return "", fmt.Errorf("unexpected activity error type %T", actErr)
	}
	return strings.Join([]string{s.Input, fromSignal, fromUpdate, appErr.Message()}, "|"), nil
}

// runSecretSession runs secretWorkflow through client c (workers must poll
// taskQueue with the same converters) and returns the workflow result as
// read by c and the run.
func runSecretSession(t *testing.T, c client.Client, taskQueue string, s secrets) (string, client.WorkflowRun) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "history-secret-" + uuid.NewString(),
		TaskQueue: taskQueue,
	}, secretWorkflow, s)
	require.NoError(t, err)
	require.NoError(t, c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), secretSignal, s.Signal))
	handle, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   run.GetID(),
		RunID:        run.GetRunID(),
		UpdateName:   secretUpdate,
		Args:         []any{s.Update},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var ack string
	require.NoError(t, handle.Get(ctx, &ack))
	require.Equal(t, "ack "+s.Update, ack)

	var result string
	require.NoError(t, run.Get(ctx, &result))
	return result, run
}

// rawHistory fetches every event of the run with c and returns their
// serialized protobuf bytes, exactly what the server stores and serves.
func rawHistory(t *testing.T, c client.Client, run client.WorkflowRun) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var buf bytes.Buffer
	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	events := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		b, err := proto.Marshal(ev)
		require.NoError(t, err)
		buf.Write(b)
		events++
	}
	require.Greater(t, events, 10, "history should include start, signal, update, activity and completion events")
	return buf.Bytes()
}

// startInput returns the first input payload of the run's start event, read
// without any codec.
func startInput(t *testing.T, c client.Client, run client.WorkflowRun) *commonpb.Payload {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	require.True(t, iter.HasNext())
	ev, err := iter.Next()
	require.NoError(t, err)
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, attrs, "first event is %s", ev.GetEventType())
	require.NotEmpty(t, attrs.GetInput().GetPayloads())
	return attrs.GetInput().GetPayloads()[0]
}

// TestHistoryHoldsNoPlaintext runs a session on a real Temporal server
// (the dev server, SQLite) with the codec on the client and worker,
// then reads the raw history with a client that has no codec and checks that
// none of the secrets appears in it, while the codec client still reads the
// result. A control run without the codec proves the check detects plaintext.
func TestHistoryHoldsNoPlaintext(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an in-process Temporal server")
	}
	keyring := ring(t, "2026-11", map[string][]byte{"2026-11": newKey(t)})
	dc := codec.NewDataConverter(nil, keyring)
	ts := devtemporal.NewTest(t, devtemporal.Options{})
	codecClient := ts.Dial(t, client.Options{DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc)})
	plainClient := ts.Dial(t, client.Options{})
	register := func(r worker.Registry) {
		r.RegisterWorkflow(secretWorkflow)
		r.RegisterActivity(secretActivity)
	}
	devtemporal.StartWorker(t, codecClient, "encrypted", register, worker.Options{})

	t.Run("encrypted", func(t *testing.T) {
		s := newSecrets()
		result, run := runSecretSession(t, codecClient, "encrypted", s)
		require.Equal(t, strings.Join([]string{s.Input, s.Signal, s.Update, "deliver failed: " + s.ActivityError}, "|"), result,
			"the codec client decodes the result")

		raw := rawHistory(t, plainClient, run)
		for _, secret := range s.all() {
			require.False(t, bytes.Contains(raw, []byte(secret)), "plaintext %q found in raw history", secret)
			// The distinctive middle part alone must not appear either.
			middle := secret[strings.Index(secret, "-")+1 : strings.LastIndex(secret, "-")]
			require.False(t, bytes.Contains(raw, []byte(middle)), "plaintext fragment %q found in raw history", middle)
		}
		require.GreaterOrEqual(t, bytes.Count(raw, []byte(codec.EncodingEncrypted)), 6,
			"input, signal, update args+result, activity input, failure and result should all be encrypted payloads")

		// Without the codec the result is unreadable ciphertext.
		var got string
		err := plainClient.GetWorkflow(context.Background(), run.GetID(), run.GetRunID()).Get(context.Background(), &got)
		require.Error(t, err)
		require.NotContains(t, got, s.Input)
	})

	t.Run("codec endpoint decodes history for an operator", func(t *testing.T) {
		s := newSecrets()
		_, run := runSecretSession(t, codecClient, "encrypted", s)
		input := startInput(t, plainClient, run)
		require.Equal(t, codec.EncodingEncrypted, string(input.Metadata["encoding"]))

		srv := newCodecServerWithRing(t, keyring, codec.HandlerOptions{BearerToken: token, CORSOrigins: []string{uiOrigin}})
		hdr := map[string]string{"Authorization": "Bearer " + token, "Origin": uiOrigin, "X-Namespace": ts.Namespace()}
		dec := readPayloads(t, post(t, srv.URL+"/decode", payloadsBody(t, input), hdr))
		var got secrets
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &got))
		require.Equal(t, s, got)

		resp := post(t, srv.URL+"/decode", payloadsBody(t, input), map[string]string{"Origin": uiOrigin})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.NotContains(t, bodyOf(t, resp), s.Input)
	})

	t.Run("key rotation mid-session", func(t *testing.T) {
		kOld, kNew := newKey(t), newKey(t)
		before := ts.Dial(t, codec.WithEncryption(client.Options{},
			ring(t, "k-old", map[string][]byte{"k-old": kOld})))
		after := ts.Dial(t, codec.WithEncryption(client.Options{},
			ring(t, "k-new", map[string][]byte{"k-old": kOld, "k-new": kNew})))

		// Started and signalled before the rotation; no worker has run yet.
		s := newSecrets()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		run, err := before.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "rotation-" + uuid.NewString(), TaskQueue: "rotated"}, secretWorkflow, s)
		require.NoError(t, err)
		require.NoError(t, before.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), secretSignal, s.Signal))

		// After the rotation: the worker reads k-old payloads and writes k-new ones.
		w := worker.New(after, "rotated", worker.Options{})
		w.RegisterWorkflow(secretWorkflow)
		w.RegisterActivity(secretActivity)
		require.NoError(t, w.Start())
		defer w.Stop()
		handle, err := after.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: run.GetID(), RunID: run.GetRunID(), UpdateName: secretUpdate,
			Args: []any{s.Update}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		require.NoError(t, err)
		require.NoError(t, handle.Get(ctx, nil))
		var result string
		require.NoError(t, after.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &result))
		require.Equal(t, strings.Join([]string{s.Input, s.Signal, s.Update, "deliver failed: " + s.ActivityError}, "|"), result)

		raw := rawHistory(t, plainClient, run)
		require.True(t, bytes.Contains(raw, []byte("k-old")) && bytes.Contains(raw, []byte("k-new")),
			"history should hold payloads under both key ids")
		for _, secret := range s.all() {
			require.False(t, bytes.Contains(raw, []byte(secret)), "plaintext %q found in raw history", secret)
		}
		// A client that only knows the old key cannot read the new result.
		err = before.GetWorkflow(ctx, run.GetID(), run.GetRunID()).Get(ctx, &result)
		require.ErrorIs(t, err, codec.ErrUnknownKeyID)
	})

	t.Run("control without codec shows plaintext", func(t *testing.T) {
		w := worker.New(plainClient, "plain", worker.Options{})
		register(w)
		require.NoError(t, w.Start())
		defer w.Stop()

		s := newSecrets()
		_, run := runSecretSession(t, plainClient, "plain", s)
		raw := rawHistory(t, plainClient, run)
		for _, secret := range s.all() {
			require.True(t, bytes.Contains(raw, []byte(secret)), "control run should expose %q: the detector is broken", secret)
		}
	})
}
