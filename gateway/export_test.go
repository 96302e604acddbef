package gateway

// Patterns lists the API routes g registered (method and path pattern), for
// the test that holds them equal to the OpenAPI document's paths.
func (g *Gateway) Patterns() []string { return append([]string(nil), g.patterns...) }
