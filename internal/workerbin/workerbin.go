// Package workerbin builds the production worker binary (./cmd/liveagent-worker)
// from this module's source, for the tools that run it as a separate process so it can
// be measured or killed with SIGKILL: the fault soak and the load benchmark.
// It lives under internal/ because it is tooling, not part of the bridge.
package workerbin

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
)

// ModuleRoot returns the directory of the main module's go.mod as seen from
// the current directory.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the module; run from the repository or name the worker binary")
	}
	return filepath.Dir(gomod), nil
}

// Build runs `go build -o out ./cmd/liveagent-worker` in root, creating out's directory.
func Build(ctx context.Context, root, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("worker binary directory: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/liveagent-worker")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/liveagent-worker: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Ensure returns prebuilt when it is set; otherwise it builds the worker
// from moduleRoot (found with ModuleRoot when empty) into
// outDir/liveagent-worker, outDir defaulting to CacheDir(root), and returns
// that path.
func Ensure(ctx context.Context, prebuilt, moduleRoot, outDir string, log *slog.Logger) (string, error) {
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
	if err := Build(ctx, root, bin); err != nil {
		return "", err
	}
	return bin, nil
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
