package temporalclient

import (
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
)

// frontendsScheme is the gRPC resolver scheme of a temporal.address that
// lists several frontends.
const frontendsScheme = "liveagent-frontends"

// frontendTarget turns temporal.address into the client's HostPort and the
// dial options it needs.
//
// One host:port is dialled as the SDK always does: gRPC resolves the name
// through DNS and the SDK's round_robin policy spreads calls over every
// address a name has, so a DNS name with one record per frontend node
// already fails over. A comma-separated list ("10.0.0.1:7233,10.0.0.2:7233")
// is a static set of frontends: a resolver of this package hands all of them
// to the same round_robin policy, which sends each call to a connected
// frontend and skips one whose connection is down until it reconnects. Calls
// in flight on a frontend that dies fail with Unavailable and the SDK
// retries them on another. With TLS, the first entry's host is the name the
// certificate must carry unless temporal.tls.server_name says otherwise.
func frontendTarget(address string) (string, []grpc.DialOption) {
	parts := splitAddresses(address)
	if len(parts) < 2 {
		return address, nil
	}
	addrs := make([]resolver.Address, len(parts))
	for i, p := range parts {
		addrs[i] = resolver.Address{Addr: p}
	}
	return frontendsScheme + ":///" + strings.Join(parts, ","), []grpc.DialOption{
		grpc.WithResolvers(staticBuilder{addrs: addrs}),
		grpc.WithAuthority(parts[0]),
	}
}

func splitAddresses(address string) []string {
	var out []string
	for p := range strings.SplitSeq(address, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// staticBuilder resolves every target to a fixed address list.
type staticBuilder struct{ addrs []resolver.Address }

func (b staticBuilder) Build(_ resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	if err := cc.UpdateState(resolver.State{Addresses: b.addrs}); err != nil {
		return nil, err
	}
	return staticResolver{}, nil
}

func (staticBuilder) Scheme() string { return frontendsScheme }

// staticResolver has nothing to re-resolve: the list is the configuration.
type staticResolver struct{}

func (staticResolver) ResolveNow(resolver.ResolveNowOptions) {}
func (staticResolver) Close()                                {}
