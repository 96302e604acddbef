package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/internal/httpserver"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// serveGateway serves a gateway on a real loopback listener with the server
// production uses (httpserver.Serve), under limits.
func serveGateway(t *testing.T, limits httpserver.Limits) string {
	t.Helper()
	g, err := gateway.New(gateway.Options{Sessions: newFake(), BearerToken: token})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserver.Serve(ctx, ln, g, limits, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// openSlowClients opens n connections that each send the headers of an
// unauthenticated POST announcing contentLength body bytes, and never send
// the body. It returns the connections.
func openSlowClients(t *testing.T, addr, path string, n, contentLength int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		require.NoError(t, err)
		conns = append(conns, c)
		_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, contentLength)
		require.NoError(t, err)
	}
	return conns
}

// stillOpenAfter reads each connection until the server closes it, and
// reports how many were still open when within passed. Whatever the server
// answered first (a 401, or nothing) is discarded.
func stillOpenAfter(conns []net.Conn, within time.Duration) int {
	deadline := time.Now().Add(within)
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := 0
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				mu.Lock()
				open++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return open
}

// A client that announces a body it never sends is refused (401, or 404 for
// no endpoint) and the connection closed at once: the gateway does not wait for the body, even
// when the read timeout is long.
func TestUnauthenticatedConnectionClosedAfterRefusal(t *testing.T) {
	addr := serveGateway(t, httpserver.Limits{ReadTimeout: 10 * time.Minute})
	for _, tc := range []struct {
		path string
		size int
	}{{"/v1/topics", 1000}, {"/v1/topics", 300000}, {"/v1/sessions", 1000}, {"/v1/sessions", 300000}} {
		t.Run(fmt.Sprint(tc.path, tc.size), func(t *testing.T) {
			conns := openSlowClients(t, addr, tc.path, 50, tc.size)
			// Every connection gets its 401 first.
			for _, c := range conns {
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				require.NoError(t, err)
				// POST /v1/topics has no handler (404); the refusal matters.
				require.GreaterOrEqual(t, resp.StatusCode, 400)
				require.True(t, resp.Close, "a refusal of a request with an unread body must close the connection")
			}
			// Generous bound: the server closes right after answering; 30 s
			// only absorbs a loaded machine, the read timeout is 10 minutes.
			require.Zero(t, stillOpenAfter(conns, 30*time.Second), "connections still open")
		})
	}
}

// Whatever a handler does, the server's read timeout bounds how long a
// client may take to send its request: a client that never finishes its
// headers is dropped too.
func TestSlowClientsDroppedByReadTimeout(t *testing.T) {
	addr := serveGateway(t, httpserver.Limits{ReadTimeout: 500 * time.Millisecond, ReadHeaderTimeout: 500 * time.Millisecond})
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for range 100 {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		require.NoError(t, err)
		conns = append(conns, c)
		// Headers started, never finished.
		_, err = io.WriteString(c, "POST /v1/sessions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer "+token+"\r\n")
		require.NoError(t, err)
	}
	conns = append(conns, openSlowClientsAuthorized(t, addr, 100)...)
	require.Zero(t, stillOpenAfter(conns, 30*time.Second), "connections still open")
}

// openSlowClientsAuthorized opens n authorised requests whose body never
// arrives: the handler waits for the body, so only the read timeout ends them.
func openSlowClientsAuthorized(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		require.NoError(t, err)
		conns = append(conns, c)
		req := "POST /v1/sessions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + token +
			"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat(" ", 10)
		_, err = io.WriteString(c, req)
		require.NoError(t, err)
	}
	return conns
}

// blockingSessions never answers a message until the request's context ends.
type blockingSessions struct{ *fakeSessions }

func (b blockingSessions) SendMessage(ctx context.Context, _, _, _ string) (workflows.UpdateResult, error) {
	<-ctx.Done()
	return workflows.UpdateResult{}, fmt.Errorf("update: %w", ctx.Err())
}

// A request whose session never answers gets 504 after the request timeout
// instead of holding the connection until the server's write timeout.
func TestRequestTimeoutAnswers504(t *testing.T) {
	h := newHarness(t, func(o *gateway.Options) {
		o.Sessions = blockingSessions{newFake()}
		o.RequestTimeout = 200 * time.Millisecond
	})
	start := time.Now()
	status, body := h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m-1","text":"hi"}`)
	require.Equal(t, http.StatusGatewayTimeout, status, "%v", body)
	require.Less(t, time.Since(start), 30*time.Second)
}

// The server's write deadline must outlast reading a request plus the
// gateway's wait for the session, or a legitimate 504 would be cut off.
func TestWriteTimeoutOutlastsRequestTimeout(t *testing.T) {
	require.Greater(t, httpserver.DefaultWriteTimeout, httpserver.DefaultReadTimeout+gateway.DefaultRequestTimeout)
}
