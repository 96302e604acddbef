package devtemporal

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// NewTest starts a server for one test, without the UI unless opts ask for
// a UI port, and stops it when the test ends. Its log goes to t.Log only on
// failure: the test's output otherwise stays quiet.
//
// In -short mode it skips the test: `go test -short ./...` is the fast loop.
func NewTest(t testing.TB, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal dev server (skipped with -short)")
	}
	if opts.UIPort == 0 {
		opts.NoUI = true
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "error"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	srv, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop dev server: %v", err)
		}
	})
	return srv
}

// Dial connects a client to the server's namespace and closes it when the
// test ends; opts may set anything but HostPort and Namespace.
func (s *Server) Dial(t testing.TB, opts client.Options) client.Client {
	t.Helper()
	opts.HostPort = s.FrontendAddress()
	opts.Namespace = s.Namespace()
	c, err := client.Dial(opts)
	if err != nil {
		t.Fatalf("dial dev server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// StartWorker runs a worker on c for one test and stops it when the test
// ends.
func StartWorker(t testing.TB, c client.Client, taskQueue string, register func(worker.Registry), opts worker.Options) {
	t.Helper()
	w := worker.New(c, taskQueue, opts)
	register(w)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker on %s: %v", taskQueue, err)
	}
	t.Cleanup(w.Stop)
}
