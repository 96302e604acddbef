package activities

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/liveagent-bridge/liveagent/attachstore"
)

// testActivities returns Activities wired to fakes and a fresh store, and an
// activity test environment with everything registered under the workflows
// names.
func testActivities(t *testing.T) (*Activities, *fakeSF, *testsuite.TestActivityEnvironment) {
	t.Helper()
	return testActivitiesWithMetrics(t, nil)
}

// testActivitiesWithMetrics is testActivities whose activities emit their
// metrics to mh (nil: the SDK's no-op handler).
func testActivitiesWithMetrics(t *testing.T, mh client.MetricsHandler) (*Activities, *fakeSF, *testsuite.TestActivityEnvironment) {
	t.Helper()
	store, err := attachstore.Open(filepath.Join(t.TempDir(), "attachments"))
	if err != nil {
		t.Fatal(err)
	}
	sf := newFakeSF()
	a := &Activities{
		SF:                sf,
		Temporal:          &fakeSignaler{},
		Store:             store,
		Sink:              NewConsoleSink(io.Discard),
		AttachmentBaseURL: "https://bridge.example/attachments/",
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if mh != nil {
		suite.SetMetricsHandler(mh)
	}
	env := suite.NewTestActivityEnvironment()
	a.Register(env)
	a.RegisterListener(env)
	return a, sf, env
}

// appError asserts err is an ApplicationError and returns it.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an ApplicationError", err, err)
	}
	return ae
}

func assertNonRetryable(t *testing.T, err error, wantType string) {
	t.Helper()
	ae := appError(t, err)
	if !ae.NonRetryable() {
		t.Fatalf("error %v is retryable, want non-retryable", err)
	}
	if ae.Type() != wantType {
		t.Fatalf("error type = %q, want %q (%v)", ae.Type(), wantType, err)
	}
}

func assertRetryable(t *testing.T, err error, wantType string, wantDelay time.Duration) {
	t.Helper()
	ae := appError(t, err)
	if ae.NonRetryable() {
		t.Fatalf("error %v is non-retryable, want retryable", err)
	}
	if ae.Type() != wantType {
		t.Fatalf("error type = %q, want %q (%v)", ae.Type(), wantType, err)
	}
	if ae.NextRetryDelay() != wantDelay {
		t.Fatalf("NextRetryDelay = %v, want %v", ae.NextRetryDelay(), wantDelay)
	}
}
