// Package cli holds what the dev-server binaries (liveagent-devserver,
// liveagent-clusternode) share on their command line: the dynamic-config
// flag and the stop-when-the-parent-goes context.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// UntilEOF returns a context cancelled when r reaches EOF (or fails): a
// child started with -exit-with-stdin stops when its parent's end of the
// pipe closes, even if the parent was killed.
func UntilEOF(parent context.Context, r io.Reader) context.Context {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		defer cancel()
		_, _ = io.Copy(io.Discard, r)
	}()
	return ctx
}

// DynamicConfig collects -dynamic-config key=json-value pairs; whole
// numbers become ints, as the server's dynamic config expects.
type DynamicConfig map[string]any

func (d DynamicConfig) String() string { return "" }

// Set adds one key=json-value pair.
func (d DynamicConfig) Set(s string) error {
	key, raw, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return errors.New("want key=json-value")
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return fmt.Errorf("value of %s is not JSON: %w", key, err)
	}
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		v = int(f)
	}
	d[key] = v
	return nil
}
