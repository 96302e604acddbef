package devserver

import (
	"context"
	"fmt"
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

// freePort asks the kernel for a free TCP port on ip. There is a small window
// in which another process could take it; acceptable for a dev server.
func freePort(ip string) (int, error) {
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
