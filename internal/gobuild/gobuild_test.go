package gobuild

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestBuildProducesAnExecutableWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the worker")
	}
	ctx := context.Background()
	root, err := ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "liveagent-worker", "main.go")); err != nil {
		t.Fatalf("ModuleRoot %q is not this module's root: %v", root, err)
	}
	out := filepath.Join(t.TempDir(), "bin", "liveagent-worker")
	if err := Build(ctx, root, WorkerPackage, out); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(out)
	if err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("no executable at %s: %v", out, err)
	}
	if err := Build(ctx, t.TempDir(), WorkerPackage, filepath.Join(t.TempDir(), "x")); err == nil {
		t.Fatal("building outside the module succeeded")
	}
}

func TestWorkerUsesAPrebuiltBinaryWithoutBuilding(t *testing.T) {
	// A module root that cannot build proves nothing was built.
	got, err := Worker(context.Background(), "/opt/prebuilt/worker", t.TempDir(), "", slog.New(slog.DiscardHandler))
	if err != nil || got != "/opt/prebuilt/worker" {
		t.Fatalf("Worker = %q, %v; want the prebuilt path", got, err)
	}
}
