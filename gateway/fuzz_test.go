package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/liveagent-bridge/liveagent/gateway"
)

// FuzzRequestDecoding throws arbitrary bodies and content types at every
// endpoint that decodes a request. Whatever arrives, the gateway answers with a
// documented status and a JSON body, never a panic or a 500: malformed input is
// the caller's fault (4xx with a reason), and only well-formed requests reach
// the sessions.
func FuzzRequestDecoding(f *testing.F) {
	seeds := []struct {
		path, contentType, body string
	}{
		{"/v1/sessions", "application/json", `{"userId":"u-1","topic":"Payroll","description":"help"}`},
		{"/v1/sessions", "application/json", `{"userId":"u-1","topic":"Payroll","description":"help","extra":1}`},
		{"/v1/sessions", "application/json", `{"userId":`},
		{"/v1/sessions", "text/plain", `hello`},
		{"/v1/sessions/u-1/messages", "application/json", `{"messageId":"m-1","text":"hi"}`},
		{"/v1/sessions/u-1/messages", "application/json", `{"messageId":"m-1","text":"hi"}{"again":true}`},
		{"/v1/sessions/u-1/messages", "application/json; charset=utf-8", `[]`},
		{"/v1/sessions/u-1/close", "application/json", `{"requestId":"c-1","reason":"done"}`},
		{"/v1/sessions/u-1/close", "", ``},
		{"/v1/sessions/u-1/attachments", "multipart/form-data; boundary=x",
			"--x\r\nContent-Disposition: form-data; name=\"messageId\"\r\n\r\nf-1\r\n--x\r\n" +
				"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nabc\r\n--x--\r\n"},
		{"/v1/sessions/u-1/attachments", "multipart/form-data; boundary=", "--\r\n"},
		{"/v1/sessions/%2e%2e/messages", "application/json", `{"messageId":"m","text":"t"}`},
	}
	for _, s := range seeds {
		f.Add(s.path, s.contentType, []byte(s.body))
	}
	documented := map[int]bool{
		http.StatusOK: true, http.StatusCreated: true, http.StatusBadRequest: true, http.StatusNotFound: true,
		http.StatusMethodNotAllowed: true, http.StatusConflict: true, http.StatusRequestEntityTooLarge: true,
		http.StatusUnsupportedMediaType: true, http.StatusUnprocessableEntity: true,
		// net/http's ServeMux redirects a non-canonical path ("/./x", "//x")
		// to its clean form before any handler runs.
		http.StatusMovedPermanently: true, http.StatusTemporaryRedirect: true, http.StatusPermanentRedirect: true,
	}

	fake := newFake()
	fake.running["u-1"] = true
	g, err := gateway.New(gateway.Options{
		Sessions:     fake,
		BearerToken:  token,
		Topics:       []string{"Payroll"},
		MaxBodyBytes: 16 << 10,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, contentType string, body []byte) {
		if len(path) == 0 || path[0] != '/' {
			path = "/" + path
		}
		req, err := http.NewRequest(http.MethodPost, "http://gateway.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)

		if !documented[rec.Code] {
			t.Fatalf("POST %q (%q, %d bytes) answered %d: %s", path, contentType, len(body), rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && rec.Code < 500 && rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("POST %q answered %d without a JSON reason: %q", path, rec.Code, rec.Body.String())
			}
		}
	})
}
