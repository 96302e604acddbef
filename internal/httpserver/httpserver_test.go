package httpserver_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/internal/httpserver"
)

func TestNewAppliesLimits(t *testing.T) {
	srv := httpserver.New(http.NotFoundHandler(), httpserver.Limits{}, nil)
	if srv.ReadHeaderTimeout != httpserver.DefaultReadHeaderTimeout || srv.ReadTimeout != httpserver.DefaultReadTimeout ||
		srv.WriteTimeout != httpserver.DefaultWriteTimeout || srv.IdleTimeout != httpserver.DefaultIdleTimeout ||
		srv.MaxHeaderBytes != httpserver.DefaultMaxHeaderBytes {
		t.Fatalf("defaults not applied: %+v", srv)
	}
	srv = httpserver.New(http.NotFoundHandler(), httpserver.Limits{ReadTimeout: time.Second, WriteTimeout: httpserver.NoWriteTimeout}, nil)
	if srv.ReadTimeout != time.Second || srv.ReadHeaderTimeout != time.Second || srv.WriteTimeout != 0 {
		t.Fatalf("limits: read %v, header %v, write %v", srv.ReadTimeout, srv.ReadHeaderTimeout, srv.WriteTimeout)
	}
}
