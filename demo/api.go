package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"time"

	"github.com/liveagent-bridge/liveagent/gateway"
)

// gatewayClient is the demo assistant's side of the gateway HTTP API: what an
// assistant written in any language does.
type gatewayClient struct {
	base  string
	token string
	http  *http.Client
}

func newGatewayClient(base, token string) *gatewayClient {
	return &gatewayClient{base: base, token: token, http: &http.Client{Timeout: time.Minute}}
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Msg    string
	Body   []byte // the answer as received
}

func (e *apiError) Error() string { return fmt.Sprintf("gateway answered %d: %s", e.Status, e.Msg) }

func (c *gatewayClient) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e gateway.ErrorResponse
		_ = json.Unmarshal(data, &e)
		return resp.StatusCode, &apiError{Status: resp.StatusCode, Msg: e.Error, Body: data}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *gatewayClient) postJSON(ctx context.Context, path string, in, out any) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	return c.do(ctx, http.MethodPost, path, "application/json", bytes.NewReader(body), out)
}

func (c *gatewayClient) topics(ctx context.Context) ([]string, error) {
	var out gateway.TopicsResponse
	_, err := c.do(ctx, http.MethodGet, "/v1/topics", "", nil, &out)
	return out.Topics, err
}

func (c *gatewayClient) start(ctx context.Context, req gateway.StartSessionRequest) (gateway.StartSessionResponse, int, error) {
	var out gateway.StartSessionResponse
	status, err := c.postJSON(ctx, "/v1/sessions", req, &out)
	return out, status, err
}

func (c *gatewayClient) send(ctx context.Context, userID, messageID, text string) (gateway.UpdateResponse, error) {
	var out gateway.UpdateResponse
	_, err := c.postJSON(ctx, "/v1/sessions/"+url.PathEscape(userID)+"/messages",
		gateway.SendMessageRequest{MessageID: messageID, Text: text}, &out)
	return out, err
}

// sendChoice answers the agent message inReplyTo with one of its options.
func (c *gatewayClient) sendChoice(ctx context.Context, userID, messageID, inReplyTo, optionID string) (gateway.UpdateResponse, error) {
	var out gateway.UpdateResponse
	_, err := c.postJSON(ctx, "/v1/sessions/"+url.PathEscape(userID)+"/messages",
		gateway.SendMessageRequest{MessageID: messageID, Choice: &gateway.ChoiceRequest{InReplyTo: inReplyTo, OptionID: optionID}}, &out)
	return out, err
}

func (c *gatewayClient) upload(ctx context.Context, userID, messageID, caption, name, mimeType string, data []byte) (gateway.UpdateResponse, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("messageId", messageID)
	if caption != "" {
		_ = mw.WriteField("caption", caption)
	}
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	if mimeType != "" {
		hdr.Set("Content-Type", mimeType)
	}
	part, err := mw.CreatePart(hdr)
	if err != nil {
		return gateway.UpdateResponse{}, err
	}
	if _, err := part.Write(data); err != nil {
		return gateway.UpdateResponse{}, err
	}
	if err := mw.Close(); err != nil {
		return gateway.UpdateResponse{}, err
	}
	var out gateway.UpdateResponse
	_, err = c.do(ctx, http.MethodPost, "/v1/sessions/"+url.PathEscape(userID)+"/attachments", mw.FormDataContentType(), &buf, &out)
	return out, err
}

func (c *gatewayClient) close(ctx context.Context, userID, requestID, reason string) (gateway.UpdateResponse, error) {
	var out gateway.UpdateResponse
	_, err := c.postJSON(ctx, "/v1/sessions/"+url.PathEscape(userID)+"/close",
		gateway.CloseRequest{RequestID: requestID, Reason: reason}, &out)
	return out, err
}

func (c *gatewayClient) state(ctx context.Context, userID string) (gateway.SessionStateResponse, error) {
	var out gateway.SessionStateResponse
	_, err := c.do(ctx, http.MethodGet, "/v1/sessions/"+url.PathEscape(userID), "", nil, &out)
	return out, err
}

// download fetches a stored attachment from its AttachmentRef URL (served by
// the gateway) and returns its size and SHA-256. With bearer it sends the
// gateway's bearer token; without, it is what an end user's browser does
// with a signed link.
func (c *gatewayClient) download(ctx context.Context, rawURL string, bearer bool) (int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, "", err
	}
	if bearer {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("download %s: status %d", rawURL, resp.StatusCode)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("download %s: %w", rawURL, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
