package bench

import (
	"fmt"
	"net"
	"path"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rpcCounter is a transparent gRPC proxy between the worker and the Temporal
// frontend that counts calls by method. The benchmark uses it only when the
// worker does not export the SDK's request counters, to measure heartbeat and
// signal rates exactly; it adds one loopback hop to each worker call (the
// report says so).
//
// Every Temporal WorkflowService method is unary, so the proxy handles one
// request and one response per call; streaming calls are refused.
type rpcCounter struct {
	srv  *grpc.Server
	conn *grpc.ClientConn
	addr string

	mu     sync.Mutex
	counts map[string]int64 // by method name without the service
}

const proxyMaxMessage = 128 << 20

func startRPCCounter(backend string) (*rpcCounter, error) {
	conn, err := grpc.NewClient(backend,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(proxyMaxMessage), grpc.MaxCallSendMsgSize(proxyMaxMessage)))
	if err != nil {
		return nil, fmt.Errorf("rpc counter: dial %s: %w", backend, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rpc counter: listen: %w", err)
	}
	p := &rpcCounter{conn: conn, addr: ln.Addr().String(), counts: map[string]int64{}}
	p.srv = grpc.NewServer(
		grpc.UnknownServiceHandler(p.handle),
		grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(proxyMaxMessage), grpc.MaxSendMsgSize(proxyMaxMessage),
	)
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *rpcCounter) close() {
	p.srv.Stop()
	p.conn.Close()
}

// count returns the number of calls of method (e.g. "SignalWorkflowExecution").
func (p *rpcCounter) count(method string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[method]
}

// snapshot copies every count.
func (p *rpcCounter) snapshot() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int64, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// diff returns after - before for every method that changed.
func diffCounts(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func (p *rpcCounter) handle(_ any, ss grpc.ServerStream) error {
	fullMethod, ok := grpc.MethodFromServerStream(ss)
	if !ok {
		return fmt.Errorf("rpc counter: no method")
	}
	p.mu.Lock()
	p.counts[path.Base(fullMethod)]++
	p.mu.Unlock()

	var req rawFrame
	if err := ss.RecvMsg(&req); err != nil {
		return err
	}
	ctx := ss.Context()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, forwardable(md))
	}
	var resp rawFrame
	var header, trailer metadata.MD
	err := p.conn.Invoke(ctx, fullMethod, &req, &resp,
		grpc.ForceCodec(rawCodec{}), grpc.Header(&header), grpc.Trailer(&trailer))
	if len(header) > 0 {
		_ = ss.SetHeader(header)
	}
	if len(trailer) > 0 {
		ss.SetTrailer(trailer)
	}
	if err != nil {
		p.mu.Lock()
		p.counts[path.Base(fullMethod)+" failed "+status.Code(err).String()]++
		p.mu.Unlock()
		return err // the backend's status, code and details unchanged
	}
	return ss.SendMsg(&resp)
}

// forwardable drops pseudo-headers and transport headers gRPC sets itself.
func forwardable(md metadata.MD) metadata.MD {
	out := metadata.MD{}
	for k, v := range md {
		switch {
		case strings.HasPrefix(k, ":"), k == "content-type", k == "user-agent", k == "te",
			k == "grpc-timeout", k == "grpc-encoding", k == "grpc-accept-encoding":
			continue
		}
		out[k] = v
	}
	return out
}

// rawFrame is a message passed through undecoded.
type rawFrame struct{ b []byte }

// rawCodec moves message bytes without decoding them. It is named "proto" so
// peers see the content type they expect.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*rawFrame)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return f.b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*rawFrame)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	f.b = append(f.b[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }
