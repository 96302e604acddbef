// Package workerbin builds the production worker binary (./worker) from this
// module's source, for the tools that run it as a separate process so it can
// be measured or killed with SIGKILL: the fault soak and the load benchmark.
// It lives under internal/ because it is tooling, not part of the bridge.
package workerbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// Build runs `go build -o out ./worker` in root, creating out's directory.
func Build(ctx context.Context, root, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("worker binary directory: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./worker")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./worker: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
