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
// The cluster tests are opt-in: they run only with $REQUIRE_POSTGRES=1 (and
// then fail, rather than skip, without PostgreSQL), never in -short mode.
// CI runs them in a step of their own after the rest of the suite, so the
// node-loss bound (no message delayed more than 15 s by a lost Temporal
// node) is measured on a machine not also running every other package.
func NewTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal cluster on PostgreSQL (skipped with -short)")
	}
	if os.Getenv(RequireEnv) != "1" {
		t.Skipf("starts a Temporal cluster on PostgreSQL: opt-in with %s=1", RequireEnv)
	}
	if _, err := PostgresBinDir(); err != nil {
		t.Fatalf("%v (%s=1)", err, RequireEnv)
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
