package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/config"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(config.Log{Level: "warn", Format: "json"}, &buf)
	l.Info("hidden")
	l.Warn("shown", "k", "v")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &rec))
	assert.Equal(t, "shown", rec["msg"])
	assert.Equal(t, "v", rec["k"])

	buf.Reset()
	NewLogger(config.Log{Level: "debug", Format: "text"}, &buf).Debug("dbg")
	assert.Contains(t, buf.String(), "level=DEBUG msg=dbg")
}
