package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// mdHealth echoes a request header back as a response header so the test can
// see metadata cross the proxy both ways.
type mdHealth struct{ *health.Server }

func (h mdHealth) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("x-bench"); len(v) > 0 {
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-echo", v[0]))
	}
	if _, ok := ctx.Deadline(); !ok {
		return nil, status.Error(codes.FailedPrecondition, "no deadline reached the backend")
	}
	return h.Server.Check(ctx, req)
}

func TestRPCCounterForwardsAndCounts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("live-agent", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(backend, mdHealth{hs})
	go func() { _ = backend.Serve(ln) }()
	defer backend.Stop()

	p, err := startRPCCounter(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-bench", "42"), 10*time.Second)
	defer cancel()

	var header metadata.MD
	resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "live-agent"}, grpc.Header(&header))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("status = %v through the proxy", resp.GetStatus())
	}
	if got := header.Get("x-echo"); len(got) != 1 || got[0] != "42" {
		t.Fatalf("metadata did not cross the proxy: response header %v", header)
	}
	// The backend's error status comes back unchanged.
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "unknown"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("unknown service: %v, want NotFound", err)
	}
	if n := p.count("Check"); n != 2 {
		t.Fatalf("counted %d Check calls, want 2", n)
	}
	if n := p.count("Watch"); n != 0 {
		t.Fatalf("counted %d Watch calls, want 0", n)
	}
}
