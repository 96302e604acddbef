package openapitest

import (
	"bytes"
	"io"
	"net/http"
)

// Middleware serves h and validates every exchange with ValidateExchange,
// passing each failure to report (which must be safe for concurrent use).
// The answer is forwarded to the client unchanged.
func (d *Document) Middleware(h http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody bytes.Buffer
		if r.Body != nil {
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(r.Body, &reqBody), r.Body}
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		x := Exchange{
			Method: r.Method, Path: r.URL.EscapedPath(), ContentType: r.Header.Get("Content-Type"),
			RequestBody: reqBody.Bytes(), Status: rec.status, Header: w.Header(), Body: rec.body.Bytes(),
		}
		if err := d.ValidateExchange(x); err != nil {
			report(err)
		}
	})
}

// recorder forwards an answer and keeps a copy of its status and body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.NewResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
