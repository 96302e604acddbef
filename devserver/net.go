package devserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// portOrFree returns port when it can be bound on ip, or a free port when
// port is 0.
func portOrFree(ip string, port int) (int, error) {
	if port == 0 {
		return freePort(ip)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return 0, fmt.Errorf("port %d is not available: %w", port, err)
	}
	_ = l.Close()
	return port, nil
}

// freePort finds a free TCP port on ip in 20000-32767, below the kernel's
// ephemeral range: a port chosen here is released before the server binds
// it, and in that window an outgoing connection from any process (parallel
// test packages make thousands) could take an ephemeral one. Falls back to a
// kernel-chosen port when that range is full.
func freePort(ip string) (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(32767-20000)
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitHTTP(ctx context.Context, u string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", u, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func urlPathEscape(s string) string { return url.PathEscape(s) }
