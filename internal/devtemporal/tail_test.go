package devtemporal

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A failed start reports why: the panic line survives a stack trace longer
// than the tail, and a bind failure is recognised even when split across
// writes.
func TestTailBufferKeepsThePanicLineAndSpotsATakenPort(t *testing.T) {
	tail := &tailBuffer{max: 256}
	for _, chunk := range []string{
		"level=ERROR msg=\"Failed to start gRPC listener\" error=\"listen tcp 127.0.0.1:2",
		"4001: bind: address alr",
		"eady in use\"\npanic: Failed to start",
		" gRPC listener\n\ngoroutine 1 [running]:\n",
		strings.Repeat("go.uber.org/fx.(*module).invokeAll(0xf682734d5f0)\n", 40),
	} {
		_, _ = tail.Write([]byte(chunk))
	}
	out := tail.String()
	assert.True(t, strings.HasPrefix(out, "panic: Failed to start gRPC listener\n...\n"), out)
	assert.Contains(t, out, "invokeAll")
	assert.True(t, tail.portTaken())

	quiet := &tailBuffer{max: 256}
	_, _ = quiet.Write([]byte("panic: bad config\n"))
	assert.Equal(t, "panic: bad config", quiet.String(), "a panic line still in the tail is not repeated")
	assert.False(t, quiet.portTaken())
}
