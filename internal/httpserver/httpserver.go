// Package httpserver owns how every liveagent HTTP server is built: the
// timeouts and size limits that keep a slow or hostile client from holding a
// connection (and its goroutine and buffers) forever. The gateway (with the
// codec endpoint), the metrics endpoint and the MIAW emulator all construct
// their *http.Server with New; the demo and the binaries serve through it.
//
// The limits, with their defaults:
//
//   - ReadHeaderTimeout (10 s): the request line and headers.
//   - ReadTimeout (60 s): the whole request, body included, counted from the
//     first byte. It also bounds the read of an unread body that net/http
//     performs after a handler answers early (up to 256 KiB), which is what
//     held unauthenticated connections open before.
//   - WriteTimeout (3 min): from the end of the request headers to the end of
//     the response. It must exceed ReadTimeout plus the longest time a handler
//     waits (the gateway's request timeout, 60 s by default), or a slow but
//     legitimate answer is cut off. Servers that stream (the emulator's SSE)
//     pass NoWriteTimeout and bound their streams themselves.
//   - IdleTimeout (2 min): a keep-alive connection between requests.
//   - MaxHeaderBytes (64 KiB).
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Defaults of Limits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 3 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	// DefaultShutdownGrace is how long Serve lets in-flight requests finish.
	DefaultShutdownGrace = 15 * time.Second
)

// NoWriteTimeout as Limits.WriteTimeout disables the write deadline, for
// servers with long-lived streaming responses (SSE). Everything else keeps
// its deadline.
const NoWriteTimeout = -1

// Limits bound one server's connections. A zero field takes its default.
type Limits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout: NoWriteTimeout disables it (streaming servers only).
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
}

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	// ReadTimeout covers the headers too; never let it be the shorter one.
	l.ReadHeaderTimeout = min(l.ReadHeaderTimeout, l.ReadTimeout)
	switch {
	case l.WriteTimeout == NoWriteTimeout:
		l.WriteTimeout = 0
	case l.WriteTimeout <= 0:
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// New returns a server for h with limits applied (zero fields take the
// defaults). Its own errors (TLS handshakes, panics, timeouts) go to logger
// at warn; a nil logger uses slog.Default().
func New(h http.Handler, limits Limits, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.Default()
	}
	l := limits.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// ErrShutdown marks a Serve error that happened while shutting down (in-flight
// requests outlasted DefaultShutdownGrace): serving itself had ended well.
var ErrShutdown = errors.New("shutdown")

// Serve serves h on ln with New's server until ctx ends, then shuts down,
// letting in-flight requests finish for up to DefaultShutdownGrace. It
// returns nil after a clean shutdown, an error wrapping ErrShutdown when the
// shutdown was not clean, and the serve error otherwise. ln is closed when
// Serve returns.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, limits Limits, logger *slog.Logger) error {
	srv := New(h, limits, logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), DefaultShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%w %s: %w", ErrShutdown, ln.Addr(), err)
	}
	return nil
}
