package devcluster

import (
	"context"
	"os"
	"testing"
	"time"
)

// NewTest starts a cluster for one test and stops it when the test ends,
// keeping the scratch directory (node and PostgreSQL logs) when the test
// failed.
//
// It skips the test in -short mode, and when PostgreSQL is not installed
// unless $REQUIRE_POSTGRES is 1 (CI), where that fails the test instead.
func NewTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal cluster on PostgreSQL (skipped with -short)")
	}
	if _, err := PostgresBinDir(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v (%s=1)", err, RequireEnv)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.KeepDir()
			t.Logf("cluster logs kept in %s", c.Dir())
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}
