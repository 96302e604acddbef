// Package gobuild builds this checkout's binaries for the tools that run
// them as separate processes: the production worker for the fault soak and
// the load benchmark (so it can be measured or killed with SIGKILL), and the
// Temporal dev server for internal/devtemporal. It lives under internal/
// because it is tooling, not part of the bridge.
package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// WorkerPackage is the production worker's main package, relative to the
// module root.
const WorkerPackage = "./cmd/liveagent-worker"

// ModuleRoot returns the directory of the main module's go.mod as seen from
// the current directory.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the module; run from the repository or name a prebuilt binary")
	}
	return filepath.Dir(gomod), nil
}

// CacheDir is where binaries built from the checkout at root go: a
// directory of the user cache named after root, outside the source tree.
func CacheDir(root string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "liveagent-bridge", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build directory: %w", err)
	}
	return dir, nil
}

// Command builds the main package ./cmd/<name> of the module in
// root/subdir (subdir "" is the module at root) into CacheDir(root) and
// returns the binary's path; concurrent callers build once (see Build).
func Command(ctx context.Context, root, subdir, name string) (string, error) {
	dir, err := CacheDir(root)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, name)
	if err := Build(ctx, filepath.Join(root, subdir), "./cmd/"+name, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Build runs `go build -o out pkg` in dir, creating out's directory.
// Concurrent builds of one out (parallel test packages) take turns on a lock
// file beside it, so the later ones find the binary up to date; ctx ends the
// wait as well as the build.
func Build(ctx context.Context, dir, pkg, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("binary directory: %w", err)
	}
	unlock, err := lock(ctx, out+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Worker returns prebuilt when it is set; otherwise it builds the worker
// from moduleRoot (found with ModuleRoot when empty) into
// outDir/liveagent-worker, outDir defaulting to CacheDir(root), and returns
// that path.
func Worker(ctx context.Context, prebuilt, moduleRoot, outDir string, log *slog.Logger) (string, error) {
	if prebuilt != "" {
		return prebuilt, nil
	}
	root := moduleRoot
	if root == "" {
		var err error
		if root, err = ModuleRoot(ctx); err != nil {
			return "", err
		}
	}
	if outDir == "" {
		var err error
		if outDir, err = CacheDir(root); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(outDir, "liveagent-worker")
	log.Info("building the worker", "module", root, "out", bin)
	if err := Build(ctx, root, WorkerPackage, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// lock takes an exclusive flock on path, polling so ctx can end the wait.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("waiting for another build of %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
