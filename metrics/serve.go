package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/httpserver"
)

// Path is where Server exposes the registry.
const Path = "/metrics"

// ProfilePath is where Server exposes Go's runtime profiles (net/http/pprof)
// when started WithProfiling.
const ProfilePath = "/debug/pprof/"

// ServeOption customises Start.
type ServeOption func(*serveOptions)

type serveOptions struct{ profiling bool }

// WithProfiling also serves Go's runtime profiles under ProfilePath (heap,
// goroutines, CPU): for operators measuring a worker, on an address only
// they reach (worker.pprof).
func WithProfiling() ServeOption { return func(o *serveOptions) { o.profiling = true } }

// Server is a running metrics HTTP endpoint.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve returns; err is then set
	err  error
}

// Start listens on listenAddr (host:port; port 0 picks a free one) and
// serves r.Handler() on /metrics in the background. The listen error, if any,
// is returned immediately so a bad worker.metrics_listen fails startup.
func (r *Registry) Start(listenAddr string, opts ...ServeOption) (*Server, error) {
	var so serveOptions
	for _, o := range opts {
		o(&so)
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", listenAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, r.Handler())
	if so.profiling {
		mux.HandleFunc("GET "+ProfilePath, pprof.Index) // named profiles: heap, goroutine, allocs, ...
		mux.HandleFunc("GET "+ProfilePath+"cmdline", pprof.Cmdline)
		mux.HandleFunc("GET "+ProfilePath+"profile", pprof.Profile)
		mux.HandleFunc("GET "+ProfilePath+"symbol", pprof.Symbol)
		mux.HandleFunc("GET "+ProfilePath+"trace", pprof.Trace)
	}
	s := &Server{
		srv:  httpserver.New(mux, httpserver.Limits{}, r.logger),
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = fmt.Errorf("metrics server: %w", err)
		}
	}()
	r.logger.Info("metrics endpoint listening", "url", "http://"+ln.Addr().String()+Path)
	return s, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting scrapes and waits for in-flight ones, up to ctx.
// Safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("metrics shutdown: %w", err)
	}
	<-s.done
	return s.err
}

// Serve runs the /metrics endpoint on listenAddr until ctx is done, then
// shuts it down (5 s grace). It returns nil after a clean shutdown.
func (r *Registry) Serve(ctx context.Context, listenAddr string) error {
	s, err := r.Start(listenAddr)
	if err != nil {
		return err
	}
	select {
	case <-s.done:
		return s.err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}
