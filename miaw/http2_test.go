package miaw_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
)

// Over TLS the client offers HTTP/2, so the SSE streams of many users and
// their REST calls share one connection instead of holding one each (the
// memory an open session costs a worker). The emulator speaks HTTP/2 over
// TLS as net/http does by default.
func TestStreamsShareOneHTTP2Connection(t *testing.T) {
	t.Parallel()
	cert, certPEM, err := emulator.SelfSignedCert([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	env := startEmulator(t, emulator.Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, nil)

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(certPEM) {
		t.Fatal("self-signed certificate PEM not accepted")
	}
	var dials atomic.Int32
	var protos sync.Map // negotiated ALPN protocol -> true
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	dialer := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}
	hc := &http.Client{Transport: roundTripRecorder{tr, &protos}}
	c, err := miaw.New(env.cfg, miaw.WithLogger(quiet), miaw.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	env.client = c

	ctx := context.Background()
	const users = 3
	logs := make([]*eventLog, users)
	convs := make([]string, users)
	for i := range users {
		user := uuid.NewString() + "@example.com"
		logs[i] = env.stream(t, user)
		convs[i] = uuid.NewString()
		if err := c.CreateConversation(ctx, user, miaw.CreateConversationRequest{ConversationID: convs[i],
			RoutingAttributes: map[string]string{"Topic": "billing"}}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		logs[i].next(t, "routing result", ofType(convs[i], miaw.EventRoutingResult))
	}
	for i := range users {
		if err := env.emu.Accept(convs[i], "Jane Agent"); err != nil {
			t.Fatal(err)
		}
		if _, err := env.emu.AgentSend(convs[i], "hello over h2"); err != nil {
			t.Fatal(err)
		}
		logs[i].next(t, "agent message", message(convs[i], miaw.RoleAgent, "hello over h2"))
	}
	if _, ok := protos.Load("HTTP/2.0"); !ok {
		t.Errorf("no response came over HTTP/2")
	}
	if _, ok := protos.Load("HTTP/1.1"); ok {
		t.Errorf("a response came over HTTP/1.1")
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections dialled for %d users' streams and calls, want 1", n, users)
	}
}

// roundTripRecorder notes the protocol of every response.
type roundTripRecorder struct {
	next   http.RoundTripper
	protos *sync.Map
}

func (r roundTripRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.protos.Store(resp.Proto, true)
	}
	return resp, err
}
